"""The forward look against independent computations on the raw demo rows.

Pace is recomputed from daily sums in plain SQL, the forecast by fitting
statsmodels' ETS directly, records and concentration from weekly SQL, the
backlog's net flow from decisions and enqueued items, and the change point
by running ruptures on a series read from the raw snapshots. The backtest
and the false-alarm count run on the demo's history.
"""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

REL = 1e-9
W47_START, W47_END = date(2026, 11, 16), date(2026, 11, 22)
INCIDENT_FREE = [f"2026-W{w}" for w in range(38, 45)]


@pytest.fixture(scope="module")
def outlook(analyst_report):
    """The forward look of the analyst edition (the only one of the demo that shows it)."""
    return analyst_report.insights.outlook


@pytest.fixture(scope="module")
def decisions(demo_dir):
    return f"read_parquet('{demo_dir}/decisions/*.parquet')"


@pytest.fixture(scope="module")
def snapshots(demo_dir):
    return f"read_parquet('{demo_dir}/queue_snapshots.parquet')"


def utc_day(column: str) -> str:
    return f"CAST({column} AT TIME ZONE 'UTC' AS DATE)"


def weekly(raw, sql: str) -> pd.Series:
    """A (week start → value) series from SQL returning (day, value) rows, by ISO week."""
    frame = raw.execute(sql).df()
    return frame.set_index("week")["value"].sort_index()


# -- pace to target -----------------------------------------------------------------------------


def independent_pace(daily: pd.DataFrame, start: date, end: date, through: date, ratio: bool):
    """Projection and 80 % interval straight from the definition, on SQL's daily sums."""
    from scipy.stats import norm

    daily = daily.set_index("day").sort_index()
    daily.index = pd.to_datetime(daily.index)
    recent = daily.loc[pd.Timestamp(through - timedelta(days=27)) : pd.Timestamp(through)]
    so_far = daily.loc[pd.Timestamp(start) : pd.Timestamp(through)]
    rest = pd.date_range(through + timedelta(days=1), end)
    z = norm.ppf(0.9)
    means = {wd: g.mean() for wd, g in recent.groupby(recent.index.day_of_week)}
    expect = sum((means[d.day_of_week] for d in rest), start=pd.Series(0.0, index=daily.columns))
    if not ratio:
        var = sum(recent[recent.index.day_of_week == d.day_of_week]["num"].var() for d in rest)
        point = so_far["num"].sum() + expect["num"]
        return so_far["num"].sum(), point, point - z * np.sqrt(var), point + z * np.sqrt(var)
    pace = recent["num"].sum() / recent["den"].sum()
    resid_var = (recent["num"] - pace * recent["den"]).var()
    den = so_far["den"].sum() + expect["den"]
    point = (so_far["num"].sum() + expect["num"]) / den
    half = z * np.sqrt(len(rest) * resid_var) / den
    return so_far["num"].sum() / so_far["den"].sum(), point, point - half, point + half


def paced(outlook, metric: str, period: str):
    return next(p for p in outlook.pace if p.metric == metric and p.period == period)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_aht_pace_is_sum_over_count_projected_from_raw_daily_sums(
    raw, decisions, outlook, period, start, end
):
    daily = raw.execute(
        f"SELECT {utc_day('decided_at')} AS day, sum(handle_seconds) AS num, count(*) AS den "
        f"FROM {decisions} WHERE NOT automated GROUP BY 1"
    ).df()
    to_date, point, low, high = independent_pace(daily, start, end, W47_END, ratio=True)
    got = paced(outlook, "aht", period)
    assert got.through == W47_END
    assert got.value_to_date == pytest.approx(to_date, rel=REL)
    assert got.projected == pytest.approx(point, rel=REL)
    assert (got.lower, got.upper) == pytest.approx((low, high), rel=REL)
    assert got.target == 57.0  # the target in force since 2026-04-27
    assert got.status == ("on pace" if point <= 57.0 else "off pace")


def test_sla_pace_counts_decisions_within_sla_over_decisions(raw, decisions, outlook):
    daily = raw.execute(
        f"SELECT {utc_day('decided_at')} AS day, "
        "count(*) FILTER (WHERE decided_at <= enqueued_at + sla_hours * INTERVAL '1 hour') AS num, "
        f"count(*) AS den FROM {decisions} GROUP BY 1"
    ).df()
    to_date, point, low, high = independent_pace(
        daily, date(2026, 11, 1), date(2026, 11, 30), W47_END, ratio=True
    )
    got = paced(outlook, "sla_attainment", "2026-11")
    assert got.value_to_date == pytest.approx(to_date, rel=REL)
    assert (got.projected, got.lower, got.upper) == pytest.approx((point, low, high), rel=REL)
    assert got.status == "on pace" and point >= 0.95


