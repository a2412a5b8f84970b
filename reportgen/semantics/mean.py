"""A mean: Σ sum ÷ Σ count, with Σ of squares kept for its variance (a Welch test)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reportgen.config import formula as fm
from reportgen.errors import ConfigError
from reportgen.semantics.base import MetricKind, Pooled, RatioParts, Stats, TestKind

if TYPE_CHECKING:
    from reportgen.config._yaml import LocatedYaml
    from reportgen.config.models import Catalog, MeanMetric, MeasureDef


class Mean(MetricKind):
    """The mean of a column over counted rows; its units compare with Tukey's HSD."""

    types = ("mean",)
    tukey = True
    volume_is_sample = True
    metric: MeanMetric

    @classmethod
    def sample_size(cls, stats: Stats) -> float | None:
        return stats.count

    def __init__(self, metric: MeanMetric) -> None:
        self.metric = metric

    def roles(self) -> list[tuple[str, str]]:
        m = self.metric
        return [("sum", m.sum), ("count", m.count), ("sum_squares", m.sum_squares)]

    def defining_measures(self) -> tuple[str, ...]:
        return self.measures[:2]  # the sum of squares serves the test, not the definition

    def as_formula(self) -> fm.Expr:
        return fm.BinOp("/", fm.Ref(self.metric.sum), fm.NullIfZero(fm.Ref(self.metric.count)))

    def measure_parts(self) -> tuple[str, str, float]:
        return self.metric.sum, self.metric.count, 1.0

    def values(self, totals: pd.DataFrame) -> pd.Series:
        count = totals[self.metric.count].astype(float)
        return totals[self.metric.sum] / count.where(count != 0)

    def weight(self, totals: pd.DataFrame) -> pd.Series:
        return totals[self.metric.count].astype(float)

    @property
    def weight_measure(self) -> str:
        return self.metric.count

    def stats(self, row: pd.Series) -> Stats:
        m = self.metric
        return Stats(
            count=float(row[m.count]), sum=float(row[m.sum]), sum_squares=float(row[m.sum_squares])
        )

    def pooled(self, stats: Sequence[Stats]) -> Pooled:
        count = sum(s.count or 0 for s in stats)
        total = sum(s.sum or 0 for s in stats)
        squares = sum(s.sum_squares or 0 for s in stats)
        value = total / count if count else None
        return Pooled(Stats(count=count, sum=total, sum_squares=squares), value, count)

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        return "mean"

    def noise_sd(self, totals: pd.DataFrame, measures: Mapping[str, MeasureDef]) -> pd.Series:
        m = self.metric
        with np.errstate(divide="ignore", invalid="ignore"):
            n = totals[m.count].astype(float)
            s, q = totals[m.sum], totals[m.sum_squares]
            var = ((q - s * s / n.where(n > 0)) / (n - 1).where(n > 1)).clip(lower=0)
            return np.sqrt(var / n.where(n > 0))

    def ratio_parts(self) -> RatioParts:
        m = self.metric
        return lambda t: (t[m.sum], t[m.count])

    def sample_measures(self) -> tuple[str, ...]:
        return (self.metric.count,)

    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        return f"Σ {self.metric.sum} ÷ Σ {self.metric.count}"

    def share_words(self) -> str:
        manual = "manual" in (self.metric.description or "").lower()
        return "of manual volume" if manual else "of volume"

    def validate(self, name: str, catalog: Catalog, source: LocatedYaml) -> None:
        self._not_stock(name, catalog, source)
        self._consistent(name, catalog, source)

    def _not_stock(self, name: str, catalog: Catalog, source: LocatedYaml) -> None:
        """A mean's count, sum and sum of squares are flows; a stock has no per-item mean."""
        for role, measure in self.roles():
            if catalog.measures[measure].is_stock:
                raise ConfigError(
                    f"mean metric '{name}' uses '{measure}' (agg 'last', a period-end snapshot) "
                    f"as its {role}; a mean needs counts and sums over the period's items",
                    file=source.path,
                    line=source.line_of(("metrics", name, role)),
                    key=f"metrics.{name}.{role}",
                    fix="make it a 'total' metric (the snapshot itself) or a 'derived' metric "
                    "over the snapshot, e.g. backlog / nullif(decisions, 0)",
                )

    def _consistent(self, name: str, catalog: Catalog, source: LocatedYaml) -> None:
        """Sum, count and sum of squares must describe the same rows, or tests on it are wrong."""
        m = self.metric
        total, count, squares = (catalog.measures[x] for x in (m.sum, m.count, m.sum_squares))
        problems = []
        if total.agg != "sum" or squares.agg != "sum_squares" or count.agg != "count":
            problems.append(
                "'sum' must be a sum, 'count' a count and 'sum_squares' a sum_squares measure"
            )
        if total.column != squares.column:
            problems.append("'sum' and 'sum_squares' must add up the same column")
        same_rows = total.fact == count.fact == squares.fact
        if not (same_rows and total.filter == count.filter == squares.filter):
            problems.append("all three measures must come from the same fact with the same filter")
        if problems:
            raise ConfigError(
                f"mean metric '{name}' is inconsistent: {'; '.join(problems)}",
                file=source.path,
                line=source.line_of(("metrics", name)),
                key=f"metrics.{name}",
                fix="point sum, count and sum_squares at measures over the same rows",
            )
