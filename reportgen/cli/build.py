"""``reportgen build`` (with ``--send``) and ``reportgen demo-data``: the commands that make files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from reportgen.cli._console import State, err, fail, out, with_progress
from reportgen.cli.ops import deliver
from reportgen.errors import ConfigError, ReportgenError


def build(
    config: Annotated[
        Path, typer.Argument(help="Report config, e.g. configs/reports/weekly_leadership.yaml.")
    ],
    period: Annotated[
        str | None,
        typer.Option(help="2026-W47, 2026-11, 2026-Q4 or 2026-11-23; default: latest complete."),
    ] = None,
    format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="Outputs: pdf,pptx,html,xlsx,csv; comma-separated or repeated "
            "(-f pdf -f pptx); default: the report's outputs.",
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("output"),
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the SQL each source runs, then stop.")
    ] = False,
    audience: Annotated[
        str | None,
        typer.Option(help="An audience name, or 'all' to fan out; default: the first audience."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Parallel processes: one per audience with --audience all, else one per "
            "format; default: all cores."
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Rescan every day (ignore and rewrite the cube cache)."),
    ] = False,
    send: Annotated[
        bool, typer.Option("--send", help="Also deliver on the report's channels, once each.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="With --send: send again.")] = False,
) -> None:
    """Build a report for one period."""
    from reportgen.build import build_report
    from reportgen.build import explain as explain_sql
    from reportgen.config.loader import check_source_files, load_report

    formats = chosen_formats(format)
    if send and not explain:
        _build_and_send(config, period, formats, out_dir, audience, force)
        return
    try:
        if explain:
            for title, sql in explain_sql(config, period):
                out.print(f"-- {title}\n{sql};\n", markup=False)
            return
        check_source_files(load_report(config))  # a wrong data path: name the sources line
        if audience == "all":
            _fan_out(config, period, formats, out_dir, workers, cache=not no_cache)
            return
        result = with_progress(
            lambda say: build_report(
                config,
                period=period,
                formats=formats,
                out_dir=out_dir,
                audience=audience,
                progress=say,
                cache=not no_cache,
                render_processes=workers,
            )
        )
    except ReportgenError as error:
        fail(error)
    if not result.figures.complete:
        err.print(
            f"[yellow]note:[/] {result.period.label} is incomplete (data through "
            f"{result.figures.last_complete_day:%Y-%m-%d}); the report is labelled as such."
        )
    _print_quality(result)
    for fmt, path in result.artifacts.items():
        out.print(f"{fmt:8} {path}", markup=False)


def chosen_formats(options: list[str] | None) -> list[str] | None:
    """The formats of every ``--format`` given, each comma-separated, in order, once each.

    A repeated option used to keep only its last value: ``-f pdf -f pptx`` built the
    deck alone, and said nothing.
    """
    named = [f.strip() for option in options or () for f in option.split(",") if f.strip()]
    return list(dict.fromkeys(named)) or None


def _print_quality(result) -> None:
    """The gate's warnings in the build log, one line per check with its per-period counts."""
    from reportgen.data.quality import log_lines

    period = result.period
    for line in log_lines(result.figures.quality, period.label, period.grain):
        err.print(f"data-quality warning: {line}", markup=False, style="yellow", soft_wrap=True)


def _build_and_send(
    config: Path,
    period: str | None,
    formats: list[str] | None,
    out_dir: Path,
    audience: str | None,
    force: bool,
) -> None:
    """``build --send``: a delivery run per audience (build or reuse, then each channel once)."""
    audiences: list[str | None] = [audience]
    if audience == "all":
        from reportgen.config import load_report

        try:
            audiences = [a.name for a in load_report(config).config.audience_list()]
        except ReportgenError as error:
            fail(error)
    deliver(config, period, audiences, out_dir, None, force, 60.0, formats=formats)


def _fan_out(
    config: Path,
    period: str | None,
    formats: list[str] | None,
    out_dir: Path,
    workers: int | None,
    *,
    cache: bool = True,
) -> None:
    """Every audience from one cube; one failure is reported and sets the exit code."""
    from reportgen.build import build_audiences

    def say(message: str) -> None:
        if not State.quiet:
            err.print(f"[dim]·[/] {message}", markup=True)

    result = build_audiences(
        config,
        period=period,
        formats=formats,
        out_dir=out_dir,
        workers=workers,
        progress=say,
        cache=cache,
    )
    for name, built in result.results.items():
        out.print(f"{name:24} ok      {built.out_dir}", markup=False)
    for name, error in result.failures.items():
        out.print(f"{name:24} FAILED  {error}", markup=False)
    if not result.ok:
        raise typer.Exit(1)


def demo_data(
    rows: Annotated[int, typer.Option(help="Number of decisions.")] = 2_000_000,
    weeks: Annotated[int, typer.Option(help="Weeks of history (≥ 26).")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 7,
    end: Annotated[
        str, typer.Option(help="Last (partial) day of data, YYYY-MM-DD.")
    ] = "2026-11-25",
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder the shipped configs read from.")
    ] = Path("data/demo"),
) -> None:
    """Generate deterministic synthetic moderation-operations data (Parquet)."""
    from reportgen.demo import generate_demo_data

    try:
        end_day = date.fromisoformat(end)
    except ValueError:
        fail(
            ConfigError(f"--end '{end}' is not a date", fix="use YYYY-MM-DD, e.g. --end 2026-11-25")
        )
    try:
        manifest = with_progress(
            lambda say: generate_demo_data(
                out_dir,
                rows=rows,
                weeks=weeks,
                seed=seed,
                end=end_day,
                progress=lambda done, total: say(f"Generating demo data: day {done}/{total}"),
            )
        )
    except ReportgenError as error:
        fail(error)
    out.print(f"wrote {manifest.rows:,} decisions to {out_dir}", markup=False)
