"""The weekly business review chart: trailing weeks with their normal range, trailing months.

Every number is checked against an independent computation on the raw demo
rows: the months with plain SQL (from the raw events, not from weeks), the
expected band with pandas/scipy from the anomaly model's documented formula
(median and scaled MAD of the previous twelve weeks, floored by sampling
noise and the minimum practical effect). A week outside its band is exactly
a week the detector flags.
"""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pptx import Presentation
from pptx.oxml.ns import qn
from scipy.optimize import brentq
from scipy.stats import median_abs_deviation

from reportgen.analysis.anomalies import expected_range, history_anomalies, normal_range
from reportgen.document import Chart
from reportgen.figures import closed_months
from reportgen.periods import parse_period
from reportgen.render.charts.svg import chart_to_altair

REL = 1e-9
THRESHOLD = 3.5  # the shipped weekly report's insights.anomalies.threshold
HISTORY = 13  # its history_periods: the current week and twelve before it
MONTHS = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]


@pytest.fixture(scope="module")
def decisions(demo_dir):
    return f"read_parquet('{demo_dir}/decisions/*.parquet')"


@pytest.fixture(scope="module")
def figures_json(built_report):
    return json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def wbr_charts(built_report) -> dict[str, Chart]:
    """Metric → its page's first chart (the WBR chart)."""
    found = {}
    for section in built_report.document.sections:
        charts = [b for b in section.blocks if isinstance(b, Chart)]
        if section.role == "metric" and charts:
            found[section.id] = charts[0]
    return found


# -- months from the raw rows --------------------------------------------------------------------


def per_month(raw, decisions: str, select: str, where: str = "TRUE") -> pd.Series:
    frame = raw.execute(
        f"SELECT strftime(date_trunc('month', decided_at AT TIME ZONE 'UTC'), '%Y-%m') AS month,"
        f" {select} AS value FROM {decisions} WHERE {where} GROUP BY 1"
    ).df()
    return frame.set_index("month")["value"]


MONTHLY_SQL = {
    "decisions": ("count(*)", "TRUE"),
    "aht": ("sum(handle_seconds) / count(*)", "NOT automated"),
    "qa_accuracy": ("avg(qa_correct::INT)", "qa_sampled"),
    "automation_rate": ("avg(automated::INT)", "TRUE"),
}


@pytest.mark.parametrize("metric", sorted(MONTHLY_SQL))
def test_monthly_values_are_sql_on_the_raw_rows_of_each_month(raw, decisions, figures_json, metric):
    select, where = MONTHLY_SQL[metric]
    expected = per_month(raw, decisions, select, where)
    months = figures_json["metrics"][metric]["months"]
    assert [p["period"] for p in months] == MONTHS
    for point in months:
        assert point["value"] == pytest.approx(expected[point["period"]], rel=REL)


def test_a_months_backlog_is_the_snapshot_of_its_last_day(raw, demo_dir, figures_json):
    snapshots = f"read_parquet('{demo_dir}/queue_snapshots.parquet')"
    expected = raw.execute(
        f"""WITH m AS (SELECT strftime(date_trunc('month', day), '%Y-%m') AS month, day,
                              sum(pending_items) AS pending FROM {snapshots} GROUP BY 1, 2)
            SELECT month, arg_max(pending, day) FROM m GROUP BY 1"""
    ).df()
    expected = dict(zip(expected.iloc[:, 0], expected.iloc[:, 1], strict=True))
    for point in figures_json["metrics"]["backlog"]["months"]:
        assert point["value"] == pytest.approx(expected[point["period"]], rel=REL)


def test_months_are_not_averages_of_weeks(built_report):
    """October's AHT is October's seconds over October's decisions, not a mean of weekly AHTs."""
    aht = built_report.figures.metrics["aht"]
    october = next(p for p in aht.months if p.period == "2026-10")
    weeks = [p.value for p in aht.series if p.start.month == 10 and p.start.year == 2026]
    assert october.value != pytest.approx(float(np.mean(weeks)), rel=1e-6)


