"""The scheduler: DST, misfires after downtime, one instance per store, failures reported."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from reportgen.config.delivery import ScheduleConfig
from reportgen.ops.ledger import Ledger, make_engine
from reportgen.ops.schedule import (
    SchedulerLockedError,
    SchedulerService,
    ServiceSettings,
    create_scheduler,
    make_trigger,
    preview_jobs,
    sync_jobs,
)

from .conftest import OWNER

LA = ZoneInfo("America/Los_Angeles")

CALLS: list[str] = []


def record_call(tag: str) -> None:
    """A job function for the store (referenced by name, like the real jobs)."""
    CALLS.append(tag)


def fires(trigger, start: datetime, end: datetime) -> list[datetime]:
    """Fire times between start and end, stepping exactly as APScheduler's job loop does."""
    out, previous, now = [], None, start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt > end or len(out) > 100:
            return out
        out.append(nxt)
        previous, now = nxt, nxt + timedelta(microseconds=1)


def per_local_day(times: list[datetime]) -> Counter:
    return Counter(t.astimezone(LA).date() for t in times)


def test_0230_fires_once_a_day_across_spring_forward():
    trigger = make_trigger(ScheduleConfig(cron="30 2 * * *", timezone="America/Los_Angeles"))
    times = fires(trigger, datetime(2026, 3, 5, tzinfo=LA), datetime(2026, 3, 12, tzinfo=LA))

    assert set(per_local_day(times).values()) == {1} and len(times) == 7
    (change_day,) = [t for t in times if t.astimezone(LA).date().day == 8]
    assert change_day.astimezone(LA).strftime("%H:%M %Z") == "03:30 PDT"  # 02:30 does not exist


def test_0230_and_0130_fire_once_a_day_across_fall_back():
    start, end = datetime(2026, 10, 29, tzinfo=LA), datetime(2026, 11, 4, tzinfo=LA)
    for cron in ("30 2 * * *", "30 1 * * *"):
        trigger = make_trigger(ScheduleConfig(cron=cron, timezone="America/Los_Angeles"))
        times = fires(trigger, start, end)
        assert set(per_local_day(times).values()) == {1} and len(times) == 6, cron
    # the trap this avoids: APScheduler's own trigger fires 01:30 twice on 1 November
    raw = CronTrigger.from_crontab("30 1 * * *", timezone=LA)
    first = raw.get_next_fire_time(None, datetime(2026, 11, 1, tzinfo=LA))
    again = raw.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert again.date() == first.date() and again.utcoffset() != first.utcoffset()


def test_schedule_list_shows_local_and_utc(make_config):
    schedule = {"cron": "0 7 * * MON", "timezone": "America/Los_Angeles"}
    config = make_config(1, schedule=schedule)
    (preview,) = preview_jobs([config], now=datetime(2026, 11, 25, tzinfo=UTC), count=2)
    assert preview.id == "report:weekly_leadership:leadership"
    assert [f"{t:%Y-%m-%d %H:%M %Z}" for t in preview.next_runs] == [
        "2026-11-30 07:00 PST",
        "2026-12-07 07:00 PST",
    ]

    from typer.testing import CliRunner

    from reportgen.cli import app

    result = CliRunner().invoke(app, ["schedule", "list", str(config), "--count", "1"])
    assert result.exit_code == 0
    assert "2026-11-30 07:00 PST" in result.output or "07:00 PST" in result.output
    assert "15:00 UTC" in result.output


def test_missed_runs_after_downtime_run_once(tmp_path):
    """Coalescing: a job 30 minutes overdue on a 1-minute cron runs once, not 30 times."""
    CALLS.clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    scheduler = create_scheduler(engine)
    scheduler.start(paused=True)
    trigger = make_trigger(ScheduleConfig(cron="* * * * *", timezone="UTC"))
    scheduler.add_job(
        "tests.delivery.test_schedule:record_call",
        trigger,
        id="every-minute",
        args=["ran"],
        next_run_time=datetime.now(UTC) - timedelta(minutes=30),
    )
    scheduler.shutdown()  # "downtime": the job stays overdue in the persistent store

    scheduler = create_scheduler(engine)
    scheduler.start()
    try:
        deadline = time.monotonic() + 60  # a bound, not a wait: the loop ends on the call
        while not CALLS and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert CALLS == ["ran"]
        assert scheduler.get_job("every-minute").next_run_time > datetime.now(UTC)
    finally:
        scheduler.shutdown()


def _service(config: Path, tmp_path: Path, **kwargs) -> SchedulerService:
    return SchedulerService(
        ServiceSettings(
            [config],
            tmp_path / "out",
            f"sqlite:///{tmp_path / 'ledger.sqlite'}",
            lock_ttl=kwargs.pop("lock_ttl", 30.0),
            outbox_interval=3600,
            **kwargs,
        )
    )


