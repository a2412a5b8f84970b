"""``reportgen validate``, ``metrics`` and ``schema``: the commands that read configs only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reportgen.cli._console import State, err, fail, out, report_configs
from reportgen.errors import ConfigError, ReportgenError


def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Report configs; default: configs/reports/*.yaml.")
    ] = None,
    data: Annotated[
        bool,
        typer.Option("--data", help="Also read each source's columns and check the catalog's."),
    ] = False,
) -> None:
    """Check report configs and everything they refer to (catalog, sources, brand).

    New project? Start with `reportgen init --from YOUR_DATA`, then `validate --data`.
    """
    from reportgen.config import load_report

    files = report_configs(paths)
    if not files:
        fail(
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
            if State.verbose:
                err.print_exception()
            err.print(f"[bold red]✗[/] {error}", soft_wrap=True)
            continue
        for note in _config_warnings(report):
            err.print(f"[yellow]warning:[/] {path}: {note}", soft_wrap=True)
        problems = _data_problems(report) if data else []
        for problem in problems:
            err.print(f"[bold red]✗[/] {path}: {problem}", soft_wrap=True)
        failed += bool(problems)
        if not State.quiet and not problems:
            checked = ", columns checked against the data" if data else ""
            out.print(
                f"[green]✓[/] {path} — {len(report.metrics)} metrics, brand "
                f"'{report.brand.name}'{checked}"
            )
    if failed:
        raise typer.Exit(2)


def _data_problems(report) -> list[str]:
    """``validate --data``: each column the catalog needs against the source's own schema."""
    from reportgen.project.data_check import check_data

    try:
        return [str(f) for f in check_data(report) if f.severity == "error"]
    except ReportgenError as error:
        return [str(error)]


def _config_warnings(report) -> list[str]:
    """What the report will show differently from what its config seems to ask (never silent)."""
    from reportgen.data.audiences import scope_report

    notes = [n for c in report.metrics for n in report.unbroken_notes(c.metric)]
    for audience in report.config.audiences:
        try:
            scoped = scope_report(report, audience)
        except ReportgenError:
            continue  # an audience with no metric fails its build with its own message
        notes += [f"audience '{audience.name}': {n}" for n in scoped.edition_notes]
    return notes


def metrics(
    catalog: Annotated[Path, typer.Option(help="Metric catalog file.")] = Path(
        "configs/catalog.yaml"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the metric catalog with definitions."""
    from rich.table import Table

    from reportgen.config import load_catalog
    from reportgen.semantics import kind_of

    try:
        cat = load_catalog(catalog)
    except ReportgenError as error:
        fail(error)
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
        definition = kind_of(metric).definition(cat.measures)
        better = {"higher_is_better": "higher", "lower_is_better": "lower"}.get(
            metric.direction, "—"
        )
        table.add_row(name, metric.label, metric.type, definition, better, metric.owner)
    out.print(table)


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
        fail(ConfigError(f"unknown schema kind '{kind}'", fix=f"use one of: {', '.join(models)}"))
    out.print_json(json.dumps(models[kind].model_json_schema()))