def test_the_months_are_the_closed_ones_before_the_weeks_end():
    assert [p.label for p in closed_months(parse_period("2026-W47"))] == MONTHS
    # a week ending on a month's last day closes that month (Sun 31 May 2026)
    assert closed_months(parse_period("2026-W22"))[-1].label == "2026-05"
    assert closed_months(parse_period("2026-W23"))[-1].label == "2026-05"


def test_series_points_carry_the_target_in_force_at_their_start(figures_json, demo_dir):
    targets = pd.read_csv(demo_dir / "targets.csv")
    aht = targets[(targets.metric == "aht") & targets.dimension.isna()]
    for point in figures_json["metrics"]["aht"]["months"]:
        start = point["start"]
        in_force = aht[aht.valid_from <= start].sort_values("valid_from")
        expected = float(in_force.iloc[-1].target) if len(in_force) else None
        assert point["target"] == expected


# -- the expected band against the documented formula ---------------------------------------------


def weekly_frame(raw, decisions: str, metric: str) -> pd.DataFrame:
    """value, volume and sampling error per ISO week, straight from the raw rows."""
    sql = {
        "qa_accuracy": """sum(qa_correct::INT) FILTER (WHERE qa_sampled) AS a,
                          count(*) FILTER (WHERE qa_sampled) AS n, NULL AS q""",
        "aht": """sum(handle_seconds) FILTER (WHERE NOT automated) AS a,
                  count(*) FILTER (WHERE NOT automated) AS n,
                  sum(handle_seconds * handle_seconds) FILTER (WHERE NOT automated) AS q""",
        "decisions": "count(*) AS a, count(*) AS n, NULL AS q",
    }[metric]
    frame = raw.execute(
        f"SELECT date_trunc('week', decided_at AT TIME ZONE 'UTC')::DATE AS week, {sql} "
        f"FROM {decisions} GROUP BY 1 ORDER BY 1"
    ).df()
    a, n, q = frame.a.astype(float), frame.n.astype(float), frame.q.astype(float)
    if metric == "qa_accuracy":
        value = a / n
        noise = np.sqrt(value * (1 - value) / n)
    elif metric == "aht":
        value = a / n
        noise = np.sqrt((q - a * a / n) / (n - 1) / n)
    else:
        value, noise = a, np.sqrt(a)  # a total: Poisson noise
    return pd.DataFrame({"week": frame.week, "value": value, "volume": n, "noise": noise})


def documented_band(history: pd.DataFrame, now: pd.Series, min_effect: float, bound=None):
    """The module docstring's rule, written out again: (low, high, z).

    For a proportion (``bound`` its ceiling) the effect floor is a fraction of the larger
    rarer side, and the band's edges are found by root-finding on the flag rule itself
    rather than from the module's closed form.
    """
    m = float(np.median(history.value))
    mad_sd = float(median_abs_deviation(history.value, scale="normal"))
    unit = float(np.median(history.noise * np.sqrt(history.volume)))
    chance = max(float(now.noise), unit / math.sqrt(now.volume))
    reach = THRESHOLD * max(mad_sd, chance)
    e = min_effect
    x = float(now.value)
    if bound is None:
        high = m + max(reach, e * m / (1 - e))
        low = m - max(reach, e * m)
        z = (x - m) / max(mad_sd, chance, e * max(abs(m), abs(x)) / THRESHOLD)
        return low, high, z

    def level(v: float) -> float:
        return max(min(m, bound - m), min(v, bound - v), 0.0)

    def margin(v: float) -> float:  # ≥ 0 exactly where v is flagged
        return abs(v - m) - max(reach, e * level(v))

    high = brentq(margin, m, m + bound, xtol=1e-15)
    low = brentq(margin, m - bound, m, xtol=1e-15)
    z = (x - m) / max(mad_sd, chance, e * level(x) / THRESHOLD)
    return low, high, z


