"""Quantile metrics (``type: quantile`` over an ``agg: sketch`` measure) on the demo data.

The weekly report (session fixture) shows median and p90 time to action; each
figure is checked against exact quantiles of the raw Parquet rows computed in
plain DuckDB SQL, within the sketch's stated relative accuracy α. The test and
interval are checked against scipy on the raw rows.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from reportgen.analysis._quantile_test import threshold_counts
from reportgen.config import load_catalog
from reportgen.errors import ConfigError
from reportgen.semantics.sketch import ZERO_BUCKET, Histogram, gamma

ALPHA = 0.01  # relative_accuracy of time_to_action_hours in configs/catalog.yaml
W47 = (date(2026, 11, 16), date(2026, 11, 23))
W46 = (date(2026, 11, 9), date(2026, 11, 16))
HOURS = "date_diff('microsecond', enqueued_at, decided_at) / 3600e6"
METRICS = {"time_to_action_p50": 0.5, "time_to_action_p90": 0.9}


def exact(raw, demo_dir: Path, q: float, week: tuple[date, date], where: str = "TRUE"):
    """quantile_cont of the raw rows' hours in a week (UTC), grouped when ``where`` says so."""
    sql = f"""
        SELECT quantile_cont({HOURS}, {q})
        FROM read_parquet('{demo_dir}/decisions/*.parquet')
        WHERE decided_at >= TIMESTAMPTZ '{week[0]} 00:00:00+00'
          AND decided_at < TIMESTAMPTZ '{week[1]} 00:00:00+00' AND {where}
    """
    return raw.execute(sql).fetchone()[0]


def raw_hours(raw, demo_dir: Path, week: tuple[date, date]) -> np.ndarray:
    sql = f"""
        SELECT {HOURS} AS hours FROM read_parquet('{demo_dir}/decisions/*.parquet')
        WHERE decided_at >= TIMESTAMPTZ '{week[0]} 00:00:00+00'
          AND decided_at < TIMESTAMPTZ '{week[1]} 00:00:00+00'
    """
    return raw.execute(sql).fetchnumpy()["hours"].astype(float)


def histogram_of(values: np.ndarray, alpha: float = ALPHA) -> Histogram:
    """The sketch of raw values, bucketed in numpy (independent of the SQL bucketing)."""
    logs = np.log(np.where(values > 0, values, 1.0)) / math.log(gamma(alpha))
    index = np.where(values > 0, np.ceil(logs), ZERO_BUCKET)
    buckets, counts = np.unique(index.astype(np.int64), return_counts=True)
    return Histogram(buckets, counts.astype(float), alpha)


def close(got: float, want: float, alpha: float = ALPHA) -> bool:
    return abs(got - want) <= alpha * abs(want) + 1e-12


def test_period_quantiles_are_within_alpha_of_exact_ones(built_report, raw, demo_dir):
    figures = built_report.figures.metrics
    for name, q in METRICS.items():
        m = figures[name]
        assert close(m.value, exact(raw, demo_dir, q, W47)), name
        assert close(m.previous, exact(raw, demo_dir, q, W46)), name
        assert (
            m.stats.count
            == raw.execute(
                f"SELECT count(*) FROM read_parquet('{demo_dir}/decisions/*.parquet') "
                f"WHERE decided_at >= TIMESTAMPTZ '{W47[0]} 00:00:00+00' "
                f"AND decided_at < TIMESTAMPTZ '{W47[1]} 00:00:00+00'"
            ).fetchone()[0]
        )


def test_segment_quantiles_are_within_alpha_of_exact_ones(built_report, raw, demo_dir):
    for name, q in METRICS.items():
        for dim in ("region", "queue"):
            segments = built_report.figures.metrics[name].breakdowns[dim]
            assert len(segments) >= 8
            for s in segments:
                want = exact(raw, demo_dir, q, W47, f"{dim} = '{s.segment}'")
                assert close(s.value, want), (name, dim, s.segment, s.value, want)


