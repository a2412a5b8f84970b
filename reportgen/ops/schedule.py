"""The scheduler service: APScheduler 3.x, configured so runs are neither lost nor doubled.

APScheduler's defaults are the traps DESIGN.md lists: a ~1 s misfire grace
(missed runs silently dropped), ``coalesce`` off (N runs after downtime) and
an in-memory store (jobs forgotten on restart). Here:

* jobs live in a SQLAlchemy job store (the ledger's database by default), with
  ``coalesce=True``, ``max_instances=1`` and a misfire grace in hours, so a
  run missed during downtime happens once when the service comes back; one
  missed beyond the grace is recorded in the ledger and the owners are told;
* cron triggers carry an explicit IANA zone and :class:`DstSafeCronTrigger`
  fires a wall time that occurs twice (autumn) only once, and one that does
  not exist (spring) once, an hour later;
* only the holder of the ledger's ``scheduler`` lock acts; a second instance
  says who holds it and exits (or waits with ``--wait``);
* a scheduled run is written to the ledger *before* APScheduler advances the
  job, so a process killed mid-build leaves a row the next instance resumes —
  and the idempotency keys make that resumed run send each channel once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger

from reportgen.config.delivery import ScheduleConfig
from reportgen.errors import ReportgenError
from reportgen.ops.ledger import Ledger, make_engine, process_owner, utcnow

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
JOBSTORE_TABLE = "reportgen_apscheduler_jobs"


class SchedulerLockedError(ReportgenError):
    """Another scheduler instance holds the lock on this ledger."""


# -- triggers ---------------------------------------------------------------------------------


class DstSafeCronTrigger(CronTrigger):
    """A cron trigger that fires each wall time once across DST changes.

    APScheduler 3.x fires a wall time in the repeated autumn hour twice (fold
    0 and fold 1). Here the second occurrence is skipped. A wall time in the
    spring gap (02:30 on the change day) fires once, at the same UTC offset
    as the hour before — i.e. 03:30 local — and is reported as such.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        candidate = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(4):  # each step leaves one repeated hour behind
            if candidate is None or not _second_occurrence(candidate):
                break
            candidate = super().get_next_fire_time(None, _end_of_repeat(candidate))
        return None if candidate is None else candidate.astimezone(UTC).astimezone(self.timezone)


def _second_occurrence(moment: datetime) -> bool:
    """True for the later of two instants sharing one wall time (fall-back hour)."""
    if moment.fold != 1:
        return False
    naive, tz = moment.replace(tzinfo=None), moment.tzinfo
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    in_gap = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive
    return not in_gap and first.utcoffset() != second.utcoffset()


def _end_of_repeat(moment: datetime) -> datetime:
    """The first instant after ``moment`` whose wall time occurs only once."""
    probe = moment.astimezone(UTC)
    tz = moment.tzinfo
    for _ in range(24 * 60):
        probe += timedelta(minutes=1)
        local = probe.astimezone(tz)
        if not _second_occurrence(local):
            return local
    return moment + timedelta(hours=1)


def make_trigger(schedule: ScheduleConfig) -> DstSafeCronTrigger:
    fields = schedule.cron.split()
    minute, hour, day, month, day_of_week = fields
    return DstSafeCronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
        timezone=ZoneInfo(schedule.timezone),
    )


# -- what to schedule -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One job the configs ask for: a report audience's delivery, or an alert rule."""

    id: str
    func: str
    kwargs: dict[str, Any]
    schedule: ScheduleConfig
    description: str

    @property
    def trigger(self) -> DstSafeCronTrigger:
        return make_trigger(self.schedule)

    @property
    def grace_seconds(self) -> int:
        return int(self.schedule.misfire_grace_hours * 3600)


def job_specs(config_paths: Sequence[Path]) -> list[JobSpec]:
    """Every scheduled job of these report configs (reports without a schedule have none)."""
    from reportgen.config.loader import load_report

    specs: list[JobSpec] = []
    for path in config_paths:
        report = load_report(path)
        config = str(Path(path).resolve())
        delivery = report.config.delivery
        if report.config.schedule is not None and delivery is None:
            specs += _build_only_specs(report, config)  # a scheduled refresh into the output folder
        if report.config.schedule is not None and delivery is not None:
            for audience in report.config.audience_list():
                if not any(
                    c.audiences is None or audience.name in c.audiences for c in delivery.channels
                ):
                    continue  # nothing would deliver this variant
                job_id = f"report:{report.id}:{audience.name}"
                specs.append(
                    JobSpec(
                        job_id,
                        "reportgen.ops.schedule:report_job",
                        {"config_path": config, "audience": audience.name, "job_id": job_id},
                        report.config.schedule,
                        f"{report.id} → {audience.name}",
                    )
                )
        for rule in report.config.alerts:
            job_id = f"alert:{report.id}:{rule.name}"
            specs.append(
                JobSpec(
                    job_id,
                    "reportgen.ops.schedule:alert_job",
                    {"config_path": config, "rule": rule.name},
                    rule.schedule,
                    f"alert {rule.name} on {report.id}",
                )
            )
    return specs


