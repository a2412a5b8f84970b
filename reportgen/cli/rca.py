"""``reportgen rca``: record, list, close and import root-cause follow-up items."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from reportgen.cli._console import out, run_or_fail

rca_app = typer.Typer(
    help="Root-cause follow-up on flagged anomalies (stored in the run ledger).",
    no_args_is_help=True,
)

OutDir = Annotated[
    Path, typer.Option("--out", "-o", help="Output folder holding the reports and ledger.")
]


@rca_app.command("add")
def add(
    anomaly_id: Annotated[
        str, typer.Argument(help="The anomaly's ID from a report, e.g. A-910e415666.")
    ],
    cause: Annotated[str, typer.Option(help="What caused it.")],
    owner: Annotated[str, typer.Option(help="Who owns the action.")],
    action: Annotated[str, typer.Option(help="What will be done.")],
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.")] = None,
    out_dir: OutDir = Path("output"),
) -> None:
    """Record a cause, owner and action against a flagged anomaly."""
    from reportgen.errors import ConfigError
    from reportgen.ops.rca import RcaStore, find_anomaly

    def run():
        try:
            due_day = date.fromisoformat(due) if due else None
        except ValueError:
            raise ConfigError(f"--due '{due}' is not a date", fix="use YYYY-MM-DD") from None
        item = RcaStore.for_output(out_dir).add(
            find_anomaly(out_dir, anomaly_id), cause=cause, owner=owner, action=action, due=due_day
        )
        out.print(
            f"#{item.id} recorded for {item.anomaly_id} ({item.metric}, {item.segment or 'overall'})",
            markup=False,
        )

    run_or_fail(run)


@rca_app.command("list")
def list_items(
    open_only: Annotated[bool, typer.Option("--open", help="Only open items.")] = False,
    out_dir: OutDir = Path("output"),
) -> None:
    """List follow-up items."""
    from rich.table import Table

    from reportgen.ops.rca import RcaStore

    def run():
        table = Table("#", "anomaly", "metric", "where", "week", "owner", "action", "due", "status")
        for i in RcaStore.for_output(out_dir).items(open_only=open_only):
            where = f"{i.dimension}={i.segment}" if i.segment else "overall"
            status = i.status if i.status == "open" else f"closed: {i.outcome}"
            table.add_row(
                str(i.id),
                i.anomaly_id,
                i.metric,
                where,
                i.period,
                i.owner,
                i.action,
                f"{i.due:%Y-%m-%d}" if i.due else "",
                status,
            )
        out.print(table)

    run_or_fail(run)


@rca_app.command("close")
def close(
    item_id: Annotated[int, typer.Argument(help="The item number from `reportgen rca list`.")],
    outcome: Annotated[str, typer.Option(help="What the action achieved.")],
    out_dir: OutDir = Path("output"),
) -> None:
    """Close an item with its outcome."""
    from reportgen.ops.rca import RcaStore

    run_or_fail(
        lambda: out.print(
            f"#{RcaStore.for_output(out_dir).close(item_id, outcome).id} closed", markup=False
        )
    )


@rca_app.command("import")
def import_items(
    csv_file: Annotated[Path, typer.Argument(help="CSV with anomaly_id,cause,owner,action,due.")],
    out_dir: OutDir = Path("output"),
) -> None:
    """Import items from a CSV a team filled in."""
    from reportgen.ops.rca import RcaStore

    run_or_fail(
        lambda: out.print(
            f"imported {len(RcaStore.for_output(out_dir).import_csv(csv_file, out_dir))} items",
            markup=False,
        )
    )
