"""Deterministic sentences from the figures.

Same figures → same words, so golden tests can pin the text and readers can
trust that a sentence is a restatement of a number, never an invention.
"""

from __future__ import annotations

from datetime import date

from reportgen.document import Direction, Sentiment, ValueFormat
from reportgen.formatting import format_change, format_relative, format_value
from reportgen.metrics import MetricFigures, SegmentFigure

#: Relative changes smaller than this are reported as "unchanged" (display noise, not news).
FLAT_RELATIVE = 0.0005


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
    return figures.format  # type: ignore[return-value]


def value_text(figures: MetricFigures, value: float | None) -> str:
    return format_value(value, _fmt(figures), figures.decimals)


def change_text(figures: MetricFigures, delta: float | None, delta_pct: float | None) -> str:
    """Change as readers expect it: pp for proportions, % for totals, units for the rest."""
    if figures.format == "count":
        return format_relative(delta_pct)
    return format_change(delta, _fmt(figures), figures.decimals)


def metric_sentence(
    figures: MetricFigures, period: str, previous_period: str, significance: str | None = None
) -> str:
    """One sentence: value, change against the previous period (with its test), and the target.

    ``significance`` ("significant, p < 0.001") is attached to every stated
    change, so no sentence calls a move "up" or "down" without saying whether
    it is distinguishable from noise.
    """
    value = value_text(figures, figures.value)
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
        size = change_text(figures, figures.delta, figures.delta_pct).lstrip("+−±")
        evidence = _evidence(figures, significance)
        before = _when(previous_period, figures.previous_as_of)
        text += (
            f", {direction} {size}{evidence} from {value_text(figures, figures.previous)} {before}"
        )
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
    change = change_text(figures, figures.delta_last_year, delta_pct)
    return f"Against the same period last year ({last_year_period}, {value_text(figures, figures.last_year)}): {change}."


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
    change = change_text(figures, top.delta, top.delta_pct)
    weight = "of the total" if figures.as_of is not None else "of volume"  # a stock has no volume
    return (
        f"Largest move by {dimension_label.lower()}: {top.segment} ({change} to {value_text(figures, top.value)}, "
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
    fmt = _fmt(figures)
    parts = [f"{s.segment} {format_change(s.delta, fmt, figures.decimals)}" for s in moved[:top]]
    total = format_change(figures.delta, fmt, figures.decimals)
    return f"Largest contributions by {dimension_label.lower()} to the {total}: {', '.join(parts)}."