def test_two_schedulers_on_one_store_one_acts(make_config, tmp_path):
    config = make_config(1, schedule={"cron": "0 7 * * MON", "timezone": "UTC"})
    first, second = _service(config, tmp_path), _service(config, tmp_path)
    first.start()
    try:
        with pytest.raises(SchedulerLockedError, match=r"another scheduler .* pid \d+"):
            second.start()
        assert second.scheduler is None  # it never started firing
    finally:
        first.stop()
    second.start()  # the lock was released on a clean stop
    second.stop()


def test_a_second_instance_is_told_and_exits(make_config, tmp_path):
    from typer.testing import CliRunner

    from reportgen.cli import app

    config = make_config(1, schedule={"cron": "0 7 * * MON", "timezone": "UTC"})
    holder = _service(config, tmp_path)
    holder.start()
    try:
        result = CliRunner().invoke(
            app,
            [
                "schedule",
                "run",
                str(config),
                "--out",
                str(tmp_path / "out"),
                "--ledger",
                f"sqlite:///{tmp_path / 'ledger.sqlite'}",
            ],
        )
    finally:
        holder.stop()
    assert result.exit_code == 1
    assert "another scheduler" in result.output and "--wait" in result.output


def test_restart_keeps_an_unchanged_job_and_its_overdue_run(make_config, tmp_path):
    config = make_config(1, schedule={"cron": "0 7 * * MON", "timezone": "UTC"})
    service = _service(config, tmp_path)
    assert service.start() == {"report:weekly_leadership:leadership": "added"}
    service.stop()
    scheduler = create_scheduler(service.ledger.engine)
    scheduler.start(paused=True)
    assert sync_jobs(scheduler, _specs(config)) == {"report:weekly_leadership:leadership": "kept"}
    changed = make_config(1, schedule={"cron": "0 8 * * MON", "timezone": "UTC"})
    assert sync_jobs(scheduler, _specs(changed)) == {
        "report:weekly_leadership:leadership": "updated"
    }
    assert scheduler.get_job("report:weekly_leadership:leadership").next_run_time.hour == 8
    scheduler.shutdown()


def _specs(config: Path):
    from reportgen.ops.schedule import job_specs

    return job_specs([config])


def test_a_run_missed_beyond_the_grace_is_recorded_and_owners_told(smtp, make_config, tmp_path):
    schedule = {"cron": "0 7 * * MON", "timezone": "UTC", "misfire_grace_hours": 1}
    config = make_config(smtp.port, schedule=schedule)
    service = _service(config, tmp_path)
    service.start()
    service.stop()
    scheduler = create_scheduler(service.ledger.engine)
    scheduler.start(paused=True)
    missed_at = datetime.now(UTC) - timedelta(hours=3)
    scheduler.modify_job("report:weekly_leadership:leadership", next_run_time=missed_at)
    scheduler.shutdown()

    service = _service(config, tmp_path)
    service.start()
    try:
        ledger = service.ledger
        deadline = time.monotonic() + 60  # the missed run recorded and its notice sent
        while not smtp.to(OWNER) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # would a second run or notice follow? (they must not)
    finally:
        service.stop()
    (run,) = ledger.list_runs()
    assert run["status"] == "missed" and "misfire grace" in run["error"]
    (notice,) = smtp.to(OWNER)
    assert b"was missed" in notice.data


def test_a_failed_scheduled_build_tells_the_owners(smtp, make_config, tmp_path):
    from reportgen.errors import RenderError
    from reportgen.ops.runs import run_report

    def broken_builder(*_args, **_kwargs):
        raise RenderError("rendering pdf failed: out of fonts", fix="install the fonts")

    config = make_config(smtp.port, schedule={"cron": "0 7 * * MON", "timezone": "UTC"})
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with pytest.raises(RenderError):
        run_report(
            config,
            out_dir=tmp_path / "out",
            ledger=ledger,
            trigger="schedule",
            now=datetime(2026, 11, 25, 7, tzinfo=UTC),
            builder=broken_builder,
            notify_failure=True,
            next_run="2026-11-30 07:00 UTC",
        )
    (run,) = ledger.list_runs()
    assert run["status"] == "failed" and "out of fonts" in run["error"]
    assert run["period"] == "2026-W47"  # the last complete week before the fire time
    (notice,) = smtp.to(OWNER)
    text = notice.data.decode()
    assert f"Run id:   {run['id']}" in text and "out of fonts" in text
    assert "2026-11-30 07:00 UTC" in text  # the next run still happens
    assert ledger.list_sends() and all(
        s["channel"].startswith("notice:") for s in ledger.list_sends()
    )
