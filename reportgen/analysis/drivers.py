"""Drivers: LMDI decomposition of each metric's change, ranked, and said in words.

The decomposition runs on the cube's summed measures for the two periods
(numerator and denominator per segment), so its effects add up exactly to the
change the KPI tile shows. A mean metric is a ratio too (Σ sum / Σ count), and
so is a derived metric whose formula is ``k · N / D`` with N and D sums or
differences of measures (e.g. ``1000 * appeals / nullif(decisions, 0)``); a
derived formula of any other shape has no ratio-of-sums structure to split and
is not decomposed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from reportgen.analysis.lmdi import LmdiResult, LmdiTerm, lmdi_ratio
from reportgen.config.formula import evaluate
from reportgen.config.loader import ResolvedReport
from reportgen.config.models import DerivedMetric, MeanMetric, RatioMetric
from reportgen.cube import Cube
from reportgen.metrics import MetricFigures, ReportFigures, measure_totals


@dataclass(frozen=True)
class Decomposition:
    metric: str
    dimensions: tuple[str, ...]
    result: LmdiResult


def _ratio_parts(
    report: ResolvedReport, name: str
) -> Callable[[pd.DataFrame], tuple[pd.Series, pd.Series]] | None:
    """A function from summed measures to (scaled numerator, denominator), or None."""
    metric = report.metric(name)
    if isinstance(metric, MeanMetric):
        return lambda t: (t[metric.sum], t[metric.count])
    if isinstance(metric, RatioMetric):
        return lambda t: (t[metric.numerator] * metric.scale, t[metric.denominator])
    if isinstance(metric, DerivedMetric) and (q := metric.quotient) is not None:
        return lambda t: (evaluate(q.numerator, t) * q.scale, evaluate(q.denominator, t))
    return None


def decomposition_dimensions(report: ResolvedReport, name: str) -> tuple[str, ...]:
    allowed = report.metric_dimensions(name)
    chosen = tuple(d for d in report.decomposition_dimensions if d in allowed)
    if chosen:
        return chosen
    breakdowns = next((c.breakdowns for c in report.metrics if c.metric == name), None) or []
    return tuple(breakdowns[:1])


def decompose(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, name: str
) -> Decomposition | None:
    parts = _ratio_parts(report, name)
    dims = decomposition_dimensions(report, name)
    if parts is None or not dims:
        return None
    measures = report.metric(name).measures
    current, previous = figures.period, figures.previous_period
    now = parts(measure_totals(cube, measures, current.start, current.end, by=list(dims)))
    before = parts(measure_totals(cube, measures, previous.start, previous.end, by=list(dims)))
    frame = pd.concat(
        {"num1": now[0], "den1": now[1], "num0": before[0], "den0": before[1]}, axis=1
    ).fillna(0.0)
    if (frame < 0).to_numpy().any():  # a derived N - M can go negative: no logarithms, no LMDI
        return None
    frame = frame.reset_index()
    frame.columns = [*dims, *frame.columns[len(dims) :]]
    for dim in dims:
        frame[dim] = frame[dim].astype(str)
    result = lmdi_ratio(frame, list(dims), "num0", "den0", "num1", "den1")
    return Decomposition(name, dims, result)


def decompose_all(
    report: ResolvedReport, cube: Cube, figures: ReportFigures
) -> dict[str, Decomposition]:
    wanted = report.config.insights.decomposition.metrics or list(figures.metrics)
    out = {}
    for name in wanted:
        if (d := decompose(report, cube, figures, name)) is not None:
            out[name] = d
    return out


def segment_label(term: LmdiTerm) -> str:
    return " · ".join(term.segment)


@dataclass(frozen=True)
class Step:
    """One bar of a drivers waterfall: a segment's mix or rate effect, or the rest."""

    label: str
    effect: str  # "mix", "rate" or "other"
    segment: str | None
    value: float


def waterfall_steps(result: LmdiResult, top: int) -> list[Step]:
    """The ``top`` largest single effects, then everything else as one "Other" step."""
    effects = [
        Step(f"Mix: {segment_label(t)}", "mix", segment_label(t), t.mix) for t in result.terms
    ]
    effects += [
        Step(f"Rate: {segment_label(t)}", "rate", segment_label(t), t.rate) for t in result.terms
    ]
    effects.sort(key=lambda s: abs(s.value), reverse=True)
    shown = [s for s in effects[:top] if s.value != 0]
    rest = result.change - sum(s.value for s in shown)
    if abs(rest) > 1e-12 * max(1.0, abs(result.change)):
        shown.append(Step("Other", "other", None, rest))
    return shown


def driver_sentence(
    m: MetricFigures, decomposition: Decomposition, dim_label: str, signed: Callable[[float], str]
) -> str | None:
    """The change split into mix and rate, each with its largest segment.

    E.g. "Of the +7.1 s: mix shift between queues +4.7 s (largest: toward
    Misinformation, +9.7 s); change within queues +2.4 s (largest: Harassment,
    +4.3 s)." Aggregate effects are stated first because a single segment's
    mix term can exceed the whole change when other segments offset it.
    """
    result = decomposition.result
    if result.note or not result.terms or not result.change:
        return None
    units = _plural(dim_label)
    mix_term = max(result.terms, key=lambda t: abs(t.mix))
    rate_term = max(result.terms, key=lambda t: abs(t.rate))
    toward = "toward" if mix_term.share1 > mix_term.share0 else "away from"
    mix = (
        f"mix shift between {units} {signed(result.mix)} "
        f"(largest: {toward} {segment_label(mix_term)}, {signed(mix_term.mix)})"
    )
    rate = (
        f"change within {units} {signed(result.rate)} "
        f"(largest: {segment_label(rate_term)}, {signed(rate_term.rate)})"
    )
    return f"Of the {signed(result.change)}: {mix}; {rate}."


def _plural(dim_label: str) -> str:
    label = dim_label.lower()
    return label if label.endswith("s") else f"{label}s"


def in_sentence(label: str) -> str:
    """Lower-case a label's first letter inside a sentence, but keep acronyms (SLA, QA)."""
    if len(label) > 1 and label[1].islower():
        return label[0].lower() + label[1:]
    return label
