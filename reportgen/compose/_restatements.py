"""The "Restated since last report" section: figures readers saw that have changed since."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportgen.document import Cell, Column, Narrative, Section, Table

if TYPE_CHECKING:
    from reportgen.ops.restatements import Restatement

#: Rows in the document's table (and sentences in the email); all are in figures.json.
MAX_SHOWN = 8


def restatements_section(restatements: tuple[Restatement, ...]) -> Section | None:
    """A short note and table; no section when nothing changed beyond display precision."""
    if not restatements:
        return None
    shown = restatements[:MAX_SHOWN]
    count = len(restatements)
    lead = (
        f"{count} figure{'s' if count != 1 else ''} shown in earlier reports of this series "
        f"{'have' if count != 1 else 'has'} changed since"
    )
    lead += "; the newest are listed, all are in figures.json:" if count > len(shown) else ":"
    paragraphs = (lead, *(r.sentence() for r in shown[:3]))
    rows = tuple(
        (
            Cell(r.label, r.metric),
            Cell(r.period, r.period),
            Cell(r.was_text, r.was),
            Cell(r.now_text, r.now),
            Cell(
                f"{r.shown_in_period} report"
                + (f", run {r.shown_in_run}" if r.shown_in_run is not None else "")
                + ("" if r.sent else " (built, not sent)"),
                r.shown_in_period,
            ),
            Cell(r.cause, r.cause),
        )
        for r in shown
    )
    table = Table(
        "Figures restated",
        (
            Column("metric", "Metric", "left"),
            Column("period", "Period", "left"),
            Column("was", "Was"),
            Column("now", "Now"),
            Column("shown_in", "Shown in", "left"),
            Column("cause", "Likely cause", "left"),
        ),
        rows,
        "Was: the value the latest earlier report of this series showed for that period (the "
        "last one sent, if any was); now: today's figure. Listed when the displayed value changed.",
    )
    notes = tuple(r.sentence() for r in restatements)
    return Section(
        "restatements",
        "Restated since last report",
        "summary",
        (Narrative(paragraphs), table),
        notes,
    )
