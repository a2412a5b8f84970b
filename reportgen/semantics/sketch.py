"""Log-bucket histograms (DDSketch-style): quantiles that add up like every other measure.

A quantile of a period or a segment cannot be built from the quantiles of its
days or its parts, but a histogram can: counts per bucket add across days,
segments and audiences' rows exactly like a count. The buckets grow
geometrically, ``γ = (1 + α) / (1 − α)``, and a value ``x > 0`` falls in bucket
``k = ⌈ln x / ln γ⌉``, i.e. ``γ^(k−1) < x ≤ γ^k``. Reporting the bucket by
``2γ^k / (γ + 1)`` is then within a relative error ``α`` of every value in it,
so any quantile read from the histogram is within ``α`` (relative) of the exact
quantile of the raw rows — the guarantee of DDSketch (Masson, Rim & Lee, VLDB
2019). Zero and negative values (a decision at its enqueue instant, clock skew)
share one bucket reported as 0.

The bucket index is computed in the SQL engine (:func:`bucket_expression`), so
raw rows never leave it; pandas sums bucket counts (:class:`Histogram`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlglot import exp

#: The bucket of values ≤ 0 (reported as 0); far below any real bucket index.
ZERO_BUCKET = -(2**30)


def gamma(alpha: float) -> float:
    return (1 + alpha) / (1 - alpha)


def bucket_expression(value: exp.Expression, alpha: float) -> exp.Expression:
    """``CASE WHEN v > 0 THEN CEIL(LN(v) / ln γ) WHEN v <= 0 THEN ZERO_BUCKET END`` as an integer.

    ``ln γ`` is a literal so every engine divides by the same number. A NULL
    value falls through both branches to a NULL bucket: the scan counts it in a
    group of its own, which the cube drops, instead of testing the value for
    NULL in a WHERE clause (a second evaluation per row).
    """
    log_gamma = exp.Literal.number(repr(math.log(gamma(alpha))))
    index = exp.Ceil(this=exp.Div(this=exp.Ln(this=value.copy()), expression=log_gamma))
    positive = exp.GT(this=exp.paren(value.copy()), expression=exp.Literal.number(0))
    rest = exp.LTE(this=exp.paren(value.copy()), expression=exp.Literal.number(0))
    case = exp.Case().when(positive, index).when(rest, exp.Literal.number(ZERO_BUCKET))
    return exp.cast(case, "BIGINT")


def bucket_values(buckets: np.ndarray, alpha: float) -> np.ndarray:
    """The value that stands for each bucket: within α of everything in it."""
    g = gamma(alpha)
    values = 2.0 * np.power(g, buckets.astype(float)) / (g + 1.0)
    return np.where(buckets == ZERO_BUCKET, 0.0, values)


@dataclass(frozen=True)
class Histogram:
    """Counts per bucket, buckets ascending; adding two histograms merges them exactly."""

    buckets: np.ndarray  # int64, ascending, unique
    counts: np.ndarray  # float64, > 0
    alpha: float

    @classmethod
    def empty(cls, alpha: float) -> Histogram:
        return cls(np.empty(0, dtype=np.int64), np.empty(0), alpha)

    @property
    def n(self) -> float:
        return float(self.counts.sum())

    def __add__(self, other: object) -> Histogram:
        if not isinstance(other, Histogram):  # 0 from pandas' sum / fillna: the empty histogram
            return self
        buckets = np.concatenate([self.buckets, other.buckets])
        counts = np.concatenate([self.counts, other.counts])
        merged, inverse = np.unique(buckets, return_inverse=True)
        return Histogram(merged, np.bincount(inverse, weights=counts), self.alpha)

    __radd__ = __add__

    def order_statistic(self, rank: float) -> float:
        """The value of the ``rank``-th smallest row (0-based), to within α."""
        cumulative = np.cumsum(self.counts)
        position = int(np.searchsorted(cumulative, rank, side="right"))
        position = min(position, len(self.buckets) - 1)
        return float(bucket_values(self.buckets[position : position + 1], self.alpha)[0])

    def quantile(self, q: float) -> float | None:
        """Like ``numpy.quantile`` / SQL ``quantile_cont`` (linear between order statistics).

        Each order statistic is read from its bucket (within α), and a convex
        combination of values within α is within α of the exact combination.
        """
        n = self.n
        if n <= 0:
            return None
        rank = q * (n - 1)
        low = math.floor(rank)
        below, above = self.order_statistic(low), self.order_statistic(min(low + 1, n - 1))
        return below + (rank - low) * (above - below)

    def quantile_ci(self, q: float, confidence: float) -> tuple[float | None, float | None]:
        """Distribution-free interval for the q-quantile: two order statistics.

        With n rows, the number below the true quantile is Binomial(n, q); the
        interval ``[x_(l), x_(u)]`` (1-based order statistics) with
        ``l = F⁻¹(a/2)`` and ``u = F⁻¹(1 − a/2) + 1`` covers it with probability
        at least ``1 − a`` whatever the distribution (Conover, *Practical
        Nonparametric Statistics*, §3.2). Each bound is read from the
        histogram, so it is within α of the exact order statistic.
        """
        return quantile_cis([self], q, confidence)[0]

    def count_at_most(self, bucket: int) -> float:
        """Rows in buckets up to and including ``bucket``."""
        return float(self.counts[self.buckets <= bucket].sum())

    def quantile_bucket(self, q: float) -> int | None:
        """The bucket of the order statistic at rank ⌊q(n − 1)⌋ (the test's threshold)."""
        n = self.n
        if n <= 0:
            return None
        cumulative = np.cumsum(self.counts)
        position = int(np.searchsorted(cumulative, math.floor(q * (n - 1)), side="right"))
        return int(self.buckets[min(position, len(self.buckets) - 1)])


def quantile_cis(
    histograms: list[Histogram], q: float, confidence: float
) -> list[tuple[float | None, float | None]]:
    """:meth:`Histogram.quantile_ci` of many histograms, with one binomial quantile call.

    An anomaly check reads the interval of every period of every segment (about
    1,400 a build); scipy's binomial quantile costs far more per call than per value.
    """
    from scipy import stats  # ~0.5 s to import: only when a build reads an interval

    ns = np.array([round(h.n) for h in histograms], dtype=float)
    a = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        lows = stats.binom.ppf(a / 2, ns, q)
        highs = stats.binom.ppf(1 - a / 2, ns, q) + 1
    found: list[tuple[float | None, float | None]] = []
    for histogram, n, low, high in zip(histograms, ns, lows, highs, strict=True):
        if n < 1 or not (np.isfinite(low) and np.isfinite(high)) or low < 1 or high > n:
            found.append((None, None))  # too few rows for an interval at this confidence
            continue
        found.append(
            (histogram.order_statistic(int(low) - 1), histogram.order_statistic(int(high) - 1))
        )
    return found
