"""A real SMTP server that misbehaves on purpose: copies per recipient are counted server-side.

It drops the connection after the message data, stalls its final reply, answers
421 or refuses one recipient. A lost final reply is ``uncertain`` (never "cannot
reach"), held by default, sent at most once more with ``on_uncertain: retry_once``
and the same Message-ID — so no recipient ever gets more than two copies.
"""

from __future__ import annotations

import asyncio
import email
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.ops.ledger import Ledger, SendKey, utcnow
from reportgen.ops.outbox import drain
from reportgen.ops.runs import run_report

from .conftest import OWNER, SmtpServer, free_port, smtp_block

KEY = SendKey("weekly_leadership", "2026-W47", "leadership", "leaders")
NOTE = "may have been delivered — check before re-sending"


@dataclass
class Faulty:
    """Plays one scripted behaviour per report message (owner notices always go through)."""

    script: list[str] = field(default_factory=list)  # drop | stall | 421 | ok (then: ok)
    stall: float = 3.0
    copies: Counter = field(default_factory=Counter)  # recipient → messages the server holds
    message_ids: list[str] = field(default_factory=list)
    notices: list[bytes] = field(default_factory=list)
    messages: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 <" + address + ">: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if OWNER in envelope.rcpt_tos:
            self.notices.append(envelope.content)
            return "250 OK"
        what = self.script.pop(0) if self.script else "ok"
        if what == "421":
            return "421 4.3.2 System not accepting network messages"
        self.copies.update(envelope.rcpt_tos)  # the server has the message now
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.message_ids.append(message["Message-ID"])
        if what == "drop":
            server.transport.close()
        elif what == "stall":
            await asyncio.sleep(self.stall)
        return "250 OK"

    def to(self, address):  # the conftest server's API
        return []


@pytest.fixture
def faulty(smtp_down) -> tuple[SmtpServer, Faulty]:
    handler = Faulty()
    smtp_down.recorder = handler
    smtp_down.start()
    return smtp_down, handler


def _run(config: Path, tmp_path: Path, builder, **kwargs):
    return run_report(
        config,
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=_url(tmp_path),
        builder=builder,
        **kwargs,
    )


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def _runs_output(tmp_path: Path) -> str:
    result = CliRunner().invoke(app, ["runs", "--ledger", _url(tmp_path)])
    assert result.exit_code == 0, result.output
    return result.output


def _config(make_config, port, *, retry=None, to=("vp@example.com",), **smtp):
    config = make_config(
        port,
        channels=[{"type": "email", "name": "leaders", "to": list(to)}],
        smtp=smtp_block(port, **smtp),
    )
    if retry:
        import yaml

        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["delivery"]["retry"].update(retry)
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return config


def _drain_for_a_day(ledger: Ledger) -> None:
    now = utcnow()
    for hours in range(0, 48, 2):  # far beyond every backoff
        drain(ledger, now=now + timedelta(hours=hours, seconds=1))


def test_dropped_after_data_is_uncertain_held_and_the_owners_are_told(
    faulty, make_config, copy_builder, tmp_path
):
    server, handler = faulty
    handler.script = ["drop"] * 10
    config = _config(make_config, server.port, retry={"attempts": 8})
    result = _run(config, tmp_path, copy_builder)
    ledger = Ledger(_url(tmp_path))
    _drain_for_a_day(ledger)

    assert handler.copies == Counter({"vp@example.com": 1})  # held: never sent blindly again
    send = ledger.get_send(KEY)
    assert (send["status"], send["attempts"]) == ("uncertain", 1)
    assert (
        "cannot reach" not in send["last_error"] and "may have been delivered" in send["last_error"]
    )
    run = ledger.get_run(result.run_id)
    assert result.status == run["status"] == "uncertain"
    (notice,) = handler.notices
    notice = email.message_from_bytes(notice, policy=policy.default)
    assert NOTE in notice["Subject"]
    body = notice.get_body(("plain",)).get_content()
    assert "may have been delivered — check before re-sending" in body
    assert "cannot reach" not in body and "failed." not in body
    assert "uncertain" in _runs_output(tmp_path) and "leaders uncertain after 1 attempt(s)" in (
        _runs_output(tmp_path)
    )


