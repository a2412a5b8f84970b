"""Speaker notes for the leadership deck: what to say, and what the room will ask.

An analyst deck's notes carry every number of the slide ("Key numbers: …") so a
presenter can find any figure; a leadership presenter needs the opposite: three to
five things to say and the likely questions with their answers, short enough to
glance at (at most :data:`~reportgen.text.MAX_NOTE_WORDS` words). The numbers
are on the slide and in the workbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from reportgen.document import KpiTile
from reportgen.text import cap_words

if TYPE_CHECKING:
    from reportgen.render.pptx._plan import SlidePlan

#: The line that opens the per-slide number dump of an analyst deck's notes.
KEY_NUMBERS = "Key numbers:"
MAX_POINTS = 5


def leadership_notes(
    kind: str, title: str, notes: Sequence[str], tiles: Sequence[KpiTile]
) -> tuple[str, ...]:
    """A slide's notes for a leadership presenter: talking points, no data dump, ≤120 words."""
    if kind == "kpi":
        return kpi_notes(tiles)
    said = list(notes[: notes.index(KEY_NUMBERS)] if KEY_NUMBERS in notes else notes)
    if kind == "title":
        said = said[:3]  # the title, period and audience; the agenda is the deck itself
    points = list(dict.fromkeys(line.strip() for line in said if line.strip()))
    if not points:
        return (f"Supporting detail for \u201c{title}\u201d: show it if asked.",)
    return cap_words(points[:MAX_POINTS])


def kpi_notes(tiles: Sequence[KpiTile]) -> tuple[str, ...]:
    """The scorecard: which targets were missed, then the questions a scorecard raises."""
    missed = [t for t in tiles if t.target_status == "missed"]
    points = []
    if missed:
        points.append(
            "Missed target: "
            + "; ".join(f"{t.label} {t.value_text} ({t.target_text})" for t in missed)
            + "."
        )
    elif met := [t.label for t in tiles if t.target_status == "met"]:
        points.append(f"Met target: {', '.join(met)}.")
    returning = [t.label for t in tiles if t.note and "itself unusual" in t.note]
    if returning:
        points.append(
            "Q: Are the improvements wins? A: Not all: "
            + (", ".join(returning[:-1]) + " and " if len(returning) > 1 else "")
            + returning[-1]
            + (" is" if len(returning) == 1 else " are")
            + " returning toward normal after an unusual previous period."
        )
    provisional = [t.label for t in tiles if t.note and "provisional" in t.note]
    if provisional:
        points.append(
            "Q: Which numbers may still change? A: "
            + ", ".join(provisional)
            + ": late data is still arriving."
        )
    owners = [f"{t.label}: {t.owner}" for t in missed if t.owner]
    if owners:
        points.append("Q: Who owns the misses? A: " + "; ".join(owners) + ".")
    return cap_words(points)


def said_once(plans: Sequence[SlidePlan]) -> list[SlidePlan]:
    """A talking point said on an earlier slide is not repeated (questions may recur)."""
    seen: set[str] = set()
    out = []
    for plan in plans:
        kept = tuple(line for line in plan.notes if line.startswith("Q:") or line not in seen)
        seen.update(plan.notes)
        if not kept and plan.notes:
            kept = (f"Supporting detail for \u201c{plan.title}\u201d: show it if asked.",)
        out.append(replace(plan, notes=kept))
    return out
