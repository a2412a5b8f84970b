"""CLI commands for operations: ``schedule``, ``runs``, ``send`` and ``alerts``.

Like the rest of the CLI, each command parses options and calls one library
function (:func:`reportgen.ops.runs.run_report`, :class:`reportgen.ops.schedule.SchedulerService`,
:func:`reportgen.ops.alerts.check_alerts`); errors become a one-paragraph message and
an exit code. :func:`deliver` also serves ``build --send`` (:mod:`reportgen.cli.build`).
"""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from reportgen.cli._console import (
    ConfigsArgument,
    OutOption,
    err,
    fail,
    out,
    report_configs,
    say,
    with_progress,
)
from reportgen.errors import ConfigError, ReportgenError

schedule_app = typer.Typer(help="Run the scheduler service or list its jobs.", no_args_is_help=True)
runs_app = typer.Typer(
    help="The run ledger: recent builds and sends; `runs show ID` for one.",
    invoke_without_command=True,
)
alerts_app = typer.Typer(help="Alert rules: check them once by hand.", no_args_is_help=True)

LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger", help="Ledger database URL; default $REPORTGEN_LEDGER_URL or OUT/ledger.sqlite."
    ),
]


def _ledger(url: str | None, out_dir: Path) -> Any:
    from reportgen.ops.ledger import Ledger, default_url

    return Ledger(url or default_url(out_dir))


# -- schedule ---------------------------------------------------------------------------------


@schedule_app.command("list")
def schedule_list(
    configs: ConfigsArgument = None,
    count: Annotated[int, typer.Option(help="Next runs to show per job.")] = 3,
    out_dir: OutOption = Path("output"),
    ledger: LedgerOption = None,
) -> None:
    """Every scheduled job with its next runs, in the schedule's zone and in UTC; held drafts."""
    from reportgen.ops.schedule import preview_jobs

    try:
        previews = preview_jobs(report_configs(configs), count=count)
    except ReportgenError as error:
        fail(error)
        return
    if not previews:
        out.print("no scheduled jobs in these configs", markup=False)
    for p in previews:
        out.print(f"{p.id}  ({p.description})  cron '{p.cron}' {p.timezone}", markup=False)
        for t in p.next_runs:
            utc = t.astimezone(UTC)
            out.print(f"    {t:%a %Y-%m-%d %H:%M %Z}  =  {utc:%a %Y-%m-%d %H:%M} UTC", markup=False)
    from reportgen.ops.ledger_location import ledger_exists

    if ledger or ledger_exists(out_dir):
        try:  # only an existing ledger: listing jobs never creates one
            _print_held(_ledger(ledger, out_dir))
        except ReportgenError as error:
            fail(error)


