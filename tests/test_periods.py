"""Periods: the four accepted forms, neighbours, last year, and clear errors."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from reportgen.errors import PeriodError
from reportgen.periods import latest_complete_period, parse_period, period_starts


@pytest.mark.parametrize(
    ("text", "grain", "start", "end"),
    [
        ("2026-W47", "week", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-w01", "week", date(2025, 12, 29), date(2026, 1, 4)),
        ("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-02", "month", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-11-23", "day", date(2026, 11, 23), date(2026, 11, 23)),
    ],
)
def test_accepted_forms(text, grain, start, end):
    period = parse_period(text)
    assert (period.grain, period.start, period.end) == (grain, start, end)


def test_label_round_trips():
    for text in ("2026-W47", "2026-11", "2026-Q4", "2026-11-23"):
        assert parse_period(text).label == text


def test_previous_week_crosses_iso_year():
    assert parse_period("2026-W01").previous().label == "2025-W52"


def test_previous_quarter_crosses_year():
    assert parse_period("2026-Q1").previous().label == "2025-Q4"


def test_same_week_last_year_is_iso_aligned():
    last_year = parse_period("2026-W47").same_period_last_year()
    assert last_year is not None
    assert last_year.label == "2025-W47"
    assert last_year.start.weekday() == 0


def test_week_53_has_no_last_year_week_when_last_year_had_none():
    assert (
        parse_period("2026-W53").same_period_last_year() is None
    )  # 2026 has 53 ISO weeks, 2025 has 52


def test_trailing_periods_end_with_the_period():
    labels = [p.label for p in parse_period("2026-W02").trailing(4)]
    assert labels == ["2025-W51", "2025-W52", "2026-W01", "2026-W02"]


def test_latest_complete_week():
    assert latest_complete_period(date(2026, 11, 24), "week").label == "2026-W47"
    assert latest_complete_period(date(2026, 11, 22), "week").label == "2026-W47"
    assert latest_complete_period(date(2026, 11, 29), "week").label == "2026-W48"


@pytest.mark.parametrize("text", ["2026-W60", "2026-13", "2026-Q5", "last week", "2026-02-30", ""])
def test_bad_period_strings_say_which_forms_work(text):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    assert "2026-W47" in str(info.value)


def test_period_starts_vectorised_matches_scalar():
    days = pd.Series([date(2026, 11, 16), date(2026, 11, 22), date(2026, 11, 23), date(2026, 1, 1)])
    weeks = [t.date() for t in period_starts(days, "week")]
    assert weeks == [date(2026, 11, 16), date(2026, 11, 16), date(2026, 11, 23), date(2025, 12, 29)]
    assert period_starts(days, "quarter").iloc[2].date() == date(2026, 10, 1)
    assert period_starts(days, "month").iloc[3].date() == date(2026, 1, 1)