def test_pace_of_a_total_needs_no_denominator():
    from reportgen.analysis.pace import project

    days = pd.date_range("2026-10-05", "2026-11-01")
    daily = pd.DataFrame({"num": np.where(days.day_of_week < 5, 100.0, 40.0)}, index=days)
    to_date, projected, low, high, _ = project(
        daily,
        start=date(2026, 11, 1),
        end=date(2026, 11, 3),
        through=date(2026, 11, 1),
        ratio=False,
    )
    # Sunday 1 Nov so far (40), then Monday and Tuesday at their weekday's pace (100 each)
    assert (to_date, projected) == (40.0, 240.0)
    assert low == high == 240.0  # every Monday and Tuesday identical: no spread


def test_a_proportion_that_cannot_reach_its_target_is_already_missed():
    from reportgen.analysis.pace import best_case, status

    best = best_case((700.0, 1000.0), 100.0, direction="higher_is_better", proportion=True)
    assert best == pytest.approx(800 / 1100)
    assert status(0.7, 0.69, 0.71, 0.9, "higher_is_better", best=best, days_left=3) == (
        "already missed",
        True,
    )
    assert status(0.91, 0.9, 0.92, 0.9, "higher_is_better", best=0.95, days_left=3) == (
        "on pace",
        False,
    )
    # off pace, but the interval still reaches the target: listed, not raised
    assert status(0.89, 0.85, 0.93, 0.9, "higher_is_better", best=0.95, days_left=3) == (
        "off pace",
        False,
    )


# -- forecasts ----------------------------------------------------------------------------------


def weekly_decisions(raw, decisions) -> pd.Series:
    return weekly(
        raw,
        f"SELECT date_trunc('week', {utc_day('decided_at')}) AS week, count(*) AS value "
        f"FROM {decisions} GROUP BY 1",
    )


def test_decisions_forecast_is_statsmodels_ets_on_the_raw_weekly_counts(raw, decisions, outlook):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = weekly_decisions(raw, decisions)
    history = series[series.index <= pd.Timestamp(W47_START)].astype(float).tail(53)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ETSModel(history.reset_index(drop=True), error="add", trend=None).fit(disp=False)
        expected = fit.get_prediction(start=len(history), end=len(history) + 3).summary_frame(
            alpha=0.2
        )
    got = next(f for f in outlook.forecasts if f.metric == "decisions")
    assert got.periods == ("2026-W48", "2026-W49", "2026-W50", "2026-W51")
    assert got.mean == pytest.approx(tuple(expected["mean"]), rel=1e-9)
    assert got.lower == pytest.approx(tuple(expected["pi_lower"]), rel=1e-9)
    assert got.upper == pytest.approx(tuple(expected["pi_upper"]), rel=1e-9)


@pytest.fixture(scope="module")
def cube_and_report(weekly_config):
    from reportgen.config.loader import load_report
    from reportgen.data.plan import needed_measures
    from reportgen.data.scan import compute_cube

    report = load_report(weekly_config)
    return report, compute_cube(report, needed_measures(report))


def metric_series(cube_and_report, name: str, periods) -> np.ndarray:
    from reportgen.figures import measure_series, metric_values

    report, cube = cube_and_report
    metric = report.metric(name)
    values = metric_values(metric, measure_series(cube, metric.measures, periods)).to_numpy(float)
    return values[np.isfinite(values)]


#: one-step-ahead forecasts from these many origins per metric: the demo's last 28 weeks (a
#: stock such as the backlog steps up with the planted outage; fewer weeks would be all step)
BACKTEST_ORIGINS = 28


