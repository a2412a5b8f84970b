"""The weekly business review chart: this week against normal, not only against last week.

Two panels on one value axis — the last six weeks, with the range the anomaly
model considers normal for each of them, and the last twelve closed months —
plus the target. Six weeks show the recent run without drowning the current
point; twelve months show the level and the season a week belongs to. A prior-year
line was the alternative: it needs two years of history (months) and repeats
what the months panel already shows, so the chart stays at three marks a panel.
"""

from __future__ import annotations

import math
from dataclasses import replace

from reportgen.analysis.anomalies import ExpectedRange
from reportgen.analysis.insights import Insights
from reportgen.analysis.outlook import MetricForecast
from reportgen.document import Chart, ChartSeries
from reportgen.figures import MetricFigures, ReportFigures, SeriesPoint

#: Weeks in the left panel.
WBR_WEEKS = 6
#: Forecast weeks drawn after them: the whole weekly horizon (figures.json and the workbook hold
#: the same four), so the picture and the numbers agree.
FORECAST_WEEKS = 4
FORECAST_NAME = "Forecast"


def week_label(point: SeriesPoint) -> str:
    """ "W47", with "*" for an incomplete week and "†" for a provisional one (as the trend)."""
    label = "W" + point.period.rsplit("-W", 1)[-1]
    return _marked(label, point)


def month_label(point: SeriesPoint) -> str:
    """ "Jan 26": short enough for twelve across half a page."""
    return _marked(f"{point.start:%b %y}", point)


def _marked(label: str, point: SeriesPoint) -> str:
    incomplete = not point.complete and point.value is not None
    return label + (" *" if incomplete else "") + (" †" if point.provisional else "")


def _targets(points: tuple[SeriesPoint, ...]) -> tuple[ChartSeries, ...]:
    if all(p.target is None for p in points):
        return ()
    return (ChartSeries("Target", tuple(p.target for p in points), "target"),)


def _limits(m: MetricFigures) -> tuple[float, float]:
    """What the metric can take: a proportion stays in 0–100 %, a count at or above zero."""
    values = [p.value for p in (*m.series, *m.months) if p.value is not None]
    low = 0.0 if values and min(values) >= 0 else -math.inf
    high = 1.0 if m.format == "percent" and values and max(values) <= 1 else math.inf
    return low, high


def _band(
    m: MetricFigures, bands: tuple[ExpectedRange | None, ...]
) -> tuple[ChartSeries, ChartSeries]:
    """The normal range's edges, cut to what the metric can take (a band above 100 % is the
    same band: no value can lie there)."""
    floor, ceiling = _limits(m)
    low = tuple(None if b is None else min(max(b.low, floor), ceiling) for b in bands)
    high = tuple(None if b is None else max(min(b.high, ceiling), floor) for b in bands)
    return ChartSeries("Normal range", low, "band_low"), ChartSeries(
        "Normal range", high, "band_high"
    )


def wbr_chart(
    m: MetricFigures,
    figures: ReportFigures,
    insights: Insights,
    value_label: str,
    *,
    weeks: int = WBR_WEEKS,
) -> Chart | None:
    """The metric's weeks-and-months chart; None when the report is not weekly."""
    if figures.period.grain != "week" or not m.series:
        return None
    if not m.months:  # no months beside them (a quantile): the weeks take the whole trend
        weeks = len(m.series)
    points = m.series[-weeks:]
    bands = insights.bands.get(m.metric, (None,) * len(m.series))[-weeks:]
    categories = tuple(week_label(p) for p in points)
    series = [ChartSeries(m.label, tuple(p.value for p in points), "primary"), *_targets(points)]
    if any(b is not None for b in bands):
        series.extend(_band(m, bands))
    flagged = tuple(c for c, b in zip(categories, bands, strict=True) if b and b.unusual)
    panel = None
    if m.months:
        panel = Chart(
            title=f"{m.label}, last {len(m.months)} months",
            chart_type="line",
            categories=tuple(month_label(p) for p in m.months),
            series=(
                ChartSeries(m.label, tuple(p.value for p in m.months), "primary"),
                *_targets(m.months),
            ),
            value_format=m.format,  # type: ignore[arg-type]
            value_label="",
            value_decimals=m.decimals,
        )
    notes = []
    if m.as_of is not None:
        notes.append("each period's closing snapshot")
    if any(p.provisional for p in (*points, *m.months)):
        notes.append("† provisional")
    spans = f"last {len(points)} weeks" + (f" and {len(m.months)} months" if panel else "")
    chart = Chart(
        title=f"{m.label}, {spans}" + (f" ({'; '.join(notes)})" if notes else ""),
        chart_type="wbr",
        categories=categories,
        series=tuple(series),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=value_label,
        highlight=categories[-1],
        value_decimals=m.decimals,
        panel=panel,
        flagged=flagged,
        panel_titles=(
            f"Last {len(points)} weeks",
            f"Last {len(m.months)} months (closed)" if panel else "",
        ),
        shared_axis=not is_flow_total(m),
    )
    forecast = _forecast_of(insights, m)
    return chart if forecast is None else with_forecast(chart, m, forecast)


