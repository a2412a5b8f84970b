"""The ``reportgen`` command: a thin layer that parses options and calls the library.

Each command calls one library function and turns the package's own errors
into a one-paragraph message and a non-zero exit code (2 for config and
usage errors, 1 for everything else). ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from reportgen import __version__
from reportgen.errors import ConfigError, PeriodError, ReportgenError

app = typer.Typer(
    help="Trust & Safety operations reports: metric cube → insights → branded PDF, editable PPTX, HTML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class _State:
    quiet = False
    verbose = False


def _version(value: bool) -> None:
    if value:
        out.print(f"reportgen {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only results and errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show progress details and tracebacks.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    _State.quiet, _State.verbose = quiet, verbose


def _fail(error: ReportgenError) -> None:
    if _State.verbose:
        err.print_exception()
    err.print(f"[bold red]error:[/] {error}", soft_wrap=True)
    raise typer.Exit(2 if isinstance(error, ConfigError | PeriodError) else 1)


@app.command()
def build(
    config: Annotated[
        Path, typer.Argument(help="Report config, e.g. configs/reports/weekly_leadership.yaml.")
    ],
    period: Annotated[
        str | None,
        typer.Option(help="2026-W47, 2026-11, 2026-Q4 or 2026-11-23; default: latest complete."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Comma-separated outputs: pdf,pptx,html,xlsx,csv."),
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
        int | None, typer.Option(help="Parallel processes for --audience all; default: all cores.")
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Rescan every day (ignore and rewrite the cube cache)."),
    ] = False,
) -> None:
    """Build a report for one period."""
    from reportgen.build import build_report
    from reportgen.build import explain as explain_sql
    from reportgen.config.loader import check_source_files, load_report

    try:
        if explain:
            for title, sql in explain_sql(config, period):
                out.print(f"-- {title}\n{sql};\n", markup=False)
            return
        check_source_files(load_report(config))  # a wrong data path: name the sources line
        formats = [f.strip() for f in format.split(",") if f.strip()] if format else None
        if audience == "all":
            _fan_out(config, period, formats, out_dir, workers, cache=not no_cache)
            return
        result = _with_progress(
            lambda say: build_report(
                config,
                period=period,
                formats=formats,
                out_dir=out_dir,
                audience=audience,
                progress=say,
                cache=not no_cache,
            )
        )
    except ReportgenError as error:
        _fail(error)
        return
    if not result.figures.complete:
        err.print(
            f"[yellow]note:[/] {result.period.label} is incomplete (data through "
            f"{result.figures.last_complete_day:%Y-%m-%d}); the report is labelled as such."
        )
    for fmt, path in result.artifacts.items():
        out.print(f"{fmt:8} {path}", markup=False)


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
        if not _State.quiet:
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


def _with_progress(run):
    if _State.quiet or (not sys.stderr.isatty() and not _State.verbose):
        return run(lambda _msg: None)
    with err.status("Starting") as status:

        def say(message: str) -> None:
            status.update(message)
            if _State.verbose:
                err.print(f"[dim]· {message}[/]")

        return run(say)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Report configs; default: configs/reports/*.yaml.")
    ] = None,
) -> None:
    """Check report configs and everything they refer to (catalog, sources, brand)."""
    from reportgen.config import load_report

    files = paths or sorted(Path("configs/reports").glob("*.y*ml"))
    if not files:
        _fail(
            ConfigError(
                "no report configs found under configs/reports/",
                fix="pass the config paths explicitly",
            )
        )
    failed = 0
    for path in files:
        try:
            report = load_report(path)
        except ReportgenError as error:
            failed += 1
            if _State.verbose:
                err.print_exception()
            err.print(f"[bold red]✗[/] {error}", soft_wrap=True)
            continue
        if not _State.quiet:
            out.print(
                f"[green]✓[/] {path} — {len(report.metrics)} metrics, brand '{report.brand.name}'"
            )
    if failed:
        raise typer.Exit(2)


@app.command()
def metrics(
    catalog: Annotated[Path, typer.Option(help="Metric catalog file.")] = Path(
        "configs/catalog.yaml"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the metric catalog with definitions."""
    from rich.table import Table

    from reportgen.config import load_catalog

    try:
        cat = load_catalog(catalog)
    except ReportgenError as error:
        _fail(error)
        return
    if as_json:
        out.print_json(json.dumps({k: v.model_dump() for k, v in cat.metrics.items()}))
        return
    table = Table(
        "metric",
        "label",
        "type",
        "definition",
        "better",
        "owner",
        title=f"Metric catalog ({catalog})",
    )
    for name, metric in cat.metrics.items():
        parts = metric.measures[:2] if metric.type == "mean" else metric.measures
        definition = " ÷ ".join(
            f"last day's Σ {m}" if cat.measures[m].is_stock else f"Σ {m}" for m in parts
        )
        if metric.type == "derived":
            definition = metric.formula
        if metric.type == "quantile":
            definition = f"q{metric.q:g} of {metric.measure}"
        better = {"higher_is_better": "higher", "lower_is_better": "lower"}.get(
            metric.direction, "—"
        )
        table.add_row(name, metric.label, metric.type, definition, better, metric.owner)
    out.print(table)


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(help="report, catalog, sources or brand.")] = "report",
) -> None:
    """Print the JSON Schema of a config file kind (for editor validation)."""
    from reportgen.config.brand import BrandConfig
    from reportgen.config.models import Catalog, ReportConfig, SourcesConfig

    models = {
        "report": ReportConfig,
        "catalog": Catalog,
        "sources": SourcesConfig,
        "brand": BrandConfig,
    }
    if kind not in models:
        _fail(ConfigError(f"unknown schema kind '{kind}'", fix=f"use one of: {', '.join(models)}"))
    out.print_json(json.dumps(models[kind].model_json_schema()))


@app.command("demo-data")
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
        _fail(
            ConfigError(f"--end '{end}' is not a date", fix="use YYYY-MM-DD, e.g. --end 2026-11-25")
        )
        return
    try:
        manifest = _with_progress(
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
        _fail(error)
        return
    out.print(f"wrote {manifest.rows:,} decisions to {out_dir}", markup=False)


# Operations commands (schedule, runs, send, alerts, build --send) live in their own module.
from reportgen.cli_ops import register as _register_ops  # noqa: E402

_register_ops(app)

# Root-cause follow-up commands.
from reportgen.cli_rca import rca_app  # noqa: E402

app.add_typer(rca_app, name="rca")

# The cube cache: status and clear.
from reportgen.cli_cache import cache_app  # noqa: E402

app.add_typer(cache_app, name="cache")

# Commentary on the numbers, shown attributed in the brief.
from reportgen.cli_comment import comment_app  # noqa: E402

app.add_typer(comment_app, name="comment")

if __name__ == "__main__":
    app()
