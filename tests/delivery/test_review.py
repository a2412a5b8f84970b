"""Review before send, against a real SMTP server: held, approved once, deadline send or skip."""

from __future__ import annotations

import email
import threading
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
import yaml

from reportgen.errors import ConfigError
from reportgen.ops.ledger import Ledger
from reportgen.ops.review import DEADLINE_NOTE, DraftStore, ReviewError, approve, settle_deadlines
from reportgen.ops.runs import run_report

from .conftest import OWNER

BUILT_AT = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # a Monday
DEADLINE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # "MON 09:00" in UTC
LEADER = "vp@example.com"


def with_review(config: Path, **review) -> Path:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["delivery"]["review"] = {"hold": True, "until": "MON 09:00", "timezone": "UTC", **review}
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return config


LEADERS = {"type": "email", "name": "leaders", "to": [LEADER], "audiences": ["leadership"]}


@pytest.fixture
def reviewed(smtp, make_config):
    return with_review(make_config(smtp.port, channels=[LEADERS]))


@pytest.fixture
def ledger_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def build(config: Path, tmp_path: Path, builder, ledger_url: str, **kwargs):
    return run_report(
        config,
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=ledger_url,
        builder=builder,
        now=BUILT_AT,
        **kwargs,
    )


def approve_it(config: Path, tmp_path: Path, ledger_url: str, **kwargs):
    return approve(
        config, period="2026-W47", out_dir=tmp_path / "out", ledger=ledger_url, by="ana", **kwargs
    )


def text_of(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=policy.default)
    return message.get_body(("plain",)).get_content()


def draft(ledger_url: str) -> dict:
    row = DraftStore(Ledger(ledger_url)).get("weekly_leadership", "2026-W47", "leadership")
    assert row is not None
    return row


def test_a_held_report_is_not_sent_at_build(smtp, reviewed, copy_builder, tmp_path, ledger_url):
    result = build(reviewed, tmp_path, copy_builder, ledger_url)

    assert result.status == "held" and result.sends == ()
    assert smtp.to(LEADER) == []
    row = draft(ledger_url)
    assert row["status"] == "held" and row["version"] == 1
    assert row["deadline"] == DEADLINE
    assert (Path(row["folder"]) / "manifest.json").is_file()
    (notice,) = smtp.to(OWNER)  # the reviewers (default: the owners) hear that a draft waits
    body = text_of(notice.data)
    assert f"reportgen approve {reviewed.resolve()} --period 2026-W47" in body
    assert "Mon 30 Nov 2026 09:00 UTC" in body


def test_approve_sends_once_and_a_second_approve_sends_nothing(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    build(reviewed, tmp_path, copy_builder, ledger_url)

    first = approve_it(reviewed, tmp_path, ledger_url)
    second = approve_it(reviewed, tmp_path, ledger_url)

    assert first.sent_now and [s.status for s in first.sends] == ["sent"]
    assert first.message.startswith("approved by ana: sent draft v1")
    assert not second.sent_now and second.sends == ()
    assert second.message.startswith("nothing sent: already approved by ana at ")
    (sent,) = smtp.to(LEADER)
    assert DEADLINE_NOTE not in text_of(sent.data)
    assert draft(ledger_url)["status"] == "approved"


def test_deadline_after_an_approval_does_not_resend(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    build(reviewed, tmp_path, copy_builder, ledger_url)
    approve_it(reviewed, tmp_path, ledger_url)

    later = settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(hours=1))

    assert later == []
    assert len(smtp.to(LEADER)) == 1


def test_deadline_sends_with_a_note_and_a_late_approve_sends_nothing(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    build(reviewed, tmp_path, copy_builder, ledger_url)
    assert settle_deadlines(Ledger(ledger_url), now=DEADLINE - timedelta(minutes=1)) == []
    assert smtp.to(LEADER) == []  # not before its deadline

    (outcome,) = settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(minutes=1))
    late = approve_it(reviewed, tmp_path, ledger_url)

    assert outcome.decision == "deadline" and outcome.sent_now
    (sent,) = smtp.to(LEADER)
    assert f"NOTE: {DEADLINE_NOTE} (Mon 30 Nov 2026 09:00 UTC)" in text_of(sent.data)
    assert not late.sent_now
    assert late.message == (
        "nothing sent: already sent without review at its deadline (Mon 30 Nov 2026 09:00 UTC)"
    )


def test_deadline_skip_sends_nothing_and_approve_then_refuses(
    smtp, make_config, copy_builder, tmp_path, ledger_url
):
    config = with_review(make_config(smtp.port, channels=[LEADERS]), at_deadline="skip")
    build(config, tmp_path, copy_builder, ledger_url)

    (outcome,) = settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(minutes=1))
    with pytest.raises(ReviewError) as error:
        approve_it(config, tmp_path, ledger_url)

    assert outcome.decision == "skipped" and not outcome.sent_now
    assert smtp.to(LEADER) == []
    assert "skipped at its review deadline" in str(error.value)
    assert "--force" in error.value.fix
    rebuilt = build(config, tmp_path, copy_builder, ledger_url)
    assert rebuilt.status == "skipped" and smtp.to(LEADER) == []  # a skip is final