def _build_only_specs(report: Any, config: str) -> list[JobSpec]:
    """A schedule without ``delivery:`` builds each audience into the output folder, like a BI
    tool's scheduled refresh: nothing is sent, the artifacts are there when people look."""
    specs = []
    for audience in report.config.audience_list():
        job_id = f"build:{report.id}:{audience.name}"
        specs.append(
            JobSpec(
                job_id,
                "reportgen.ops.schedule:build_job",
                {"config_path": config, "audience": audience.name},
                report.config.schedule,
                f"{report.id} → {audience.name}, built into the output folder (no delivery)",
            )
        )
    return specs


@dataclass(frozen=True)
class JobPreview:
    id: str
    description: str
    cron: str
    timezone: str
    next_runs: tuple[datetime, ...]


def preview_jobs(
    config_paths: Sequence[Path], *, now: datetime | None = None, count: int = 3
) -> list[JobPreview]:
    """The next ``count`` fire times of every job, as the service would compute them."""
    now = now or utcnow()
    previews = []
    for spec in job_specs(config_paths):
        trigger, runs, previous = spec.trigger, [], None
        moment = now.astimezone(trigger.timezone)
        for _ in range(count):
            nxt = trigger.get_next_fire_time(previous, moment)
            if nxt is None:
                break
            runs.append(nxt)
            previous, moment = nxt, nxt + timedelta(microseconds=1)
        previews.append(
            JobPreview(
                spec.id, spec.description, spec.schedule.cron, spec.schedule.timezone, tuple(runs)
            )
        )
    return previews


# -- the scheduler ------------------------------------------------------------------------------


class LedgerExecutor(ThreadPoolExecutor):
    """Records a report run in the ledger before APScheduler moves the job to its next time."""

    def __init__(self, on_submit: Callable[[Any, datetime], None], max_workers: int = 1) -> None:
        super().__init__(max_workers)
        self._on_submit = on_submit

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        _log_fire(job, run_times)
        self._on_submit(job, run_times[-1])
        super()._do_submit_job(job, run_times)


def _log_fire(job: Any, run_times: list[datetime]) -> None:
    """One line per fire; a catch-up after downtime says how many runs it folds into one."""
    now = utcnow()
    late = now - run_times[-1]
    # coalescing left only the last time; the job still knows the first it missed (a private
    # API: without it, the line still says how late the run is)
    with contextlib.suppress(Exception):
        run_times = job._get_run_times(now) or run_times
    if len(run_times) > 1 or late > timedelta(minutes=1):
        times = ", ".join(f"{t.astimezone(UTC):%Y-%m-%d %H:%M}" for t in run_times)
        log.info(
            "catching up %d missed run%s as one: %s (%s UTC; now %s late)",
            len(run_times),
            "" if len(run_times) == 1 else "s",
            job.id,
            times,
            str(late).split(".")[0],
        )
    else:
        log.info("fire %s (scheduled for %s UTC)", job.id, f"{run_times[-1]:%Y-%m-%d %H:%M}")


class _SafeScheduler(BackgroundScheduler):
    """Processes jobs only while running.

    APScheduler 3.x wakes its thread once more on ``shutdown()`` and processes due
    jobs with executors already shut down: the submission fails, yet the job is
    advanced to its next time — a run silently consumed. Stopping or paused
    schedulers here leave due jobs in the store for the next start.
    """

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


