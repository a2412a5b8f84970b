"""Persistent gaps between peers: what "out of line" means for a segment that always is.

A peer check compares a segment with the other segments this period. Some
segments differ by design — hate-speech cases take longer than spam, a new
vendor site is less accurate for months — and a plain peer check flags them
as an adverse anomaly every single week, which teaches readers to skip the
list. The gap itself is not news; a change in it is.

So the peer check learns from the trailing periods:

* each segment's **typical value**, the median of its earlier values; its
  *persistent gap* is that against the median of the other segments' typical
  values (``Hate Speech is usually 30 % above the other queues``);
* the **peers' movement**: in each period, the median over the other segments
  of their value relative to their own typical value (1.0 when they are where
  they usually are, 1.1 when they all run 10 % higher). The median of these
  homogeneous ratios is robust to one peer's incident, where the median of the
  peers' raw values is not (with segments far apart, one peer crossing the
  middle moves the raw median to its neighbour's level).

This period the segment is scored against its own earlier values, each carried
forward by how much the peers moved since: ``value(t) × movement(now) /
movement(t)``. A segment that keeps its usual gap stays inside that set
whatever the common level does; a segment whose gap widens leaves it. The
score has the same floors as every detector (sampling noise, minimum effect);
the median of the set is the expected value the anomaly reports.

Values and movements are ratios when every value is positive (a queue 30 %
slower stays 30 % slower when every queue speeds up), differences otherwise
(rates that can be 0). A segment with fewer than ``min_history`` usable earlier
periods falls back to the plain peer comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PeerGaps:
    """The earlier periods' values per segment, and what each segment usually is."""

    ratio: bool  # relative movements (value / typical) rather than differences
    values: pd.DataFrame  # earlier periods × segments, NaN where a segment was not eligible
    typical: pd.Series  # per segment: the median of its earlier values
    min_history: int
    min_peers: int

    def _relative(self, values: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
        typical = self.typical.reindex(
            values.index if isinstance(values, pd.Series) else values.columns
        )
        return values / typical if self.ratio else values - typical

    def movement(self, relative: pd.Series, segment: str) -> float:
        """The median of the other segments' relative values, NaN with too few of them."""
        others = relative.drop(labels=[segment], errors="ignore").dropna()
        return float(others.median()) if len(others) >= self.min_peers else float("nan")

    @cached_property
    def _past_movements(self) -> np.ndarray:
        """Earlier periods × segments: :meth:`movement` of each period without that segment.

        One array for every segment of a peer check: the per-segment, per-period
        Series arithmetic it replaces cost most of the anomaly stage.
        """
        relative = self._relative(self.values).to_numpy(dtype=float)
        medians, counts = medians_without_each(relative)
        return np.where(counts >= self.min_peers, medians, np.nan)

    def reference(self, segment: str, now: pd.Series) -> np.ndarray | None:
        """The segment's earlier values carried forward by the peers' movement since each,
        or None when it has fewer than ``min_history`` of them."""
        return self.references(now).get(segment)

    def references(self, now: pd.Series) -> dict[str, np.ndarray]:
        """:meth:`reference` of every segment that has one, from one pass over ``now``.

        The peers' movement this period is the median of the others' relative
        values, left-out segment by left-out segment, as for the earlier periods.
        A segment without a typical value has fewer than ``min_history`` earlier
        values, so it never has a reference.
        """
        now_relative = self._relative(now.reindex(self.typical.index)).to_numpy(dtype=float)
        medians, counts = medians_without_each(now_relative[None, :])
        out = {}
        for position, segment in enumerate(self.typical.index):
            if counts[0, position] < max(self.min_peers, 1):
                continue
            moved_now = float(medians[0, position])
            if not np.isfinite(moved_now):
                continue
            carried = self._carried(segment, moved_now)
            if carried is not None:
                out[segment] = carried
        return out

    def _carried(self, segment: str, moved_now: float) -> np.ndarray | None:
        """The segment's earlier values, each carried forward by the peers' movement since."""
        column = self.values.columns.get_loc(segment)
        own = self.values.iloc[:, column].to_numpy(dtype=float)
        moved = self._past_movements[:, column]
        keep = ~np.isnan(own) & np.isfinite(moved)
        if self.ratio:
            keep &= moved > 0
        value, moved = own[keep], moved[keep]
        out = value * moved_now / moved if self.ratio else value + moved_now - moved
        return out if len(out) >= self.min_history else None

    def usual_gap(self, segment: str) -> float:
        """The persistent gap: its typical value against the other segments' typical median."""
        position = self.typical.index.get_loc(segment)  # KeyError for a segment without one
        typical = self.typical.to_numpy(dtype=float)
        others = np.delete(typical, position)
        others = others[~np.isnan(others)]
        middle = float(np.median(others)) if len(others) else float("nan")
        mine = float(typical[position])
        return mine / middle if self.ratio else mine - middle


def medians_without_each(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every row and column ``j``: the median of the row's non-NaN values outside
    column ``j``, and how many there are (NaN median when none).

    Equal to ``np.median`` of those values (the middle value, or the mean of the
    middle two), for all columns at once: each row is sorted once per left-out
    column in one call instead of a Series per row and column.
    """
    rows, columns = matrix.shape
    stacked = np.broadcast_to(matrix, (columns, rows, columns)).copy()
    left_out = np.arange(columns)
    stacked[left_out, :, left_out] = np.nan
    counts = (~np.isnan(stacked)).sum(axis=2)
    ordered = np.sort(stacked, axis=2)  # NaN sorts last
    low = np.take_along_axis(ordered, np.maximum(counts - 1, 0)[..., None] // 2, axis=2)[..., 0]
    high = np.take_along_axis(ordered, (counts // 2)[..., None], axis=2)[..., 0]
    with np.errstate(invalid="ignore"):
        medians = np.where(counts % 2 == 1, high, (low + high) / 2.0)
    medians = np.where(counts > 0, medians, np.nan)
    return medians.T, counts.T


def eligible(frame: pd.DataFrame, min_volume: float) -> pd.DataFrame:
    """The rows a peer comparison may use: a value, and enough volume to be credible."""
    return frame[frame["value"].notna() & (frame["volume"] > 0) & (frame["volume"] >= min_volume)]


def learn_gaps(
    history: pd.DataFrame,
    current: pd.DataFrame,
    *,
    min_volume: float,
    min_peers: int,
    min_history: int = 4,
) -> PeerGaps:
    """What the earlier periods say about each segment and its peers.

    ``history`` has ``segment``, ``period_start``, ``value`` and ``volume``;
    ``current`` the current period's eligible rows (to choose ratios or
    differences from every value the comparison will see).
    """
    past = eligible(history, min_volume)
    if past.empty:
        values = past.pivot_table(
            index="period_start", columns="segment", values="value", aggfunc="first"
        ).sort_index()
    else:  # as the pivot table above (every value is there), without its set-up cost
        first = past.groupby(["period_start", "segment"], sort=True)["value"].first()
        values = first.unstack("segment").sort_index()
    seen = np.concatenate([past["value"].to_numpy(float), current["value"].to_numpy(float)])
    ratio = bool(seen.size) and bool((seen > 0).all())
    counts = values.notna().sum()
    typical = values.median()[counts >= min_history]
    return PeerGaps(ratio, values, typical, min_history, min_peers)


def gap_text(gaps: PeerGaps, segment: str, words_value: Callable[[float], str]) -> str:
    """``30 % above`` / ``12 % below`` (ratio) or ``4.1 s above`` (difference) the peers."""
    usual = gaps.usual_gap(segment)
    if gaps.ratio:
        change = (usual - 1) * 100
        side = "above" if change >= 0 else "below"
        return f"{abs(change):.0f} % {side}"
    side = "above" if usual >= 0 else "below"
    return f"{words_value(abs(usual))} {side}"