def backtest(series: np.ndarray, origins: int, season: int | None):
    from reportgen.analysis.forecast import ets_forecast, seasonal_naive

    ets_err, naive_err, inside = [], [], []
    for t in range(len(series) - origins, len(series)):
        path = ets_forecast(series[:t], 1, season=season)
        naive = seasonal_naive(series[:t], 1, season or 1)[0]
        ets_err.append(abs(series[t] - path.mean[0]))
        naive_err.append(abs(series[t] - naive))
        inside.append(path.lower[0] <= series[t] <= path.upper[0])
    scale = np.mean(np.abs(np.diff(series[: len(series) - origins], n=1)))
    if season:
        head = series[: len(series) - origins]
        scale = np.mean(np.abs(head[season:] - head[:-season]))
    return np.mean(ets_err) / scale, np.mean(naive_err) / scale, inside


def test_weekly_forecasts_beat_naive_on_mase_with_honest_intervals(cube_and_report):
    """Backtest, weekly grain: the figures in the README come from this test."""
    from reportgen.periods import parse_period

    periods = parse_period("2026-W47").trailing(60)
    periods = tuple(p for p in periods if p.start >= cube_and_report[1].first_complete_day)
    coverage, results = [], {}
    for name in (
        "decisions",
        "backlog",
        "aht",
        "throughput",
        "utilization",
        "sla_attainment",
        "qa_accuracy",
        "overturn_rate",
        "automation_rate",
        "proactive_rate",
        "high_severity_exposure",
    ):
        ets, naive, inside = backtest(
            metric_series(cube_and_report, name, periods), BACKTEST_ORIGINS, None
        )
        results[name] = (ets, naive)
        coverage += inside
    for name, (ets, naive) in results.items():
        assert ets < naive, f"{name}: ETS MASE {ets:.3f} ≥ naive {naive:.3f}"
    assert 0.70 <= np.mean(coverage) <= 0.90, f"80% interval covered {np.mean(coverage):.1%}"
    print(
        "weekly",
        {k: (round(a, 3), round(b, 3)) for k, (a, b) in results.items()},
        f"coverage {np.mean(coverage):.3f} of {len(coverage)}",
    )


def test_daily_forecasts_beat_seasonal_naive_with_weekday_season(cube_and_report):
    from reportgen.periods import period_containing

    last = date(2026, 11, 8)  # six weeks of origins before the planted incidents of W46-W47
    days = tuple(period_containing(last - timedelta(days=k), "day") for k in range(139, -1, -1))
    coverage, results = [], {}
    for name in ("decisions", "aht", "sla_attainment"):
        ets, naive, inside = backtest(metric_series(cube_and_report, name, days), 42, 7)
        results[name] = (ets, naive)
        coverage += inside
    for name, (ets, naive) in results.items():
        assert ets < naive, f"{name}: ETS MASE {ets:.3f} ≥ seasonal naive {naive:.3f}"
    assert 0.70 <= np.mean(coverage) <= 0.90, f"80% interval covered {np.mean(coverage):.1%}"
    print(
        "daily",
        {k: (round(a, 3), round(b, 3)) for k, (a, b) in results.items()},
        f"coverage {np.mean(coverage):.3f} of {len(coverage)}",
    )


# -- backlog outlook ----------------------------------------------------------------------------


def test_backlog_net_flow_is_decisions_out_minus_items_in(raw, decisions, demo_dir, outlook):
    """Per region over W47: decided in the week − enqueued in the week (decided or still open)."""
    window = lambda col: (  # noqa: E731
        f"{utc_day(col)} BETWEEN DATE '{W47_START}' AND DATE '{W47_END}'"
    )
    out = dict(
        raw.execute(
            f"SELECT region, count(*) FROM {decisions} WHERE {window('decided_at')} GROUP BY 1"
        ).fetchall()
    )
    came = dict(
        raw.execute(
            f"SELECT region, count(*) FROM (SELECT region, enqueued_at FROM {decisions} UNION ALL "
            f"SELECT region, enqueued_at FROM read_parquet('{demo_dir}/open_items.parquet')) "
            f"WHERE {window('enqueued_at')} GROUP BY 1"
        ).fetchall()
    )
    regions = {b.segment: b for b in outlook.backlog if b.dimension == "region"}
    assert regions
    for region, b in regions.items():
        assert b.net_outflow_per_day == pytest.approx((out[region] - came[region]) / 7, rel=REL)
        if b.weeks_to_clear is not None:
            assert b.weeks_to_clear == pytest.approx(b.backlog / b.net_outflow_per_day / 7)
        else:
            assert b.growing_per_day == pytest.approx(-b.net_outflow_per_day)


# -- records and streaks ------------------------------------------------------------------------


