"""``run_report()``: build (or reuse) one report period and deliver it, exactly once per channel.

Every run is a row in the ledger; every delivery is an outbox row keyed by
``(report, period, audience, channel)``. A second run for the same key — a
retry, a manual re-run, a scheduler restarted after a crash — finds the key
already sent and sends nothing, unless ``force=True``. A build failure is
recorded with its error, the owners are told (for scheduled runs), and the
previous good artifacts stay untouched (``build_report`` writes atomically).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reportgen.config.delivery import DeliveryConfig, EmailChannel
from reportgen.errors import ConfigError, DeliveryError, ReportgenError
from reportgen.ops.ledger import Ledger, open_ledger, utcnow
from reportgen.ops.manifest import ReportContent, content_from_build, read_manifest, write_manifest
from reportgen.ops.outbox import SendOutcome, enqueue_and_deliver, recover_dead_claims, wait_for
from reportgen.ops.sending import (
    ChannelConfig,
    delivery_of,
    for_audience,
    refreshed,
    run_status,
    select_channels,
    send_key,
    send_on,
)

if TYPE_CHECKING:
    from reportgen.build import BuildResult
    from reportgen.config.loader import ResolvedReport

log = logging.getLogger(__name__)

Builder = Callable[..., "BuildResult"]


@dataclass(frozen=True)
class RunResult:
    """What a run did: its ledger id, the period, the artifacts and each channel's outcome."""

    run_id: int
    report: str
    audience: str
    period: str | None
    status: str  # succeeded | queued | failed | skipped | held (for review)
    folder: Path | None
    artifacts: dict[str, Path] = field(default_factory=dict)
    sends: tuple[SendOutcome, ...] = ()
    build: BuildResult | None = None


