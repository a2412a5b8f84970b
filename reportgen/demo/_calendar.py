"""Which days the demo data covers, how busy each one is, and how days form chunks.

The daily row counts are fixed up front from the arguments alone (calendar
effects plus noise from one dedicated random stream), so the chunk layout, the
decision ids and every day's own random stream are independent of how days are
grouped for writing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

import numpy as np

from ._org import HOLIDAYS, LOCAL_HOUR_VOLUME, REGIONS, SITES, THANKSGIVING, WEEKDAY_VOLUME, Holiday

END_HOUR = 10  # the last day stops at 10:00 UTC: the current week is deliberately incomplete
CALENDAR_STREAM = 0  # SeedSequence spawn keys: (stream, ...) keeps the streams independent
DAY_STREAM = 1
VIEWS_STREAM = 2
ROSTER_STREAM = 3

VOLUME_GROWTH_PER_YEAR = 0.08
DAILY_VOLUME_NOISE = 0.04


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Calendar:
    """The covered days: ``weeks`` whole ISO weeks then the partial week of ``end``."""

    end: date
    weeks: int

    @property
    def start(self) -> date:
        return monday(self.end) - timedelta(weeks=self.weeks)

    @property
    def end_timestamp(self) -> datetime:
        return datetime.combine(self.end, time(END_HOUR), tzinfo=UTC)

    @property
    def latest_complete_week(self) -> date:
        """Monday of the last whole week (the week before ``end``'s)."""
        return monday(self.end) - timedelta(weeks=1)

    @cached_property
    def days(self) -> tuple[date, ...]:
        count = (self.end - self.start).days + 1
        return tuple(self.start + timedelta(days=i) for i in range(count))

    def hours(self, day: date) -> int:
        """Hours of data on ``day``: 24, or ``END_HOUR`` on the last, partial day."""
        return END_HOUR if day == self.end else 24

    def years_before_end(self, day: date) -> float:
        """Drives the mild trends; anchored on ``end`` so the recent weeks look alike for any ``weeks``."""
        return (self.end - day).days / 365.25


# -- holidays and diurnal curves -------------------------------------------------------------


def holidays_on(day: date) -> list[Holiday]:
    found = [h for h in HOLIDAYS if (h.month, h.day) == (day.month, day.day)]
    if day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28:
        found.append(THANKSGIVING)
    return found


def region_holiday_volume(day: date) -> np.ndarray:
    """Per-region volume factor (1.0 on ordinary days)."""
    factors = np.ones(len(REGIONS))
    for holiday in holidays_on(day):
        for r, region in enumerate(REGIONS):
            if holiday.regions is None or region.name in holiday.regions:
                factors[r] *= holiday.volume
    return factors


def hour_cdf(hours: int) -> np.ndarray:
    """Cumulative UTC-hour probabilities per region over the first ``hours`` hours of the day."""
    local = np.array(LOCAL_HOUR_VOLUME)
    table = np.array(
        [[local[(h + region.utc_offset) % 24] for h in range(hours)] for region in REGIONS]
    )
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    return cdf


def _day_share_of_curve(hours: int) -> float:
    """Share of a full day's volume that falls in its first ``hours`` hours (all regions mixed)."""
    if hours == 24:
        return 1.0
    local = np.array(LOCAL_HOUR_VOLUME)
    shares = np.array([s.volume_share for s in SITES])
    region_share = np.zeros(len(REGIONS))
    for site, share in zip(SITES, shares, strict=True):
        region_share[[r.name for r in REGIONS].index(site.region)] += share
    region_share /= region_share.sum()
    part = 0.0
    for r, region in enumerate(REGIONS):
        curve = np.array([local[(h + region.utc_offset) % 24] for h in range(24)])
        part += region_share[r] * curve[:hours].sum() / curve.sum()
    return float(part)


# -- daily volumes ---------------------------------------------------------------------------


def day_weight(calendar: Calendar, day: date, region_share: np.ndarray) -> float:
    """Expected relative volume of ``day`` before noise."""
    weekday = WEEKDAY_VOLUME[day.weekday()]
    holiday = float(region_share @ region_holiday_volume(day))
    trend = math.exp(-VOLUME_GROWTH_PER_YEAR * calendar.years_before_end(day))
    season = 1.0 + 0.04 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365.25)
    return weekday * holiday * trend * season * _day_share_of_curve(calendar.hours(day))


def daily_counts(calendar: Calendar, rows: int, seed: int) -> np.ndarray:
    """Rows per day, summing exactly to ``rows`` (largest-remainder rounding)."""
    region_share = site_region_share()
    weights = np.array([day_weight(calendar, d, region_share) for d in calendar.days])
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CALENDAR_STREAM,)))
    weights *= rng.lognormal(0.0, DAILY_VOLUME_NOISE, size=len(weights))
    exact = rows * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = rows - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def site_region_share() -> np.ndarray:
    names = [r.name for r in REGIONS]
    share = np.zeros(len(REGIONS))
    for site in SITES:
        share[names.index(site.region)] += site.volume_share
    return share / share.sum()


@dataclass(frozen=True)
class Chunk:
    """Whole days written together as one part file of each fact."""

    number: int
    first_day: int  # index into Calendar.days
    day_count: int
    rows: int
    first_id: int  # decision_id of the chunk's first row

    @property
    def name(self) -> str:
        return f"part-{self.number:05d}.parquet"


def plan_chunks(counts: np.ndarray, chunk_rows: int) -> list[Chunk]:
    """Group consecutive whole days into equal-sized chunks of about ``chunk_rows`` at most.

    Equal sizes (rather than greedy filling with a small remainder) keep
    parallel workers evenly loaded. A day goes to the chunk that holds its
    midpoint, so a chunk exceeds the target by at most half a day.
    """
    total = int(counts.sum())
    n_chunks = max(1, math.ceil(total / chunk_rows))
    target = total / n_chunks
    ends = np.cumsum(counts)
    middles = ends - counts / 2
    number = np.minimum((middles // target).astype(np.int64), n_chunks - 1)
    chunks: list[Chunk] = []
    for value in np.unique(number):
        days = np.flatnonzero(number == value)
        first, last = int(days[0]), int(days[-1])
        rows = int(counts[first : last + 1].sum())
        first_id = int(ends[first] - counts[first]) + 1
        chunks.append(Chunk(len(chunks), first, last - first + 1, rows, first_id))
    return chunks
