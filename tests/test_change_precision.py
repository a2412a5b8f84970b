"""A segment's change is shown at the metric's own precision and agrees with the values shown.

The demo week's case: Southeast Asia's throughput went from 60.835 to 51.452 decisions per
productive hour. Made to agree by adding digits, it read "−9.384 to 51.452" in the "what moved"
sentence and put three decimals down the whole breakdown table. At the metric's precision the
values read 60.8 and 51.5, and the change printed beside them is their difference, −9.3. The
values are checked against SQL on the raw demo rows (decisions over productive hours, per region).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import duckdb
import pytest

from reportgen.formatting import (
    comparison_decimals,
    format_change,
    format_value,
    reading_decimals,
    shown_difference,
)

W47, W46 = date(2026, 11, 16), date(2026, 11, 9)
NUMBER = r"−?\d+\.\d+"


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def _texts(node) -> list[str]:
    """Every string in a document node (its blocks' text, notes, cells), depth first."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, (tuple, list)):
        return [t for item in node for t in _texts(item)]
    if dataclasses.is_dataclass(node):
        return [t for f in dataclasses.fields(node) for t in _texts(getattr(node, f.name))]
    return []


@pytest.fixture(scope="module")
def raw_throughput(demo_dir) -> dict[tuple[str, date], float]:
    """(region, week start) → manual decisions / productive hours, straight from the raw rows."""
    rows = duckdb.sql(
        f"""
        WITH d AS (
          SELECT region, date_trunc('week', decided_at)::DATE AS week, count(*) AS manual
          FROM read_parquet('{demo_dir}/decisions/*.parquet') WHERE NOT automated GROUP BY ALL
        ), s AS (
          SELECT region, date_trunc('week', day)::DATE AS week, sum(productive_hours) AS hours
          FROM read_parquet('{demo_dir}/staffing/*.parquet') GROUP BY ALL
        )
        SELECT d.region, d.week, manual / hours FROM d JOIN s USING (region, week)
        WHERE d.week IN (DATE '{W46}', DATE '{W47}')
        """
    ).fetchall()
    return {(region, week): value for region, week, value in rows}


@pytest.fixture(scope="module")
def throughput_section(built_report):
    return next(s for s in built_report.document.sections if s.id == "throughput")


def test_the_largest_move_reads_at_the_metrics_precision_and_agrees_with_sql(
    throughput_section, raw_throughput
):
    sentence = next(t for t in _texts(throughput_section) if "Largest move by region" in t)
    found = re.search(rf"Southeast Asia \(({NUMBER}) to ({NUMBER}) decisions", sentence)
    assert found, sentence
    change, now = found.groups()
    assert "." in change and len(change.split(".")[1]) == 1, sentence  # one decimal, as 49.0
    assert len(now.split(".")[1]) == 1, sentence
    current = raw_throughput[("Southeast Asia", W47)]
    previous = raw_throughput[("Southeast Asia", W46)]
    assert _number(now) == round(current, 1)
    # the change is the difference of the values as shown: 51.5 − 60.8
    assert _number(change) == pytest.approx(round(current, 1) - round(previous, 1), abs=1e-9)
    assert abs(_number(change) - (current - previous)) <= 0.1  # within the values' rounding


def test_the_breakdown_table_keeps_one_decimal_and_every_row_agrees(
    throughput_section, raw_throughput
):
    table = next(
        b
        for b in throughput_section.blocks
        if getattr(b, "kind", None) == "table" and b.title == "Throughput by region"
    )
    keys = [c.key for c in table.columns]
    value, previous, change = (keys.index(k) for k in ("value", "previous", "delta"))
    for row in table.rows:
        texts = [row[i].text for i in (value, previous, change)]
        assert all(re.fullmatch(NUMBER, t.lstrip("+")) for t in texts), texts
        assert all(len(t.split(".")[1]) == 1 for t in texts), texts  # no 3-decimal column
        now, before, moved = (_number(t.lstrip("+")) for t in texts)
        assert moved == pytest.approx(now - before, abs=1e-9), (row[0].text, texts)
        region = row[0].value
        if (region, W47) in raw_throughput:
            assert now == round(raw_throughput[(region, W47)], 1), region
            assert before == round(raw_throughput[(region, W46)], 1), region


def test_southeast_asia_needs_no_more_digits_than_the_metric_shows():
    current, previous = 51.45157128237061, 60.835304203400895  # figures.json, demo W47
    assert reading_decimals(current, previous, "rate") == 1
    assert comparison_decimals(current, previous, "rate") == 1  # not 3: −9.384
    shown = shown_difference(current, previous, "rate", 1)
    assert format_change(shown, "rate", 1) == "−9.3"
    assert (
        format_value(previous, "rate", 1) == "60.8" and format_value(current, "rate", 1) == "51.5"
    )


def test_one_more_decimal_still_serves_a_pair_that_then_agrees_by_rounding():
    """70.94 % → 68.36 %: two decimals make the rounded change agree (−2.58 pp, not −2.5 pp)."""
    d = comparison_decimals(0.68361, 0.70938, "percent")
    assert d == 2
    assert format_change(shown_difference(0.68361, 0.70938, "percent", d), "percent", d) == (
        "−2.58 pp"
    )


def test_a_tiny_change_still_gets_the_digits_it_needs_to_read_as_non_zero():
    assert reading_decimals(0.83438, 0.83454, "percent") == 2
    shown = shown_difference(0.83438, 0.83454, "percent", 2)
    assert format_change(shown, "percent", 2) == "−0.01 pp"