def run_report(
    config_path: str | Path,
    *,
    period: str | None = None,
    audience: str | None = None,
    out_dir: str | Path = "output",
    ledger: Ledger | str | None = None,
    force: bool = False,
    channels: Sequence[str] | None = None,
    rebuild: bool = True,
    trigger: str = "manual",
    now: datetime | None = None,
    resume_run_id: int | None = None,
    job_id: str | None = None,
    scheduled_for: datetime | None = None,
    notify_failure: bool = False,
    next_run: str | None = None,
    wait_seconds: float = 0.0,
    formats: Sequence[str] | None = None,
    builder: Builder | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Build (or, with ``rebuild=False``, reuse) a report period and send it on its channels.

    ``audience`` names one of the report's audiences (default: the first); each
    audience is its own run with its own keys.
    """
    from reportgen.config.loader import load_report

    report = for_audience(load_report(config_path), audience)
    delivery = delivery_of(report)
    chosen = select_channels(delivery, channels, report.config.audience.name)
    if not chosen:
        raise ConfigError(
            f"no delivery channel of '{report.id}' takes audience '{report.config.audience.name}'",
            file=report.path,
            key="delivery.channels",
            fix="add the audience to a channel's 'audiences:' (or drop that list)",
        )
    _check_secrets(report, delivery)
    led = open_ledger(ledger, out_dir)
    led.close_dead_runs(now)  # a killed manual run is closed, not left "running" forever
    recover_dead_claims(led, now)  # and a send it was transmitting is uncertain, not "sending"
    label = period_label(report, period, now)
    run_id = _open_run(
        led,
        report,
        trigger,
        label,
        config_path,
        out_dir,
        job_id,
        scheduled_for,
        resume_run_id,
        force,
        chosen,
        now,
    )
    try:
        if label and not force and _all_sent(led, report, label, chosen):
            led.finish_run(run_id, "skipped", error="already sent on every channel")
            return RunResult(
                run_id,
                report.id,
                report.config.audience.name,
                label,
                "skipped",
                _folder(out_dir, report, label),
            )
        content, build = _content(
            report,
            config_path,
            label,
            out_dir,
            rebuild,
            run_id,
            formats,
            chosen,
            now,
            builder,
            progress,
        )
        led.update_run(run_id, period=content.period, artifacts=_artifact_record(content))
        held = _hold(
            led, report, delivery, content, chosen, run_id, force, config_path, out_dir, now
        )
        if held is not None:  # a draft waits for review (reportgen.ops.review): nothing sent now
            led.finish_run(run_id, held.run_status, error=held.message)
            return RunResult(
                run_id,
                report.id,
                report.config.audience.name,
                content.period,
                held.run_status,
                content.folder,
                {f: a.path for f, a in content.artifacts.items()},
                (),
                build,
            )
        outcomes = [send_on(led, content, ch, delivery, run_id, force, now) for ch in chosen]
        if wait_seconds > 0:
            wait_for(led, [o.send_id for o in outcomes], budget_seconds=wait_seconds)
            outcomes = refreshed(led, outcomes)
        status, error = run_status(outcomes, led, run_id)
        led.finish_run(run_id, status, error=error)
    except Exception as exc:  # recorded and reported, then raised to the caller
        _fail(led, run_id, report, label, exc, notify_failure, next_run, delivery)
        raise
    return RunResult(
        run_id,
        report.id,
        report.config.audience.name,
        content.period,
        status,
        content.folder,
        {f: a.path for f, a in content.artifacts.items()},
        tuple(outcomes),
        build,
    )


# -- steps ------------------------------------------------------------------------------------


def _hold(
    led: Ledger,
    report: ResolvedReport,
    delivery: DeliveryConfig,
    content: ReportContent,
    chosen: list[ChannelConfig],
    run_id: int,
    force: bool,
    config_path: str | Path,
    out_dir: str | Path,
    now: datetime | None,
) -> Any:
    """The review hold of :mod:`reportgen.ops.review` when ``delivery.review`` asks for one."""
    if delivery.review is None or not delivery.review.hold:
        return None
    from reportgen.ops.review import hold_if_reviewed

    run = led.get_run(run_id) or {}
    return hold_if_reviewed(
        led,
        report,
        delivery,
        content,
        [c.name for c in chosen],
        run_id=run_id,
        force=force,
        config_path=config_path,
        out_dir=out_dir,
        scheduled_for=run.get("scheduled_for"),
        now=now,
    )


def period_label(report: ResolvedReport, period: str | None, now: datetime | None) -> str | None:
    """The period to deliver, known before building when possible (so a done key skips the build).

    Explicit periods are normalised; a schedule's ``last_complete`` is the last
    complete period of the report's grain before ``now`` in the report's timezone;
    ``latest_in_data`` (and a manual run without a period) is known only after the build.
    """
    from reportgen.periods import latest_complete_period, parse_period

    if period:
        return parse_period(period).label
    schedule = report.config.schedule
    if schedule is None or schedule.period != "last_complete" or now is None:
        return None
    yesterday = now.astimezone(ZoneInfo(report.config.period.timezone)).date() - timedelta(days=1)
    return latest_complete_period(yesterday, report.config.period.grain).label


def _open_run(
    led: Ledger,
    report: ResolvedReport,
    trigger: str,
    label: str | None,
    config_path: str | Path,
    out_dir: str | Path,
    job_id: str | None,
    scheduled_for: datetime | None,
    resume_run_id: int | None,
    force: bool,
    chosen: list[ChannelConfig],
    now: datetime | None,
) -> int:
    if resume_run_id is not None:
        led.resume_run(resume_run_id, now)
        if label:
            led.update_run(resume_run_id, period=label)
        return resume_run_id
    return led.start_run(
        report=report.id,
        audience=report.config.audience.name,
        trigger=trigger,
        period=label,
        config_path=str(Path(config_path).resolve()),
        out_dir=str(Path(out_dir).resolve()),
        job_id=job_id,
        scheduled_for=scheduled_for,
        options={"force": force, "channels": [c.name for c in chosen]},
        now=now,
    )


def _all_sent(led: Ledger, report: ResolvedReport, label: str, chosen: list[ChannelConfig]) -> bool:
    for channel in chosen:
        row = led.get_send(send_key(report.id, label, report.config.audience.name, channel.name))
        if row is None or row["status"] != "sent":
            return False
    return True


def _content(
    report: ResolvedReport,
    config_path: str | Path,
    label: str | None,
    out_dir: str | Path,
    rebuild: bool,
    run_id: int,
    formats: Sequence[str] | None,
    chosen: list[ChannelConfig],
    now: datetime | None,
    builder: Builder | None,
    progress: Callable[[str], None] | None,
) -> tuple[ReportContent, BuildResult | None]:
    """Build and write the manifest, or read the manifest of an earlier build."""
    if not rebuild:
        folder = _folder(out_dir, report, label) if label else _latest_folder(out_dir, report)
        return read_manifest(folder), None
    if builder is None:
        from reportgen.build import build_report as builder
    wanted = list(formats or report.config.outputs)
    for channel in chosen:
        if isinstance(channel, EmailChannel):
            wanted += [f for f in channel.attach if f not in wanted]
    result = builder(
        config_path,
        period=label,
        formats=wanted,
        out_dir=out_dir,
        audience=report.config.audience.name,
        now=now,
        progress=progress,
    )
    content = content_from_build(result, run_id, report.config.audience.recipients)
    write_manifest(content)
    _link_shown(out_dir, result, run_id)
    return content, result


def _link_shown(out_dir: str | Path, result: BuildResult, run_id: int) -> None:
    """Tie what the build showed to this run, so its sends mark it as seen by readers."""
    shown_id = getattr(result, "shown_id", None)  # a test's builder may return a bare result
    if shown_id is None:
        return
    from reportgen.ops.restatements import ShownStore

    store = ShownStore.for_output(out_dir)
    try:
        store.link_run(shown_id, run_id)
    finally:
        store.dispose()


def _fail(
    led: Ledger,
    run_id: int,
    report: ResolvedReport,
    label: str | None,
    exc: BaseException,
    notify: bool,
    next_run: str | None,
    delivery: DeliveryConfig,
) -> None:
    led.finish_run(run_id, "failed", error=str(exc) or exc.__class__.__name__)
    log.error("run %s of %s failed: %s", run_id, report.id, exc)
    if notify:
        notify_owners(
            led,
            delivery,
            report=report.id,
            audience=report.config.audience.name,
            period=label,
            run_id=run_id,
            error=str(exc),
            next_run=next_run,
            what=f"The scheduled run of {report.config.title}",
        )


def notify_owners(
    led: Ledger,
    delivery: DeliveryConfig | None,
    *,
    report: str,
    audience: str,
    period: str | None,
    run_id: int | None,
    error: str,
    next_run: str | None,
    what: str,
) -> SendOutcome | None:
    """A short failure email to the report's owners, sent once per run (via the outbox)."""
    if delivery is None or not delivery.owners or delivery.smtp is None:
        log.warning("no owners to notify about %s run %s", report, run_id)
        return None
    from reportgen.ops.channels.email import prepare_notice

    prepared = prepare_notice(
        delivery.smtp,
        to=list(delivery.owners),
        subject=f"[reportgen] {report} {period or ''} failed (run {run_id})".replace("  ", " "),
        template="failure.txt.j2",
        what=what,
        report=report,
        audience=audience,
        period=period,
        run_id=run_id,
        when=utcnow().isoformat(timespec="seconds"),
        error=error,
        next_run=next_run,
    )
    attempt = led.get_run(run_id)["attempts"] if run_id else 1
    key = send_key(report, period or "-", audience, f"notice:run-{run_id}-{attempt}")
    try:
        return enqueue_and_deliver(
            led, key, prepared, retry=delivery.retry.model_dump(), notify=None, run_id=run_id
        )
    except ReportgenError as exc:  # the notice must never hide the original failure
        log.error("could not notify owners of %s: %s", report, exc)
        return None


# -- helpers ----------------------------------------------------------------------------------


def _folder(out_dir: str | Path, report: ResolvedReport, label: str) -> Path:
    return Path(out_dir) / report.id / label / report.config.audience.name


def _latest_folder(out_dir: str | Path, report: ResolvedReport) -> Path:
    audience = report.config.audience.name
    built = sorted(
        p.parent for p in (Path(out_dir) / report.id).glob(f"*/{audience}/manifest.json")
    )
    if not built:
        raise DeliveryError(
            f"no delivered build of '{report.id}' ({audience}) under {out_dir}",
            fix="build and send it with `reportgen build CONFIG --send`, or pass --period",
        )
    return built[-1]


def _artifact_record(content: ReportContent) -> dict[str, Any]:
    return {
        fmt: {"path": str(a.path), "sha256": a.sha256, "bytes": a.bytes}
        for fmt, a in content.artifacts.items()
    }


def _check_secrets(report: ResolvedReport, delivery: DeliveryConfig) -> None:
    if delivery.smtp is None:
        return
    from reportgen.ops.channels.email import check_secrets_location

    for folder in config_folders(report):
        check_secrets_location(delivery.smtp, folder)


def config_folders(report: ResolvedReport) -> set[Path]:
    """The folders holding the report's config files (normally ``configs/`` and ``configs/reports``)."""
    return {p.parent for p in (report.path, report.catalog_path, report.sources_path)}
