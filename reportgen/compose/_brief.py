"""The leadership brief's people layer: owners, commentary, actions & asks, and what to say.

:mod:`reportgen.compose._stories` words the week's stories; this module puts
people next to them. Each comment is placed once, beside the numbers it
explains (under its story, else on its metric's tile); the "Actions & asks"
block lists the recorded root-cause actions (owner, due date, status) and asks
the owners of the brief's adverse stories for a cause when none is recorded;
and each story slide gets speaker notes a presenter can say in a minute:
three to five talking points and the questions the room is likely to ask,
answered from the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reportgen.compose._stories import StoryText, lower_first
from reportgen.config.loader import ResolvedReport
from reportgen.document import Cell, Column, Narrative, Section, Table
from reportgen.figures import ReportFigures
from reportgen.text import cap_words

if TYPE_CHECKING:
    from reportgen.analysis.followup import FollowUp
    from reportgen.analysis.insights import Insights
    from reportgen.ops.commentary import Comment


@dataclass(frozen=True)
class Placement:
    """Where each comment is shown: under a story of the brief, or on its metric's tile."""

    by_story: dict[str, list[Comment]] = field(default_factory=dict)
    by_tile: dict[str, list[Comment]] = field(default_factory=dict)

    def story_lines(self, story_id: str) -> list[str]:
        return [c.quoted for c in self.by_story.get(story_id, [])]

    def tile_text(self, metric: str) -> str | None:
        found = self.by_tile.get(metric, [])
        if not found:
            return None
        return " ".join((f"{c.segment}: " if c.segment else "") + c.quoted for c in found)

    def as_dicts(self) -> list[dict[str, Any]]:
        """Every shown comment with where it is shown, for figures.json."""
        shown = [
            {**c.as_dict(), "shown_with": {"story": story}}
            for story, found in self.by_story.items()
            for c in found
        ]
        shown += [
            {**c.as_dict(), "shown_with": {"tile": metric}}
            for metric, found in self.by_tile.items()
            for c in found
        ]
        return sorted(shown, key=lambda c: c["id"])


def place_comments(
    comments: Iterable[Comment], texts: Sequence[StoryText], figures: ReportFigures
) -> Placement:
    """Each comment once: its story (by id, or by metric and segment), else its metric's tile.

    A comment on a metric or segment this audience does not see is not shown
    (an audience's deck holds nothing about rows it may not read).
    """
    placement = Placement()
    for comment in comments:
        if comment.metric not in figures.metrics or not _visible(comment, figures):
            continue
        story = _story_for(comment, texts)
        if story is not None:
            placement.by_story.setdefault(story, []).append(comment)
        else:
            placement.by_tile.setdefault(comment.metric, []).append(comment)
    return placement


def _visible(comment: Comment, figures: ReportFigures) -> bool:
    if comment.segment is None:
        return True
    segments = figures.metrics[comment.metric].breakdowns.get(comment.dimension or "", ())
    return any(s.segment == comment.segment for s in segments)


def _story_for(comment: Comment, texts: Sequence[StoryText]) -> str | None:
    for t in texts:
        s = t.story
        if comment.story is not None:
            if comment.story == s.id:
                return s.id
            continue
        metrics = {s.metric, *(c.metric for c in s.consequences), *s.tests}
        if comment.metric not in metrics:
            continue
        if comment.segment is None and s.segment is None:
            return s.id
        same_segment = comment.segment is not None and comment.segment == s.segment
        if same_segment and comment.dimension in (None, s.dimension):
            return s.id
    return None


# -- actions & asks -----------------------------------------------------------------------------


def actions_section(
    report: ResolvedReport,
    figures: ReportFigures,
    insights: Insights,
    texts: Sequence[StoryText],
) -> Section:
    """Recorded actions (owner, due date, status), and asks for the stories with no cause yet.

    Never omitted: with nothing recorded it still says how many adverse
    findings have no recorded cause.
    """
    adverse = [a for a in insights.headline_anomalies if a.sentiment == "bad"]
    explained = {f.item.anomaly_id for f in insights.followups}
    explained |= {i for f in insights.followups for i in f.recurring}
    with_cause = sum(1 for a in adverse if a.id in explained)
    n = len(adverse)
    paragraphs = [
        f"{n} adverse finding{'s' if n != 1 else ''} in {figures.period.label}, "
        f"{with_cause} with a recorded cause."
    ]
    open_items = [f for f in insights.followups if f.item.status == "open"]
    if open_items:
        measured = [f for f in open_items if f.recovered is not None]
        recovered = sum(1 for f in measured if f.recovered)
        paragraphs.append(
            f"{len(open_items)} open action{'s' if len(open_items) != 1 else ''}; "
            + (
                f"{recovered} of {len(measured)} measurably recovered."
                if measured
                else "too early to measure a recovery."
            )
        )
    asks = _asks(texts)
    paragraphs += asks
    blocks: list = [Narrative(tuple(paragraphs))]
    if insights.followups:
        blocks.append(_actions_table(report, figures, insights.followups))
    notes = [
        f"{f.item.owner}: {f.item.action}"
        + (f", due {f.item.due:%a %d %b}" if f.item.due else "")
        + f" ({_status(f)})."
        for f in open_items[:3]
    ]
    if owners := _ask_owners(texts):
        notes.append(f"Q: What do we need? A: A cause and an action from {owners}.")
    return Section("actions", "Actions & asks", "summary", tuple(blocks), tuple(notes))


