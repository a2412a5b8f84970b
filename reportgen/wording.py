"""Deterministic sentences from the figures.

Same figures → same words, so golden tests can pin the text and readers can
trust that a sentence is a restatement of a number, never an invention.

Every text of a metric's value and change goes through this module, so a
metric reads the same on a tile, in a sentence and in a table: its display
unit is chosen once (:func:`display_format`: an hours metric under an hour is
shown in minutes throughout), and its change against the previous period has
one text (:func:`headline_change`) at the precision shared with the two values
it compares (:func:`reportgen.formatting.comparison_decimals`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

from reportgen.document import Direction, Sentiment, ValueFormat
from reportgen.figures import MetricFigures, SegmentFigure, display_format
from reportgen.formatting import (
    BASE_DECIMALS,
    change_decimals,
    comparison_decimals,
    format_change,
    format_interval,
    format_relative,
    format_value,
    in_unit,
    reading_decimals,
    shared_decimals,
    shown_difference,
    unit_label,
)

#: Relative changes smaller than this read as zero even at the finest precision shown.
FLAT_RELATIVE = 0.000005


def change_direction(delta: float | None, delta_pct: float | None) -> Direction:
    if delta is None or delta == 0 or (delta_pct is not None and abs(delta_pct) < FLAT_RELATIVE):
        return "flat"
    return "up" if delta > 0 else "down"


def change_sentiment(direction: Direction, metric_direction: str) -> Sentiment:
    if direction == "flat" or metric_direction == "neutral":
        return "neutral"
    improved = (direction == "up") == (metric_direction == "higher_is_better")
    return "good" if improved else "bad"


def _fmt(figures: MetricFigures) -> ValueFormat:
    return display_format(figures)


def _shown(figures: MetricFigures, value: float | None) -> float | None:
    return in_unit(value, figures.format, display_format(figures))


def unit_text(figures: MetricFigures) -> str | None:
    """The unit to write in a column header: "decisions / productive hour", "min", None."""
    if figures.unit and figures.format in ("rate", "decimal", "count"):
        return unit_label(figures.unit)
    return None


def value_text(
    figures: MetricFigures, value: float | None, decimals: int | None = None, unit: bool = True
) -> str:
    """A value of the metric, in its display unit; ``unit=False`` in a table whose header names it."""
    return format_value(
        _shown(figures, value),
        _fmt(figures),
        _decimals(figures, decimals),
        figures.unit if unit else None,
    )


def _decimals(figures: MetricFigures, decimals: int | None) -> int | None:
    """The precision asked for, else the metric's; an hours metric shown in hours stays in hours."""
    if decimals is not None:
        return decimals
    if figures.decimals is None and _fmt(figures) == "hours":
        return BASE_DECIMALS["hours"]
    return figures.decimals


def headline_decimals(figures: MetricFigures) -> int:
    """The shared precision of the metric's value, previous value and change."""
    return pair_decimals(figures, figures.value, figures.previous)


def pair_decimals(figures: MetricFigures, value: float | None, previous: float | None) -> int:
    if figures.format == "count":
        return 0
    return comparison_decimals(
        _shown(figures, value), _shown(figures, previous), _fmt(figures), figures.decimals
    )


def rows_decimals(figures: MetricFigures, segments: Iterable[SegmentFigure]) -> int:
    """One precision for segments shown together (a breakdown table's rows): the metric's
    own, more only where a row's change would read as zero. Each row's change is then the
    difference of its values as shown (:func:`pair_change`), so no row needs more digits to
    agree, and the column does not take the finest any row would to agree by rounding."""
    if figures.format == "count":
        return 0
    fmt = _fmt(figures)
    return max(
        (
            reading_decimals(
                _shown(figures, s.value),
                _shown(figures, s.previous),
                fmt,
                figures.decimals,
                _shown(figures, s.delta),
            )
            for s in segments
        ),
        default=reading_decimals(None, None, fmt, figures.decimals),
    )


def shown_delta(
    figures: MetricFigures,
    value: float | None,
    previous: float | None,
    delta: float | None,
    decimals: int,
) -> float | None:
    """The change to print beside ``value`` and ``previous`` shown at ``decimals``: their
    difference as shown (in the metric's own unit), so the three numbers agree; ``delta``
    itself for a count (its change reads as a relative one) or without both values."""
    if figures.format == "count" or value is None or previous is None or delta is None:
        return delta
    fmt = _fmt(figures)
    difference = shown_difference(_shown(figures, value), _shown(figures, previous), fmt, decimals)
    return None if difference is None else difference / (_shown(figures, 1.0) or 1.0)


