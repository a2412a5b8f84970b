"""Which test fits which metric, run on the figures' sufficient statistics.

A metric's statistics decide its test, not its label:

- a proportion of two *counts* (QA accuracy = correct / sampled) → two-proportion z-test
  (Fisher's exact test when counts are small);
- a mean with count, sum and sum of squares (AHT) → Welch t-test;
- a count per exposure (throughput = decisions / productive hours; a total count per
  period day) → Poisson rate test;
- a share of *hours* (utilization) → no sampling test: hours are not independent
  trials, so a p-value would be fiction. The report says so instead of guessing.
- a derived metric (a formula over several sums) → no test either: its sampling
  distribution is none of the above, and an approximate one would look exact.
- a stock (``agg: last``, e.g. backlog: a period-end snapshot) → no test: it is not a
  count of independent events in the period.
- a quantile (median, p90 time to action) → a distribution-free quantile test (Mood's
  test for any q) on the histograms, with an order-statistic interval for the change
  (see :mod:`reportgen.analysis._quantile_test`). Across segments: not tested.

Across segments of a breakdown: one-way ANOVA (means) and chi-square (proportions);
per-segment changes are corrected for multiple comparisons with Benjamini–Hochberg.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportgen.analysis._quantile_test import quantile_test
from reportgen.analysis.stats import (
    TestResult,
    benjamini_hochberg,
    chi_square_homogeneity,
    one_way_anova,
    poisson_rate_test,
    two_proportion_test,
    welch_t_test,
)
from reportgen.config.loader import ResolvedReport
from reportgen.figures import MetricFigures, ReportFigures, SegmentFigure
from reportgen.formatting import format_p
from reportgen.semantics import (
    DERIVED_UNTESTED,
    STOCK_UNTESTED,
    SUM_UNTESTED,
    UNTESTABLE,
    Stats,
    TestKind,
    kind_of,
)
from reportgen.semantics.sketch import Histogram

__all__ = ["DERIVED_UNTESTED", "STOCK_UNTESTED", "SUM_UNTESTED", "UNTESTABLE", "TestKind"]


def no_test_reason(report: ResolvedReport, metric_name: str) -> str:
    """Why a metric whose test kind is "none" gets no p-value, in words for the report."""
    return kind_of(report.metric(metric_name)).untested_reason(report.catalog.measures)


@dataclass(frozen=True)
class ChangeTest:
    """The period-over-period test of one metric (or one segment of it)."""

    kind: TestKind
    result: TestResult | None
    q_value: float | None = None  # BH-adjusted, for segment tests
    reason: str | None = None  # why there is no test

    def significant(self, alpha: float) -> bool | None:
        if self.result is None or self.result.p_value is None:
            return None
        p = self.q_value if self.q_value is not None else self.result.p_value
        return p < alpha


@dataclass(frozen=True)
class SegmentTests:
    metric: str
    dimension: str
    across: TestResult | None  # are segments different from each other this period?
    changes: dict[str, ChangeTest]  # segment → its own change test (BH-adjusted)


@dataclass(frozen=True)
class Significance:
    confidence: float
    metrics: dict[str, ChangeTest]
    segments: dict[tuple[str, str], SegmentTests]

    @property
    def alpha(self) -> float:
        return 1.0 - self.confidence


def test_kind(report: ResolvedReport, metric_name: str) -> TestKind:
    return kind_of(report.metric(metric_name)).test_kind(report.catalog.measures)


def change_test(
    kind: TestKind,
    current: Stats,
    previous: Stats,
    *,
    days: tuple[int, int],
    confidence: float,
    q: float | None = None,
    scale: float = 1.0,
) -> ChangeTest:
    """Test current against previous from sufficient statistics only.

    ``q`` is a quantile's; ``scale`` a ratio's (a rate per 1,000): the exposure is
    divided by it, so the effect and its interval are on the metric's own scale
    (the p-value does not depend on it).
    """
    if kind == "quantile":
        if not isinstance(current.histogram, Histogram) or not isinstance(
            previous.histogram, Histogram
        ):
            return ChangeTest(kind, None, reason="no rows in one of the periods")
        assert q is not None
        return ChangeTest(
            kind, quantile_test(current.histogram, previous.histogram, q, confidence=confidence)
        )
    if kind == "proportion":
        result = two_proportion_test(
            current.numerator or 0,
            current.denominator or 0,
            previous.numerator or 0,
            previous.denominator or 0,
            confidence=confidence,
        )
    elif kind == "mean":
        result = welch_t_test(
            current.count or 0,
            current.sum or 0,
            current.sum_squares or 0,
            previous.count or 0,
            previous.sum or 0,
            previous.sum_squares or 0,
            confidence=confidence,
        )
    elif kind == "rate":
        if current.total is not None:  # a count per period: exposure is the number of days
            result = poisson_rate_test(
                current.total, days[0], previous.total or 0, days[1], confidence=confidence
            )
        else:
            result = poisson_rate_test(
                current.numerator or 0,
                (current.denominator or 0) / scale,
                previous.numerator or 0,
                (previous.denominator or 0) / scale,
                confidence=confidence,
            )
    else:
        return ChangeTest(kind, None, reason=UNTESTABLE)
    return ChangeTest(kind, result)


def across_segments(kind: TestKind, segments: tuple[SegmentFigure, ...]) -> TestResult | None:
    """Do the segments differ from each other in the current period?"""
    if kind == "mean":
        return one_way_anova(
            [(s.stats.count or 0, s.stats.sum or 0, s.stats.sum_squares or 0) for s in segments]
        )
    if kind == "proportion":
        return chi_square_homogeneity(
            [(s.stats.numerator or 0, s.stats.denominator or 0) for s in segments]
        )
    return None


def segment_tests(
    kind: TestKind,
    metric: str,
    dimension: str,
    segments: tuple[SegmentFigure, ...],
    days: tuple[int, int],
    confidence: float,
    q: float | None = None,
    scale: float = 1.0,
) -> SegmentTests:
    raw = {
        s.segment: change_test(
            kind, s.stats, s.previous_stats, days=days, confidence=confidence, q=q, scale=scale
        )
        for s in segments
    }
    p_values = [t.result.p_value if t.result else None for t in raw.values()]
    q_values = benjamini_hochberg(p_values)
    adjusted = {
        seg: ChangeTest(t.kind, t.result, q, t.reason)
        for (seg, t), q in zip(raw.items(), q_values, strict=True)
    }
    return SegmentTests(metric, dimension, across_segments(kind, segments), adjusted)


def assess(report: ResolvedReport, figures: ReportFigures) -> Significance:
    confidence = report.config.insights.confidence
    days = (figures.period.days, figures.previous_period.days)
    metrics: dict[str, ChangeTest] = {}
    segments: dict[tuple[str, str], SegmentTests] = {}
    for name, m in figures.metrics.items():
        kind = test_kind(report, name)
        if kind == "none":
            metrics[name] = ChangeTest("none", None, reason=no_test_reason(report, name))
        else:
            params = test_params(report, name)
            metrics[name] = change_test(
                kind, m.stats, m.previous_stats, days=days, confidence=confidence, **params
            )
        if kind == "none":
            continue
        for dim, segs in m.breakdowns.items():
            segments[(name, dim)] = segment_tests(kind, name, dim, segs, days, confidence, **params)
    return Significance(confidence, metrics, segments)


def test_params(report: ResolvedReport, metric_name: str) -> dict[str, Any]:
    """What a change test needs of the metric besides its statistics: ``q`` and ``scale``."""
    kind = kind_of(report.metric(metric_name))
    return {"q": kind.q, "scale": kind.effect_scale}


def p_text(p: float | None, alpha: float = 0.05) -> str:
    """ "p = 0.053": digits enough never to contradict the verdict at ``alpha`` (formatting.format_p)."""
    return format_p(p, alpha)


def significance_phrase(test: ChangeTest, alpha: float) -> str:
    """ "significant, p < 0.001" / "not significant, p = 0.41" / "not tested"."""
    verdict = test.significant(alpha)
    if verdict is None:
        return "not tested" if test.result is None else "not testable"
    p = test.q_value if test.q_value is not None else (test.result.p_value if test.result else None)
    return f"{'significant' if verdict else 'not significant'}, {p_text(p, alpha)}"


__all__ = [
    "ChangeTest",
    "MetricFigures",
    "SegmentTests",
    "Significance",
    "assess",
    "significance_phrase",
    "test_kind",
]
