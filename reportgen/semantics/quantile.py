"""A quantile of a sketch measure, read from the histogram summed over the period or segment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reportgen.semantics.base import EMPTY, MetricKind, Pooled, Stats, TestKind
from reportgen.semantics.sketch import Histogram, quantile_cis

if TYPE_CHECKING:
    from reportgen.config.models import MeasureDef, QuantileMetric

#: z of the two-sided 95 % interval a quantile's standard error is read from
_Z95 = 1.959963984540054


class Quantile(MetricKind):
    """Tested with a quantile (Mood-type) test; not decomposed, not pooled into formulas."""

    types = ("quantile",)
    reads_sketch = True
    # segments' quantiles differ by design (a queue decided mostly by automation has a median
    # of minutes, a manual one of hours): only each segment's own history counts
    peer_comparable = False
    comparable_across_units = False
    report_grain_only = True
    volume_is_sample = True
    metric: QuantileMetric

    @classmethod
    def sample_size(cls, stats: Stats) -> float | None:
        return stats.count

    def __init__(self, metric: QuantileMetric) -> None:
        self.metric = metric

    def roles(self) -> list[tuple[str, str]]:
        return [("measure", self.metric.measure)]

    def as_formula(self) -> None:
        return None  # a quantile does not add up, so no formula can use it

    def values(self, totals: pd.DataFrame) -> pd.Series:
        cells = totals[self.metric.measure]
        q = self.metric.q
        return pd.Series([_quantile(c, q) for c in cells], index=totals.index, dtype=float)

    def weight(self, totals: pd.DataFrame) -> pd.Series:
        """The rows the quantile is read from."""
        return pd.Series([_rows_in(c) for c in totals[self.metric.measure]], index=totals.index)

    def stats(self, row: pd.Series) -> Stats:
        cell = row[self.metric.measure]
        histogram = cell if isinstance(cell, Histogram) else None
        return Stats(count=_rows_in(cell), histogram=histogram)

    def pooled(self, stats: Sequence[Stats]) -> Pooled:
        """Histograms add up: the tail's own quantile."""
        histograms = [s.histogram for s in stats if s.histogram is not None]
        if not histograms:
            return EMPTY
        merged = histograms[0]
        for histogram in histograms[1:]:
            merged = merged + histogram
        return Pooled(Stats(count=merged.n, histogram=merged), merged.quantile(self.q), merged.n)

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        return "quantile"

    def noise_sd(self, totals: pd.DataFrame, measures: Mapping[str, MeasureDef]) -> pd.Series:
        """A quantile's sampling standard error: its 95 % order-statistic interval / (2 × 1.96).

        Distribution-free (binomial ranks), so it is right for heavy-tailed times;
        the sketch's own bucket width is below it at any realistic volume.
        """
        cells = list(totals[self.metric.measure])
        sds = np.full(len(cells), np.nan)
        where = [i for i, c in enumerate(cells) if isinstance(c, Histogram)]
        intervals = quantile_cis([cells[i] for i in where], self.q, 0.95)
        for i, (low, high) in zip(where, intervals, strict=True):
            if low is not None and high is not None:
                sds[i] = (high - low) / (2 * _Z95)
        return pd.Series(sds, index=totals.index)

    def decomposition_refusal(self, name: str) -> tuple[str, str]:
        return (
            f"quantile metric '{name}' cannot be decomposed: a quantile is not a sum of "
            "segment contributions, so LMDI has no mix and rate effects to split",
            "remove it here; its breakdown table shows each segment's quantile",
        )

    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        m = self.metric
        alpha = measures[m.measure].alpha
        return (
            f"{m.q:g}-quantile of {m.measure} (its histogram summed over the period or "
            f"segment; within {alpha:.0%} of the exact quantile)"
        )

    def share_words(self) -> str:
        return "of the rows the quantile is read from"

    @property
    def q(self) -> float:
        return self.metric.q


def _quantile(cell: object, q: float) -> float:
    value = cell.quantile(q) if isinstance(cell, Histogram) else None
    return np.nan if value is None else value


def _rows_in(cell: object) -> float:
    return cell.n if isinstance(cell, Histogram) else 0.0
