"""The per-segment series the exports read, computed from the cube as ratios of summed measures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reportgen.build import gated_cube
from reportgen.config.loader import load_report
from reportgen.export_figures import export_groupings, period_sums
from reportgen.periods import period_containing


@pytest.fixture(scope="module")
def cube(weekly_config):
    report = load_report(weekly_config)
    now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    return report, gated_cube(report, "2026-W47", True, now, lambda _: None).cube


def test_groupings_are_each_dimension_then_the_first_crossed_with_the_others(cube) -> None:
    report, _ = cube
    assert export_groupings(report) == (
        ("region",),
        ("queue",),
        ("site",),
        ("region", "queue"),
        ("region", "site"),
    )


@pytest.mark.parametrize("by", [(), ("region",), ("region", "queue")])
def test_periods_before_the_data_hold_no_segments(cube, by) -> None:
    _, data = cube
    weeks = tuple(period_containing(date(2020, 1, d), "week") for d in (6, 13))
    sums = period_sums(data, ("decisions", "sla_met"), weeks, by)
    assert list(sums.index.names) == ["period", *by]
    if by:
        assert sums.empty
    else:  # the total of a period without rows is zero, never missing
        assert (sums == 0).all().all() and len(sums) == 2


def test_a_stock_takes_each_periods_last_day_per_segment(cube, raw, demo_dir) -> None:
    """Backlog by region for 2026-W46 = the raw snapshot rows of 2026-11-15, summed."""
    _, data = cube
    week = (period_containing(date(2026, 11, 9), "week"),)
    sums = period_sums(data, ("pending_items",), week, ("region",))
    expected = dict(
        raw.execute(
            f"""
            SELECT region, sum(pending_items)
            FROM read_parquet('{demo_dir}/queue_snapshots.parquet')
            WHERE day = DATE '2026-11-15'
            GROUP BY region
            """
        ).fetchall()
    )
    got = {region: v for (_, region), v in sums["pending_items"].items()}
    assert got == {k: float(v) for k, v in expected.items()}
