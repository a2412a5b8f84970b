"""The protocol every metric kind follows, and the sufficient statistics it keeps.

A metric kind (total, ratio, proportion, mean, derived, quantile) decides
everything that depends on *what the number is*: which measures it reads,
how its value and its weight come from summed measures, which sufficient
statistics a figure keeps, which change test fits it (or why none does),
how much chance alone moves it, how LMDI splits it, how its "Other" row is
pooled, and how the appendix defines it. Before this protocol those answers
were ``isinstance`` branches spread over seven modules, so a new kind
touched all of them; now a new kind is one class here, its config model and
its documentation.

Everything in a kind is computed from *summed* measures (one row per period
or segment), never from raw rows, so a kind is pure: it imports the config
models, the formula parser and the histogram, and nothing of the pipeline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import pandas as pd

from reportgen.config import formula as fm
from reportgen.semantics.sketch import Histogram

if TYPE_CHECKING:
    from reportgen.config._yaml import LocatedYaml
    from reportgen.config.models import Catalog, MeasureDef

TestKind = Literal["proportion", "mean", "rate", "quantile", "none"]

#: from summed measures to (scaled numerator, denominator): what LMDI splits
RatioParts = Callable[[pd.DataFrame], tuple[pd.Series, pd.Series]]

UNTESTABLE = "shares of hours are not counts of independent events, so no sampling test applies"
STOCK_UNTESTED = (
    "a backlog is a period-end snapshot of items still waiting, not a count of independent "
    "events in the period (the same item is counted on every day it waits), so no sampling "
    "test applies"
)


@dataclass(frozen=True)
class Stats:
    """Sufficient statistics of one metric over one period (or segment)."""

    numerator: float | None = None  # ratio / proportion
    denominator: float | None = None
    count: float | None = None  # mean
    sum: float | None = None
    sum_squares: float | None = None
    total: float | None = None  # total
    # a quantile's summed sketch: what its test and "Other" row read; not in figures.json
    histogram: Histogram | None = field(default=None, metadata={"json": False}, repr=False)

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "histogram"}


@dataclass(frozen=True)
class Pooled:
    """Several segments' statistics added up: the "Other" row of a breakdown table."""

    stats: Stats
    value: float | None
    weight: float


EMPTY = Pooled(Stats(), None, 0.0)


