"""``reportgen comment``: attach commentary to a metric, segment or story; list; remove.

``reportgen comment CONFIG --period P --metric M "text"`` adds (the ``add``
subcommand's name may be left out); ``comment list`` and ``comment remove N``
manage what was added. Comments are stored in the run ledger beside the
reports (``--out``), like the root-cause items of ``reportgen rca``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup


class _AddByDefault(TyperGroup):
    """``comment CONFIG …`` means ``comment add CONFIG …``; ``list`` and ``remove`` stay commands."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


comment_app = typer.Typer(
    cls=_AddByDefault,
    help="Commentary on a metric, segment or story for one period, shown attributed in the "
    "brief and the deck (stored in the run ledger).",
    no_args_is_help=True,
)

OutDir = Annotated[
    Path, typer.Option("--out", "-o", help="Output folder holding the reports and ledger.")
]


def _run(action):
    from reportgen.cli._console import fail as _fail
    from reportgen.errors import ReportgenError

    try:
        return action()
    except ReportgenError as error:
        _fail(error)


@comment_app.command("add")
def add(
    config: Annotated[Path, typer.Argument(help="Report config the comment is for.")],
    text: Annotated[str, typer.Argument(help="The comment: a few sentences.")],
    period: Annotated[str, typer.Option(help="The period it explains, e.g. 2026-W47.")],
    metric: Annotated[str, typer.Option(help="The metric it explains, e.g. aht.")],
    segment: Annotated[
        str | None, typer.Option(help="One segment, DIMENSION=VALUE, e.g. 'region=Latin America'.")
    ] = None,
    story: Annotated[
        str | None, typer.Option(help="A story id from figures.json (S-…), to sit beside it.")
    ] = None,
    author: Annotated[
        str | None, typer.Option(help="Who says it; default: git config user.name, else $USER.")
    ] = None,
    audience: Annotated[
        str | None, typer.Option(help="Only this audience's edition; default: every audience.")
    ] = None,
    out_dir: OutDir = Path("output"),
) -> None:
    """Attach a comment to a metric (a segment of it, or a story) for one period."""
    from reportgen.cli._console import out
    from reportgen.ops.commentary import add_comment

    def run():
        found = add_comment(
            config,
            period=period,
            metric=metric,
            text=text,
            out_dir=out_dir,
            segment=segment,
            story=story,
            author=author,
            audience=audience,
        )
        where = f"{found.dimension}={found.segment}" if found.segment else "overall"
        out.print(
            f"#{found.id} added to {found.metric} ({where}) for {found.period} "
            f"{found.attribution}; rebuild the report to show it",
            markup=False,
        )

    _run(run)


@comment_app.command("list")
def list_comments(
    config: Annotated[
        Path | None, typer.Argument(help="Only this report's comments (default: all).")
    ] = None,
    period: Annotated[str | None, typer.Option(help="Only this period, e.g. 2026-W47.")] = None,
    out_dir: OutDir = Path("output"),
) -> None:
    """List the comments, oldest first."""
    from rich.table import Table

    from reportgen.cli._console import out
    from reportgen.ops.commentary import CommentaryStore

    def run():
        report = None
        if config is not None:
            from reportgen.config.loader import load_report

            report = load_report(config).id
        shown = None
        if period is not None:
            from reportgen.periods import parse_period

            shown = parse_period(period).label
        store = CommentaryStore.for_output(out_dir)
        table = Table("#", "report", "period", "metric", "where", "story", "comment", "by", "when")
        for c in store.items(report=report, period=shown):
            table.add_row(
                str(c.id),
                c.report + (f" ({c.audience})" if c.audience else ""),
                c.period,
                c.metric,
                f"{c.dimension}={c.segment}" if c.segment else "overall",
                c.story or "",
                c.text,
                c.author,
                f"{c.created_at:%Y-%m-%d %H:%M} UTC",
            )
        store.dispose()
        out.print(table)

    _run(run)


@comment_app.command("remove")
def remove(
    comment_id: Annotated[int, typer.Argument(help="The number from `reportgen comment list`.")],
    out_dir: OutDir = Path("output"),
) -> None:
    """Remove a comment (the next build no longer shows it)."""
    from reportgen.cli._console import out
    from reportgen.ops.commentary import CommentaryStore

    def run():
        store = CommentaryStore.for_output(out_dir)
        gone = store.remove(comment_id)
        store.dispose()
        out.print(f"#{gone.id} removed ({gone.metric}, {gone.period})", markup=False)

    _run(run)
