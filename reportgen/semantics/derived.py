"""A derived metric: arithmetic over summed measures and other metrics (see DerivedMetric)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from reportgen.config import formula as fm
from reportgen.semantics.base import EMPTY, MetricKind, Pooled, RatioParts, Stats

if TYPE_CHECKING:
    from reportgen.config.models import DerivedMetric, MeasureDef

DERIVED_UNTESTED = (
    "a derived formula combines several sums, and no exact test fits it; "
    "define it as a ratio or proportion metric to get a p-value"
)


class Derived(MetricKind):
    """A quotient ``k · N / D`` of sums behaves like a ratio (weight D, LMDI parts); any other
    formula is weighed by its value and neither tested nor decomposed."""

    types = ("derived",)
    metric: DerivedMetric

    def __init__(self, metric: DerivedMetric) -> None:
        self.metric = metric

    @property
    def comparable_across_units(self) -> bool:  # type: ignore[override]
        return self.metric.quotient is not None

    def roles(self) -> list[tuple[str, str]]:
        return [("formula", m) for m in self.measures]

    def as_formula(self) -> fm.Expr:
        return self.metric.expression

    def values(self, totals: pd.DataFrame) -> pd.Series:
        return fm.evaluate(self.metric.expression, totals)

    def weight(self, totals: pd.DataFrame) -> pd.Series:
        quotient = self.metric.quotient
        return fm.evaluate(quotient.denominator if quotient else self.metric.expression, totals)

    @property
    def weight_measure(self) -> str | None:
        quotient = self.metric.quotient
        if quotient is not None and isinstance(quotient.denominator, fm.Ref):
            return quotient.denominator.measure
        return None  # its shares are not shares of one measure: no share anomalies

    def stats(self, row: pd.Series) -> Stats:
        """k·N and D of a quotient, else the value as ``total``."""
        frame = pd.DataFrame([dict(row)])  # a Series or a record: one row of summed measures
        quotient = self.metric.quotient
        if quotient is None:
            return Stats(total=float(fm.evaluate(self.metric.expression, frame).iloc[0]))
        return Stats(
            numerator=float(fm.evaluate(quotient.numerator, frame).iloc[0]) * quotient.scale,
            denominator=float(fm.evaluate(quotient.denominator, frame).iloc[0]),
        )

    def pooled(self, stats: Sequence[Stats]) -> Pooled:
        if self.metric.quotient is not None:  # stats hold scaled N and D
            num = sum(s.numerator or 0 for s in stats)
            den = sum(s.denominator or 0 for s in stats)
            return Pooled(Stats(numerator=num, denominator=den), num / den if den else None, den)
        if fm.is_additive(self.metric.expression):
            total = sum(s.total or 0 for s in stats)
            return Pooled(Stats(total=total), total, total)
        return EMPTY  # a non-linear formula cannot be pooled from its parts

    def untested_reason(self, measures: Mapping[str, MeasureDef]) -> str:
        return DERIVED_UNTESTED

    def ratio_parts(self) -> RatioParts | None:
        q = self.metric.quotient
        if q is None:
            return None
        return lambda t: (fm.evaluate(q.numerator, t) * q.scale, fm.evaluate(q.denominator, t))

    def decomposition_refusal(self, name: str) -> tuple[str, str] | None:
        if self.metric.quotient is not None:
            return None
        return (
            f"derived metric '{name}' cannot be decomposed: its formula "
            f"'{self.metric.formula}' is not a quotient k · N / D of sums of measures",
            "remove it here, or write its formula as one division "
            "(e.g. manual_decisions / nullif(paid_hours, 0))",
        )

    def sample_measures(self) -> tuple[str, ...]:
        q = self.metric.quotient
        return () if q is None else fm.measures_in(q.denominator)

    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        return f"{self.metric.formula} (each measure summed over the period or segment)"

    def share_words(self) -> str:
        if self.metric.quotient is None:
            return "of the total"  # a formula that is not a quotient weighs segments by value
        return "of the denominator"

    @property
    def formula(self) -> str:
        return self.metric.formula
