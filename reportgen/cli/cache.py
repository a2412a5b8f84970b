"""``reportgen cache``: what the cube cache holds and what the next build rescans; clearing it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reportgen.cli._console import out, run_or_fail

cache_app = typer.Typer(
    help="The cube cache (what is cached per source, how fresh, what the next build rescans) "
    "and the drawn charts kept beside it.",
    no_args_is_help=True,
)

Config = Annotated[
    Path, typer.Argument(help="Report config, e.g. configs/reports/weekly_leadership.yaml.")
]


@cache_app.command("status")
def status(config: Config) -> None:
    """Each scan's cached days, when written, and what the next build will rescan and why."""
    from reportgen.config import load_report
    from reportgen.data.cache_status import cache_status

    rows = run_or_fail(lambda: cache_status(load_report(config)))
    for row in rows or []:
        written = f"{row.written:%Y-%m-%d %H:%M} UTC" if row.written else "never"
        out.print(f"{row.group}", markup=False)
        out.print(f"  cached       {row.cached}", markup=False)
        out.print(
            f"  files        {row.files} ({row.size_bytes / 1e6:,.1f} MB), written {written}",
            markup=False,
        )
        out.print(f"  next build   rescans {row.rescan}", markup=False)
        for reason in row.reasons:
            out.print(f"    because    {reason}", markup=False)
    _drawings_status(config)


def _drawings_status(config: Path) -> None:
    """The drawn charts a rebuild on the same data reuses (any spec changed is drawn anew)."""
    from reportgen.build import drawing_cache
    from reportgen.config import load_report

    drawings = run_or_fail(lambda: drawing_cache(load_report(config)))
    count, size = drawings.held()
    out.print("drawn charts", markup=False)
    out.print(
        f"  kept         {count} ({size / 1e6:,.1f} MB) in {drawings.root}",
        markup=False,
        soft_wrap=True,
    )


@cache_app.command("clear")
def clear(config: Config) -> None:
    """Empty the cache folder of a report's sources: cube scans and drawn charts alike."""
    from reportgen.config import load_report
    from reportgen.data.cache_status import clear_cache

    result = run_or_fail(lambda: clear_cache(load_report(config)))
    if result:
        root, size = result
        out.print(f"cleared {root} ({size / 1e6:,.1f} MB)", markup=False)
