"""Drivers: LMDI decomposition of each metric's change, ranked, and said in words.

The decomposition runs on the cube's summed measures for the two periods
(numerator and denominator per segment), so its effects add up exactly to the
change the KPI tile shows. A mean metric is a ratio too (Σ sum / Σ count), and
so is a derived metric whose formula is ``k · N / D`` with N and D sums or
differences of measures (e.g. ``1000 * appeals / nullif(decisions, 0)``); a
derived formula of any other shape has no ratio-of-sums structure to split and
is not decomposed.

Every view of a decomposition — the driver sentence, the bridge chart, the
contributions table and the deck's native chart — is built from one
:class:`Parts`: the named segments, then "Other" (every other segment summed),
so the parts shown add up exactly to the change. Each segment's mix term is
relative to the average rate (see :mod:`reportgen.analysis.lmdi`), so a queue
that grows while below average is shown pulling the metric down. A segment
whose denominator is below ``insights.small_sample`` in both periods is never
named as a driver: it is counted in "Other".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from reportgen.analysis.lmdi import LmdiResult, LmdiTerm, lmdi_ratio, merge_terms
from reportgen.config.loader import ResolvedReport
from reportgen.data.scan import Cube
from reportgen.figures import MetricFigures, ReportFigures, measure_totals
from reportgen.semantics import RatioParts, kind_of
from reportgen.semantics.aggregations import aggregation_of


@dataclass(frozen=True)
class Decomposition:
    metric: str
    dimensions: tuple[str, ...]
    result: LmdiResult
    small_sample: float = 0.0  # a segment with less volume in both periods is never named
    top: int = 5  # segments named in the sentence, the bridge and the table


def _ratio_parts(report: ResolvedReport, name: str) -> RatioParts | None:
    """A function from summed measures to (scaled numerator, denominator), or None."""
    return kind_of(report.metric(name)).ratio_parts()


def sample_floor(report: ResolvedReport, name: str) -> float:
    """``insights.small_sample`` when the metric's denominator counts rows, else 0.

    The floor is a number of observations (decisions, QA samples, appeals); a
    denominator that sums a quantity (productive hours) is not a sample size.
    """
    measures = kind_of(report.metric(name)).sample_measures()
    counts = all(aggregation_of(report.catalog.measures[m]).counts_rows for m in measures)
    return report.config.insights.small_sample if measures and counts else 0.0


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
    return Decomposition(
        name,
        dims,
        result,
        sample_floor(report, name),
        report.config.insights.decomposition.top,
    )


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


OTHER = "Other"


@dataclass(frozen=True)
class Parts:
    """The parts every view of a decomposition shows: named segments, "Other", the total.

    ``shown`` are in the order of the table and the bridge (largest contribution
    first); ``other`` sums every segment not shown (``None`` when none is left), so
    ``Σ shown totals + other.total == result.change`` up to rounding.
    """

    shown: tuple[LmdiTerm, ...]
    other: LmdiTerm | None
    other_count: int  # segments in "Other"
    small_count: int  # of which below the small-sample floor


def is_small(term: LmdiTerm, floor: float) -> bool:
    """Too little volume in both periods to name as a driver."""
    return max(term.volume0, term.volume1) < floor


def driver_parts(decomposition: Decomposition, top: int) -> Parts:
    """The ``top`` segments to name, then the rest as "Other".

    Only segments at or above the small-sample floor are named. The largest mix
    term and the largest rate term among them are always shown (the driver
    sentence names them), the remaining places go by contribution.
    """
    result = decomposition.result
    eligible = [t for t in result.terms if not is_small(t, decomposition.small_sample)]
    chosen: list[LmdiTerm] = []
    if top > 0 and eligible:
        for effect in (lambda t: abs(t.mix), lambda t: abs(t.rate)):
            best = max(eligible, key=effect)
            if effect(best) > 0 and best not in chosen and len(chosen) < top:
                chosen.append(best)
        for t in eligible:  # result.terms order: largest contribution first
            if len(chosen) >= top:
                break
            if t not in chosen:
                chosen.append(t)
    order = {t.segment: i for i, t in enumerate(result.terms)}
    shown = tuple(sorted(chosen, key=lambda t: order[t.segment]))
    rest = [t for t in result.terms if t not in shown]
    other = merge_terms((OTHER,), rest) if rest else None
    small = sum(1 for t in rest if is_small(t, decomposition.small_sample))
    return Parts(shown, other, len(rest), small)


@dataclass(frozen=True)
class Step:
    """One bar of a drivers bridge: a named segment's contribution, or "Other"."""

    label: str
    effect: str  # "segment" or "other"
    segment: str | None
    value: float


def waterfall_steps(decomposition: Decomposition, top: int) -> list[Step]:
    """The bridge's parts: each segment of the table, then "Other"; they sum to the change.

    "Other" is the change less the named parts (every other segment's
    contribution, plus the float rounding), so the bars add up to the total bar.
    """
    parts = driver_parts(decomposition, top)
    steps = [Step(segment_label(t), "segment", segment_label(t), t.total) for t in parts.shown]
    if parts.other is not None:
        rest = decomposition.result.change - math.fsum(s.value for s in steps)
        steps.append(Step(OTHER, "other", None, rest))
    return steps


def driver_sentence(
    m: MetricFigures,
    decomposition: Decomposition,
    dim_label: str,
    signed: Callable[[float], str],
    top: int,
) -> str | None:
    """The change split into mix and rate, each with its largest named segment.

    E.g. "Of the −2.6 pp: mix shift between queues −2.6 pp (largest: toward
    Misinformation, −2.5 pp); change within queues +0.1 pp (largest: …)." A
    segment's mix term is relative to the average rate, so "toward" a
    below-average queue reads as a fall. The named segments are those of the
    table and the bridge (:func:`driver_parts`); a small sample is never named.
    """
    result = decomposition.result
    if result.note or not result.terms or not result.change:
        return None
    units = _plural(dim_label)
    shown = driver_parts(decomposition, top).shown
    mix = f"mix shift between {units} {signed(result.mix)}"
    rate = f"change within {units} {signed(result.rate)}"
    if shown:
        mix_term = max(shown, key=lambda t: abs(t.mix))
        rate_term = max(shown, key=lambda t: abs(t.rate))
        toward = "toward" if mix_term.share1 > mix_term.share0 else "away from"
        if shows_a_digit(signed(mix_term.mix)):  # a part that reads "+0.0" names nobody
            mix += f" (largest: {toward} {segment_label(mix_term)}, {signed(mix_term.mix)})"
        if shows_a_digit(signed(rate_term.rate)):
            rate += f" (largest: {segment_label(rate_term)}, {signed(rate_term.rate)})"
    return f"Of the {signed(result.change)}: {mix}; {rate}."


def shows_a_digit(text: str) -> bool:
    """Whether a formatted change shows anything but zeros ("+0.0 s" does not)."""
    return any(c in "123456789" for c in text)


def _plural(dim_label: str) -> str:
    label = dim_label.lower()
    return label if label.endswith("s") else f"{label}s"


def in_sentence(label: str) -> str:
    """Lower-case a label's first letter inside a sentence, but keep acronyms (SLA, QA)."""
    if len(label) > 1 and label[1].islower():
        return label[0].lower() + label[1:]
    return label
