"""The "Looking ahead" section: pace to target, forecasts, backlog outlook and what stands out.

It shows the forward look (:mod:`reportgen.analysis.outlook`) as the analyst
edition's readers need it: the findings raised this period first, in words,
then the tables behind them. Everything listed here, and what is not raised,
is in figures.json under ``insights.outlook``.
"""

from __future__ import annotations

from reportgen.analysis.insights import Insights
from reportgen.analysis.outlook import MetricForecast, Outlook
from reportgen.config.loader import ResolvedReport
from reportgen.document import (
    Block,
    Cell,
    Chart,
    ChartSeries,
    Column,
    Narrative,
    Section,
    Table,
)
from reportgen.figures import MetricFigures, ReportFigures
from reportgen.wording import headline_value, value_text

_SENTIMENT = {"on pace": "good", "off pace": "bad", "already missed": "bad", "final": None}
#: the order raised findings are read in: what will miss first, then what changed
_KINDS = ("pace", "backlog", "shifts", "records", "streaks", "concentration", "forecasts")
#: trend charts with their forecast (reports other than weekly: a weekly report's metric sections
#: draw every forecast on the metric's own trend chart): one per metric raised, at most
MAX_CHARTS = 3
METHODS = (
    "Pace: the period so far plus each remaining day at the mean of its weekday over the last "
    "28 days — a ratio by its numerator and denominator — with an 80% interval from the days' "
    "spread. Forecast: exponential smoothing (statsmodels ETS, additive errors, no trend; "
    "weekday-seasonal for daily data) with its 80% prediction interval. Backlog: net flow is "
    "the change of the closing queue snapshots (decisions out − items in). Records: the current "
    "value against the previous 52 periods (or since the data begins). Shifts: PELT change "
    "points (ruptures) on the last 26 periods, raised once when the new level has held 3."
)