@schedule_app.command("run")
def schedule_run(
    configs: ConfigsArgument = None,
    out_dir: OutOption = Path("output"),
    ledger: LedgerOption = None,
    jobstore: Annotated[
        str | None, typer.Option(help="Job store database URL; default: the ledger's.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for another running scheduler instead of exiting.")
    ] = False,
    lock_ttl: Annotated[
        float, typer.Option(help="Seconds without a heartbeat before a lock is taken over.")
    ] = 60.0,
    outbox_interval: Annotated[
        float, typer.Option(help="Seconds between retries of queued sends.")
    ] = 60.0,
    log_format: Annotated[
        str,
        typer.Option(
            help="Log lines on stderr: 'text' (timestamped) or 'json' (one object a line)."
        ),
    ] = "text",
) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (for systemd or a container)."""
    from reportgen.ops.schedule import SchedulerLockedError, SchedulerService, ServiceSettings

    if log_format not in ("text", "json"):
        fail(ConfigError(f"unknown --log-format '{log_format}'", fix="use text or json"))
        return
    from reportgen.ops.servicelog import configure_logging

    configure_logging(log_format)

    settings = ServiceSettings(
        report_configs(configs),
        out_dir,
        ledger,
        jobstore,
        lock_ttl=lock_ttl,
        outbox_interval=outbox_interval,
    )
    try:
        service = SchedulerService(settings)
    except ReportgenError as error:
        fail(error)
        return
    previous = _on_signals(service)  # before the lock: a SIGTERM during start-up stops cleanly
    try:
        _serve(service, wait, lock_ttl, SchedulerLockedError)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve(service: Any, wait: bool, lock_ttl: float, locked: type[ReportgenError]) -> None:
    """Start (or wait for the lock), then block until a signal stops the service."""
    try:
        while True:
            try:
                actions = service.start()
                break
            except locked as error:
                if not wait or service.stopped.is_set():
                    raise
                err.print(f"[yellow]waiting:[/] {error.message}")
                service.stopped.wait(max(lock_ttl / 3.0, 1.0))
    except ReportgenError as error:
        fail(error)
        return
    say(
        f"scheduler running (pid {os.getpid()}): "
        + ", ".join(f"{k} {v}" for k, v in actions.items())
    )
    while not service.stopped.wait(0.5):
        pass
    if _RECEIVED:
        say(f"received {_RECEIVED[-1]}: finishing the job in flight, then stopping")
    service.stop(wait=True)
    say("scheduler stopped")


_RECEIVED: list[str] = []  # signal names seen by the handler, reported by the main loop


def _on_signals(service: Any) -> dict[int, Any]:
    """The first SIGTERM/SIGINT lets the job in flight finish; a second abandons it."""

    def on_signal(signum: int, _frame: Any) -> None:
        # no I/O here: the signal may arrive while the main thread holds the import lock
        # (rich imports lazily), and printing from the handler would then fail or deadlock
        if service.stopped.is_set():
            raise SystemExit(128 + signum)  # the ledger lets the next start resume it
        _RECEIVED.append(signal.Signals(signum).name)
        service.stopped.set()

    return {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}


# -- runs ---------------------------------------------------------------------------------------


@runs_app.callback()
def runs_list(
    ctx: typer.Context,
    out_dir: OutOption = Path("output"),
    ledger: LedgerOption = None,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
    report: Annotated[str | None, typer.Option(help="Only this report id.")] = None,
) -> None:
    """Recent runs, newest first."""
    ctx.obj = {"out_dir": out_dir, "ledger": ledger}
    if ctx.invoked_subcommand is not None:
        return
    try:
        rows = _ledger(ledger, out_dir).list_runs(limit, report)
    except ReportgenError as error:
        fail(error)
        return
    led = _ledger(ledger, out_dir)
    _print_held(led)
    if not rows:
        out.print("no runs recorded yet", markup=False)
    for r in rows:  # one plain line per run: greppable, never wrapped into a table
        error = f"  {r['error'][:100]}" if r["error"] else ""
        sends = [s for s in led.sends_for_run(r["id"]) if not s["channel"].startswith("notice:")]
        tries = f"  sends: {', '.join(_send_state(s) for s in sends)}" if sends else ""
        out.print(
            f"{r['id']:>5}  {r['started_at']:%Y-%m-%d %H:%M:%S}Z  {r['report']}  "
            f"{r['period'] or '—'}  {r['audience']}  {r['trigger']}  {r['status']}"
            f"  (run attempts {r['attempts']}){tries}{error}",
            markup=False,
        )


def _print_held(led: Any) -> None:
    """Drafts held for review come first: they wait for someone (see reportgen.ops.review)."""
    from reportgen.ops.review import describe, held_drafts

    for row in held_drafts(led):
        out.print(f"draft  {describe(row)}", markup=False)


def _send_state(send: dict) -> str:
    return f"{send['channel']} {send['status']} after {send['attempts']} attempt(s)"


@runs_app.command("show")
def runs_show(ctx: typer.Context, run_id: Annotated[int, typer.Argument(help="Run id.")]) -> None:
    """One run: its artifacts with hashes, and every send with its attempts."""
    opts = ctx.obj or {"out_dir": Path("output"), "ledger": None}
    try:
        led = _ledger(opts["ledger"], opts["out_dir"])
    except ReportgenError as error:
        fail(error)
        return
    row = led.get_run(run_id)
    if row is None:
        fail(
            ReportgenError(f"no run {run_id} in the ledger", fix="list runs with `reportgen runs`")
        )
        return
    for key in ("id", "report", "period", "audience", "trigger", "status", "job_id", "attempts"):
        out.print(f"{key:14} {row[key]}", markup=False)
    for key in ("scheduled_for", "started_at", "finished_at"):
        value = row[key]
        out.print(
            f"{key:14} {value:%Y-%m-%d %H:%M:%S} UTC" if value else f"{key:14} —", markup=False
        )
    if row["error"]:
        out.print(f"{'error':14} {row['error']}", markup=False)
    for fmt, a in (row["artifacts"] or {}).items():
        out.print(
            f"artifact {fmt:6} {a['path']}  sha256 {a['sha256'][:16]}…  {a['bytes']:,} B",
            markup=False,
        )
    for s in led.sends_for_run(run_id):
        out.print(
            f"send #{s['id']} {s['channel']}: {s['status']} after {s['attempts']} attempt(s)"
            f"{' — ' + (s['last_error'] or s['detail'] or '') if (s['last_error'] or s['detail']) else ''}",
            markup=False,
        )


# -- send / build --send ------------------------------------------------------------------------


def send(
    config: Annotated[Path, typer.Argument(help="Report config.")],
    period: Annotated[
        str | None, typer.Option(help="Period to re-send; default: the latest built.")
    ] = None,
    audience: Annotated[str | None, typer.Option(help="Audience name; default: the first.")] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", "-c", help="Only these channels (repeatable).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Send again even if already sent.")
    ] = False,
    out_dir: OutOption = Path("output"),
    ledger: LedgerOption = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to keep retrying a failing send here.")
    ] = 60.0,
) -> None:
    """Send an already built report (no rebuild); each channel once unless --force."""
    deliver(
        config, period, [audience], out_dir, ledger, force, wait, channels=channel, rebuild=False
    )


def deliver(
    config: Path,
    period: str | None,
    audiences: list[str | None],
    out_dir: Path,
    ledger: str | None,
    force: bool,
    wait: float,
    *,
    channels: list[str] | None = None,
    rebuild: bool = True,
    formats: list[str] | None = None,
) -> None:
    """One delivery run per audience; exit 2 on a config error, 1 on any failed send."""
    from reportgen.ops.runs import run_report

    failed = config_error = False
    for name in audiences:
        try:
            result = with_progress(
                lambda say, name=name: run_report(
                    config,
                    period=period,
                    audience=name,
                    out_dir=out_dir,
                    ledger=ledger,
                    force=force,
                    channels=channels,
                    rebuild=rebuild,
                    formats=formats,
                    wait_seconds=wait,
                    progress=say,
                )
            )
        except ReportgenError as error:
            err.print(f"[bold red]error:[/] {error}", soft_wrap=True)
            failed = True
            config_error = config_error or isinstance(error, ConfigError)
            continue
        for fmt, path in result.artifacts.items():
            out.print(f"{fmt:8} {path}", markup=False)
        for s in result.sends:
            out.print(f"sent to  {s.channel}: {s.status} ({s.detail})", markup=False)
        out.print(f"run {result.run_id}: {result.status}", markup=False)
        failed |= result.status in ("failed", "partly failed", "uncertain")
    if config_error:
        raise typer.Exit(2)  # as `validate`: the config must change
    if failed:
        raise typer.Exit(1)


# -- alerts ---------------------------------------------------------------------------------


@alerts_app.command("check")
def alerts_check(
    config: Annotated[Path, typer.Argument(help="Report config with 'alerts:'.")],
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only these rules.")] = None,
    out_dir: OutOption = Path("output"),
    ledger: LedgerOption = None,
) -> None:
    """Check alert rules now; send alerts for new breaches and notices for recoveries."""
    from reportgen.ops.alerts import check_alerts

    try:
        notices = check_alerts(
            config, ledger=ledger, rules=rule, out_dir=out_dir, now=datetime.now(UTC)
        )
    except ReportgenError as error:
        fail(error)
        return
    for n in notices:
        out.print(f"{n.kind:8} {n.rule} {n.subject}: {n.observation.value_text}", markup=False)
    if not notices:
        out.print("no change: nothing sent", markup=False)
