"""``reportgen init``: profile your own data and write a project that builds as written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def init(
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="A CSV or Parquet file (or glob), a DuckDB file, or a SQLAlchemy URL "
            "(with --table).",
        ),
    ],
    table: Annotated[
        str | None, typer.Option(help="The table in a DuckDB file or database, e.g. ops.tickets.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for sources.yaml, catalog.yaml, reports/.")
    ] = Path("configs"),
    add: Annotated[
        bool,
        typer.Option(
            "--add", help="Add a second source (staffing, targets) to an existing project."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing config files.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
    timezone: Annotated[
        str, typer.Option(help="The report's IANA timezone, e.g. Europe/Berlin.")
    ] = "UTC",
    name: Annotated[
        str | None, typer.Option(help="The fact's name; default: the file or table name.")
    ] = None,
) -> None:
    """Start here with your own data: profile a source, write configs with a comment on every guess.

    Then `reportgen validate --data` and `reportgen build OUT/reports/weekly.yaml`.
    """
    from reportgen.cli._console import fail, out
    from reportgen.errors import ReportgenError
    from reportgen.project.scaffold import init_project

    def ask(paths: list[Path]) -> bool:
        if yes or not sys.stdin.isatty():
            return True
        listing = "\n".join(f"  {p}" for p in paths)
        return typer.confirm(f"Write\n{listing}\n?", default=True)

    try:
        result = init_project(
            source,
            out_dir=out_dir,
            table=table,
            add=add,
            force=force,
            timezone=timezone,
            name=name,
            confirm=ask,
        )
    except ReportgenError as error:
        fail(error)
        return
    profile = result.profile
    out.print(
        f"profiled {profile.location.label}: {profile.rows:,} rows, {len(profile.columns)} columns",
        markup=False,
    )
    for path in result.written:
        out.print(f"wrote    {path}", markup=False)
    for note in result.notes:
        out.print(f"note:    {note}", markup=False)
    if result.written and not add:
        report = next(p for p in result.written if p.parent.name == "reports")
        out.print(
            f"next:    read the comments in {out_dir / 'catalog.yaml'}, then\n"
            f"         reportgen validate --data {report}\n"
            f"         reportgen build {report}",
            markup=False,
        )
