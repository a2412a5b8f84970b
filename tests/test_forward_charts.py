"""Each metric's forecast is drawn on its own weekly trend chart: a dashed line from the last
actual week and its likely range as a band of its own, apart from the normal range.

Everything reads the session's leadership build of 2026-W47 (``built_report``); the forecast
numbers on the charts are checked against statsmodels' ETS fitted directly on weekly series
computed with SQL from the raw demo rows.
"""

from __future__ import annotations

import re
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pptx import Presentation

from reportgen.document import Chart
from reportgen.render.charts.rules import band_colour, forecast_band_colour

W47_START = date(2026, 11, 16)
AHEAD = ("W48", "W49", "W50", "W51")

#: weekly (week start, value) from the raw decisions: each metric as the catalog defines it
RAW_WEEKLY = {
    "decisions": "count(*)",
    "aht": "sum(handle_seconds) FILTER (WHERE NOT automated) / "
    "count(*) FILTER (WHERE NOT automated)",
    "sla_attainment": "count(*) FILTER (WHERE decided_at <= enqueued_at + sla_hours * "
    "INTERVAL '1 hour') / count(*)",
    "qa_accuracy": "count(*) FILTER (WHERE qa_sampled AND qa_correct) / "
    "count(*) FILTER (WHERE qa_sampled)",
    "automation_rate": "count(*) FILTER (WHERE automated) / count(*)",
}


def wbr_charts(document) -> dict[str, Chart]:
    """metric id → its trend chart (the weeks and months chart of its section)."""
    found = {}
    for section in document.sections:
        for block in section.blocks:
            if getattr(block, "kind", None) == "chart" and block.chart_type == "wbr":
                found[section.id] = block
    return found


@pytest.fixture(scope="module")
def charts(built_report) -> dict[str, Chart]:
    return wbr_charts(built_report.document)


@pytest.fixture(scope="module")
def forecasts(built_report) -> dict:
    return {f.metric: f for f in built_report.insights.outlook.forecasts}


def role(chart: Chart, name: str):
    return next(s for s in chart.series if s.role == name)


def test_every_forecast_metric_draws_its_forecast_on_its_trend_chart(charts, forecasts):
    drawn = [name for name, chart in charts.items() if chart.forecast_from is not None]
    assert set(drawn) == set(forecasts) & set(charts)
    assert len(drawn) >= 10  # every headline metric with a year of weeks


@pytest.mark.parametrize("metric", ["decisions", "aht", "sla_attainment", "qa_accuracy"])
def test_the_forecast_continues_the_weeks_from_the_last_actual_value(charts, forecasts, metric):
    chart, f = charts[metric], forecasts[metric]
    weeks = chart.forecast_from
    assert chart.categories[weeks:] == AHEAD
    assert chart.highlight == chart.categories[weeks - 1]
    assert chart.highlight.startswith("W47")  # "W47 †" while its data is provisional
    actual = role(chart, "primary").values
    assert actual[weeks:] == (None,) * 4  # nothing drawn as if it had happened
    line = role(chart, "forecast").values
    assert line[: weeks - 1] == (None,) * (weeks - 1)
    assert line[weeks - 1] == actual[weeks - 1]  # starts at W47's value
    assert line[weeks:] == pytest.approx(f.mean, rel=1e-12)
    assert role(chart, "forecast_low").values[weeks:] == pytest.approx(f.lower, rel=1e-12)
    assert role(chart, "forecast_high").values[weeks:] == pytest.approx(f.upper, rel=1e-12)


def test_the_target_runs_on_through_the_forecast_weeks(charts, forecasts):
    chart, f = charts["aht"], forecasts["aht"]
    target = role(chart, "target").values
    assert target[chart.forecast_from :] == f.targets
    assert f.targets == (57.0,) * 4  # the demo's AHT target in force from 2026-04-27


def test_the_normal_range_stays_on_the_weeks_that_happened(charts):
    chart = charts["aht"]
    low = role(chart, "band_low").values
    assert all(v is None for v in low[chart.forecast_from :])
    assert low[chart.forecast_from - 1] is not None


def raw_weekly(raw, demo_dir, expression: str) -> pd.Series:
    frame = raw.execute(
        f"SELECT date_trunc('week', CAST(decided_at AT TIME ZONE 'UTC' AS DATE)) AS week, "
        f"{expression} AS value FROM read_parquet('{demo_dir}/decisions/*.parquet') GROUP BY 1"
    ).df()
    return frame.set_index("week")["value"].sort_index().astype(float)


