"""Figures → the neutral document model (sections, KPI tiles, tables, chart specs, narrative)."""

from __future__ import annotations

from datetime import datetime

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import MeanMetric, MetricDef, RatioMetric, TotalMetric
from reportgen.document import (
    Cell,
    Chart,
    ChartSeries,
    Column,
    Definition,
    DefinitionList,
    Delta,
    Document,
    KpiGrid,
    KpiTile,
    Narrative,
    Section,
    Table,
)
from reportgen.formatting import format_full, format_value
from reportgen.metrics import MetricFigures, ReportFigures, SegmentFigure, Stats
from reportgen.narrative import (
    change_direction,
    change_sentiment,
    change_text,
    last_year_sentence,
    metric_sentence,
    mover_sentence,
    value_text,
)

#: Breakdown tables show this many segments; the rest are summed into one "Other" row.
MAX_TABLE_ROWS = 20


def compose_document(
    report: ResolvedReport, figures: ReportFigures, generated_at: datetime
) -> Document:
    sections: list[Section] = []
    wanted = report.config.sections
    if "summary" in wanted:
        sections.append(summary_section(figures))
    if "metrics" in wanted:
        sections += [metric_section(report, figures, m) for m in figures.metrics.values()]
    if "definitions" in wanted:
        sections.append(definitions_section(report, figures))
    period = figures.period
    return Document(
        report_id=report.id,
        title=report.config.title,
        subtitle=report.config.subtitle,
        period_label=period.display,
        period_start=period.start,
        period_end=period.end,
        timezone=figures.timezone,
        audience=report.config.audience.label,
        generated_at=generated_at,
        complete=figures.complete,
        brand=report.brand,
        sections=tuple(sections),
    )


# -- summary ----------------------------------------------------------------------------------


def kpi_tile(m: MetricFigures, previous_label: str, incomplete: bool) -> KpiTile:
    direction = change_direction(m.delta, m.delta_pct)
    delta = None
    if m.delta is not None:
        delta = Delta(
            change_text(m, m.delta, m.delta_pct),
            direction,
            change_sentiment(direction, m.direction),
            f"vs {previous_label}",
        )
    status = "none" if m.target_met is None else ("met" if m.target_met else "missed")
    return KpiTile(
        metric=m.metric,
        label=m.label,
        value=m.value,
        value_text=value_text(m, m.value),
        delta=delta,
        previous_text=value_text(m, m.previous),
        target_text=f"target {value_text(m, m.target)}" if m.target is not None else None,
        target_status=status,
        note="incomplete period" if incomplete else None,
    )


def _headline_score(m: MetricFigures) -> float:
    missed = 1.0 if m.target_met is False else 0.0
    return missed + abs(m.delta_pct or 0.0) * (0.0 if m.direction == "neutral" else 10.0)


def summary_section(figures: ReportFigures) -> Section:
    period, previous = figures.period.label, figures.previous_period.label
    tiles = tuple(kpi_tile(m, previous, not figures.complete) for m in figures.metrics.values())
    ranked = sorted(figures.metrics.values(), key=_headline_score, reverse=True)
    headlines = [metric_sentence(m, period, previous) for m in ranked[:5]]
    if not figures.complete:
        headlines.insert(
            0,
            f"{period} is not complete yet (data through {figures.last_complete_day:%d %b %Y}); "
            "figures will change as data arrives.",
        )
    warnings = [q for q in figures.quality if q.severity == "warning"]
    if warnings:
        total = sum(q.rows for q in warnings)
        headlines.append(
            f"Data quality: {total:,} rows flagged by warnings "
            f"({', '.join(sorted({q.check for q in warnings}))}); see figures.json."
        )
    notes = tuple(metric_sentence(m, period, previous) for m in figures.metrics.values())
    return Section(
        "summary",
        "Executive summary",
        "summary",
        (KpiGrid(tiles), Narrative(tuple(headlines))),
        notes,
    )