def _asks(texts: Sequence[StoryText]) -> list[str]:
    """One line per owner of the brief's adverse stories that have no recorded cause."""
    by_owner: dict[str, list[str]] = {}
    for t in texts:
        s = t.story
        if s.rca or s.kind == "recovery" or s.sentiment == "good":
            continue
        by_owner.setdefault(s.owner or "an owner to be named", []).append(t.headline)
    return [
        f"Ask: {owner} to record a cause and an action for "
        + _join([f"\u201c{h[:1].upper()}{h[1:]}\u201d" for h in headlines])
        + "."
        for owner, headlines in by_owner.items()
    ]


def _ask_owners(texts: Sequence[StoryText]) -> str:
    """ "ops-analytics (3 stories) and quality (1)": who is asked, for how many stories."""
    counts: dict[str, int] = {}
    for t in texts:
        s = t.story
        if not (s.rca or s.kind == "recovery" or s.sentiment == "good"):
            owner = s.owner or "an owner to be named"
            counts[owner] = counts.get(owner, 0) + 1
    parts = [f"{owner} ({n} stor{'ies' if n != 1 else 'y'})" for owner, n in counts.items()]
    return _join(parts) if parts else ""


def _join(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def _status(f: FollowUp) -> str:
    if f.item.status == "closed":
        return f"closed: {f.item.outcome}"
    if f.recovered is None:
        return "open, recovery not measured yet"
    return "open, recovered" if f.recovered else "open, not recovered yet"


def _actions_table(
    report: ResolvedReport, figures: ReportFigures, followups: Sequence[FollowUp]
) -> Table:
    from reportgen.compose._insights import where_text

    rows = []
    for f in followups:
        item = f.item
        m = figures.metrics.get(item.metric)
        where = where_text(report, item.dimension, item.segment)
        rows.append(
            (
                Cell(f"{m.label if m else item.metric} — {where} ({item.period})", item.metric),
                Cell(item.cause, None),
                Cell(item.action, None),
                # one column: a narrow "Owner" column would break a name inside a word
                Cell(
                    item.owner + (f", due {item.due:%a %d %b %Y}" if item.due else ""), item.owner
                ),
                Cell(_status(f), item.status, _sentiment(f)),
            )
        )
    columns = (
        Column("what", "Finding", "left"),
        Column("cause", "Cause", "left"),
        Column("action", "Action", "left"),
        Column("owner", "Owner and due date", "left"),
        Column("status", "Status", "left"),
    )
    caption = "Recovered: the segment has moved back, beyond noise, from where it was when flagged."
    return Table("Actions", columns, tuple(rows), caption)


def _sentiment(f: FollowUp):
    if f.item.status == "closed" or f.recovered is None:
        return None
    return "good" if f.recovered else "bad"


# -- speaker notes --------------------------------------------------------------------------------


def story_notes(text: StoryText, placement: Placement) -> tuple[str, ...]:
    """Talking points and the likely questions, answered, for one story's slide."""
    s = text.story
    points = [text.sentence]
    points += [f"Owner's note: {line}" for line in placement.story_lines(s.id)[:1]]
    questions = []
    if text.evidence:
        questions.append(f"Q: Is this real or noise? A: {text.evidence}")
    questions.append(f"Q: Who owns it, and what is being done? A: {text.follow_up}")
    return cap_words((*points, *questions))


def summary_notes(texts: Sequence[StoryText], confidence: str) -> tuple[str, ...]:
    """The brief slide: the stories in one breath each, then the question about the data."""
    points = [
        f"{t.rank}. {t.headline[:1].upper()}{t.headline[1:]}"
        + (f" (owner: {t.story.owner})." if t.story.owner else ".")
        for t in texts
    ]
    points.append(f"Q: Can we trust the numbers? A: {lower_first(confidence)}")
    return cap_words(points)


# -- figures.json -------------------------------------------------------------------------------


def brief_people(
    report: ResolvedReport,
    figures: ReportFigures,
    figures_data: dict[str, Any],
    texts: Sequence[StoryText],
    comments: Iterable[Comment],
) -> Placement:
    """Owners and commentary into ``figures_data`` (in place); where each comment is shown.

    Each metric carries its catalog ``owner``; ``commentary`` lists the comments
    shown, with the story or tile each is shown with.
    """
    from reportgen.analysis.stories import MAX_STORIES

    for name, metric in figures_data["metrics"].items():
        owner = report.metric(name).owner
        metric["owner"] = None if owner in ("", "unassigned") else owner
    placement = place_comments(comments, list(texts)[:MAX_STORIES], figures)
    figures_data["commentary"] = placement.as_dicts()
    return placement