def outlook_section(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section | None:
    """None when the analysis ran without a forward look."""
    outlook = insights.outlook
    if outlook is None:
        return None
    raised = outlook.raised()
    findings = [x.detail for kind in _KINDS for x in raised[kind]]
    if findings:
        lead = f"{len(findings)} forward-looking findings for {figures.period.label}:"
    else:
        lead = f"Nothing forward-looking stands out in {figures.period.label}."
    # what will land where first, then the pictures of what stands out, then the tables
    blocks: list[Block] = [Narrative((lead, *findings))]
    if (pace_table := _pace_table(figures, outlook)) is not None:
        blocks.append(pace_table)
    if figures.period.grain != "week":  # a weekly report draws each forecast on its trend chart
        named = dict.fromkeys(x.metric for kind in _KINDS for x in raised[kind])
        forecasts = {f.metric: f for f in outlook.forecasts}
        blocks += [
            forecast_chart(figures.metrics[name], forecasts[name], figures.period.grain)
            for name in list(named)[:MAX_CHARTS]
            if name in forecasts
        ]
    for table in (_forecast_table(figures, outlook), _backlog_table(report, figures, outlook)):
        if table is not None:
            blocks.append(table)
    blocks.append(Narrative((METHODS,)))
    return Section("outlook", "Looking ahead", "summary", tuple(blocks), (lead, *findings))


def forecast_chart(m: MetricFigures, forecast: MetricForecast, grain: str) -> Chart:
    """The trend with its forecast continued as a dashed line between its interval's bounds.

    Drawn with the existing series roles, so every renderer draws it: the
    forecast is a comparison line that starts at the last actual value, the
    interval's bounds are dashed like a target line.
    """
    actual = tuple(p.value for p in m.series)
    ahead = len(forecast.periods)
    gap = (None,) * (len(actual) - 1)
    last = actual[-1]
    series = [
        ChartSeries(m.label, actual + (None,) * ahead, "primary"),
        ChartSeries("Forecast", (*gap, last, *forecast.mean), "comparison"),
        ChartSeries(f"{forecast.level:.0%} interval, low", (*gap, last, *forecast.lower), "target"),
        ChartSeries(f"{forecast.level:.0%} high", (*gap, last, *forecast.upper), "target"),
    ]
    categories = (*(p.period for p in m.series), *forecast.periods)
    return Chart(
        title=f"{m.label}: last {len(actual)} {grain}s and the next {ahead} forecast",
        chart_type="line",
        categories=categories,
        series=tuple(series),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=m.unit or m.label,
        highlight=m.series[-1].period,
        value_decimals=m.decimals,
    )


def _pace_table(figures: ReportFigures, outlook: Outlook) -> Table | None:
    """One row per metric: the month and the quarter side by side."""
    if not outlook.pace:
        return None
    spans: dict[str, None] = {}
    by_metric: dict[str, dict[str, object]] = {}
    for p in outlook.pace:
        spans.setdefault(p.period)
        by_metric.setdefault(p.metric, {})[p.period] = p
    labels = {p.period: f"{p.period}, {p.days_left} days left" for p in outlook.pace}
    rows = []
    for name, paced in by_metric.items():
        m = figures.metrics[name]
        first = next(iter(paced.values()))
        cells = [_metric_cell(m), Cell(value_text(m, first.target, unit=False), first.target)]
        for span in spans:
            p = paced.get(span)
            if p is None:
                cells += [Cell("—"), Cell("—")]
                continue
            projected = (
                f"{value_text(m, p.projected, unit=False)} "
                f"({value_text(m, p.lower, unit=False)}–{value_text(m, p.upper, unit=False)})"
            )
            cells += [
                Cell(value_text(m, p.value_to_date, unit=False), p.value_to_date),
                # the verdict beside its projection: a column of its own wraps "on pace" in two
                Cell(f"{projected}: {p.status}", p.projected, _SENTIMENT[p.status]),  # type: ignore[arg-type]
            ]
        rows.append(tuple(cells))
    columns = [Column("metric", "Metric", "left"), Column("target", "Target")]
    for k, span in enumerate(spans):
        columns += [
            Column(f"to_date{k}", f"{span} to date"),
            Column(f"projected{k}", "Projected (80% interval): status"),
        ]
    return Table(
        "Pace to target",
        tuple(columns),
        tuple(rows),
        caption="Where each period ends at the current pace ("
        + "; ".join(labels.values())
        + "); ratios by numerator and denominator.",
    )


def _metric_cell(m: MetricFigures) -> Cell:
    """The metric's label, with a rate's unit (the value cells leave it out)."""
    return Cell(f"{m.label} ({m.unit})" if m.unit else m.label)


def _forecast_table(figures: ReportFigures, outlook: Outlook) -> Table | None:
    if not outlook.forecasts:
        return None
    shown = outlook.forecasts[0].periods[:2]
    rows = []
    for f in outlook.forecasts:
        m = figures.metrics[f.metric]
        cells = [_metric_cell(m), Cell(headline_value(m, m.value, unit=False), m.value)]
        for k in range(len(shown)):
            cells.append(
                Cell(
                    f"{headline_value(m, f.mean[k], unit=False)} "
                    f"({value_text(m, f.lower[k], unit=False)}–"
                    f"{value_text(m, f.upper[k], unit=False)})",
                    f.mean[k],
                )
            )
        target = "—" if f.target is None else value_text(m, f.target, unit=False)
        cells.append(Cell(target, f.target))
        rows.append(tuple(cells))
    return Table(
        "Forecast",
        (
            Column("metric", "Metric", "left"),
            Column("now", figures.period.label),
            *(Column(f"f{k}", f"{label} (80% interval)") for k, label in enumerate(shown)),
            Column("target", "Target"),
        ),
        tuple(rows),
        caption=f"{outlook.forecasts[0].model}; every forecast period is in figures.json.",
    )


def _backlog_table(
    report: ResolvedReport, figures: ReportFigures, outlook: Outlook
) -> Table | None:
    if not outlook.backlog:
        return None
    rows, muted = [], []
    ordered = sorted(
        outlook.backlog,
        key=lambda b: (b.dimension or "", -(b.growing_per_day or 0), -b.backlog),
    )
    for b in ordered:
        m = figures.metrics[b.metric]
        dim = report.catalog.dimensions.get(b.dimension) if b.dimension else None
        label = (dim.label if dim else str(b.dimension)).lower()
        where = "All" if b.segment is None else f"{b.segment} ({label})"
        if b.weeks_to_clear is not None:
            outlook_text, sentiment = f"clears in {b.weeks_to_clear:.1f} weeks", None
        elif b.growing_per_day:
            outlook_text, sentiment = f"growing by {_per_day(b.growing_per_day)} a day", "bad"
        else:
            outlook_text, sentiment = "steady", None
        if not b.fires and sentiment == "bad":
            sentiment = None  # growth within the segment's usual week-to-week swing
        rows.append(
            (
                Cell(where),
                Cell(headline_value(m, b.backlog), b.backlog),
                Cell(_signed_per_day(b.net_outflow_per_day), b.net_outflow_per_day),
                Cell(outlook_text, outlook_text, sentiment),  # type: ignore[arg-type]
            )
        )
    return Table(
        "Backlog outlook",
        (
            Column("segment", "Segment", "left"),
            Column("backlog", "Backlog"),
            Column("net", "Net flow / day"),
            Column("outlook", "Outlook", "left"),
        ),
        tuple(rows),
        caption="Net flow = decisions out − items in per day over the period; growth is marked "
        "when it is unusual for the segment (robust z ≥ the anomaly threshold).",
        muted_rows=tuple(muted),
    )


def _per_day(x: float) -> str:
    """Items a day: whole numbers, one decimal under ten (a queue growing by 0.4 a day)."""
    return f"{x:,.1f}" if abs(x) < 10 else f"{x:,.0f}"


def _signed_per_day(x: float) -> str:
    return ("+" if x >= 0 else "−") + _per_day(abs(x))
