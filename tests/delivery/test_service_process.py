"""The scheduler as a real process: SIGKILL mid-build and restart, clean SIGTERM."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from reportgen.ops.ledger import Ledger, SendKey
from reportgen.ops.schedule import LOCK_NAME, SchedulerService, ServiceSettings, create_scheduler

ROOT = Path(__file__).resolve().parents[2]
JOB = "report:weekly_leadership:leadership"


def start_service(config: Path, tmp_path: Path, log_name: str) -> subprocess.Popen:
    with (tmp_path / log_name).open("wb") as log:  # the child keeps its own descriptor
        return _popen(config, tmp_path, log)


def _popen(config: Path, tmp_path: Path, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reportgen.cli",
            "schedule",
            "run",
            str(config),
            "--out",
            str(tmp_path / "out"),
            "--ledger",
            ledger_url(tmp_path),
            "--lock-ttl",
            "30",
            "--outbox-interval",
            "3600",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; service log:\n{log.read_text(errors='replace')}")


def make_overdue(config: Path, tmp_path: Path) -> None:
    """Register the job, then move its next run 5 minutes into the past (the service was down)."""
    settings = ServiceSettings([config], tmp_path / "out", ledger_url(tmp_path))
    service = SchedulerService(settings)
    service.start()
    service.stop()
    scheduler = create_scheduler(service.ledger.engine)
    scheduler.start(paused=True)
    scheduler.modify_job(JOB, next_run_time=datetime.now(UTC) - timedelta(minutes=5))
    scheduler.shutdown()


def test_killed_mid_build_then_restarted_runs_once_and_sends_once(smtp, make_config, tmp_path):
    channel = {"type": "email", "name": "leaders", "to": ["vp@example.com"], "attach": ["pptx"]}
    config = make_config(
        smtp.port,
        channels=[channel],
        outputs=["pptx"],
        schedule={"cron": "0 7 * * MON", "timezone": "UTC", "period": "latest_in_data"},
    )
    make_overdue(config, tmp_path)
    ledger = Ledger(ledger_url(tmp_path))

    first = start_service(config, tmp_path, "first.log")
    try:
        wait_until(  # a condition, not a sleep: on a busy machine the build may take minutes
            lambda: any((tmp_path / "out").rglob(".staging-*")),
            300,
            "the overdue run to start rendering",
            tmp_path / "first.log",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    (killed,) = ledger.list_runs()
    assert killed["status"] == "running" and smtp.messages == []
    assert not list((tmp_path / "out").rglob("manifest.json"))

    second = start_service(config, tmp_path, "second.log")
    try:
        wait_until(
            lambda: ledger.list_runs()[0]["status"] not in ("queued", "running"),
            300,
            "the abandoned run to be resumed and finish",
            tmp_path / "second.log",
        )
        time.sleep(0.5)  # would a second run or a second send follow? (they must not)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    (run,) = ledger.list_runs()  # one run: the same row, resumed
    assert (run["id"], run["status"], run["attempts"]) == (killed["id"], "succeeded", 2)
    (received,) = smtp.messages
    deck = Path(run["artifacts"]["pptx"]["path"])
    message = email.message_from_bytes(received.data, policy=policy.default)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content() == deck.read_bytes()
    sent = ledger.get_send(SendKey("weekly_leadership", run["period"], "leadership", "leaders"))
    assert sent["status"] == "sent" and sent["attempts"] == 1


def test_sigterm_stops_cleanly_and_releases_the_lock(make_config, tmp_path):
    config = make_config(1, schedule={"cron": "0 7 * * MON", "timezone": "UTC"})
    ledger = Ledger(ledger_url(tmp_path))
    service = start_service(config, tmp_path, "service.log")
    try:
        wait_until(
            lambda: ledger.lock_holder(LOCK_NAME) is not None,
            120,
            "the service to take the lock",
            tmp_path / "service.log",
        )
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=15) == 0
    finally:
        if service.poll() is None:
            service.kill()
    assert ledger.lock_holder(LOCK_NAME) is None
    assert "scheduler stopped" in (tmp_path / "service.log").read_text()
