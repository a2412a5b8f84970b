"""A total: Σ of one measure (a count, a sum, or a stock's last day)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reportgen.config import formula as fm
from reportgen.semantics.aggregations import aggregation_of
from reportgen.semantics.base import MetricKind, Pooled, Stats, TestKind

if TYPE_CHECKING:
    from reportgen.config.models import MeasureDef, TotalMetric

SUM_UNTESTED = "a sum of a column is not a count of independent events, so no sampling test applies"


class Total(MetricKind):
    """A volume. A count of events is tested as a Poisson rate; a sum or a stock is not tested."""

    types = ("total",)
    seasonality = "multiplicative"
    comparable_across_units = False
    is_volume = True
    typical_swing = 0.10
    metric: TotalMetric

    def __init__(self, metric: TotalMetric) -> None:
        self.metric = metric

    def roles(self) -> list[tuple[str, str]]:
        return [("measure", self.metric.measure)]

    def as_formula(self) -> fm.Expr:
        return fm.Ref(self.metric.measure)

    def measure_parts(self) -> tuple[str, None, float]:
        return self.metric.measure, None, 1.0

    def values(self, totals: pd.DataFrame) -> pd.Series:
        return totals[self.metric.measure].astype(float)

    def weight(self, totals: pd.DataFrame) -> pd.Series:
        return totals[self.metric.measure].astype(float)

    @property
    def weight_measure(self) -> str:
        return self.metric.measure

    def stats(self, row: pd.Series) -> Stats:
        return Stats(total=float(row[self.metric.measure]))

    def pooled(self, stats: Sequence[Stats]) -> Pooled:
        total = sum(s.total or 0 for s in stats)
        return Pooled(Stats(total=total), total, total)

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        return "rate" if aggregation_of(measures[self.metric.measure]).counts_rows else "none"

    def untested_reason(self, measures: Mapping[str, MeasureDef]) -> str:
        return super().untested_reason(measures) if self._is_stock(measures) else SUM_UNTESTED

    def noise_sd(self, totals: pd.DataFrame, measures: Mapping[str, MeasureDef]) -> pd.Series:
        # a count's Poisson noise is not used as an anomaly floor: volumes have their own history
        return pd.Series(np.nan, index=totals.index)

    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        name = self.metric.measure
        if self._is_stock(measures):
            return f"Σ {name} on the period's last day (a snapshot, not summed over days)"
        return f"Σ {name}"

    def share_words(self) -> str:
        return "of the total"

    def _is_stock(self, measures: Mapping[str, MeasureDef]) -> bool:
        return measures[self.metric.measure].is_stock
