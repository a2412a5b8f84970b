"""Period figures against independent computations on the raw demo rows (plain SQL / pandas).

The cube sums measures per day and dimension and the metrics layer divides
sums; these tests recompute each figure straight from the raw rows with
hand-written SQL, so a wrong filter, a timezone slip or an average of
averages would show.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

REL = 1e-9


def window(start: date, days: int = 7) -> str:
    end = start + timedelta(days=days)
    return f"decided_at >= TIMESTAMPTZ '{start} 00:00:00+00' AND decided_at < TIMESTAMPTZ '{end} 00:00:00+00'"


W47 = date(2026, 11, 16)
W46 = date(2026, 11, 9)


@pytest.fixture(scope="module")
def decisions(demo_dir):
    return f"read_parquet('{demo_dir}/decisions/*.parquet')"


@pytest.fixture(scope="module")
def staffing(demo_dir):
    return f"read_parquet('{demo_dir}/staffing/*.parquet')"


@pytest.fixture(scope="module")
def figures(built_report):
    return built_report.figures.metrics


def scalar(raw, sql: str) -> float:
    return float(raw.execute(sql).fetchone()[0])


def test_decisions_count(raw, decisions, figures):
    expected = scalar(raw, f"SELECT count(*) FROM {decisions} WHERE {window(W47)}")
    assert figures["decisions"].value == expected
    assert figures["decisions"].previous == scalar(
        raw, f"SELECT count(*) FROM {decisions} WHERE {window(W46)}"
    )


def test_aht_is_ratio_of_sums_over_manual_decisions(raw, decisions, figures):
    expected = scalar(
        raw,
        f"SELECT sum(handle_seconds) / count(*) FROM {decisions} WHERE NOT automated AND {window(W47)}",
    )
    assert figures["aht"].value == pytest.approx(expected, rel=REL)


def test_aht_sufficient_statistics(raw, decisions, figures):
    n, s, ss = raw.execute(
        f"SELECT count(*), sum(handle_seconds), sum(handle_seconds * handle_seconds) FROM {decisions} "
        f"WHERE NOT automated AND {window(W47)}"
    ).fetchone()
    stats = figures["aht"].stats
    assert stats.count == n
    assert stats.sum == pytest.approx(s, rel=REL)
    assert stats.sum_squares == pytest.approx(ss, rel=REL)


def test_aht_is_not_an_average_of_daily_averages(raw, decisions, figures):
    daily = raw.execute(
        f"SELECT avg(a) FROM (SELECT avg(handle_seconds) a FROM {decisions} WHERE NOT automated AND {window(W47)} "
        "GROUP BY CAST(decided_at AS DATE))"
    ).fetchone()[0]
    assert abs(figures["aht"].value - daily) > 1e-6  # the demo's weekday mix makes them differ


def test_qa_accuracy(raw, decisions, figures):
    expected = scalar(
        raw, f"SELECT avg(qa_correct::INT) FROM {decisions} WHERE qa_sampled AND {window(W47)}"
    )
    assert figures["qa_accuracy"].value == pytest.approx(expected, rel=REL)


def test_sla_attainment(raw, decisions, figures):
    expected = scalar(
        raw,
        f"SELECT avg(CASE WHEN epoch(decided_at) - epoch(enqueued_at) <= sla_hours * 3600 THEN 1 ELSE 0 END) "
        f"FROM {decisions} WHERE {window(W47)}",
    )
    assert figures["sla_attainment"].value == pytest.approx(expected, rel=REL)


def test_overturn_rate_counts_only_appealed_enforcements(raw, decisions, figures):
    expected = scalar(
        raw,
        f"SELECT avg(overturned::INT) FROM {decisions} WHERE appealed AND action IN ('remove','restrict') "
        f"AND {window(W47)}",
    )
    assert figures["overturn_rate"].value == pytest.approx(expected, rel=REL)


def test_automation_and_proactive_rates(raw, decisions, figures):
    automation = scalar(raw, f"SELECT avg(automated::INT) FROM {decisions} WHERE {window(W47)}")
    proactive = scalar(
        raw,
        f"SELECT avg((detection = 'proactive')::INT) FROM {decisions} WHERE action IN ('remove','restrict') "
        f"AND {window(W47)}",
    )
    assert figures["automation_rate"].value == pytest.approx(automation, rel=REL)
    assert figures["proactive_rate"].value == pytest.approx(proactive, rel=REL)


def test_throughput_joins_two_facts(raw, decisions, staffing, figures):
    manual = scalar(raw, f"SELECT count(*) FROM {decisions} WHERE NOT automated AND {window(W47)}")
    hours = scalar(
        raw,
        f"SELECT sum(productive_hours) FROM {staffing} WHERE day BETWEEN '{W47}' AND '{W47 + timedelta(days=6)}'",
    )
    assert figures["throughput"].value == pytest.approx(manual / hours, rel=REL)


def test_utilization_and_exposure(raw, staffing, figures):
    paid, productive, severe = raw.execute(
        f"SELECT sum(paid_hours), sum(productive_hours), sum(high_severity_hours) FROM {staffing} "
        f"WHERE day BETWEEN '{W47}' AND '{W47 + timedelta(days=6)}'"
    ).fetchone()
    assert figures["utilization"].value == pytest.approx(productive / paid, rel=REL)
    assert figures["high_severity_exposure"].value == pytest.approx(severe / productive, rel=REL)


def test_delta_and_percentage_points(figures):
    qa = figures["qa_accuracy"]
    assert qa.delta == pytest.approx(qa.value - qa.previous, rel=REL)
    assert qa.delta_pct == pytest.approx((qa.value - qa.previous) / qa.previous, rel=REL)


def test_same_week_last_year(raw, decisions, figures, built_report):
    assert built_report.figures.last_year_period.label == "2025-W47"
    expected = scalar(raw, f"SELECT count(*) FROM {decisions} WHERE {window(date(2025, 11, 17))}")
    assert figures["decisions"].last_year == expected


def test_breakdown_by_region_matches_raw(raw, decisions, figures):
    frame = (
        raw.execute(
            f"SELECT region, sum(handle_seconds) / count(*) AS aht, count(*) AS n FROM {decisions} "
            f"WHERE NOT automated AND {window(W47)} GROUP BY region"
        )
        .df()
        .set_index("region")
    )
    segments = {s.segment: s for s in figures["aht"].breakdowns["region"]}
    assert set(segments) == set(frame.index)
    for region, row in frame.iterrows():
        assert segments[region].value == pytest.approx(row.aht, rel=REL)
        assert segments[region].share == pytest.approx(row.n / frame.n.sum(), rel=REL)


def test_breakdown_by_queue_with_pandas(demo_dir, figures):
    df = pd.read_parquet(
        demo_dir / "decisions", columns=["decided_at", "queue", "qa_sampled", "qa_correct"]
    )
    start = pd.Timestamp(W47, tz="UTC")
    week = df[
        (df.decided_at >= start) & (df.decided_at < start + pd.Timedelta(days=7)) & df.qa_sampled
    ]
    expected = week.groupby("queue", observed=True).qa_correct.mean()
    segments = {s.segment: s.value for s in figures["qa_accuracy"].breakdowns["queue"]}
    for queue, value in expected.items():
        assert segments[str(queue)] == pytest.approx(value, rel=REL)


def test_trailing_series_has_13_weeks_ending_with_the_period(figures):
    series = figures["aht"].series
    assert len(series) == 13
    assert series[-1].period == "2026-W47"
    assert series[-1].value == pytest.approx(figures["aht"].value, rel=REL)
    assert series[-2].value == pytest.approx(figures["aht"].previous, rel=REL)
    assert all(p.complete for p in series)


def test_target_from_the_targets_table(demo_dir, figures):
    targets = pd.read_csv(demo_dir / "targets.csv")
    rows = targets[
        (targets.metric == "qa_accuracy")
        & targets.dimension.isna()
        & (pd.to_datetime(targets.valid_from).dt.date <= W47)
    ]
    expected = rows.sort_values("valid_from").iloc[-1].target
    qa = figures["qa_accuracy"]
    assert qa.target == pytest.approx(expected)
    assert qa.target_met == (qa.value >= qa.target)


def test_figures_json_holds_every_metric(built_report):
    data = json.loads(built_report.artifacts["figures"].read_text())
    assert data["period"]["label"] == "2026-W47"
    assert data["period"]["complete"] is True
    assert set(data["metrics"]) == set(built_report.figures.metrics)
    assert data["metrics"]["aht"]["value"] == built_report.figures.metrics["aht"].value


def test_incomplete_current_week_is_labelled(weekly_config, tmp_path):
    from reportgen import build_report

    result = build_report(weekly_config, period="2026-W48", formats=["html"], out_dir=tmp_path)
    assert result.figures.complete is False
    assert not result.figures.metrics["aht"].series[-1].complete
    assert "not complete" in result.artifacts["html"].read_text()
