"""The chat webhook channel against a local HTTP server: retry, idempotency, permanent errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from reportgen.ops.ledger import Ledger, SendKey, utcnow
from reportgen.ops.outbox import drain
from reportgen.ops.runs import run_report

KEY = SendKey("weekly_leadership", "2026-W47", "leadership", "chat")


class Hook:
    """A local incoming-webhook endpoint answering a scripted list of status codes."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                if status == 0:  # took the whole request, then hung up without an answer
                    hook.bodies.append(json.loads(body))
                    self.close_connection = True
                    return
                if status == 200:
                    hook.bodies.append(json.loads(body))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T000/B000"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory(monkeypatch) -> Iterator:
    hooks: list[Hook] = []

    def make(*statuses: int) -> Hook:
        hook = Hook(list(statuses))
        monkeypatch.setenv("RG_TEST_WEBHOOK", hook.url)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def config_with_hook(make_config, style: str = "slack"):
    channel = {"type": "webhook", "name": "chat", "url_env": "RG_TEST_WEBHOOK", "style": style}
    return make_config(1, channels=[channel])


def run(config, tmp_path, builder, **kwargs):
    return run_report(
        config,
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        builder=builder,
        **kwargs,
    )


def test_webhook_retries_a_503_then_posts_summary_and_link_once(
    hook_factory, make_config, copy_builder, tmp_path
):
    hook = hook_factory(503, 200)
    config = config_with_hook(make_config)
    first = run(config, tmp_path, copy_builder)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    assert first.status == "queued" and ledger.get_send(KEY)["status"] == "retrying"

    later = ledger.get_send(KEY)["next_attempt_at"] + timedelta(seconds=1)
    assert [o.status for o in drain(ledger, now=later)] == ["sent"]
    assert run(config, tmp_path, copy_builder).status == "skipped"  # idempotent

    (body,) = hook.bodies
    assert "Weekly T&S Operations Review" in body["text"]
    assert "Average handle time" in body["text"]
    assert "https://reports.example.com/weekly_leadership/2026-W47/leadership/" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    stored = (tmp_path / "ledger.sqlite").read_bytes()
    assert hook.url.encode() not in stored  # the hook URL is a secret: only its variable is kept


def test_teams_style_is_an_adaptive_card(hook_factory, make_config, copy_builder, tmp_path):
    hook = hook_factory(200)
    run(config_with_hook(make_config, "teams"), tmp_path, copy_builder)
    (body,) = hook.bodies
    card = body["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "Average handle time" in json.dumps(card["content"])


def test_a_404_is_permanent_and_not_retried(hook_factory, make_config, copy_builder, tmp_path):
    hook_factory(404)
    result = run(config_with_hook(make_config), tmp_path, copy_builder)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    row = ledger.get_send(KEY)
    assert result.status == "failed" and row["status"] == "failed"
    assert "rejected the message (404)" in row["last_error"]
    later = drain(ledger, now=utcnow() + timedelta(days=1))
    assert [o for o in later if o.channel == "chat"] == []  # (the owners' notice may retry)
    assert ledger.get_send(KEY)["attempts"] == 1


def test_a_lost_answer_is_uncertain_and_not_posted_again(
    hook_factory, make_config, copy_builder, tmp_path
):
    hook = hook_factory(0, 200)
    result = run(config_with_hook(make_config), tmp_path, copy_builder)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    later = drain(ledger, now=utcnow() + timedelta(days=1))
    assert [o for o in later if o.channel == "chat"] == []  # held (only the owners' notice retries)
    row = ledger.get_send(KEY)
    assert result.status == "uncertain" and row["status"] == "uncertain"
    assert "may have been posted" in row["last_error"] and "cannot reach" not in row["last_error"]
    assert len(hook.bodies) == 1