@pytest.mark.parametrize("metric", sorted(RAW_WEEKLY))
def test_the_drawn_forecast_is_statsmodels_ets_on_the_raw_weekly_series(
    raw, demo_dir, charts, metric
):
    """The numbers on the chart: ETS(A,N,N) fitted by statsmodels itself on SQL's weekly values
    (the 53 weeks up to W47), with its analytic 80 % prediction interval."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = raw_weekly(raw, demo_dir, RAW_WEEKLY[metric])
    history = series[series.index <= pd.Timestamp(W47_START)].tail(53)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ETSModel(history.reset_index(drop=True), error="add", trend=None).fit(disp=False)
        expected = fit.get_prediction(start=len(history), end=len(history) + 3).summary_frame(
            alpha=0.2
        )
    chart = charts[metric]
    weeks = chart.forecast_from
    assert role(chart, "primary").values[weeks - 1] == pytest.approx(history.iloc[-1], rel=1e-9)
    assert role(chart, "forecast").values[weeks:] == pytest.approx(
        tuple(expected["mean"]), rel=1e-6
    )
    assert role(chart, "forecast_low").values[weeks:] == pytest.approx(
        tuple(expected["pi_lower"]), rel=1e-6
    )
    assert role(chart, "forecast_high").values[weeks:] == pytest.approx(
        tuple(expected["pi_upper"]), rel=1e-6
    )


def test_the_likely_range_widens_with_the_horizon(forecasts):
    """The analytic interval of a level model grows with each step ahead."""
    for f in forecasts.values():
        widths = np.subtract(f.upper, f.lower)
        assert (np.diff(widths) > 0).all(), f.metric


# -- drawn: SVG (PDF, HTML) and the deck's native chart ----------------------------------------


def test_the_html_chart_has_a_forecast_line_and_its_own_band_in_the_legend(built_report, brand):
    html = built_report.artifacts["html"].read_text(encoding="utf-8")
    svg = html[html.index("Average handle time, last 6 weeks") :]
    svg = svg[: svg.index("</svg>")]
    assert "Likely range (80%)" in svg and ">Forecast<" in svg and "Normal range" in svg
    fills = {f.upper() for f in re.findall(r'fill="(#[0-9A-Fa-f]{6})"', svg)}
    assert forecast_band_colour(brand).upper() in fills
    assert band_colour(brand).upper() in fills
    assert forecast_band_colour(brand) != band_colour(brand)
    assert "Last 6 weeks, next 4 forecast" in svg


def deck_weeks_chart(built_report, title_start: str):
    deck = Presentation(built_report.artifacts["pptx"])
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_chart and shape.name.startswith(title_start):
                chart = shape.chart
                if any(str(c) == "W51" for c in chart.plots[0].categories):
                    return chart
    raise AssertionError(f"no weeks chart with a forecast for {title_start!r}")


def test_the_deck_draws_the_forecast_natively_with_editable_data(built_report, forecasts, brand):
    chart = deck_weeks_chart(built_report, "Average handle time")
    f = forecasts["aht"]
    area, lines = chart.plots[0], chart.plots[1]
    categories = list(area.categories)
    assert categories[-4:] == list(AHEAD)
    stacked = {s.name: list(s.values) for s in area.series}
    base = np.array([v or 0.0 for v in stacked["Likely range (low edge)"]])
    layers = [np.array([v or 0.0 for v in values]) for values in stacked.values()]
    top = np.sum(layers, axis=0)
    # the forecast weeks: the transparent base is the range's low edge, the stack's top its high
    assert base[-4:] == pytest.approx(f.lower, rel=1e-9)
    assert top[-4:] == pytest.approx(f.upper, rel=1e-9)
    likely = next(s for s in area.series if s.name == "Likely range (80%)")
    assert str(likely.format.fill.fore_color.rgb) == forecast_band_colour(brand).lstrip("#")
    forecast = next(s for s in lines.series if s.name == "Forecast")
    assert list(forecast.values)[-4:] == pytest.approx(f.mean, rel=1e-9)
    dash = forecast.format.line._ln.find(
        "{http://schemas.openxmlformats.org/drawingml/2006/main}prstDash"
    )
    assert dash is not None and dash.get("val") == "sysDash"


def test_the_deck_legend_hides_the_transparent_stack_parts(built_report):
    chart = deck_weeks_chart(built_report, "Average handle time")
    legend = chart._chartSpace.chart.find(
        "{http://schemas.openxmlformats.org/drawingml/2006/chart}legend"
    )
    ns = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    hidden = {int(e.find(f"{ns}idx").get("val")) for e in legend.findall(f"{ns}legendEntry")}
    names = [s.name for s in chart.plots[0].series]
    assert {names[i] for i in hidden} == {"Normal range (low edge)", "Likely range (low edge)"}


def test_the_analyst_notes_read_the_next_weeks_forecast(charts, forecasts):
    """An analyst deck's "Key numbers" (a leadership deck's notes are talking points)."""
    from reportgen.formatting import format_value
    from reportgen.render.pptx._wbr import wbr_key_numbers

    f = forecasts["aht"]
    low, high = (
        format_value(v, "seconds", charts["aht"].value_decimals) for v in (f.lower[0], f.upper[0])
    )
    assert (
        f"Forecast W48: {format_value(f.mean[0], 'seconds', charts['aht'].value_decimals)} "
        f"(likely range (80%) {low}–{high})"
    ) in wbr_key_numbers(charts["aht"])


def test_a_weekly_looking_ahead_section_draws_no_separate_forecast_charts(analyst_report):
    section = next(s for s in analyst_report.document.sections if s.id == "outlook")
    assert not [b for b in section.blocks if getattr(b, "kind", None) == "chart"]
    tables = [b.title for b in section.blocks if getattr(b, "kind", None) == "table"]
    assert "Forecast" in tables  # the numbers stay
