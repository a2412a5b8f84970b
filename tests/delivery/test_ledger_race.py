"""Two real schedulers opening one fresh ledger at the same instant, 20 times.

Each time exactly one runs; the other names the holder of the lock and exits 1 —
never "cannot open the run ledger … OperationalError" (a create_all/WAL race).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .test_service_process import ROOT


def _scheduler(config: Path, folder: Path, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reportgen.cli",
                "schedule",
                "run",
                str(config),
                "--out",
                str(folder / "out"),
                "--ledger",
                f"sqlite:///{folder / 'ledger.sqlite'}",
                "--outbox-interval",
                "3600",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_two_processes_open_a_fresh_ledger_together_20_times(make_config, tmp_path):
    config = make_config(1, schedule={"cron": "0 7 * * MON", "timezone": "UTC"})
    for trial in range(20):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        logs = [folder / "a.log", folder / "b.log"]
        procs = [_scheduler(config, folder, log) for log in logs]
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and all(p.poll() is None for p in procs):
                time.sleep(0.1)
            exited = [p for p in procs if p.poll() is not None]
            texts = [log.read_text(errors="replace") for log in logs]
            assert len(exited) == 1, f"trial {trial}: {texts}"
            loser = procs.index(exited[0])
            assert exited[0].returncode == 1, texts
            assert "another scheduler" in texts[loser], texts
            for text in texts:
                assert "OperationalError" not in text and "Traceback" not in text, texts
            winner = procs[1 - loser]
            for _ in range(100):  # the winner is up and holds the lock
                if "scheduler running" in logs[1 - loser].read_text(errors="replace"):
                    break
                time.sleep(0.1)
            assert "scheduler running" in logs[1 - loser].read_text(errors="replace")
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        assert winner.returncode == 0
