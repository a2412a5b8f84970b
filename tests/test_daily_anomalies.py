"""A day-grain report judges each day against earlier days of the same weekday pattern."""

from __future__ import annotations

import pytest

from reportgen import build_report

REPORT = """\
title: Daily operations check
period: {grain: day, timezone: UTC}
metrics:
  - metric: decisions
  - metric: sla_attainment
    breakdowns: [region]
sections: [summary, anomalies, metrics]
outputs: [html]
"""


@pytest.fixture(scope="module")
def daily_config(demo_configs):
    config = demo_configs / "reports" / "daily_ops.yaml"
    config.write_text(REPORT)
    return config


def build(config, day: str, out):
    return build_report(config, period=day, out_dir=out)


def test_the_outage_peak_day_is_flagged_against_its_weekday_level(
    daily_config, tmp_path, raw, demo_dir
):
    """W46's pipeline outage in Latin America peaked mid-week: Wednesday 2026-11-11."""
    built = build(daily_config, "2026-11-11", tmp_path)
    flagged = [
        a
        for a in built.insights.anomalies
        if (a.metric, a.segment, a.method) == ("sla_attainment", "Latin America", "history")
    ]
    assert len(flagged) == 1
    (anomaly,) = flagged
    assert anomaly.period == "2026-11-11"
    assert "on Wednesday 2026-11-11" in anomaly.detail and "day-of-week adjusted" in anomaly.detail
    expected = raw.execute(
        "SELECT avg(CASE WHEN epoch(decided_at) - epoch(enqueued_at) <= sla_hours * 3600 "
        f"THEN 1.0 ELSE 0.0 END) FROM read_parquet('{demo_dir}/decisions/*.parquet') "
        "WHERE region = 'Latin America' AND decided_at >= TIMESTAMPTZ '2026-11-11 00:00:00+00' "
        "AND decided_at < TIMESTAMPTZ '2026-11-12 00:00:00+00'"
    ).fetchone()[0]
    assert anomaly.observed == pytest.approx(expected, rel=1e-9)


def test_a_quiet_sunday_is_not_a_volume_anomaly(daily_config, tmp_path):
    """Sundays carry a fraction of a weekday's volume; that is the pattern, not news."""
    built = build(daily_config, "2026-11-01", tmp_path)
    assert not [a for a in built.insights.anomalies if a.metric == "decisions"]
