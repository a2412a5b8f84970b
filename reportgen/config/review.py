"""The ``delivery.review`` block: hold a built report as a draft until someone approves it.

A report with ``review: {hold: true, until: "MON 09:00", at_deadline: send}``
is built and checked as usual, but its sends wait in a draft instead of going
out. ``reportgen approve`` sends the draft; at the deadline the scheduler
sends it with a note saying it was not reviewed (``at_deadline: send``) or
drops it (``at_deadline: skip``). :mod:`reportgen.ops.review` does the work; this
module only says what a valid block looks like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from reportgen.config.addresses import EmailAddress
from reportgen.config.timezones import check_timezone

_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_WALL = re.compile(r"^(?:(?P<day>[A-Za-z]{3})\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_AFTER = re.compile(r"^(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[mhd])$")
_UNTIL_FIX = (
    "write a weekday and a 24-hour time in the review's timezone, e.g. 'MON 09:00'; "
    "a time alone ('09:00', the next one after the build); or a delay such as '4h', '90m' or '1d'"
)


class _Invalid(ValueError):
    """A validation error with its fix (the YAML loader shows it with the file and line)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class Deadline:
    """``until`` parsed: a weekday and wall time, a wall time on any day, or a delay."""

    weekday: int | None = None  # 0 = Monday
    at: time | None = None
    delay: timedelta | None = None

    def after(self, start: datetime, zone: str) -> datetime:
        """The first deadline at or after ``start`` (an aware datetime), in ``zone``."""
        if self.delay is not None:
            return start + self.delay
        assert self.at is not None
        tz = ZoneInfo(zone)
        local = start.astimezone(tz)
        for days in range(8):
            day = local.date() + timedelta(days=days)
            if self.weekday is not None and day.weekday() != self.weekday:
                continue
            # a wall time in the spring gap becomes the same offset's instant (an hour later)
            candidate = datetime.combine(day, self.at, tzinfo=tz)
            candidate = candidate.astimezone(ZoneInfo("UTC")).astimezone(tz)
            if candidate >= local:
                return candidate
        raise AssertionError("a weekday occurs within eight days")  # pragma: no cover


def parse_until(value: str) -> Deadline:
    text = " ".join(str(value).split())
    after = _AFTER.match(text.lower())
    if after:
        amount = float(after["amount"])
        unit = {"m": "minutes", "h": "hours", "d": "days"}[after["unit"]]
        delay = timedelta(**{unit: amount})
        if not timedelta(minutes=1) <= delay <= timedelta(days=14):
            raise _Invalid(f"review delay '{value}' must be between 1m and 14d", fix=_UNTIL_FIX)
        return Deadline(delay=delay)
    wall = _WALL.match(text)
    if not wall:
        raise _Invalid(f"'{value}' is not a review deadline", fix=_UNTIL_FIX)
    hour, minute = int(wall["hour"]), int(wall["minute"])
    if hour > 23 or minute > 59:
        raise _Invalid(f"'{value}' is not a time of day", fix=_UNTIL_FIX)
    day = wall["day"]
    if day is not None and day.upper() not in _DAYS:
        raise _Invalid(
            f"unknown weekday '{day}' in review deadline '{value}'",
            fix=f"use one of {', '.join(_DAYS)}, e.g. 'MON 09:00'",
        )
    weekday = None if day is None else _DAYS.index(day.upper())
    return Deadline(weekday=weekday, at=time(hour, minute))


class ReviewPolicy(BaseModel):
    """Hold built reports for review until ``until``; then send with a note, or skip."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold: bool = True
    until: str  # "MON 09:00" | "09:00" | "4h"
    at_deadline: Literal["send", "skip"] = "send"
    # the zone 'until' is read in; default: the schedule's, else the report period's
    timezone: str | None = None
    # who is told that a draft waits (a plain notice with the approve command); default: owners
    reviewers: list[EmailAddress] | None = None
    notify: bool = True

    @field_validator("until")
    @classmethod
    def _valid_until(cls, value: str) -> str:
        parse_until(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @property
    def deadline(self) -> Deadline:
        return parse_until(self.until)