def test_a_rebuild_while_held_replaces_the_draft_and_keeps_the_deadline(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    build(reviewed, tmp_path, copy_builder, ledger_url)
    first = draft(ledger_url)

    again = build(reviewed, tmp_path, copy_builder, ledger_url)
    second = draft(ledger_url)
    sent = approve_it(reviewed, tmp_path, ledger_url)

    assert again.status == "held" and second["version"] == 2
    assert second["deadline"] == first["deadline"] and second["folder"] != first["folder"]
    assert Path(first["folder"]).is_dir()  # the previous version stays for a reader mid-send
    assert "draft v2" in sent.message and len(smtp.to(LEADER)) == 1
    assert len(smtp.to(OWNER)) == 2  # reviewers told once per version


def test_approve_and_deadline_racing_send_once(smtp, reviewed, copy_builder, tmp_path, ledger_url):
    build(reviewed, tmp_path, copy_builder, ledger_url)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def approver() -> None:
        start.wait()
        try:
            approve_it(reviewed, tmp_path, ledger_url)
        except BaseException as exc:
            errors.append(exc)

    def deadline() -> None:
        start.wait()
        try:
            settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(minutes=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (approver, approver, deadline, deadline)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert len(smtp.to(LEADER)) == 1
    assert draft(ledger_url)["status"] in ("approved", "deadline")


def test_a_decision_left_unsent_by_a_crash_is_sent_once_later(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    build(reviewed, tmp_path, copy_builder, ledger_url)
    store = DraftStore(Ledger(ledger_url))
    row = draft(ledger_url)
    assert store.decide(row["id"], "approved", by="ana", now=DEADLINE)  # ...then the process died

    outcomes = settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(minutes=30))
    again = settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(hours=2))

    assert [o.sent_now for o in outcomes] == [True] and again == []
    assert len(smtp.to(LEADER)) == 1


def test_force_sends_at_once_and_closes_the_draft(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    build(reviewed, tmp_path, copy_builder, ledger_url)
    forced = build(reviewed, tmp_path, copy_builder, ledger_url, force=True)

    assert forced.status == "succeeded"
    assert draft(ledger_url)["status"] == "forced"
    assert settle_deadlines(Ledger(ledger_url), now=DEADLINE + timedelta(hours=1)) == []
    assert len(smtp.to(LEADER)) == 1


def test_cli_approve_and_runs_show_the_draft(smtp, reviewed, copy_builder, tmp_path, ledger_url):
    from typer.testing import CliRunner

    from reportgen.cli import app

    build(reviewed, tmp_path, copy_builder, ledger_url)
    args = ["--out", str(tmp_path / "out"), "--ledger", ledger_url]
    runs = CliRunner().invoke(app, ["runs", *args])
    assert runs.exit_code == 0, runs.output
    assert "2026-W47  leadership  held for review (draft v1) until Mon 30 Nov 2026 09:00" in (
        " ".join(runs.output.split("\n"))
    )
    listing = CliRunner().invoke(app, ["schedule", "list", str(reviewed), *args])
    assert "held for review" in listing.output

    command = ["approve", str(reviewed), "--period", "2026-W47", "--by", "ana", *args]
    first = CliRunner().invoke(app, command)
    second = CliRunner().invoke(app, command)

    assert first.exit_code == 0 and "approved by ana: sent draft v1" in first.output
    assert second.exit_code == 0 and "nothing sent: already approved by ana" in second.output
    assert len(smtp.to(LEADER)) == 1


@pytest.mark.parametrize(
    ("until", "words"),
    [("MONDAY 9am", "is not a review deadline"), ("XYZ 09:00", "unknown weekday 'XYZ'")],
)
def test_a_bad_deadline_names_the_file_line_and_fix(make_config, until, words):
    from reportgen.config import load_report

    config = with_review(make_config(1), until=until)
    with pytest.raises(ConfigError) as error:
        load_report(config)

    assert words in str(error.value)
    context = error.value.context
    assert context["file"] == str(config) and context["line"] > 1
    assert context["key"] == "delivery.review.until"
    assert "MON 09:00" in error.value.fix


def test_the_scheduler_sends_a_draft_at_its_deadline(
    smtp, reviewed, copy_builder, tmp_path, ledger_url
):
    """The running service checks deadlines on its own: this draft's (30 Nov) has passed."""
    import time

    from reportgen.ops.schedule import SchedulerService, ServiceSettings

    build(reviewed, tmp_path, copy_builder, ledger_url)
    service = SchedulerService(
        ServiceSettings([], tmp_path / "out", ledger_url, lock_ttl=30.0, outbox_interval=0.5)
    )
    service.start()
    try:
        deadline = time.monotonic() + 120  # a bound, not a wait: the loop ends on the send
        while not smtp.to(LEADER) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # a few more checks: still one copy
    finally:
        service.stop()

    (sent,) = smtp.to(LEADER)
    assert DEADLINE_NOTE in text_of(sent.data)
    assert draft(ledger_url)["status"] == "deadline"