def create_scheduler(
    jobstore_engine: Any,
    *,
    on_submit: Callable[[Any, datetime], None] | None = None,
    misfire_grace_hours: float = 6.0,
    workers: int = 1,
) -> BackgroundScheduler:
    """A scheduler with a persistent store and the safe job defaults (see the module docstring)."""
    executor = LedgerExecutor(on_submit, workers) if on_submit else ThreadPoolExecutor(workers)
    return _SafeScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=jobstore_engine, tablename=JOBSTORE_TABLE),
            "volatile": MemoryJobStore(),  # outbox polling and recoveries: rebuilt at start
        },
        executors={"default": executor, "light": ThreadPoolExecutor(1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(misfire_grace_hours * 3600),
        },
        timezone=UTC,
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: Sequence[JobSpec]) -> dict[str, str]:
    """Make the store match the configs without touching unchanged jobs.

    Re-adding an unchanged job would recompute its next run from *now* and so
    drop a run missed during downtime; it is left alone instead.
    """
    existing = {job.id: job for job in scheduler.get_jobs(jobstore="default")}
    actions: dict[str, str] = {}
    for spec in specs:
        job = existing.pop(spec.id, None)
        if job is None:
            scheduler.add_job(
                spec.func,
                spec.trigger,
                id=spec.id,
                name=spec.description,
                kwargs=spec.kwargs,
                misfire_grace_time=spec.grace_seconds,
                jobstore="default",
            )
            actions[spec.id] = "added"
        elif (repr(job.trigger), job.kwargs, job.misfire_grace_time) != (
            repr(spec.trigger),
            spec.kwargs,
            spec.grace_seconds,
        ):
            scheduler.modify_job(
                spec.id,
                kwargs=spec.kwargs,
                misfire_grace_time=spec.grace_seconds,
                name=spec.description,
            )
            scheduler.reschedule_job(spec.id, trigger=spec.trigger)
            actions[spec.id] = "updated"
        else:
            actions[spec.id] = "kept"
    for stale in existing:
        if stale.startswith(("report:", "alert:")):
            scheduler.remove_job(stale, jobstore="default")
            actions[stale] = "removed"
    return actions


@dataclass
class ServiceSettings:
    config_paths: list[Path]
    out_dir: Path = Path("output")
    ledger_url: str | None = None
    jobstore_url: str | None = None  # default: the ledger's database
    lock_ttl: float = 60.0  # seconds without a heartbeat before another instance may take over
    outbox_interval: float = 60.0  # seconds between outbox retries
    clock: Callable[[], datetime] = field(default=utcnow)


_ACTIVE: SchedulerService | None = None