@pytest.mark.parametrize(
    ("metric", "min_effect", "bound"),
    [("qa_accuracy", 0.04, 1.0), ("aht", 0.04, None), ("decisions", 0.10, None)],
)
def test_the_band_in_figures_json_is_the_models_documented_normal_range(
    raw, decisions, figures_json, metric, min_effect, bound
):
    weeks = weekly_frame(raw, decisions, metric).set_index("week")
    series = figures_json["metrics"][metric]["series"]
    checked = 0
    for point in series:
        start = date.fromisoformat(point["start"])
        position = weeks.index.get_loc(pd.Timestamp(start))
        history = weeks.iloc[position - HISTORY + 1 : position]
        low, high, z = documented_band(history, weeks.iloc[position], min_effect, bound)
        band = point["expected_band"]
        assert band["low"] == pytest.approx(low, rel=REL)
        assert band["high"] == pytest.approx(high, rel=REL)
        assert band["robust_z"] == pytest.approx(z, rel=REL)
        assert band["baseline"] == pytest.approx(float(np.median(history.value)), rel=REL)
        assert band["unusual"] is (abs(z) >= THRESHOLD)
        checked += 1
    assert checked == 13


def test_a_week_outside_its_band_is_exactly_a_flagged_week(figures_json):
    flagged_now = {
        a["metric"]
        for a in figures_json["insights"]["anomalies"]
        if a["dimension"] is None and a["method"] == "history"
    }
    seen_unusual = 0
    for name, metric in figures_json["metrics"].items():
        for point in metric["series"]:
            band = point["expected_band"]
            if band is None:
                continue
            outside = not band["low"] < point["value"] < band["high"]
            assert outside is band["unusual"], (name, point["period"])
            seen_unusual += outside
        current = metric["series"][-1]["expected_band"]
        assert (current is not None and current["unusual"]) is (name in flagged_now), name
    assert seen_unusual >= 3  # the planted incidents: AHT, throughput, backlog …


def series_frame(values, volumes, noises) -> pd.DataFrame:
    starts = pd.date_range("2026-01-05", periods=len(values), freq="7D")
    return pd.DataFrame(
        {"period_start": starts, "value": values, "volume": volumes, "noise_sd": noises}
    )


@settings(max_examples=200, deadline=None)
@given(
    level=st.floats(-500, 500),
    spread=st.floats(0.0, 30.0),
    jump=st.floats(-200, 200),
    volume=st.floats(1, 5000),
    seed=st.integers(0, 2**32 - 1),
    total=st.booleans(),
)
def test_the_band_and_the_detector_never_disagree(level, spread, jump, volume, seed, total):
    rng = np.random.default_rng(seed)
    values = level + rng.normal(0, 1, HISTORY) * spread
    values[-1] += jump
    volumes = np.full(HISTORY, volume)
    noises = np.full(HISTORY, spread / 10)
    if total:  # a count: its own volume, Poisson noise
        values = np.abs(np.round(values)) + 1
        volumes, noises = values, np.full(HISTORY, np.nan)
    frame = series_frame(values, volumes, noises)
    band = expected_range(frame, threshold=THRESHOLD)
    flags = history_anomalies(frame, metric="m", direction="neutral", dimension=None, period="p")
    if band is None:
        assert flags == []
        return
    assert band.unusual is bool(flags)
    x = values[-1]
    if x != band.baseline and min(abs(x - band.low), abs(x - band.high)) > 1e-9 * max(1, abs(x)):
        assert (not band.low < x < band.high) is band.unusual
    if total or np.allclose(values, volumes):  # a total's noise and effect floor follow its
        return  # value: probing other values would judge another kind of series
    # the edges are exactly where the detector's verdict flips
    step = 1e-6 * (band.high - band.low)  # well inside the band's width, well above rounding
    if step <= 1e-9 * max(1.0, abs(band.low), abs(band.high)):
        return
    for edge, inward in ((band.low, step), (band.high, -step)):
        for probe, unusual in ((edge + inward, False), (edge - inward, True)):
            if probe == band.baseline or not band.low < band.baseline < band.high:
                continue
            moved = frame.assign(value=np.append(values[:-1], probe))
            flagged = history_anomalies(
                moved, metric="m", direction="neutral", dimension=None, period="p"
            )
            assert bool(flagged) is unusual, (edge, probe)


