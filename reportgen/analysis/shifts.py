"""Trend shifts: a level shift in a metric's recent series that persists, dated.

The recent series (the last ``WINDOW`` periods, oldest first) is segmented
by PELT (the ``ruptures`` library, least-squares cost, a segment at least
``MIN_SIZE`` periods long so one-period spikes are anomalies, not shifts)
with a penalty of ``PENALTY · σ² · ln n``; σ is the series' robust noise,
the MAD of its first differences over √2 (a step moves one difference, not
the MAD), floored by the anomaly detector's practical effect (4 % of the
level over the threshold, 10 % for totals) so a stable series does not
break on trivia. The last break inside the window is the shift; it is
kept only when every period since the break sits past the midpoint of the
two levels (a step, not a spike averaged with ordinary periods), and raised
(``fires``) once, in the period that confirms it (its new level has lasted
``MIN_SIZE`` periods), when its size clears the same effect floor times the
threshold. Shifts whose new level has lasted up to ``RECENT`` periods stay
listed in figures.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from reportgen.analysis.anomalies import MAD_TO_SD

WINDOW = 26
MIN_SIZE = 3
RECENT = 6
PENALTY = 3.0


@dataclass(frozen=True)
class Shift:
    metric: str
    dimension: str | None
    segment: str | None
    period: str
    since: str  # first period at the new level
    periods_at_new_level: int
    before: float  # mean level before the break
    after: float  # mean level since
    size: float  # after − before
    direction: Literal["up", "down"]
    sentiment: Literal["good", "bad", "neutral"]
    fires: bool
    method: str
    baseline: str
    volume: float
    volume_floor: float
    detail: str = ""


def noise_scale(values: np.ndarray) -> float:
    """Robust sd of the series around its level: MAD of first differences / √2."""
    diffs = np.diff(values)
    return MAD_TO_SD * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2)


def penalty(values: np.ndarray, floor: float) -> float:
    """PELT's penalty for one more break: ``PENALTY · max(σ, floor)² · ln n``."""
    sigma = max(noise_scale(values), floor)
    return PENALTY * sigma**2 * float(np.log(len(values)))


def breaks(values: np.ndarray, floor: float) -> list[int]:
    """PELT's break points (index of the first value of each new level), oldest first."""
    import ruptures

    signal = np.asarray(values, dtype=float)
    pen = penalty(signal, floor)
    if pen <= 0 or len(signal) < 2 * MIN_SIZE:
        return []
    ends = ruptures.Pelt(model="l2", min_size=MIN_SIZE, jump=1).fit(signal).predict(pen=pen)
    return [b for b in ends if b < len(signal)]


def last_shift(values: np.ndarray, floor: float) -> tuple[int, float, float] | None:
    """``(index of the first value at the new level, mean before, mean since)``, or None.

    None too when the last segment is not a level that persists (see :func:`persists`).

    "Before" is the segment between the previous break (or the window's
    start) and this one, so an older shift does not blur the size.
    """
    found = breaks(values, floor)
    if not found:
        return None
    at = found[-1]
    start = found[-2] if len(found) > 1 else 0
    signal = np.asarray(values, dtype=float)
    before, after = float(np.mean(signal[start:at])), float(np.mean(signal[at:]))
    return (at, before, after) if persists(signal, at, before, after) else None


def persists(values: np.ndarray, at: int, before: float, after: float) -> bool:
    """Every value since the break lies past the midpoint of the two levels: a step, not a spike.

    Two adjacent one-period incidents average into a "level" with the
    ordinary period before them; this keeps that from reading as a shift.
    """
    since = np.asarray(values, dtype=float)[at:]
    middle = (before + after) / 2
    return bool(np.all(since > middle) if after > before else np.all(since < middle))
