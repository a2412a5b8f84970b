"""A ratio of two sums (× a scale), and a proportion: a ratio of two counts of the same rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reportgen.config import formula as fm
from reportgen.semantics.aggregations import Aggregation, aggregation_of
from reportgen.semantics.base import MetricKind, Pooled, RatioParts, Stats, TestKind

if TYPE_CHECKING:
    from reportgen.config.models import MeasureDef, RatioMetric


class Ratio(MetricKind):
    """Σ numerator ÷ Σ denominator × scale: a count over a sum is a rate with a Poisson test."""

    types = ("ratio",)
    metric: RatioMetric

    def __init__(self, metric: RatioMetric) -> None:
        self.metric = metric

    def roles(self) -> list[tuple[str, str]]:
        return [("numerator", self.metric.numerator), ("denominator", self.metric.denominator)]

    def as_formula(self) -> fm.Expr:
        m = self.metric
        ratio = fm.BinOp("/", fm.Ref(m.numerator), fm.NullIfZero(fm.Ref(m.denominator)))
        return ratio if m.scale == 1 else fm.BinOp("*", ratio, fm.Num(m.scale))

    def measure_parts(self) -> tuple[str, str, float]:
        return self.metric.numerator, self.metric.denominator, self.metric.scale

    def values(self, totals: pd.DataFrame) -> pd.Series:
        den = totals[self.metric.denominator].astype(float)
        return (totals[self.metric.numerator] / den.where(den != 0)) * self.metric.scale

    def weight(self, totals: pd.DataFrame) -> pd.Series:
        return totals[self.metric.denominator].astype(float)

    @property
    def weight_measure(self) -> str:
        return self.metric.denominator

    def stats(self, row: pd.Series) -> Stats:
        return Stats(
            numerator=float(row[self.metric.numerator]),
            denominator=float(row[self.metric.denominator]),
        )

    def pooled(self, stats: Sequence[Stats]) -> Pooled:
        num = sum(s.numerator or 0 for s in stats)
        den = sum(s.denominator or 0 for s in stats)
        value = num / den * self.metric.scale if den else None
        return Pooled(Stats(numerator=num, denominator=den), value, den)

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        """A count of events over a summed exposure (decisions per hour) is a Poisson rate."""
        num, den = self._aggregations(measures)
        return "rate" if num.counts_rows and den.name == "sum" else "none"

    def _aggregations(self, measures: Mapping[str, MeasureDef]) -> tuple[Aggregation, ...]:
        return tuple(
            aggregation_of(measures[m]) for m in (self.metric.numerator, self.metric.denominator)
        )

    def noise_sd(self, totals: pd.DataFrame, measures: Mapping[str, MeasureDef]) -> pd.Series:
        if self.test_kind(measures) != "rate":
            return super().noise_sd(totals, measures)
        with np.errstate(divide="ignore", invalid="ignore"):
            events = totals[self.metric.numerator].astype(float)
            exposure = totals[self.metric.denominator].astype(float)
            return pd.Series(
                np.sqrt(events) / exposure.where(exposure > 0) * self.metric.scale,
                index=totals.index,
            )

    def ratio_parts(self) -> RatioParts:
        m = self.metric
        return lambda t: (t[m.numerator] * m.scale, t[m.denominator])

    def sample_measures(self) -> tuple[str, ...]:
        return (self.metric.denominator,)

    @property
    def effect_scale(self) -> float:
        return self.metric.scale

    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        m = self.metric
        scale = f" × {m.scale:g}" if m.scale != 1 else ""
        return f"Σ {m.numerator} ÷ Σ {m.denominator}{scale}"


class Proportion(Ratio):
    """Successes ÷ trials of the same rows: a binomial proportion when both are counts."""

    types = ("proportion",)
    volume_is_sample = True
    n_as_fraction = True

    @classmethod
    def sample_size(cls, stats: Stats) -> float | None:
        return stats.denominator

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        num, den = self._aggregations(measures)
        both_counts = num.counts_rows and den.counts_rows
        return "proportion" if both_counts else super().test_kind(measures)

    def value_bound(self, measures: Mapping[str, MeasureDef]) -> float | None:
        # only counts of the same rows are sure to stay within 0 … scale
        return self.metric.scale if self.test_kind(measures) == "proportion" else None

    def noise_sd(self, totals: pd.DataFrame, measures: Mapping[str, MeasureDef]) -> pd.Series:
        if self.test_kind(measures) != "proportion":
            return super().noise_sd(totals, measures)
        with np.errstate(divide="ignore", invalid="ignore"):
            n = totals[self.metric.denominator].astype(float)
            p = totals[self.metric.numerator] / n.where(n > 0)
            return np.sqrt(p * (1 - p) / n.where(n > 0))