@settings(max_examples=80, deadline=None)
@given(
    level=st.floats(0.0, 1.0),
    spread=st.floats(0.0, 0.05),
    jump=st.floats(-0.3, 0.3),
    volume=st.floats(30, 5000),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_proportions_band_and_the_detector_never_disagree(level, spread, jump, volume, seed):
    rng = np.random.default_rng(seed)
    values = np.clip(level + rng.normal(0, 1, HISTORY) * spread, 0, 1)
    values[-1] = min(max(values[-1] + jump, 0.0), 1.0)
    noises = np.sqrt(values * (1 - values) / volume)
    frame = series_frame(values, np.full(HISTORY, volume), noises)
    band = expected_range(frame, threshold=THRESHOLD, bound=1.0)
    flags = history_anomalies(
        frame, metric="m", direction="neutral", dimension=None, period="p", bound=1.0
    )
    assert band is not None
    assert band.unusual is bool(flags)
    for probe in np.linspace(0, 1, 21):
        moved = frame.assign(value=np.append(values[:-1], probe))
        flagged = bool(
            history_anomalies(
                moved, metric="m", direction="neutral", dimension=None, period="p", bound=1.0
            )
        )
        near_edge = min(abs(probe - band.low), abs(probe - band.high)) < 1e-9
        if probe != band.baseline and not near_edge:
            assert flagged is not (band.low < probe < band.high), probe


def test_a_proportion_near_its_ceiling_is_judged_on_its_misses():
    """SLA attainment falling from 97 % to 94 % doubles the misses: unusual, though 3 points
    are under 4 % of 97 %; the same 3 points of a magnitude-floored metric are not."""
    values = np.array(
        [0.97, 0.971, 0.969, 0.97, 0.972, 0.968, 0.97, 0.971, 0.969, 0.97, 0.97, 0.97, 0.94]
    )
    volumes = np.full(HISTORY, 1_000_000.0)  # sampling noise negligible
    frame = series_frame(values, volumes, np.sqrt(values * (1 - values) / volumes))
    assert expected_range(frame, threshold=THRESHOLD, bound=1.0).unusual
    assert not expected_range(frame, threshold=THRESHOLD).unusual


def test_a_negative_baseline_mirrors_the_effect_floor():
    low, high = normal_range(np.array([-10.0] * 12), noise=0.0, min_effect=0.2, threshold=3.5)
    assert (low, high) == pytest.approx((-12.5, -8.0))
    low, high = normal_range(np.array([10.0] * 12), noise=0.0, min_effect=0.2, threshold=3.5)
    assert (low, high) == pytest.approx((8.0, 12.5))


def test_a_week_too_thin_to_judge_has_no_band():
    frame = series_frame(np.full(HISTORY, 0.9), np.full(HISTORY, 10.0), np.full(HISTORY, 0.05))
    assert expected_range(frame, threshold=THRESHOLD, min_volume=30) is None


# -- the chart -----------------------------------------------------------------------------------


def test_the_metric_page_chart_has_weeks_months_target_and_band(wbr_charts, figures_json):
    chart = wbr_charts["aht"]
    assert chart.chart_type == "wbr"
    weeks = chart.forecast_from  # then the forecast's weeks (tests/test_forward_charts.py)
    assert chart.categories[:weeks] == ("W42", "W43", "W44", "W45", "W46", "W47")
    roles = {s.role: s for s in chart.series}
    assert {"primary", "target", "band_low", "band_high"} <= set(roles)
    bands = [p["expected_band"] for p in figures_json["metrics"]["aht"]["series"][-6:]]
    low, high = roles["band_low"].values[:weeks], roles["band_high"].values[:weeks]
    assert low == pytest.approx([b["low"] for b in bands], rel=REL)
    assert high == pytest.approx([b["high"] for b in bands], rel=REL)
    assert "W47" in chart.flagged and chart.highlight == "W47"
    assert chart.panel is not None
    assert chart.panel.categories[0] == "Nov 25" and chart.panel.categories[-1] == "Oct 26"
    assert {s.role for s in chart.panel.series} == {"primary", "target"}


def test_the_flagged_weeks_are_the_unusual_ones(wbr_charts, figures_json):
    for name, chart in wbr_charts.items():
        if chart.chart_type != "wbr":
            continue
        weeks = chart.categories[: chart.forecast_from]  # the weeks that happened
        points = figures_json["metrics"][name]["series"][-len(weeks) :]
        unusual = {
            c
            for c, p in zip(weeks, points, strict=True)
            if p["expected_band"] and p["expected_band"]["unusual"]
        }
        assert set(chart.flagged) == unusual, name


def test_a_proportions_band_is_drawn_within_0_and_100_percent(wbr_charts):
    roles = {s.role: s for s in wbr_charts["sla_attainment"].series}
    assert max(v for v in roles["band_high"].values if v is not None) <= 1.0


def test_a_flow_total_gets_an_axis_of_its_own_for_months(wbr_charts):
    assert wbr_charts["decisions"].shared_axis is False  # a month is four weeks of decisions
    assert wbr_charts["aht"].shared_axis is True
    assert wbr_charts["backlog"].shared_axis is True  # a stock reads alike at any grain


def test_quantiles_show_the_whole_trend_of_weeks_without_months(wbr_charts, figures_json):
    chart = wbr_charts["time_to_action_p90"]
    assert chart.chart_type == "wbr" and chart.panel is None
    weeks = chart.categories[: chart.forecast_from]
    assert len(weeks) == len(figures_json["metrics"]["time_to_action_p90"]["series"])


def layers(spec: dict) -> list[dict]:
    out = []
    for part in spec.get("hconcat", []) + spec.get("layer", []):
        out += layers(part) if ("layer" in part or "hconcat" in part) else [part]
    return out


def test_the_altair_spec_draws_both_panels_band_and_target(wbr_charts, brand):
    spec = chart_to_altair(wbr_charts["aht"], brand, width=1010).to_dict()
    assert len(spec["hconcat"]) == 2
    drawn = layers(spec)
    marks = [(d["mark"]["type"], d["mark"]) for d in drawn]
    area = [d for d in drawn if d["mark"]["type"] == "area"]
    assert len(area) == 2  # the normal range, and the forecast's likely range
    assert all(a["encoding"]["y2"]["field"] == "high" for a in area)
    dashed = [m for kind, m in marks if kind == "line" and m.get("strokeDash")]
    assert len(dashed) == 3  # the target in the weeks and in the months, and the forecast
    assert spec["hconcat"][0]["title"]["text"] == "Last 6 weeks, next 4 forecast"
    assert spec["hconcat"][1]["title"]["text"] == "Last 12 months (closed)"


def test_the_html_report_draws_the_wbr_charts(built_report):
    html = built_report.artifacts["html"].read_text(encoding="utf-8")
    assert html.count('class="chart chart-wbr"') == len(built_report.figures.metrics)
    assert "Last 12 months (closed)" in html and "Normal range" in html


def test_the_deck_draws_the_band_as_native_stacked_columns(built_report, figures_json):
    deck = Presentation(built_report.artifacts["pptx"])
    charts = [
        shape.chart
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_chart
        and shape.chart.has_title
        and shape.chart.chart_title.text_frame.text.startswith(("Last 6 weeks", "Last 13 weeks"))
    ]
    assert len(charts) == len(figures_json["metrics"])
    banded = [c for c in charts if len(c.plots) == 2]  # a band: the column plot under the lines
    aht = next(c for c in banded if c.plots[1].series[0].name == "Average handle time")
    columns = aht._chartSpace.chart.plotArea.find(qn("c:barChart"))
    assert columns.find(qn("c:grouping")).get("val") == "stacked"
    base, width, *_likely = aht.plots[0].series  # then the forecast's likely range
    bands = [p["expected_band"] for p in figures_json["metrics"]["aht"]["series"][-6:]]
    assert list(base.values)[:6] == pytest.approx([b["low"] for b in bands], rel=REL)
    assert list(width.values)[:6] == pytest.approx([b["high"] - b["low"] for b in bands], rel=REL)
    assert [s.name for s in aht.plots[1].series] == ["Average handle time", "Target", "Forecast"]