class SchedulerService:
    """One scheduler instance: lock, job store, listeners, recovery, outbox polling."""

    def __init__(self, settings: ServiceSettings) -> None:
        from reportgen.ops.ledger import default_url

        self.settings = settings
        self.ledger = Ledger(settings.ledger_url or default_url(settings.out_dir))
        store_url = settings.jobstore_url or self.ledger.url
        self._store_engine = (
            self.ledger.engine if store_url == self.ledger.url else make_engine(store_url)
        )
        self.scheduler: BackgroundScheduler | None = None
        self.stopped = threading.Event()
        self._intents: dict[str, int] = {}
        self._intents_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self.owner = f"{process_owner()}:{id(self):x}"  # one lock identity per instance

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> dict[str, str]:
        """Take the lock, sync the jobs, resume abandoned runs and start firing."""
        global _ACTIVE
        specs = job_specs(self.settings.config_paths)  # config errors surface before the lock
        holder = self.ledger.acquire_lock(
            LOCK_NAME, self.settings.lock_ttl, self.settings.clock(), self.owner
        )
        if holder is not None:
            raise SchedulerLockedError(
                f"another scheduler ({holder.hostname}, pid {holder.pid}) has been running on this "
                f"ledger since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(last heartbeat {holder.heartbeat_at:%H:%M:%S} UTC)",
                fix="run one scheduler per ledger; stop the other, or start this one with --wait",
                owner=holder.owner,
            )
        _ACTIVE = self
        self.scheduler = create_scheduler(self._store_engine, on_submit=self._record_intent)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self.scheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start(paused=True)
        actions = sync_jobs(self.scheduler, specs)
        self._schedule_outbox()
        self._schedule_review_deadlines()
        self._settle_dead_claims()  # first: a resumed run must see what its sends became
        self._recover_abandoned()
        self._heartbeat = threading.Thread(
            target=self._beat, name="reportgen-heartbeat", daemon=True
        )
        self._heartbeat.start()
        self.scheduler.resume()
        log.info("scheduler started with %d job(s): %s", len(specs), actions)
        return actions

    def stop(self, *, wait: bool = True) -> None:
        """Stop firing; with ``wait`` let the job in flight finish, then release the lock."""
        global _ACTIVE
        self.stopped.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        self.ledger.release_lock(LOCK_NAME, self.owner)
        if _ACTIVE is self:
            _ACTIVE = None

    def _beat(self) -> None:
        interval = max(self.settings.lock_ttl / 3.0, 0.2)
        while not self.stopped.wait(interval):
            if not self.ledger.heartbeat(LOCK_NAME, self.settings.clock(), self.owner):
                log.critical("lost the scheduler lock to another instance; stopping")
                self.stopped.set()
                if self.scheduler is not None:
                    self.scheduler.pause()
                return

    # -- jobs ------------------------------------------------------------------------------------

    def _schedule_outbox(self) -> None:
        assert self.scheduler is not None
        self.scheduler.add_job(
            "reportgen.ops.schedule:outbox_job",
            "interval",
            seconds=self.settings.outbox_interval,
            id="outbox",
            jobstore="volatile",
            executor="light",
            replace_existing=True,
        )

    def _schedule_review_deadlines(self) -> None:
        """Drafts held for review are sent (or skipped) at their deadline: checked each minute."""
        assert self.scheduler is not None
        self.scheduler.add_job(
            "reportgen.ops.schedule:review_deadlines",
            "interval",
            seconds=min(self.settings.outbox_interval, 60.0),
            id="review-deadlines",
            jobstore="volatile",
            executor="light",
            replace_existing=True,
        )

    def _record_intent(self, job: Any, scheduled_for: datetime) -> None:
        if not job.id.startswith("report:"):
            return
        from reportgen.config.loader import load_report
        from reportgen.ops.runs import for_audience, period_label

        kwargs = job.kwargs
        try:
            report = for_audience(load_report(kwargs["config_path"]), kwargs["audience"])
            label = period_label(report, None, scheduled_for)
        except ReportgenError as exc:  # recorded by the job itself when it runs
            log.error("cannot read %s: %s", kwargs["config_path"], exc)
            return
        run_id = self.ledger.start_run(
            report=report.id,
            audience=report.config.audience.name,
            trigger="schedule",
            period=label,
            config_path=kwargs["config_path"],
            out_dir=str(self.settings.out_dir.resolve()),
            job_id=job.id,
            scheduled_for=scheduled_for,
            now=self.settings.clock(),
            status="queued",
        )
        with self._intents_lock:
            self._intents[job.id] = run_id

    def take_intent(self, job_id: str) -> int | None:
        with self._intents_lock:
            return self._intents.pop(job_id, None)

    def run_scheduled(
        self, config_path: str, audience: str, run_id: int | None, job_id: str
    ) -> None:
        """Run one report delivery; every failure is recorded and reported, never raised."""
        from reportgen.ops.runs import run_report

        row = self.ledger.get_run(run_id) if run_id else None
        period = (row or {}).get("period") or "from the data"
        log.info("build %s (run %s, period %s)", job_id, run_id, period)
        try:
            result = run_report(
                config_path,
                period=row["period"] if row else None,
                audience=audience,
                out_dir=self.settings.out_dir,
                ledger=self.ledger,
                trigger="schedule",
                resume_run_id=run_id,
                job_id=job_id,
                notify_failure=True,
                next_run=self._next_run_text(job_id),
            )
        except Exception as exc:  # run_report recorded it and told the owners
            log.error("scheduled run %s failed: %s", job_id, exc)
            return
        for sent in result.sends:
            log.info("run %s → %s: %s (%s)", result.run_id, sent.channel, sent.status, sent.detail)
        log.info("run %s of %s %s: %s", result.run_id, job_id, result.period, result.status)

    def _next_run_text(self, job_id: str) -> str | None:
        job = self.scheduler.get_job(job_id) if self.scheduler else None
        if job is None or job.next_run_time is None:
            return None
        return _both_zones(job.next_run_time, job.trigger.timezone)

    def _settle_dead_claims(self) -> None:
        """Sends claimed by a process that died mid-send are uncertain: settle them now."""
        from reportgen.ops.outbox import recover_dead_claims

        for outcome in recover_dead_claims(self.ledger, self.settings.clock()):
            log.warning("send #%s (%s): %s", outcome.send_id, outcome.channel, outcome.status)

    def _recover_abandoned(self) -> None:
        """Resume the scheduled runs a dead instance left unfinished (same row, same period)."""
        assert self.scheduler is not None
        for row in self.ledger.abandoned_runs(exclude_owner=process_owner()):
            log.warning(
                "resuming run %s of %s left unfinished by %s",
                row["id"],
                row["report"],
                row["owner"],
            )
            self.scheduler.add_job(
                "reportgen.ops.schedule:recover_job",
                kwargs={"run_id": row["id"]},
                id=f"recover:{row['id']}",
                jobstore="volatile",
                replace_existing=True,
                misfire_grace_time=None,
            )

    # -- listeners -------------------------------------------------------------------------------

    def _on_missed(self, event: JobSubmissionEvent) -> None:
        if not event.job_id.startswith("report:"):
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            return
        job = self.scheduler.get_job(event.job_id) if self.scheduler else None
        _, report, audience = event.job_id.split(":", 2)
        error = (
            f"the run scheduled for {event.scheduled_run_time:%Y-%m-%d %H:%M %Z} was missed: the "
            "scheduler was down for longer than the misfire grace"
        )
        run_id = self.take_intent(event.job_id)  # the executor recorded it before the check
        if run_id is not None:
            self.ledger.finish_run(run_id, "missed", error=error)
        else:
            run_id = self.ledger.record_event(
                report=report,
                audience=audience,
                status="missed",
                error=error,
                job_id=event.job_id,
                scheduled_for=event.scheduled_run_time,
            )
        log.error("%s (run %s)", error, run_id)
        if job is not None:
            self._notify_missed(job.kwargs["config_path"], report, audience, run_id, error)

    def _notify_missed(
        self, config_path: str, report: str, audience: str, run_id: int, error: str
    ) -> None:
        from reportgen.config.loader import load_report
        from reportgen.ops.runs import notify_owners

        try:
            delivery = load_report(config_path).config.delivery
        except ReportgenError:
            return
        notify_owners(
            self.ledger,
            delivery,
            report=report,
            audience=audience,
            period=None,
            run_id=run_id,
            error=error + "; build it now with `reportgen build CONFIG --send`",
            next_run=None,
            what="A scheduled run",
        )

    def _on_error(self, event: JobExecutionEvent) -> None:
        log.error("job %s raised %r", event.job_id, event.exception)

    def _on_max_instances(self, event: JobSubmissionEvent) -> None:
        log.warning("job %s is still running; this run was skipped", event.job_id)


