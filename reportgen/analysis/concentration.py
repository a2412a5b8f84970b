"""Concentration: one segment holding an outsized share of a metric's volume or of its change.

For each metric × dimension the segment shares of the metric's volume (a
total's own value, a ratio's denominator, a mean's count) are compared
with each segment's usual share — the median of its shares over the
previous periods — and summarised by the Herfindahl–Hirschman index
``HHI = Σ sᵢ²`` (1/k for k equal segments, 1 for one segment holding all).

A segment is called out (``fires``) when its share is at least
``RATIO`` times its usual share *and* ``MIN_GAP`` above it (Latin America
holding 40 % of the backlog against a usual 11 %), or — for totals, whose
change is additive — when it accounts for more than ``CHANGE_SHARE`` of a
material change (``MATERIAL_CHANGE`` of the total or more) while it
usually holds less than half that share. Segments below the volume floor
are never called out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

RATIO = 2.0
MIN_GAP = 0.10
CHANGE_SHARE = 0.5
MATERIAL_CHANGE = 0.10


@dataclass(frozen=True)
class Concentration:
    metric: str
    dimension: str
    period: str
    hhi: float
    usual_hhi: float
    segment: str  # the segment with the largest excess share
    share: float
    usual_share: float
    of: Literal["volume", "change"]
    change_share: float | None  # its share of the total's change (totals only)
    fires: bool
    method: str
    baseline: str
    volume: float
    volume_floor: float
    detail: str = ""


def hhi(shares: pd.Series) -> float:
    """Herfindahl–Hirschman index of shares that sum to one."""
    s = shares.astype(float)
    return float((s * s).sum())


def share_table(volume: pd.DataFrame) -> pd.DataFrame:
    """Shares of each period's volume: rows periods (oldest first), columns segments."""
    totals = volume.sum(axis=1)
    return volume.div(totals.where(totals > 0), axis=0).fillna(0.0)


def assess(
    volume: pd.DataFrame, *, additive: bool, min_volume: float
) -> tuple[float, float, str, float, float, Literal["volume", "change"], float | None, bool]:
    """``(hhi, usual hhi, segment, share, usual share, of, change share, fires)`` for the last row.

    ``volume`` is periods × segments, the last row the current period.
    """
    shares = share_table(volume)
    now, history = shares.iloc[-1], shares.iloc[:-1]
    usual = history.median(axis=0)
    usual_hhi = float(np.median([hhi(row) for _, row in history.iterrows()]))
    big_enough = volume.iloc[-1] >= min_volume
    excess = (now - usual).where(big_enough, -np.inf)
    segment = str(excess.idxmax())
    share, usual_share = float(now[segment]), float(usual[segment])
    outsized = share >= RATIO * usual_share and share - usual_share >= MIN_GAP
    if outsized or not additive or len(volume) < 2:
        return (hhi(now), usual_hhi, segment, share, usual_share, "volume", None, bool(outsized))
    change = volume.iloc[-1] - volume.iloc[-2]
    total, before = float(change.sum()), float(volume.iloc[-2].sum())
    if before <= 0 or abs(total) < MATERIAL_CHANGE * before:
        return (hhi(now), usual_hhi, segment, share, usual_share, "volume", None, False)
    change_share = (change / total).where(big_enough, -np.inf)
    top = str(change_share.idxmax())
    fires = change_share[top] > CHANGE_SHARE and usual[top] < change_share[top] / 2
    return (
        hhi(now),
        usual_hhi,
        top,
        float(now[top]),
        float(usual[top]),
        "change",
        float(change_share[top]),
        bool(fires),
    )
