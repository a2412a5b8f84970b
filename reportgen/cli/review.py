"""``reportgen approve``: send a report held for review (see :mod:`reportgen.ops.review`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reportgen.cli._console import fail, out
from reportgen.errors import ReportgenError


def approve(
    config: Annotated[Path, typer.Argument(help="Report config with delivery.review.")],
    period: Annotated[str, typer.Option(help="The held period, e.g. 2026-W47.")],
    audience: Annotated[str | None, typer.Option(help="Audience name; default: the first.")] = None,
    by: Annotated[
        str | None, typer.Option(help="Who approves (recorded); default: user@host.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("output"),
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="Ledger database URL; default $REPORTGEN_LEDGER_URL or OUT/ledger.sqlite.",
        ),
    ] = None,
) -> None:
    """Send a held draft now, once: a second approval, or one after the deadline sent it, sends nothing."""
    from reportgen.ops.review import approve as approve_draft

    try:
        outcome = approve_draft(
            config, period=period, audience=audience, out_dir=out_dir, ledger=ledger, by=by
        )
    except ReportgenError as error:
        fail(error)
        return
    out.print(
        f"{outcome.report} {outcome.period} {outcome.audience}: {outcome.message}", markup=False
    )
    if any(s.status in ("failed", "uncertain") for s in outcome.sends):
        raise typer.Exit(1)
