"""Forward stories in words: where a metric is heading, in plain words, and why we think so.

:mod:`reportgen.analysis.stories` finds them (``kind == "forward"``) from the
forward look; this module words them for :mod:`._stories`. Leadership reads
"likely between 57.4 and 58.2 s", never an interval, a model or a z-score;
the analyst edition adds the method to the "why we think so" line.
"""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING

from reportgen.analysis.stories import Ahead, Story

if TYPE_CHECKING:
    from reportgen.compose._stories import _Words


def span_name(label: str) -> str:
    """ "2026-11" → "November", "2026-Q4" → "Q4", "2026-W48" → "W48": as a reader says it."""
    _, _, part = label.partition("-")
    if part.startswith("Q") or part.startswith("W"):
        return part
    if part.isdigit() and 1 <= int(part) <= 12:
        return calendar.month_name[int(part)]
    return label


def _side(words: _Words, metric: str) -> str:
    return "below" if words.m(metric).direction == "higher_is_better" else "above"


def _ahead(s: Story) -> Ahead:
    assert s.ahead is not None, "a forward story carries its projection"
    return s.ahead


def _range(words: _Words, metric: str, a: Ahead) -> str:
    """ "between 57.4 and 58.2 s" """
    return f"between {words.bare(metric, a.lower)} and {words.value(metric, a.upper)}"


def _where(s: Story) -> str:
    return f"{s.segment} " if s.segment else ""


def headline(words: _Words, s: Story) -> str:
    """A few words for the bottom line: "average handle time off pace for November"."""
    a = _ahead(s)
    label = _lower_first(words.label(s.metric))
    if a.what == "pace":
        if a.status == "already missed":
            return f"{label} can no longer meet its {span_name(a.period)} target"
        return f"{label} off pace for its {span_name(a.period)} target"
    if a.what == "forecast":
        return f"{label} forecast {_side(words, s.metric)} its target in {span_name(a.period)}"
    return f"{_where(s)}{label} growing by about {_per_day(a.per_day)} a day"


def title(words: _Words, s: Story) -> str:
    """ "At this pace, average handle time ends November at 57.8 s, above its 57 s target" """
    a = _ahead(s)
    label = words.label(s.metric)
    target = words.value(s.metric, a.target)
    if a.what == "pace":
        side, span = _side(words, s.metric), span_name(a.period)
        ends = words.value(s.metric, a.value)
        if a.status == "already missed":
            return (
                f"{label} can no longer reach its {target} target for {span}: "
                f"at this pace it ends at {ends}"
            )
        return (
            f"At this pace, {_lower_first(label)} ends {span} at {ends}, {side} its {target} target"
        )
    if a.what == "forecast":
        return (
            f"{label} is forecast at {words.value(s.metric, a.value)} in "
            f"{span_name(a.period)}, {_side(words, s.metric)} its {target} target"
        )
    return f"{_where(s)}{_lower_first(label)} growing by about {_per_day(a.per_day)} a day"


def sentence(words: _Words, s: Story) -> str:
    a = _ahead(s)
    label = _lower_first(words.label(s.metric))
    grain = words.figures.period.grain
    if a.what == "pace":
        span = span_name(a.period)
        days = f"{a.days_left} day{'s' if a.days_left != 1 else ''}"
        return (
            f"With {days} of {span} left, the rest of it at the pace of the last four weeks "
            f"brings {label} to {words.value(s.metric, a.value)} "
            f"(likely {_range(words, s.metric, a)}); "
            f"it was {words.value(s.metric, s.previous)} in {words.figures.period.label}."
        )
    if a.what == "forecast":
        return (
            f"{words.label(s.metric)} was {words.value(s.metric, s.previous)} in "
            f"{words.figures.period.label}, within its target; next {grain} it is likely "
            f"{_range(words, s.metric, a)}."
        )
    where = f" in {s.segment}" if s.segment else ""
    return (
        f"The {label}{where} is {words.value(s.metric, a.value)}: more items come in than are "
        f"decided, about {_per_day(a.per_day)} more a day over {words.figures.period.label}."
    )


def evidence(words: _Words, s: Story) -> str:
    """Why we think so: how sure (the likely range against the target), and from what."""
    a = _ahead(s)
    level = f"{a.level:.0%}" if a.level else ""
    if a.what == "pace":
        if a.status == "already missed":
            text = (
                "even if every remaining item met the standard, the period would end "
                f"{_side(words, s.metric)} the target"
            )
        else:
            text = (
                f"the whole {level} likely range is {_side(words, s.metric)} the target; "
                "projected from the days so far and the same weekdays of the last four weeks"
            )
    elif a.what == "forecast":
        text = (
            f"the whole {level} likely range is {_side(words, s.metric)} the target; forecast "
            f"from the metric's own history, {words.figures.period.grain} by "
            f"{words.figures.period.grain}"
        )
    else:
        text = "the growth is well outside the backlog's usual change from one period to the next"
    if words.analyst and a.method:
        text += f" ({a.method})"
    return text[:1].upper() + text[1:] + "."


def backlog_clause(words: _Words, s: Story) -> str:
    """Where a piled-up backlog is heading, for its concentration story's sentence."""
    a = s.ahead
    if a is None or a.what != "backlog":
        return ""
    if a.weeks_to_clear is not None:
        weeks = round(a.weeks_to_clear)
        if weeks < 1:
            return "; at the current flow it clears within a week"
        return f"; at the current flow it clears in about {weeks} week{'s' if weeks > 1 else ''}"
    if a.status == "growing" and a.per_day is not None and a.per_day >= 1:
        return f"; at the current flow it grows by about {_per_day(a.per_day)} a day"
    return "; at the current flow it is not coming down"


def _per_day(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.1f}" if abs(x) < 10 else f"{x:,.0f}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
