"""The scheduler says what it does: one timestamped line per fire, catch-up, build, attempt, outcome."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from reportgen.ops.ledger import Ledger
from reportgen.ops.schedule import SchedulerService, ServiceSettings, create_scheduler

from .test_service_process import JOB, ROOT, ledger_url, wait_until


def test_json_log_has_catch_up_build_attempt_and_outcome(smtp, make_config, tmp_path):
    channel = {"type": "email", "name": "leaders", "to": ["vp@example.com"], "attach": ["pptx"]}
    config = make_config(
        smtp.port,
        channels=[channel],
        outputs=["pptx"],
        schedule={"cron": "*/10 * * * *", "timezone": "UTC", "period": "latest_in_data"},
    )
    settings = ServiceSettings([config], tmp_path / "out", ledger_url(tmp_path))
    service = SchedulerService(settings)
    service.start()
    service.stop()
    scheduler = create_scheduler(service.ledger.engine)
    scheduler.start(paused=True)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    last = now - timedelta(minutes=now.minute % 10)  # the last */10 fire time
    scheduler.modify_job(JOB, next_run_time=last - timedelta(minutes=30))  # 4 fire times missed
    scheduler.shutdown()

    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reportgen.cli", "schedule", "run", str(config),
             "--out", str(tmp_path / "out"), "--ledger", ledger_url(tmp_path),
             "--outbox-interval", "3600", "--log-format", "json"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    ledger = Ledger(ledger_url(tmp_path))
    try:
        wait_until(
            lambda: any(r["status"] == "succeeded" for r in ledger.list_runs()),
            300,
            "the catch-up run to finish",
            log,
        )
        wait_until(lambda: ": succeeded" in log.read_text(), 60, "the outcome line", log)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    messages = [r["message"] for r in records]
    catch_up = [m for m in messages if m.startswith("catching up")]
    assert len(catch_up) == 1 and catch_up[0].startswith(f"catching up 4 missed runs as one: {JOB}")
    assert any(m.startswith(f"build {JOB}") for m in messages)
    assert any(m.startswith("attempt 1 of send") for m in messages)
    assert any("accepted by" in m and "leaders" in m for m in messages)
    assert any(m.startswith("run ") and m.endswith(": succeeded") for m in messages)
    assert len(smtp.messages) == 1
    datetime.fromisoformat(records[0]["time"].replace("Z", "+00:00"))  # a real timestamp