def _both_zones(moment: datetime, tz: Any) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M %Z} ({moment.astimezone(UTC):%H:%M} UTC)"


def _service() -> SchedulerService:
    if _ACTIVE is None:
        raise ReportgenError(
            "scheduler jobs run only inside `reportgen schedule run`",
            fix="start the service with `reportgen schedule run`",
        )
    return _ACTIVE


# -- job functions (referenced by name in the job store) ---------------------------------------


def report_job(config_path: str, audience: str, job_id: str) -> None:
    service = _service()
    service.run_scheduled(config_path, audience, service.take_intent(job_id), job_id)


def build_job(config_path: str, audience: str) -> None:
    """A scheduled build without delivery: the schedule's period, written under the output folder."""
    from reportgen.build import build_report
    from reportgen.config.loader import load_report
    from reportgen.ops.runs import for_audience, period_label

    service = _service()
    try:
        report = for_audience(load_report(config_path), audience)
        period = period_label(report, None, service.settings.clock())
        result = build_report(
            config_path,
            period=period,
            audience=audience,
            out_dir=service.settings.out_dir,
            now=service.settings.clock(),
        )
    except Exception as exc:  # logged like an alert's failure; the next run tries again
        log.error("scheduled build of %s (%s) failed: %s", config_path, audience, exc)
        return
    log.info("built %s %s (%s) into %s", config_path, result.period.label, audience, result.out_dir)


def recover_job(run_id: int) -> None:
    service = _service()
    row = service.ledger.get_run(run_id)
    if row is None or row["status"] not in ("queued", "running") or row["finished_at"] is not None:
        return  # finished: a queued run with a finish time only waits for its outbox
    service.run_scheduled(row["config_path"], row["audience"], run_id, row["job_id"] or "")


def alert_job(config_path: str, rule: str) -> None:
    from reportgen.ops.alerts import check_alerts

    service = _service()
    try:
        check_alerts(config_path, ledger=service.ledger, rules=[rule], now=service.settings.clock())
    except Exception as exc:
        log.error("alert %s on %s failed: %s", rule, config_path, exc)


def outbox_job() -> None:
    from reportgen.ops.outbox import drain

    service = _service()
    drain(service.ledger, now=service.settings.clock())


def review_deadlines() -> None:
    """Send (or drop) the held drafts whose review deadline passed; the scheduler runs it
    every minute from its volatile job store, so it is referenced by name."""
    from reportgen.ops.review import settle_deadlines

    service = _service()
    settle_deadlines(service.ledger, now=service.settings.clock())