def test_aht_record_matches_the_raw_weekly_series(raw, decisions, outlook):
    series = weekly(
        raw,
        f"SELECT date_trunc('week', {utc_day('decided_at')}) AS week, "
        f"sum(handle_seconds) / count(*) AS value FROM {decisions} WHERE NOT automated GROUP BY 1",
    )
    year = series[(series.index <= pd.Timestamp(W47_START))].tail(53)
    earlier = year.iloc[:-1]
    record = next(r for r in outlook.records if r.metric == "aht")
    assert year.iloc[-1] > earlier.max()
    assert (record.kind, record.window, record.since_data_begins) == ("highest", 52, False)
    assert record.value == pytest.approx(year.iloc[-1], rel=REL)
    assert record.previous_record == pytest.approx(earlier.max(), rel=REL)
    week = earlier.idxmax().isocalendar()
    assert record.previous_record_period == f"{week.year}-W{week.week:02d}"


def test_a_record_on_a_short_history_says_since_the_data_begins():
    from reportgen.analysis.records import find_record

    kind, before, at, since_begin, beyond = find_record(
        [3.0, 5.0, 4.0, 6.0], "abcd", year=52, margin=0.5
    )
    assert (kind, before, at, since_begin, beyond) == ("highest", 5.0, 1, True, True)
    assert find_record([3.0, 5.0, 4.0], "abc", year=52, margin=0) is None


def test_streak_counts_consecutive_misses_up_to_now():
    from reportgen.analysis.records import missed_streak

    assert missed_streak([True, False, True, True, True]) == 3
    assert missed_streak([True, True, None, True]) == 1  # no target: the run is broken
    assert missed_streak([True, False]) == 0


def test_streaks_agree_with_the_weekly_target_status(analyst_report, outlook):
    from reportgen.figures import target_met

    for name, m in analyst_report.figures.metrics.items():
        run = 0
        for p in reversed(m.series):
            if m.target is None or target_met(m.direction, p.value, m.target) is not False:
                break
            run += 1
        streak = next((s for s in outlook.streaks if s.metric == name), None)
        assert (streak.length if streak else 0) == (run if run >= 2 else 0), name


# -- concentration ------------------------------------------------------------------------------


def test_backlog_concentration_by_region_from_raw_snapshots(raw, snapshots, outlook):
    frame = raw.execute(
        f"SELECT day, region, sum(pending_items) AS n FROM {snapshots} "
        f"WHERE dayofweek(day) = 0 AND day <= DATE '{W47_END}' GROUP BY 1, 2"
    ).df()  # Sundays: each week's closing snapshot
    table = frame.pivot(index="day", columns="region", values="n").sort_index().tail(13).fillna(0)
    shares = table.div(table.sum(axis=1), axis=0)
    usual = shares.iloc[:-1].median()
    got = next(c for c in outlook.concentration if (c.metric, c.dimension) == ("backlog", "region"))
    assert got.hhi == pytest.approx(float((shares.iloc[-1] ** 2).sum()), rel=REL)
    assert got.usual_hhi == pytest.approx(
        float(np.median((shares.iloc[:-1] ** 2).sum(axis=1))), rel=REL
    )
    assert got.segment == "Latin America" and got.of == "volume" and got.fires
    assert got.share == pytest.approx(shares.iloc[-1]["Latin America"], rel=REL)
    assert got.usual_share == pytest.approx(usual["Latin America"], rel=REL)


def test_herfindahl_index_is_the_sum_of_squared_shares():
    from reportgen.analysis.concentration import hhi

    assert hhi(pd.Series([0.25] * 4)) == pytest.approx(0.25)
    assert hhi(pd.Series([1.0, 0.0])) == 1.0


# -- trend shifts -------------------------------------------------------------------------------


