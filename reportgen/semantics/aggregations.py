"""What a measure's aggregation means: one class per ``agg`` behind one protocol.

A measure is an aggregate of one fact column computed in the SQL engine per
(day × dimensions). Its aggregation decides the SQL select expression, whether
it counts observations (so a count-based test applies), how a period combines
its days (a flow sums them, a stock takes the last, a sketch merges
histograms) and how the cube cache keeps it (a number per cell, or bucket
counts). The scan, the figures, the tests and the definitions ask
:func:`aggregation_of` instead of comparing ``agg`` strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import sqlglot
from sqlglot import exp

from reportgen.config.models import MeasureDef
from reportgen.semantics.sketch import bucket_expression

#: how a period's value comes from its days' cells
Combine = Literal["sum", "last", "merge"]


def condition(text: str) -> exp.Expression:
    """A catalog SQL condition (DuckDB syntax) as an expression every dialect can write."""
    return sqlglot.parse_one(text, read="duckdb")  # type: ignore[return-value]


def filtered(aggregate: exp.Expression, where: str | None) -> exp.Expression:
    """``aggregate FILTER (WHERE where)``, or the aggregate alone.

    A ``FILTER`` clause updates an aggregate only for the rows that pass, where
    ``SUM(CASE WHEN … THEN 1 ELSE 0 END)`` updates every aggregate for every row:
    on DuckDB the decisions scan (nine such counters, ten checks that are almost
    always false) takes a third less time. sqlglot writes it as ``COUNT_IF`` /
    ``COUNTIF`` / ``IIF`` for dialects without ``FILTER`` (Snowflake, BigQuery, T-SQL).
    """
    if where is None:
        return aggregate
    return exp.Filter(this=aggregate, expression=exp.Where(this=exp.paren(condition(where))))


def count_where(where: str | None) -> exp.Expression:
    """``COUNT(*)``, or ``COUNT(*) FILTER (WHERE …)``."""
    return filtered(exp.Count(this=exp.Star()), where)


class Aggregation(ABC):
    """One ``agg`` value of the catalog."""

    name: ClassVar[str]
    #: counts rows, i.e. independent observations: Poisson and binomial tests apply
    counts_rows: ClassVar[bool] = False
    #: how a period combines its days' cells
    combine: ClassVar[Combine] = "sum"
    #: the cube cache keeps a number per (day × dimensions) cell, or bucket counts
    cached_as: ClassVar[Literal["cells", "buckets"]] = "cells"

    @property
    def is_stock(self) -> bool:
        """A level at a moment (period value = last day's), not a flow (Σ of days)."""
        return self.combine == "last"

    @property
    def is_sketch(self) -> bool:
        """Kept as a histogram, scanned on its own (per period and grouping set)."""
        return self.combine == "merge"

    @abstractmethod
    def select(self, measure: MeasureDef) -> exp.Expression:
        """The per-(day × dimensions) SQL expression (a sketch's: each row's bucket)."""

    @abstractmethod
    def describe(self, measure: MeasureDef) -> str:
        """What it aggregates, for the appendix's definitions."""


class Count(Aggregation):
    name = "count"
    counts_rows = True

    def select(self, measure: MeasureDef) -> exp.Expression:
        return count_where(measure.filter)

    def describe(self, measure: MeasureDef) -> str:
        return f"count of {measure.fact}"


class Sum(Aggregation):
    name = "sum"

    def select(self, measure: MeasureDef) -> exp.Expression:
        total = filtered(exp.Sum(this=self._value(measure)), measure.filter)
        return exp.Coalesce(this=total, expressions=[exp.Literal.number(0)])

    def describe(self, measure: MeasureDef) -> str:
        return f"sum of {measure.fact}.{measure.column}"

    def _value(self, measure: MeasureDef) -> exp.Expression:
        assert measure.column is not None  # the catalog model requires it for a sum
        return exp.cast(exp.column(measure.column), "DOUBLE")


class SumSquares(Sum):
    """Σ x²: with Σ x and the count, a mean's variance (Welch test, ANOVA)."""

    name = "sum_squares"

    def describe(self, measure: MeasureDef) -> str:
        return f"sum of squares of {measure.fact}.{measure.column}"

    def _value(self, measure: MeasureDef) -> exp.Expression:
        value = super()._value(measure)
        return exp.Mul(this=value, expression=value.copy())


class Last(Sum):
    """A stock read from daily snapshots: summed across segments on a day (one snapshot a
    day), but a period takes its last day with data, never the sum of its days."""

    name = "last"
    combine = "last"

    def describe(self, measure: MeasureDef) -> str:
        return f"sum of {measure.fact}.{measure.column} on the period's last day with data"


class Sketch(Aggregation):
    """A log-bucket histogram of a value: bucket counts add up across days and segments."""

    name = "sketch"
    combine = "merge"
    cached_as = "buckets"

    def select(self, measure: MeasureDef) -> exp.Expression:
        return bucket_expression(self.value(measure), measure.alpha)

    def value(self, measure: MeasureDef) -> exp.Expression:
        """The value whose distribution is kept: a SQL ``value`` or a numeric column."""
        if measure.value:
            return exp.cast(exp.paren(condition(measure.value)), "DOUBLE")
        assert measure.column is not None  # the catalog model requires a value or a column
        return exp.cast(exp.column(measure.column), "DOUBLE")

    def describe(self, measure: MeasureDef) -> str:
        return f"log-bucket histogram of {measure.fact}: {measure.value or measure.column}"


AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a for a in (Count(), Sum(), SumSquares(), Last(), Sketch())
}


def aggregation_of(measure: MeasureDef) -> Aggregation:
    return AGGREGATIONS[measure.agg]
