"""Reporting periods: ISO weeks (Monday start), days, months and quarters.

Periods are calendar dates in the report's timezone; the cube's ``day``
column is already converted to that timezone in the SQL engine, so nothing
here deals with instants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import pandas as pd

from reportgen.errors import PeriodError

Grain = Literal["day", "week", "month", "quarter"]

_FORMS = "'2026-W47' (ISO week), '2026-11' (month), '2026-Q4' (quarter) or '2026-11-23' (day)"


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    grain: Grain

    @property
    def label(self) -> str:
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.grain == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return self.start.isoformat()

    @property
    def display(self) -> str:
        """Label with its dates, e.g. ``2026-W47 (16–22 Nov 2026)``."""
        if self.grain == "day":
            return f"{self.start:%a %d %b %Y}"
        if self.grain == "month":
            return f"{self.start:%B %Y}"
        return f"{self.label} ({_date_range(self.start, self.end)})"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier)."""
        if self.grain == "day":
            return period_containing(self.start + timedelta(days=n), "day")
        if self.grain == "week":
            return period_containing(self.start + timedelta(weeks=n), "week")
        months = 1 if self.grain == "month" else 3
        index = self.start.year * 12 + self.start.month - 1 + n * months
        return period_containing(date(index // 12, index % 12 + 1, 1), self.grain)

    def previous(self) -> Period:
        return self.shift(-1)

    def same_period_last_year(self) -> Period | None:
        """ISO-week aligned for weeks and days; ``None`` for week 53 when last year has none."""
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            try:
                return period_containing(date.fromisocalendar(year - 1, week, 1), "week")
            except ValueError:
                return None
        if self.grain == "day":
            return period_containing(self.start - timedelta(weeks=52), "day")
        return self.shift(-12 if self.grain == "month" else -4)

    def trailing(self, count: int) -> tuple[Period, ...]:
        """The ``count`` periods ending with this one, oldest first."""
        return tuple(self.shift(-k) for k in range(count - 1, -1, -1))


def _date_range(start: date, end: date) -> str:
    if start.year != end.year:
        return f"{start:%-d %b %Y} – {end:%-d %b %Y}"
    if start.month != end.month:
        return f"{start:%-d %b} – {end:%-d %b %Y}"
    return f"{start.day}–{end:%-d %b %Y}"


#: A day is judged against this many earlier days at least: four of each weekday, so that the
#: day-of-week pattern (weekend dips in volume and handle time) is removed, not flagged.
DAILY_HISTORY_DAYS = 56


def history_length(grain: Grain, history_periods: int) -> int:
    """How many earlier periods a period's anomaly check reads (a day: 8 weeks of days at least).

    Here rather than in the analysis because the cube stage counts the
    quantile sketches of exactly those periods before the analysis runs.
    """
    return max(history_periods, DAILY_HISTORY_DAYS) + 1 if grain == "day" else history_periods


def period_containing(day: date, grain: Grain) -> Period:
    if grain == "day":
        return Period(day, day, "day")
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6), "week")
    if grain == "month":
        start = day.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return Period(start, nxt - timedelta(days=1), "month")
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    nxt = date(day.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
    return Period(start, nxt - timedelta(days=1), "quarter")


_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_period(text: str) -> Period:
    """Parse a period string; the form decides the grain."""
    value = text.strip().upper()
    try:
        if match := _WEEK.match(value):
            return period_containing(date.fromisocalendar(int(match[1]), int(match[2]), 1), "week")
        if match := _MONTH.match(value):
            return period_containing(date(int(match[1]), int(match[2]), 1), "month")
        if match := _QUARTER.match(value):
            return period_containing(date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1), "quarter")
        if match := _DAY.match(value):
            return period_containing(date(int(match[1]), int(match[2]), int(match[3])), "day")
    except ValueError as exc:
        raise PeriodError(
            f"'{text}' is not a valid period: {exc}", fix=f"use {_FORMS}", period=text
        ) from None
    raise PeriodError(f"cannot read period '{text}'", fix=f"use {_FORMS}", period=text)


def period_starts(days: pd.Series, grain: Grain) -> pd.Series:
    """Vectorised: the start date of the period each day falls in (as datetime64)."""
    d = pd.to_datetime(days).to_numpy().astype("datetime64[D]")
    if grain == "week":
        # 1970-01-01 was a Thursday: days since epoch + 3 is days since a Monday
        d = d - ((d.astype("int64") + 3) % 7).astype("timedelta64[D]")
    elif grain == "month":
        d = d.astype("datetime64[M]").astype("datetime64[D]")
    elif grain == "quarter":
        months = d.astype("datetime64[M]").astype("int64")
        d = (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
    return pd.Series(d.astype("datetime64[ns]"), index=days.index)


def latest_complete_period(last_complete_day: date, grain: Grain) -> Period:
    """The latest period whose last day is on or before ``last_complete_day``."""
    current = period_containing(last_complete_day, grain)
    return current if current.end <= last_complete_day else current.previous()


__all__ = [
    "Grain",
    "Period",
    "latest_complete_period",
    "parse_period",
    "period_containing",
    "period_starts",
]