def test_stalled_final_reply_retry_once_gives_two_copies_at_most_with_one_message_id(
    faulty, make_config, copy_builder, tmp_path
):
    server, handler = faulty
    handler.script = ["stall"] * 10
    handler.stall = 2.5
    config = _config(
        make_config,
        server.port,
        retry={"attempts": 8, "on_uncertain": "retry_once"},
        data_timeout_seconds=1,
    )
    result = _run(config, tmp_path, copy_builder)
    ledger = Ledger(_url(tmp_path))
    assert ledger.get_send(KEY)["status"] == "retrying" and result.status == "queued"
    _drain_for_a_day(ledger)

    assert handler.copies == Counter({"vp@example.com": 2})  # never more than two
    assert len(set(handler.message_ids)) == 1  # the re-send is the same message
    send = ledger.get_send(KEY)
    assert (send["status"], send["attempts"]) == ("uncertain", 2)
    outcomes = [a["outcome"] for a in ledger.attempts_of(send["id"])]
    assert outcomes == ["uncertain", "uncertain"]
    assert ledger.get_run(result.run_id)["status"] == "uncertain"  # reconciled from queued
    assert "uncertain  (run attempts 1)  sends: leaders uncertain after 2 attempt(s)" in (
        _runs_output(tmp_path)
    )


def test_the_final_reply_wait_is_not_the_command_timeout(
    faulty, make_config, copy_builder, tmp_path
):
    server, handler = faulty
    handler.script = ["stall"]
    handler.stall = 2.0
    config = _config(make_config, server.port, timeout_seconds=1)  # data wait: default 600 s
    result = _run(config, tmp_path, copy_builder)
    assert result.status == "succeeded"
    assert handler.copies == Counter({"vp@example.com": 1})


def test_421_storm_is_retried_until_accepted_once(faulty, make_config, copy_builder, tmp_path):
    server, handler = faulty
    handler.script = ["421", "421", "421"]
    config = _config(make_config, server.port, retry={"attempts": 8})
    result = _run(config, tmp_path, copy_builder)
    assert result.status == "queued"
    ledger = Ledger(_url(tmp_path))
    _drain_for_a_day(ledger)

    assert handler.copies == Counter({"vp@example.com": 1})
    send = ledger.get_send(KEY)
    assert (send["status"], send["attempts"]) == ("sent", 4)
    run = ledger.get_run(result.run_id)
    assert run["status"] == "succeeded" and run["error"] is None  # no longer queued forever
    assert "succeeded  (run attempts 1)  sends: leaders sent after 4 attempt(s)" in (
        _runs_output(tmp_path)
    )


def test_one_refused_recipient_is_partly_failed(faulty, make_config, copy_builder, tmp_path):
    server, handler = faulty
    config = _config(make_config, server.port, to=("vp@example.com", "bounce@example.com"))
    result = _run(config, tmp_path, copy_builder)
    ledger = Ledger(_url(tmp_path))
    _drain_for_a_day(ledger)

    assert handler.copies == Counter({"vp@example.com": 1})
    assert result.status == ledger.get_run(result.run_id)["status"] == "partly failed"
    assert "bounce@example.com" in ledger.get_run(result.run_id)["error"]
    assert "partly failed" in _runs_output(tmp_path)


def test_a_restart_never_reruns_a_finished_queued_run(faulty, make_config, copy_builder, tmp_path):
    server, handler = faulty
    handler.script = ["421"]
    config = _config(make_config, server.port)
    ledger = Ledger(_url(tmp_path))
    result = _run(config, tmp_path, copy_builder, trigger="schedule")
    assert ledger.get_run(result.run_id)["status"] == "queued"
    assert ledger.abandoned_runs(exclude_owner="someone-else") == []  # finished, only sending
    _drain_for_a_day(ledger)
    assert ledger.get_run(result.run_id)["status"] == "succeeded"


def test_unused_port_is_cannot_reach_not_uncertain(make_config, copy_builder, tmp_path):
    config = _config(make_config, free_port())
    _run(config, tmp_path, copy_builder)
    send = Ledger(_url(tmp_path)).get_send(KEY)
    assert send["status"] == "retrying" and "cannot reach" in send["last_error"]