def test_trend_is_within_alpha_and_the_sla_breach_moves_p90(built_report, raw, demo_dir):
    """The planted Latin America outage (W46) multiplies that region's p90 several times."""
    series = built_report.figures.metrics["time_to_action_p90"].series
    week = (series[-4].start, series[-3].start)
    assert close(series[-4].value, exact(raw, demo_dir, 0.9, week))
    latam = {
        s.segment: s
        for s in built_report.figures.metrics["time_to_action_p90"].breakdowns["region"]
    }["Latin America"]
    assert latam.previous > 3 * latam.value  # W46 (outage) against W47


def test_the_quantile_test_matches_scipy_on_the_raw_rows(built_report, raw, demo_dir):
    """Mood's test: the 2×2 counts at or below the pooled quantile, and scipy's chi² on them."""
    now, before = raw_hours(raw, demo_dir, W47), raw_hours(raw, demo_dir, W46)
    g = gamma(ALPHA)
    for name, q in METRICS.items():
        result = built_report.insights.significance.metrics[name].result
        bucket, _, _ = threshold_counts(histogram_of(now), histogram_of(before), q)
        edge = g**bucket  # the bucket's upper bound: "at or below" is exact there
        table = [
            [(now <= edge).sum(), (now > edge).sum()],
            [(before <= edge).sum(), (before > edge).sum()],
        ]
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        assert result.test.startswith("quantile test")
        assert math.isclose(result.statistic**2, chi2, rel_tol=1e-9)
        assert math.isclose(result.p_value, p, rel_tol=1e-6, abs_tol=1e-300)
        assert result.n == (len(now), len(before))


def test_the_interval_brackets_the_exact_order_statistics(built_report, raw, demo_dir):
    """Binomial order-statistic interval: each bound within α of the exact order statistic."""
    now = np.sort(raw_hours(raw, demo_dir, W47))
    before = np.sort(raw_hours(raw, demo_dir, W46))
    confidence = built_report.insights.significance.confidence
    each = 1 - (1 - confidence) / 2

    def bounds(values: np.ndarray, q: float) -> tuple[float, float]:
        n = len(values)
        low = int(stats.binom.ppf((1 - each) / 2, n, q))
        high = int(stats.binom.ppf(1 - (1 - each) / 2, n, q)) + 1
        return values[low - 1], values[high - 1]

    for name, q in METRICS.items():
        result = built_report.insights.significance.metrics[name].result
        (l1, h1), (l0, h0) = bounds(now, q), bounds(before, q)
        assert abs(result.ci_low - (l1 - h0)) <= ALPHA * (abs(l1) + abs(h0))
        assert abs(result.ci_high - (h1 - l0)) <= ALPHA * (abs(h1) + abs(l0))
        assert result.ci_low <= result.effect <= result.ci_high


def test_a_quantile_is_not_decomposed_and_says_why_in_the_config(built_report):
    assert not set(METRICS) & set(built_report.insights.decompositions)


def test_figures_json_and_the_renders_carry_the_quantiles(built_report):
    data = json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))
    m = data["metrics"]["time_to_action_p90"]
    assert m["type"] == "quantile" and m["q"] == 0.9 and m["format"] == "hours"
    assert "histogram" not in m["stats"]
    assert data["insights"]["tests"]["time_to_action_p90"]["kind"] == "quantile"
    html = built_report.artifacts["html"].read_text(encoding="utf-8")
    assert "Median time to action" in html and "p90 time to action" in html


def test_a_cached_build_gives_the_same_quantiles_as_a_cold_one(weekly_config):
    """Figures from a rescan (--no-cache) equal those from the cube cache's partitions."""
    from datetime import UTC, datetime

    from reportgen.build import gated_cube
    from reportgen.config.loader import load_report
    from reportgen.figures import Targets, compute_figures

    report = load_report(weekly_config)
    now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    figures = []
    for cache in (False, True):  # the rescan rewrites the cache; the second build reads it
        gated = gated_cube(report, "2026-W47", cache, now, lambda _msg: None)
        figures.append(compute_figures(report, gated.cube, gated.period, Targets.load(report)))
    for name in METRICS:
        a, b = figures[0].metrics[name], figures[1].metrics[name]
        assert a.value is not None
        assert (a.value, a.previous, a.last_year) == (b.value, b.previous, b.last_year)
        assert [p.value for p in a.series] == [p.value for p in b.series]
        assert [(s.segment, s.value) for s in a.breakdowns["queue"]] == [
            (s.segment, s.value) for s in b.breakdowns["queue"]
        ]