# -- one section per metric -----------------------------------------------------------------


def metric_section(report: ResolvedReport, figures: ReportFigures, m: MetricFigures) -> Section:
    period, previous = figures.period.label, figures.previous_period.label
    paragraphs = [metric_sentence(m, period, previous)]
    ly_label = figures.last_year_period.label if figures.last_year_period else None
    if sentence := last_year_sentence(m, ly_label):
        paragraphs.append(sentence)
    for dim, segments in m.breakdowns.items():
        if sentence := mover_sentence(m, report.catalog.dimensions[dim].label, segments):
            paragraphs.append(sentence)
    blocks: list = [Narrative(tuple(paragraphs)), trend_chart(m, figures)]
    for position, (dim, segments) in enumerate(m.breakdowns.items()):
        label = report.catalog.dimensions[dim].label
        blocks.append(breakdown_table(report.metric(m.metric), m, label, segments))
        if (
            position == 0
        ):  # one picture of the main split; further splits as tables keep the deck short
            blocks.append(breakdown_chart(m, label, segments, figures))
    notes = (
        *paragraphs,
        f"{m.label}: {value_text(m, m.value)} vs {value_text(m, m.previous)} in {previous}.",
    )
    return Section(m.metric, m.label, "metric", tuple(blocks), notes)


def trend_chart(m: MetricFigures, figures: ReportFigures) -> Chart:
    categories = tuple(p.period + ("" if p.complete else " *") for p in m.series)
    series = [ChartSeries(m.label, tuple(p.value for p in m.series), "primary")]
    if m.target is not None:
        series.append(ChartSeries("Target", tuple(m.target for _ in m.series), "target"))
    n = len(m.series)
    return Chart(
        title=f"{m.label}, last {n} {figures.period.grain}s",
        chart_type="line",
        categories=categories,
        series=tuple(series),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=_axis_label(m),
        highlight=categories[-1],
        value_decimals=m.decimals,
    )


def _axis_label(m: MetricFigures) -> str:
    return {"count": "count", "percent": "percent", "seconds": "seconds", "hours": "hours"}.get(
        m.format, m.label
    )


def breakdown_chart(
    m: MetricFigures, dim_label: str, segments: tuple[SegmentFigure, ...], figures: ReportFigures
) -> Chart:
    shown = segments[:12]
    return Chart(
        title=f"{m.label} by {dim_label.lower()}",
        chart_type="bar",
        categories=tuple(s.segment for s in shown),
        series=(
            ChartSeries(figures.period.label, tuple(s.value for s in shown), "primary"),
            ChartSeries(
                figures.previous_period.label, tuple(s.previous for s in shown), "comparison"
            ),
        ),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=_axis_label(m),
        value_decimals=m.decimals,
    )


def breakdown_table(
    metric: MetricDef, m: MetricFigures, dim_label: str, segments: tuple[SegmentFigure, ...]
) -> Table:
    has_targets = any(s.target is not None for s in segments)
    columns = [
        Column("segment", dim_label, "left"),
        Column("value", "Value"),
        Column("previous", "Previous"),
        Column("delta", "Change"),
        Column("share", "Share"),
    ]
    if has_targets:
        columns.append(Column("target", "Target"))
    shown = list(segments[:MAX_TABLE_ROWS])
    rest = segments[MAX_TABLE_ROWS:]
    if rest:
        shown.append(other_segment(metric, rest))
    rows = []
    for s in shown:
        direction = change_direction(s.delta, s.delta_pct)
        row = [
            Cell(s.segment, s.segment),
            Cell(_full(m, s.value), s.value),
            Cell(_full(m, s.previous), s.previous),
            Cell(
                change_text(m, s.delta, s.delta_pct),
                s.delta,
                change_sentiment(direction, m.direction),
            ),
            Cell(format_value(s.share, "percent"), s.share),
        ]
        if has_targets:
            row.append(Cell(value_text(m, s.target) if s.target is not None else "", s.target))
        rows.append(tuple(row))
    weight = {"total": "of the total", "mean": "of manual volume"}.get(m.type, "of the denominator")
    return Table(
        title=f"{m.label} by {dim_label.lower()}",
        columns=tuple(columns),
        rows=tuple(rows),
        caption=f"Share: the segment's share {weight}. Sorted by share.",
    )