def _forecast_of(insights: Insights, m: MetricFigures) -> MetricForecast | None:
    """The metric's forecast from the built week on, when there is one to draw."""
    if insights.outlook is None or not m.series or m.series[-1].value is None:
        return None
    found = next((f for f in insights.outlook.forecasts if f.metric == m.metric), None)
    if found is None or found.period != m.series[-1].period or not found.mean:
        return None
    return found


def with_forecast(chart: Chart, m: MetricFigures, forecast: MetricForecast) -> Chart:
    """The weeks run on into the forecast: a dashed line from the last actual week and its
    prediction range as a band that widens from that point.

    The line and the range start at the last actual value, so the forecast reads as the
    line's continuation; the target runs on with the targets in force in those weeks. The
    range is cut to what the metric can take, like the normal range.
    """
    ahead = min(FORECAST_WEEKS, len(forecast.mean))
    floor, ceiling = _limits(m)
    last = m.series[-1].value
    gap = (None,) * (len(chart.categories) - 1)
    blank = (None,) * ahead

    def cut(values: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(min(max(v, floor), ceiling) for v in values[:ahead])

    extended = []
    for s in chart.series:
        if s.role == "target":
            future = tuple(forecast.targets[:ahead]) or blank
            extended.append(replace(s, values=(*s.values, *future)))
        else:
            extended.append(replace(s, values=(*s.values, *blank)))
    if not any(s.role == "target" for s in chart.series) and any(
        t is not None for t in forecast.targets[:ahead]
    ):
        extended.append(
            ChartSeries(
                "Target", (*(None,) * len(chart.categories), *forecast.targets[:ahead]), "target"
            )
        )
    level = f"{forecast.level:.0%}"
    extended += [
        ChartSeries(FORECAST_NAME, (*gap, last, *forecast.mean[:ahead]), "forecast"),
        ChartSeries(f"Likely range ({level})", (*gap, last, *cut(forecast.lower)), "forecast_low"),
        ChartSeries(f"Likely range ({level})", (*gap, last, *cut(forecast.upper)), "forecast_high"),
    ]
    future_labels = tuple("W" + p.rsplit("-W", 1)[-1] for p in forecast.periods[:ahead])
    weeks_title, months_title = chart.panel_titles
    return replace(
        chart,
        categories=(*chart.categories, *future_labels),
        series=tuple(extended),
        panel_titles=(f"{weeks_title}, next {ahead} forecast", months_title),
        forecast_from=len(chart.categories),
    )


def is_flow_total(m: MetricFigures) -> bool:
    """A sum over the period's days (decisions, hours): a month is four weeks' worth, so
    months need an axis of their own. Ratios, means and stocks read alike at any grain."""
    summed = m.type == "total" or (m.type == "derived" and m.stats.total is not None)
    return summed and m.as_of is None


def minutes_when_short(chart: Chart, convert) -> Chart:
    """Both panels in minutes when the weeks are (``convert`` is compose's hours rule)."""
    weeks = convert(replace(chart, panel=None))
    if weeks.value_format == chart.value_format or chart.panel is None:
        return replace(weeks, panel=chart.panel)
    scaled = tuple(
        replace(s, values=tuple(None if v is None else v * 60 for v in s.values))
        for s in chart.panel.series
    )
    panel = replace(chart.panel, series=scaled, value_format=weeks.value_format)
    return replace(weeks, panel=panel)