def test_latin_america_backlog_shift_is_ruptures_pelt_on_the_raw_weekly_snapshots(
    raw, snapshots, outlook
):
    import ruptures

    from reportgen.analysis.shifts import MIN_SIZE, PENALTY, WINDOW

    series = raw.execute(
        f"SELECT day, sum(pending_items) AS n FROM {snapshots} WHERE region = 'Latin America' "
        f"AND dayofweek(day) = 0 AND day <= DATE '{W47_END}' GROUP BY 1 ORDER BY 1"
    ).df()
    values = series["n"].to_numpy(float)[-WINDOW:]
    diffs = np.diff(values)
    sigma = 1.482602218505602 * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2)
    floor = 0.10 * np.median(np.abs(values)) / 3.5
    pen = PENALTY * max(sigma, floor) ** 2 * np.log(len(values))
    ends = ruptures.Pelt(model="l2", min_size=MIN_SIZE, jump=1).fit(values).predict(pen=pen)
    at = [b for b in ends if b < len(values)][-1]
    day = series["day"].iloc[-WINDOW:].iloc[at] - timedelta(days=6)  # the week's Monday
    week = pd.Timestamp(day).isocalendar()
    got = next(s for s in outlook.shifts if (s.metric, s.segment) == ("backlog", "Latin America"))
    assert got.since == f"{week.year}-W{week.week:02d}"
    assert got.after == pytest.approx(values[at:].mean(), rel=REL)
    assert got.direction == "up"


def test_a_one_period_spike_is_not_a_shift():
    from reportgen.analysis.shifts import last_shift

    values = np.array([100.0, 101, 99, 100, 102, 98, 100, 101, 99, 100, 130])
    assert last_shift(values, floor=1.0) is None


def test_two_adjacent_spikes_do_not_persist_as_a_level():
    from reportgen.analysis.shifts import persists

    values = np.array([100.0, 100, 100, 100, 101, 130, 130])
    assert not persists(values, 4, 100.0, 120.3)
    assert persists(values, 5, 100.2, 130.0)


# -- false alarms and output ----------------------------------------------------------------------


def test_no_forward_insight_fires_more_often_than_anomalies_on_incident_free_weeks(
    cube_and_report,
):
    """Per week, the anomalies a report lists (the detector ``analyze`` runs: qualifying them
    as provisional changes no count) against every forward detector on the same figures."""
    from reportgen.analysis.insights import detect_anomalies
    from reportgen.analysis.outlook import look_ahead
    from reportgen.figures import Targets, compute_figures
    from reportgen.periods import parse_period

    report, cube = cube_and_report
    targets = Targets.load(report)
    counts: dict[str, int] = {}
    anomalies = 0
    for week in INCIDENT_FREE:
        figures = compute_figures(report, cube, parse_period(week), targets)
        anomalies += len(detect_anomalies(report, cube, figures))
        for kind, n in look_ahead(report, cube, figures).raised_counts.items():
            counts[kind] = counts.get(kind, 0) + n
    print(f"over {len(INCIDENT_FREE)} incident-free weeks: anomalies {anomalies}, {counts}")
    for kind, n in counts.items():
        assert n <= anomalies, f"{kind} raised {n} times, anomalies {anomalies}"


def test_the_leadership_edition_looks_ahead_only_for_its_charts_and_stories(built_report):
    """It shows no "Looking ahead" section: it draws the forecasts on its trend charts and
    tells forward stories from the pace and backlog outlook, and skips the rest (build time)."""
    outlook = built_report.insights.outlook
    assert outlook.forecasts and outlook.pace and outlook.backlog
    assert outlook.records == outlook.streaks == outlook.concentration == outlook.shifts == ()


def test_figures_json_carries_the_outlook_with_method_baseline_and_floor(analyst_report):
    data = json.loads(analyst_report.artifacts["figures"].read_text())
    outlook = data["insights"]["outlook"]
    for kind in ("pace", "forecasts", "backlog", "records", "streaks", "concentration", "shifts"):
        assert kind in outlook
        for item in outlook[kind]:
            assert {"method", "baseline", "volume", "volume_floor", "fires", "detail"} <= set(item)
    assert all("hhi" in c for c in outlook["concentration"])
    assert outlook["raised_counts"]["concentration"] >= 1


def test_looking_ahead_section_leads_with_what_is_raised(weekly_config, analyst_report):
    from reportgen.compose._outlook import outlook_section
    from reportgen.config.loader import load_report

    section = outlook_section(
        load_report(weekly_config), analyst_report.figures, analyst_report.insights
    )
    assert section.title == "Looking ahead"
    tables = [b.title for b in section.blocks if b.kind == "table"]
    assert tables == ["Pace to target", "Forecast", "Backlog outlook"]
    raised = analyst_report.insights.outlook.raised()
    first = section.blocks[0].paragraphs
    assert first[0].startswith(f"{sum(map(len, raised.values()))} forward-looking findings")
    assert any("Latin America holds" in p for p in first)