class MetricKind(ABC):
    """What one metric definition means to every stage that computes, tests or explains it.

    The defaults describe a metric that has no sampling test, no noise model,
    no LMDI parts and no sample-size floor; each kind overrides what it has.
    """

    #: the config model's ``type`` values this kind implements
    types: ClassVar[tuple[str, ...]]
    #: a quantile reads a sketch measure; every other kind reads sums and counts
    reads_sketch: ClassVar[bool] = False
    #: volumes scale with the weekday, rates and means shift by it (daily anomaly model)
    seasonality: ClassVar[Literal["additive", "multiplicative"]] = "additive"
    #: segments' values are comparable with each other (peer anomalies)
    peer_comparable: ClassVar[bool] = True
    #: comparable across units of different size (the deep dive models ratios of sums)
    comparable_across_units: ClassVar[bool] = True
    #: Tukey's HSD applies to its units (a mean with per-unit variance)
    tukey: ClassVar[bool] = False
    #: its sketch is counted per report period, so alerts must use the report's grain
    report_grain_only: ClassVar[bool] = False
    #: a volume (a count or sum of things), not a rate: it can surge
    is_volume: ClassVar[bool] = False
    #: its weight counts sampled units (a proportion's trials, a mean's count, a quantile's
    #: rows), so a segment below the volume floor is a small sample
    volume_is_sample: ClassVar[bool] = False
    #: its n is shown as successes / trials ("12 / 345")
    n_as_fraction: ClassVar[bool] = False
    #: the relative move that is large for it (volumes swing more than rates and means)
    typical_swing: ClassVar[float] = 0.04

    def __init__(self, metric: object) -> None:
        self.metric = metric

    # -- what it reads --------------------------------------------------------------------

    @property
    def measures(self) -> tuple[str, ...]:
        return self.metric.measures  # type: ignore[attr-defined]

    @abstractmethod
    def roles(self) -> list[tuple[str, str]]:
        """(config key, measure) of each measure the definition names, for error messages."""

    def defining_measures(self) -> tuple[str, ...]:
        """The measures the appendix defines it by."""
        return self.measures

    @abstractmethod
    def as_formula(self) -> fm.Expr | None:
        """The definition as a formula over measures (what a derived formula substitutes).

        None when no formula can use it (a quantile does not add up).
        """

    # -- values from summed measures ------------------------------------------------------

    @abstractmethod
    def values(self, totals: pd.DataFrame) -> pd.Series:
        """The value per row of summed measures; NaN where it is undefined (a zero divisor)."""

    @abstractmethod
    def weight(self, totals: pd.DataFrame) -> pd.Series:
        """What a segment's share is a share of, per row of summed measures."""

    @property
    def weight_measure(self) -> str | None:
        """The one measure its weight is, or None (then it has no share anomalies)."""
        return None

    @abstractmethod
    def stats(self, row: pd.Series) -> Stats:
        """The sufficient statistics of one row of summed measures."""

    @abstractmethod
    def pooled(self, stats: Sequence[Stats]) -> Pooled:
        """Several segments' statistics as one: a true ratio of sums, never an average."""

    # -- tests, noise and decomposition ---------------------------------------------------

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        """Which period-over-period test fits its sampling distribution."""
        return "none"

    def untested_reason(self, measures: Mapping[str, MeasureDef]) -> str:
        """Why it has no test, in words for the report."""
        if any(measures[m].is_stock for m in self.measures):
            return STOCK_UNTESTED
        return UNTESTABLE

    def noise_sd(self, totals: pd.DataFrame, measures: Mapping[str, MeasureDef]) -> pd.Series:
        """Sampling standard error of each value: what chance alone moves it by."""
        return pd.Series(np.nan, index=totals.index)

    def value_bound(self, measures: Mapping[str, MeasureDef]) -> float | None:
        """Its ceiling when it is a share of its own rows (0 … bound), else None.

        The anomaly model measures a bounded metric's practical effect on its
        rarer side (misses, not hits), so a near-100 % rate is judged by how many
        more misses a week had, the way its owners read it.
        """
        return None

    def ratio_parts(self) -> RatioParts | None:
        """Scaled numerator and denominator for LMDI, or None when it is not a ratio of sums."""
        return None

    def measure_parts(self) -> tuple[str, str | None, float] | None:
        """(numerator, denominator or None, scale) when the value is Σ one measure ÷ Σ
        another × scale (or Σ one measure): what a pace projects day by day. None for
        quantiles and formulas, which are not sums over days."""
        return None

    def decomposition_refusal(self, name: str) -> tuple[str, str] | None:
        """(why, fix) when LMDI cannot split it; None when it can."""
        return None

    @classmethod
    def sample_size(cls, stats: Stats) -> float | None:
        """A figure's n: the independent observations it was read from, when it has one.

        None for a ratio over a quantity (throughput's denominator is hours, not a
        sample), a total (its own volume) and a formula.
        """
        return None

    def sample_measures(self) -> tuple[str, ...]:
        """The measures its sample size is read from (the small-sample floor), if any."""
        return ()

    # -- words ----------------------------------------------------------------------------

    @abstractmethod
    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        """How it is computed, for the appendix's definitions."""

    def share_words(self) -> str:
        """What a segment's share in a breakdown table is a share of."""
        return "of the denominator"

    @property
    def formula(self) -> str | None:
        """The formula as written, for figures.json (derived metrics)."""
        return None

    @property
    def effect_scale(self) -> float:
        """What a change test's effect is multiplied by to be on the metric's own scale."""
        return 1.0

    @property
    def q(self) -> float | None:
        """The quantile read (quantile metrics)."""
        return None

    # -- validation -----------------------------------------------------------------------

    def validate(self, name: str, catalog: Catalog, source: LocatedYaml) -> None:
        """Kind-specific checks of a loaded catalog; raise ConfigError with file and line.

        Most kinds need none beyond what their config model and the loader check.
        """
        return None
