"""Records and streaks: the highest or lowest value in a year, and runs of missed targets.

A record is the current period's value against the periods before it in a
52-week window (12 months, 4 quarters, 364 days) — or every period since
the data begins when there are fewer, and the sentence says so. A record
on a short window, or one that beats the previous best by less than chance
moves the metric, is kept in figures.json but not raised (``fires``): a
metric trending slowly sets a "record" every week, which is not news. The
margin needed is the anomaly detector's effect floor: 4 % of the level
(10 % for totals), over the threshold — the same size a history anomaly
needs to be worth a look, spread over the record's margin.

A streak counts the consecutive periods, ending with the current one, that
missed the target in force in each period. It is raised when it reaches
``STREAK_RAISED`` periods and the current period is the one that made it so
— a standing miss is reported once when it becomes a streak, then kept in
figures.json each week without being raised again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

#: periods in a year, by grain
YEAR = {"day": 364, "week": 52, "month": 12, "quarter": 4}
#: fewest earlier periods a record is measured against before it is raised
MIN_RECORD_HISTORY = {"day": 56, "week": 13, "month": 6, "quarter": 4}
STREAK_RAISED = 3


@dataclass(frozen=True)
class Record:
    metric: str
    period: str
    kind: Literal["highest", "lowest"]
    value: float
    previous_record: float  # the extreme of the earlier periods in the window
    previous_record_period: str
    window: int  # earlier periods compared
    since_data_begins: bool  # fewer than a year of history: "since the data begins"
    sentiment: Literal["good", "bad", "neutral"]
    fires: bool
    method: str
    baseline: str
    volume: float
    volume_floor: float
    detail: str = ""


@dataclass(frozen=True)
class Streak:
    metric: str
    period: str
    length: int  # consecutive periods missing the target, ending with this one
    first_period: str
    target: float
    fires: bool
    method: str
    baseline: str
    volume: float
    volume_floor: float
    detail: str = ""


def find_record(
    values: Sequence[float | None],
    labels: Sequence[str],
    *,
    year: int,
    margin: float,
) -> tuple[str, float, int, bool, bool] | None:
    """``(kind, previous extreme, its index, since the data begins?, beyond margin?)``.

    ``values`` ends with the current period; ``margin`` is the amount the
    record must beat the previous extreme by to count as more than noise.
    None when the current value is not an extreme of its window.
    """
    if not values or values[-1] is None or not np.isfinite(values[-1]):
        return None
    current = float(values[-1])
    earlier = [
        (i, float(v))
        for i, v in enumerate(values[:-1])
        if i >= len(values) - 1 - year and v is not None and np.isfinite(v)
    ]
    if not earlier:
        return None
    since_begin = len(earlier) < year
    high_i, high = max(earlier, key=lambda t: (t[1], t[0]))
    low_i, low = min(earlier, key=lambda t: (t[1], -t[0]))
    if current > high:
        return "highest", high, high_i, since_begin, current - high >= margin
    if current < low:
        return "lowest", low, low_i, since_begin, low - current >= margin
    return None


def missed_streak(missed: Sequence[bool | None]) -> int:
    """Consecutive ``True`` values at the end of ``missed`` (no target counts as a break)."""
    n = 0
    for m in reversed(missed):
        if m is not True:
            break
        n += 1
    return n