CATALOG_TAIL = {
    "missing q": "  bad:\n    label: Bad\n    type: quantile\n    measure: time_to_action_hours\n"
    "    format: hours\n    direction: lower_is_better\n    description: x\n",
    "q out of range": "  bad:\n    label: Bad\n    type: quantile\n    measure: time_to_action_hours\n"
    "    q: 1.5\n    format: hours\n    direction: lower_is_better\n    description: x\n",
    "not a sketch": "  bad:\n    label: Bad\n    type: quantile\n    measure: decisions\n"
    "    q: 0.5\n    format: hours\n    direction: lower_is_better\n    description: x\n",
}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing q", "q"),
        ("q out of range", "q"),
        ("not a sketch", "needs a sketch measure"),
    ],
)
def test_a_wrong_quantile_metric_is_a_config_error_with_file_line_and_fix(tmp_path, case, expected):
    source = Path(__file__).resolve().parent.parent / "configs" / "catalog.yaml"
    text = source.read_text(encoding="utf-8") + CATALOG_TAIL[case]
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    error = info.value
    message = str(error)
    assert str(path) in message and expected in message
    bad_line = text.splitlines().index("  bad:") + 1
    line = error.context["line"]
    assert line is not None and bad_line <= line <= bad_line + 8
    assert error.fix


def test_a_sketch_measure_in_a_ratio_is_a_config_error(tmp_path):
    source = Path(__file__).resolve().parent.parent / "configs" / "catalog.yaml"
    text = source.read_text(encoding="utf-8") + (
        "  bad:\n    label: Bad\n    type: total\n    measure: time_to_action_hours\n"
        "    format: hours\n    direction: lower_is_better\n    description: x\n"
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="only a quantile metric") as info:
        load_catalog(path)
    assert "type: quantile" in info.value.fix


def test_histograms_merge_exactly_and_read_quantiles_like_numpy():
    rng = np.random.default_rng(7)
    values = rng.lognormal(1.0, 1.5, 5000)
    values[:10] = 0.0  # the zero bucket
    left, right = histogram_of(values[:2000]), histogram_of(values[2000:])
    merged = left + right
    whole = histogram_of(values)
    assert np.array_equal(merged.buckets, whole.buckets)
    assert np.array_equal(merged.counts, whole.counts)
    for q in (0.01, 0.25, 0.5, 0.9, 0.99):
        assert close(merged.quantile(q), float(np.quantile(values, q)))
    assert merged.quantile(0.001) == 0.0


def test_a_daily_alert_on_a_weekly_quantile_is_a_config_error(demo_configs, tmp_path):
    """The sketch is counted per report period: a day's quantile cannot be read from it."""
    from reportgen.config.loader import load_report

    shutil.copytree(demo_configs, tmp_path / "configs")
    shutil.copytree(demo_configs.parent / "templates", tmp_path / "templates")
    path = tmp_path / "configs" / "reports" / "weekly_leadership.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    metric: sla_attainment\n    below: 0.90",
        "    metric: time_to_action_p90\n    above: 24",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="counted per week") as info:
        load_report(path)
    assert info.value.context["line"] is not None and "grain: week" in info.value.fix


def test_a_chart_of_hours_all_under_an_hour_is_drawn_in_minutes():
    """The text says "1.9 min"; the chart beside it must not read 0.031 h."""
    from reportgen.compose._core import in_minutes_when_short
    from reportgen.document import Chart, ChartSeries

    short = Chart(
        "Median time to action by region",
        "bar",
        ("Europe", "Africa"),
        (ChartSeries("W47", (0.0312, 0.03)), ChartSeries("W46", (0.08, None), "comparison")),
        "hours",
        "hours",
    )
    drawn = in_minutes_when_short(short)
    assert drawn.value_format == "minutes" and drawn.value_label == "minutes"
    assert drawn.series[0].values == pytest.approx((1.872, 1.8))
    assert drawn.series[1].values[0] == pytest.approx(4.8) and drawn.series[1].values[1] is None

    long = replace(short, series=(ChartSeries("W47", (0.5, 10.7)),))
    assert in_minutes_when_short(long) == long
