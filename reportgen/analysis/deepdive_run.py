"""Runs the deep-dive statistics on frames built from the cube (one row per unit).

The statistics themselves live in :mod:`reportgen.analysis.deepdive`; this
module only assembles their inputs from summed measures for the report's
period — a unit's value is always Σ numerator / Σ denominator of its rows.
That module (scipy.stats, scipy.cluster) is imported only when a report runs a
deep dive: most builds do not, and the import costs ~0.5 s and ~45 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import (
    MetricDef,
)
from reportgen.data.scan import Cube
from reportgen.figures import ReportFigures, measure_totals, metric_values, metric_weight
from reportgen.semantics import kind_of

if TYPE_CHECKING:
    from reportgen.analysis.deepdive import (
        ClusterResult,
        CorrelationResult,
        LogitResult,
        RegressionResult,
        TukeyResult,
    )


@dataclass(frozen=True)
class DeepDive:
    unit: str
    metrics: tuple[str, ...]
    correlation: CorrelationResult | None
    regression: RegressionResult | None
    logit: LogitResult | None
    clusters: ClusterResult | None
    tukey: dict[str, TukeyResult]
    #: Ward hierarchical clustering of the same standardised profiles, for the dendrogram:
    #: ``linkage`` (scipy's merges: left, right, height, size) and ``leaves`` (drawing order).
    hierarchy: ClusterResult | None = None


def _is_rate(metric: MetricDef) -> bool:
    """Comparable across units of different size: the deep dive models ratios of sums
    (volume-weighted regressions, pooled logits), so totals, quantiles and formulas that
    are not a quotient are left out."""
    return kind_of(metric).comparable_across_units


def unit_metrics(report: ResolvedReport, unit: str) -> tuple[str, ...]:
    config = report.config.insights.deep_dive
    chosen = config.metrics or [c.metric for c in report.metrics]
    return tuple(
        m
        for m in chosen
        if m in {c.metric for c in report.metrics}
        and _is_rate(report.metric(m))
        and unit in report.metric_dimensions(m)
    )


def unit_frame(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, unit: str, metrics
) -> pd.DataFrame:
    """One row per unit: each metric's value and volume (``<metric>__volume``) this period."""
    period = figures.period
    columns = {}
    for name in metrics:
        metric = report.metric(name)
        totals = measure_totals(cube, metric.measures, period.start, period.end, by=unit)
        columns[name] = metric_values(metric, totals)
        columns[f"{name}__volume"] = metric_weight(metric, totals)
    frame = pd.DataFrame(columns)
    frame.index = frame.index.astype(str)
    return frame


def run_deep_dive(report: ResolvedReport, cube: Cube, figures: ReportFigures) -> DeepDive | None:
    config = report.config.insights.deep_dive
    unit = report.deep_dive_unit
    if unit is None:
        return None
    metrics = unit_metrics(report, unit)
    if unit not in report.dimensions or len(metrics) < 2:
        return None
    from reportgen.analysis.deepdive import (
        correlation_matrix,
        hierarchical_clusters,
        kmeans_clusters,
        linear_regression,
    )

    frame = unit_frame(report, cube, figures, unit, metrics)
    labels = {m: report.metric(m).label for m in metrics}
    plural = f"{unit}s"
    correlation = correlation_matrix(frame, list(metrics), unit=plural, labels=labels)
    regression = None
    if config.regression is not None and {
        config.regression.outcome,
        *config.regression.predictors,
    } <= set(metrics):
        weights = f"{config.regression.outcome}__volume" if config.regression.weighted else None
        regression = linear_regression(
            frame,
            config.regression.outcome,
            config.regression.predictors,
            weights=weights,
            unit=plural,
            labels=labels,
            formats={m: report.metric(m).format for m in metrics},
        )
    clusters = kmeans_clusters(frame, list(metrics), labels=labels) if config.clusters else None
    hierarchy = (
        hierarchical_clusters(frame, list(metrics), labels=labels) if config.dendrogram else None
    )
    tukey = {
        name: _tukey(report, cube, figures, unit, name) for name in config.tukey if name in metrics
    }
    return DeepDive(
        unit,
        metrics,
        correlation,
        regression,
        _logit(report, cube, figures),
        clusters,
        tukey,
        hierarchy,
    )


def _tukey(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, unit: str, name: str
) -> TukeyResult | None:
    metric = report.metric(name)
    kind = kind_of(metric)
    if not kind.tukey:
        return None
    period = figures.period
    totals = measure_totals(cube, metric.measures, period.start, period.end, by=unit)
    unit_stats = {str(seg): kind.stats(row) for seg, row in totals.iterrows()}
    groups = {
        seg: (s.count, s.sum, s.sum_squares)
        for seg, s in unit_stats.items()
        if s.count and s.sum is not None and s.sum_squares is not None
    }
    from reportgen.analysis.deepdive import tukey_hsd

    return tukey_hsd(groups, alpha=1 - report.config.insights.confidence)


def _logit(report: ResolvedReport, cube: Cube, figures: ReportFigures) -> LogitResult | None:
    spec = report.config.insights.deep_dive.logit
    if spec is None:
        return None
    window = figures.period.trailing(spec.periods)  # outcomes are rare: pool recent periods
    totals = measure_totals(
        cube, (spec.successes, spec.trials), window[0].start, window[-1].end, by=list(spec.by)
    )
    frame = totals.reset_index()
    frame.columns = [*spec.by, spec.successes, spec.trials]
    for dim in spec.by:
        frame[dim] = frame[dim].astype(str)
    frame = frame[frame[spec.trials] > 0]
    from reportgen.analysis.deepdive import logit_binomial

    return logit_binomial(frame, spec.successes, spec.trials, list(spec.by))
