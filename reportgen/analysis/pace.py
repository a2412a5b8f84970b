"""Pace to target: where a month or quarter will land if the rest of it runs at the current pace.

A ratio metric is projected by its numerator and its denominator, never by
averaging daily ratios: each remaining day is expected to bring the mean
numerator and denominator of the same weekday over the last four weeks (the
"current pace", weekday by weekday, since weekends are lighter), and the
projection is ``(N so far + N expected) / (D so far + D expected)``. A total
is the same with no denominator.

The interval treats the remaining days as draws like the last four weeks'
days: for a total, the variance of each weekday's values; for a ratio, the
variance of the ratio-estimator residuals ``n_i − R · d_i`` (``R`` the pace
ratio), scaled by the remaining days and divided by the projected
denominator — the textbook variance of a ratio estimator.

Status against the target in force at the period's start:
``already missed`` when even the best possible rest (every remaining unit a
success, or nothing more for a lower-is-better total) cannot reach it;
otherwise ``on pace`` when the projection meets it, ``off pace`` when not.
Only an off-pace projection whose whole interval misses the target, or an
already-missed one, is raised to the reader (``fires``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

PACE_DAYS = 28  # four of each weekday
Status = Literal["on pace", "off pace", "already missed", "final"]


@dataclass(frozen=True)
class Pace:
    metric: str
    period: str  # the month or quarter, e.g. "2026-11", "2026-Q4"
    through: date  # last day counted so far
    days_elapsed: int
    days_left: int
    value_to_date: float
    projected: float
    lower: float
    upper: float
    level: float
    target: float
    status: Status
    fires: bool
    method: str
    baseline: str
    volume: float  # denominator (or total) so far
    volume_floor: float
    detail: str = ""


def project(
    daily: pd.DataFrame,
    *,
    start: date,
    end: date,
    through: date,
    ratio: bool,
    scale: float = 1.0,
    level: float = 0.8,
) -> tuple[float, float, float, float, float]:
    """``(value to date, projected, lower, upper, volume to date)`` for [start, end].

    ``daily`` is indexed by day (Timestamp) with a ``num`` column and, for a
    ratio, ``den``; it must hold the ``PACE_DAYS`` days up to ``through``.
    """
    days = pd.DatetimeIndex(daily.index)
    so_far = daily[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(through))]
    recent = daily[
        (days > pd.Timestamp(through - timedelta(days=PACE_DAYS))) & (days <= pd.Timestamp(through))
    ]
    remaining = pd.date_range(through + timedelta(days=1), end, freq="D")
    weekday = pd.DatetimeIndex(recent.index).day_of_week
    z = float(norm.ppf(0.5 + level / 2))
    n0 = float(so_far["num"].sum())
    by_day = recent.groupby(weekday)
    expect_n = float(sum(by_day["num"].mean().reindex(remaining.day_of_week).fillna(0)))
    if not ratio:
        var = float(sum(by_day["num"].var(ddof=1).reindex(remaining.day_of_week).fillna(0)))
        projected = n0 + expect_n
        half = z * np.sqrt(var)
        return n0, projected, projected - half, projected + half, n0
    d0 = float(so_far["den"].sum())
    expect_d = float(sum(by_day["den"].mean().reindex(remaining.day_of_week).fillna(0)))
    pace = float(recent["num"].sum() / recent["den"].sum())
    residual = recent["num"] - pace * recent["den"]
    var_n = len(remaining) * float(residual.var(ddof=1)) if len(recent) > 1 else 0.0
    denominator = d0 + expect_d
    projected = (n0 + expect_n) / denominator * scale
    half = z * np.sqrt(var_n) / denominator * scale
    return (
        n0 / d0 * scale if d0 else float("nan"),
        projected,
        projected - half,
        projected + half,
        d0,
    )


def best_case(
    daily_so_far: tuple[float, float],
    expected_den: float,
    *,
    direction: str,
    proportion: bool,
) -> float | None:
    """The best value still reachable, for a proportion; None when unbounded (means, rates)."""
    n0, d0 = daily_so_far
    if not proportion or d0 + expected_den <= 0:
        return None
    if direction == "higher_is_better":
        return (n0 + expected_den) / (d0 + expected_den)
    return n0 / (d0 + expected_den)


def status(
    projected: float,
    lower: float,
    upper: float,
    target: float,
    direction: str,
    *,
    best: float | None,
    days_left: int,
) -> tuple[Status, bool]:
    """The verdict, and whether it is worth raising."""
    higher = direction == "higher_is_better"

    def meets(x: float) -> bool:
        return x >= target if higher else x <= target

    if days_left == 0:
        return "final", not meets(projected)
    if best is not None and not meets(best):
        return "already missed", True
    if meets(projected):
        return "on pace", False
    return "off pace", not meets(upper if higher else lower)