def pair_change(
    figures: MetricFigures,
    value: float | None,
    previous: float | None,
    delta: float | None,
    delta_pct: float | None,
    decimals: int | None = None,
) -> str:
    """The change between two values shown beside it (a table row, an anomaly and its
    baseline): at their shared precision, as the difference of the values shown."""
    d = pair_decimals(figures, value, previous) if decimals is None else decimals
    return change_text(figures, shown_delta(figures, value, previous, delta, d), delta_pct, d)


def change_text(
    figures: MetricFigures,
    delta: float | None,
    delta_pct: float | None,
    decimals: int | None = None,
    unit: bool = False,
) -> str:
    """Change as readers expect it: pp for proportions, % for totals, units for the rest."""
    if figures.format == "count":
        return format_relative(delta_pct)
    return format_change(
        _shown(figures, delta),
        _fmt(figures),
        figures.decimals if decimals is None else decimals,
        figures.unit if unit else None,
    )


def headline_change(figures: MetricFigures) -> str:
    """The one text of the metric's change against the previous period, everywhere it is shown."""
    return pair_change(
        figures,
        figures.value,
        figures.previous,
        figures.delta,
        figures.delta_pct,
        headline_decimals(figures),
    )


def headline_value(figures: MetricFigures, value: float | None, unit: bool = True) -> str:
    """The value or previous value beside :func:`headline_change`, at its precision."""
    if figures.format == "count":
        return value_text(figures, value, unit=unit)
    return value_text(figures, value, headline_decimals(figures), unit=unit)


def term_text(figures: MetricFigures, delta: float | None) -> str:
    """A part of the headline change (a driver's effect): its precision, more only near zero."""
    if delta is None:
        return "—"
    d = headline_decimals(figures)
    if figures.delta is not None and math.isclose(delta, figures.delta, rel_tol=1e-12):
        # the headline change itself (a driver table's total): as the headline prints it
        delta = shown_delta(figures, figures.value, figures.previous, delta, d)
    return format_change(_shown(figures, delta), _fmt(figures), d)


def interval_text(figures: MetricFigures, low: float | None, high: float | None) -> str:
    """A confidence interval of the change: one unit and one precision for both ends.

    A count's change is read as a relative change, so is its interval (÷ the previous value).
    """
    if figures.format == "count":
        if low is None or high is None or not figures.previous:
            return "—"
        lo, hi = low / figures.previous, high / figures.previous
        d = max(change_decimals(lo, "percent"), change_decimals(hi, "percent"))
        return f"{format_relative(lo, d)} to {format_relative(hi, d)}"
    low, high, fmt = _shown(figures, low), _shown(figures, high), _fmt(figures)
    decimals = max(headline_decimals(figures), shared_decimals((low, high), fmt, figures.decimals))
    return format_interval(low, high, fmt, decimals)


def metric_sentence(
    figures: MetricFigures, period: str, previous_period: str, significance: str | None = None
) -> str:
    """One sentence: value, change against the previous period (with its test), and the target.

    ``significance`` ("significant, p < 0.001") is attached to every stated
    change, so no sentence calls a move "up" or "down" without saying whether
    it is distinguishable from noise.
    """
    value = headline_value(figures, figures.value)
    if figures.value is None:
        return f"{figures.label}: no data for {period}."
    verb = "were" if figures.label.endswith("s") and figures.type == "total" else "was"
    text = f"{figures.label} {verb} {value} {_when(period, figures.as_of)}"
    direction = change_direction(figures.delta, figures.delta_pct)
    if figures.provisional:
        significance = None  # a test of a figure still filling up tests the missing data
    if figures.previous is None:
        text += f" (no data for {previous_period} to compare)"
    elif direction == "flat":
        text += f", unchanged from {previous_period}"
    else:
        size = headline_change(figures).lstrip("+−±")
        if unit := unit_text(figures):
            size += f" {unit}"
        evidence = _evidence(figures, significance)
        before = _when(previous_period, figures.previous_as_of)
        previous = headline_value(figures, figures.previous)
        text += f", {direction} {size}{evidence} from {previous} {before}"
    if figures.target is not None and figures.target_met is not None:
        target = value_text(figures, figures.target)
        if figures.target_met:
            text += f", meeting its {target} target"
        else:
            side = "below" if figures.direction == "higher_is_better" else "above"
            text += f", {side} its {target} target"
    if figures.provisional:
        text += f" ({provisional_text(figures)}"
        if direction != "flat" and figures.previous is not None:
            text += "; the change may be late data, not a real move"
        text += ")"
    return text + "."