def _full(m: MetricFigures, value: float | None) -> str:
    return format_full(value, "count") if m.format == "count" else value_text(m, value)


def other_segment(metric: MetricDef, rest: tuple[SegmentFigure, ...]) -> SegmentFigure:
    """Sum the tail's sufficient statistics: the "Other" row is a true ratio of sums."""

    def pooled(stats: list[Stats]) -> tuple[Stats, float | None, float]:
        if isinstance(metric, TotalMetric):
            total = sum(s.total or 0 for s in stats)
            return Stats(total=total), total, total
        if isinstance(metric, RatioMetric):
            num = sum(s.numerator or 0 for s in stats)
            den = sum(s.denominator or 0 for s in stats)
            return (
                Stats(numerator=num, denominator=den),
                (num / den * metric.scale if den else None),
                den,
            )
        assert isinstance(metric, MeanMetric)
        count = sum(s.count or 0 for s in stats)
        total = sum(s.sum or 0 for s in stats)
        sq = sum(s.sum_squares or 0 for s in stats)
        return (
            Stats(count=count, sum=total, sum_squares=sq),
            (total / count if count else None),
            count,
        )

    cur_stats, value, _ = pooled([s.stats for s in rest])
    prev_stats, previous, _ = pooled([s.previous_stats for s in rest])
    delta = value - previous if value is not None and previous is not None else None
    delta_pct = delta / previous if delta is not None and previous else None
    share = sum(s.share or 0 for s in rest)
    return SegmentFigure(
        f"Other ({len(rest)})",
        value,
        previous,
        delta,
        delta_pct,
        share,
        None,
        cur_stats,
        prev_stats,
    )


# -- appendix -------------------------------------------------------------------------------


def formula(report: ResolvedReport, metric: MetricDef) -> str:
    if isinstance(metric, TotalMetric):
        return f"Σ {metric.measure}"
    if isinstance(metric, RatioMetric):
        scale = f" × {metric.scale:g}" if metric.scale != 1 else ""
        return f"Σ {metric.numerator} ÷ Σ {metric.denominator}{scale}"
    return f"Σ {metric.sum} ÷ Σ {metric.count}"


def measure_text(report: ResolvedReport, name: str) -> str:
    m = report.catalog.measures[name]
    what = {
        "count": f"count of {m.fact}",
        "sum": f"sum of {m.fact}.{m.column}",
        "sum_squares": f"sum of squares of {m.fact}.{m.column}",
    }[m.agg]
    if m.filter:
        what += f" where {m.filter}"
    if m.time_column:
        what += f" (dated by {m.time_column})"
    return f"{name} = {what}"


def definitions_section(report: ResolvedReport, figures: ReportFigures) -> Section:
    items = []
    direction_text = {
        "higher_is_better": "higher",
        "lower_is_better": "lower",
        "neutral": "neither (context)",
    }
    for name in figures.metrics:
        metric = report.metric(name)
        measures = metric.measures[:2] if isinstance(metric, MeanMetric) else metric.measures
        extra = (
            ("Measures", "; ".join(measure_text(report, m) for m in measures)),
            ("Unit", metric.unit or metric.format),
            ("Better", direction_text[metric.direction]),
            ("Owner", metric.owner),
        )
        items.append(Definition(metric.label, formula(report, metric), metric.description, extra))
    notes = (
        f"Period {figures.period.label} in timezone {figures.timezone}; ratios are ratios of sums.",
    )
    return Section(
        "definitions", "Metric definitions", "appendix", (DefinitionList(tuple(items)),), notes
    )