def test_scheduler_killed_during_the_data_wait_then_restarted_holds_an_uncertain_send(
    faulty, make_config, tmp_path
):
    from .test_service_process import make_overdue, start_service, wait_until

    server, handler = faulty
    handler.script = ["stall"]
    handler.stall = 120.0  # the final reply never comes while the first process lives
    channel = {"type": "email", "name": "leaders", "to": ["vp@example.com"], "attach": ["pptx"]}
    config = make_config(
        server.port,
        channels=[channel],
        outputs=["pptx"],
        schedule={"cron": "0 7 * * MON", "timezone": "UTC", "period": "latest_in_data"},
    )
    make_overdue(config, tmp_path)
    ledger = Ledger(_url(tmp_path))

    first = start_service(config, tmp_path, "first.log")
    try:
        wait_until(lambda: bool(handler.copies), 300, "the message data", tmp_path / "first.log")
        time.sleep(0.3)  # the client now waits for the final reply
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    (killed,) = ledger.list_sends()
    assert killed["status"] == "sending"

    second = start_service(config, tmp_path, "second.log")
    try:
        wait_until(
            lambda: ledger.list_runs()[0]["status"] not in ("queued", "running"),
            300,
            "the dead claim to be settled and the run to finish",
            tmp_path / "second.log",
        )
        time.sleep(1.0)  # would a second copy follow? (it must not)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert handler.copies == Counter({"vp@example.com": 1})
    send = ledger.list_sends()[0]
    assert (send["status"], send["attempts"]) == ("uncertain", 1)
    assert [a["outcome"] for a in ledger.attempts_of(send["id"])] == ["uncertain"]
    (run,) = ledger.list_runs()
    assert run["status"] == "uncertain" and run["attempts"] == 2
    (notice,) = handler.notices
    assert NOTE in email.message_from_bytes(notice, policy=policy.default)["Subject"]


def test_a_rerun_while_a_send_retries_is_skipped_and_the_first_run_settles(
    faulty, make_config, copy_builder, tmp_path
):
    server, handler = faulty
    handler.script = ["421"]
    config = _config(make_config, server.port)
    first = _run(config, tmp_path, copy_builder)
    second = _run(config, tmp_path, copy_builder)
    ledger = Ledger(_url(tmp_path))
    assert first.status == "queued"
    assert second.status == "skipped"
    assert f"already queued by run {first.run_id}" in ledger.get_run(second.run_id)["error"]
    _drain_for_a_day(ledger)
    assert ledger.get_run(first.run_id)["status"] == "succeeded"
    assert handler.copies == Counter({"vp@example.com": 1})


def test_forcing_an_uncertain_send_keeps_its_message_id(
    faulty, make_config, copy_builder, tmp_path
):
    server, handler = faulty
    handler.script = ["drop"]
    config = _config(make_config, server.port)
    first = _run(config, tmp_path, copy_builder)
    assert first.status == "uncertain"
    again = _run(config, tmp_path, copy_builder)  # not forced: held, nothing sent
    assert again.status == "uncertain" and handler.copies["vp@example.com"] == 1
    forced = _run(config, tmp_path, copy_builder, force=True)  # the owner checked: not there
    assert forced.status == "succeeded"
    assert handler.copies == Counter({"vp@example.com": 2})
    assert len(set(handler.message_ids)) == 1


def test_a_killed_build_send_leaves_an_uncertain_send_the_next_run_sees(
    faulty, make_config, copy_builder, tmp_path
):
    import os
    import subprocess
    import sys

    from .test_service_process import ROOT, wait_until

    server, handler = faulty
    handler.script = ["stall"]
    handler.stall = 120.0
    config = _config(make_config, server.port)
    log = tmp_path / "send.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reportgen.cli", "build", str(config), "--period", "2026-W47",
             "--send", "--out", str(tmp_path / "out"), "-f", "pdf"],
            cwd=ROOT, stdout=out,
            env={**os.environ, "PYTHONPATH": str(ROOT), "REPORTGEN_LEDGER_URL": _url(tmp_path)},
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(
            lambda: bool(handler.copies) or proc.poll() is not None, 300, "the message data", log
        )
        assert proc.poll() is None, log.read_text()
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    ledger = Ledger(_url(tmp_path))
    assert ledger.get_send(KEY)["status"] == "sending"

    again = _run(config, tmp_path, copy_builder)  # the next manual run on this host
    assert again.status == "uncertain"
    assert ledger.get_send(KEY)["status"] == "uncertain"
    assert handler.copies == Counter({"vp@example.com": 1})
    assert [r["status"] for r in ledger.list_runs()] == ["uncertain", "abandoned"]