def provisional_text(figures: MetricFigures) -> str:
    """ "provisional: appeals still arriving until 06 Dec 2026" — why and until when."""
    reason = figures.provisional_reason or "late data still arriving"
    until = f" until {figures.matures_on:%d %b %Y}" if figures.matures_on else ""
    return f"provisional: {reason}{until}"


def _when(period: str, as_of: date | None) -> str:
    """ "in 2026-W47" for a flow; a stock names its snapshot: "at the end of 2026-W47 (Sun 22 Nov)"."""
    if as_of is None:
        return f"in {period}"
    return f"at the end of {period} ({as_of:%a %d %b})"


def _evidence(figures: MetricFigures, significance: str | None) -> str:
    """ " (+12.7%, significant, p < 0.001)" — the relative size for non-count metrics, and the test."""
    parts = []
    if figures.format != "count" and figures.format != "percent" and figures.delta_pct is not None:
        parts.append(format_relative(figures.delta_pct))
    if significance:
        parts.append(significance)
    return f" ({', '.join(parts)})" if parts else ""


def last_year_sentence(figures: MetricFigures, last_year_period: str | None) -> str | None:
    if last_year_period is None or figures.last_year is None or figures.value is None:
        return None
    delta_pct = figures.delta_last_year / figures.last_year if figures.last_year else None
    d = pair_decimals(figures, figures.value, figures.last_year)
    change = pair_change(
        figures, figures.value, figures.last_year, figures.delta_last_year, delta_pct, d
    )
    if change_direction(figures.delta_last_year, delta_pct) == "flat":
        change = "unchanged"
    before = value_text(figures, figures.last_year, None if figures.format == "count" else d)
    return f"Against the same period last year ({last_year_period}, {before}): {change}."


def mover_sentence(
    figures: MetricFigures, dimension_label: str, segments: tuple[SegmentFigure, ...]
) -> str | None:
    """The segment with the largest weighted change, among segments of real size.

    A stock's segments are read on one day, so their changes add up to the
    total's: its sentence names the largest contributions instead.
    """
    if figures.as_of is not None:
        return contribution_sentence(figures, dimension_label, segments)
    candidates = [s for s in segments if s.delta is not None and (s.share or 0) >= 0.02]
    if not candidates or figures.format == "count":
        candidates = [s for s in segments if s.delta_pct is not None and (s.share or 0) >= 0.02]
        if not candidates:
            return None
        top = max(candidates, key=lambda s: abs(s.delta_pct or 0) * (s.share or 0))
    else:
        top = max(candidates, key=lambda s: abs(s.delta or 0) * (s.share or 0))
    direction = change_direction(top.delta, top.delta_pct)
    if direction == "flat":
        return None
    # the new value and the change, without the previous value: the metric's precision (finer
    # only if the change would read as zero), the change as the difference of the values shown
    d = rows_decimals(figures, (top,))
    change = pair_change(figures, top.value, top.previous, top.delta, top.delta_pct, d)
    now = value_text(figures, top.value, None if figures.format == "count" else d)
    weight = "of the total" if figures.as_of is not None else "of volume"  # a stock has no volume
    return (
        f"Largest move by {dimension_label.lower()}: {top.segment} ({change} to {now}, "
        f"{format_value(top.share, 'percent')} {weight})."
    )


def contribution_sentence(
    figures: MetricFigures, dimension_label: str, segments: tuple[SegmentFigure, ...], top: int = 3
) -> str | None:
    """ "Largest contributions by region to the −38: North America −20, …" (additive changes)."""
    if figures.delta is None:
        return None
    moved = [s for s in segments if s.delta]
    if not moved:
        return None
    moved.sort(key=lambda s: abs(s.delta or 0.0), reverse=True)
    parts = [f"{s.segment} {term_text(figures, s.delta)}" for s in moved[:top]]
    total = term_text(figures, figures.delta)
    return f"Largest contributions by {dimension_label.lower()} to the {total}: {', '.join(parts)}."
