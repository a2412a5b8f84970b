"""The tidy tables behind the analyst workbook (XLSX) and the CSV folder.

Both exports show exactly the same tables, read from the document's typed
export figures (:class:`~reportgen.export_figures.ExportFigures`: the report's
figures and insights, and every segment in every shown period) — never from
the figures.json dict and never computed a second time, so a number in a
workbook is the number in figures.json and in the deck. Every table is
long-form ("tidy"): one row per observation with the period, metric and
dimension spelled out, so a pipeline can append weeks and an analyst can pivot
without reshaping. Breakdowns carry numerator and denominator so a user
re-aggregates as a ratio of sums, never an average of ratios.

Key columns come first, the label before its id (``Metric``, ``Metric id``).
Columns name an Excel number format, or a token (``@value``, ``@change`` …)
that each row resolves to its own metric's format: one table holds
percentages, seconds and counts side by side, each shown like the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reportgen.document import DefinitionList, Document
from reportgen.export_figures import (
    ExportFigures,
    SegmentPoint,
    numerator_denominator,
    weight_of,
)
from reportgen.figures import MetricFigures, Stats, target_met
from reportgen.formatting import MINUS, office_number_format, signed_office_format

Kind = Literal["text", "number", "date", "bool"]

GENERAL = "General"
INTEGER = office_number_format("count")
DECIMAL = office_number_format("decimal")
PERCENT = "0.0%"
# negative sections draw U+2212, the one minus sign of every shown number (reportgen.formatting)
SIGNED_PERCENT = signed_office_format(PERCENT)
P_VALUE = "[<0.0001]0.00E+00;0.0000"
STATISTIC = f'#,##0.000;"{MINUS}"#,##0.000'
Z_SCORE = signed_office_format("0.0")
FINE = f'#,##0.0000;"{MINUS}"#,##0.0000'
DATE = "yyyy-mm-dd"
#: Row-resolved formats: the metric's own format, its signed twin, and its sums' format.
VALUE = "@value"
CHANGE = "@change"
SUMS = "@sums"
#: What a target status or an anomaly's sentiment reads as (the PDF's good / bad colours).
GOOD_WORDS = ("met", "good")
BAD_WORDS = ("missed", "bad")
AGGREGATION_NOTE = (
    "Aggregation rule: a metric over several rows is Σ Numerator / Σ Denominator of those "
    "rows (a mean: Σ sum / Σ count; a total: Σ Numerator) — never the average of Value. "
    "Aggregate within one Dimension (its segments partition the total) and, for a stock "
    "such as the backlog, within one period."
)


@dataclass(frozen=True)
class ExportColumn:
    """One column: ``key`` heads the CSV, ``header`` the workbook table."""

    key: str
    header: str
    kind: Kind = "number"
    number_format: str = GENERAL


@dataclass(frozen=True)
class ExportRow:
    values: tuple[Any, ...]
    #: token → Excel format for this row (the metric's format and its signed twin)
    formats: Mapping[str, str] = field(default_factory=dict)

    def number_format(self, column: ExportColumn) -> str:
        fmt = column.number_format
        return self.formats.get(fmt, GENERAL) if fmt.startswith("@") else fmt


@dataclass(frozen=True)
class Highlight:
    """Cells coloured good or bad by the text of one column (conditional formatting)."""

    column: str  # the key whose text decides: "met"/"missed", "good"/"bad"
    cells: tuple[str, ...]  # the keys of the columns coloured with it


@dataclass(frozen=True)
class ExportTable:
    """One sheet of the workbook and one CSV file."""

    name: str  # unique slug: the CSV file's stem and (prefixed) the Excel table's name
    title: str  # the sheet's title before Excel's naming rules shorten it
    columns: tuple[ExportColumn, ...]
    rows: tuple[ExportRow, ...]
    title_suffix: str = ""  # kept when a long title is shortened, e.g. " by region"
    description: str = ""  # one line for the workbook's Index sheet
    notes: Mapping[str, str] = field(default_factory=dict)  # column key → header note
    highlight: Highlight | None = None
    label_columns: int = 1  # columns kept in view when scrolling right (frozen)


class FiguresMissing(ValueError):
    """The document does not carry its figures (a hand-built document)."""


def signed_format(fmt: str) -> str:
    """The Excel format showing a change with an explicit sign (``+14 s``, ``−2.1%``)."""
    if fmt == GENERAL:
        return fmt
    return signed_office_format(fmt)


#: A share anomaly's observed and baseline values are shares, whatever the metric's unit.
SHARE_FORMATS = {VALUE: PERCENT, CHANGE: SIGNED_PERCENT}


def metric_formats(metric: MetricFigures | None) -> dict[str, str]:
    """The row tokens for one metric: its Office number format, plain and signed."""
    if metric is None:
        return {}
    try:
        fmt = office_number_format(metric.format, metric.decimals)  # type: ignore[arg-type]
    except KeyError:  # an unknown format in hand-made figures: show the number as it is
        fmt = GENERAL
    return {VALUE: fmt, CHANGE: signed_format(fmt)}


def slug(text: str, limit: int = 60) -> str:
    """A lowercase ``[a-z0-9_]`` name: safe as a file name and as part of an Excel table name."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")[:limit].strip("_") or "x"


def _direction(text: str | None) -> str | None:
    return str(text).replace("_", " ") if text else None


def _col(key: str, header: str, kind: Kind = "number", fmt: str = GENERAL) -> ExportColumn:
    return ExportColumn(key, header, kind, fmt)


def _text(key: str, header: str) -> ExportColumn:
    return ExportColumn(key, header, "text")


def status_text(met: bool | None) -> str | None:
    """ "met" / "missed" as the PDF's target cell says it; None without a target."""
    return None if met is None else ("met" if met else "missed")


def sums_format(values: Iterable[Any]) -> str:
    """Whole numbers (counts) with thousands separators; hours and seconds with decimals."""
    numbers = [v for v in values if isinstance(v, int | float)]
    return INTEGER if all(float(v).is_integer() for v in numbers) else DECIMAL


#: the two identifying columns every metric row opens with: the label, then the id
METRIC_KEYS = (_text("metric", "Metric"), _text("metric_id", "Metric id"))


def dimension_text(dimensions: Iterable[str]) -> str:
    return " × ".join(dimensions)


def segment_text(segment: Iterable[str]) -> str:
    return " × ".join(segment)


# -- public ---------------------------------------------------------------------------------


def export_data(document: Document) -> ExportFigures:
    """The document's typed export figures, or :class:`FiguresMissing`."""
    if document.exports is None:
        raise FiguresMissing(
            f"document {document.report_id!r} carries no figures: build it with build_report()"
        )
    return document.exports


def label_of(data: ExportFigures, metric: str) -> str:
    m = data.figures.metrics.get(metric)
    return (m.label if m else None) or metric


def formats_of(data: ExportFigures, metric: str) -> dict[str, str]:
    return metric_formats(data.figures.metrics.get(metric))


def definitions(document: Document) -> list[Any]:
    return [
        item
        for section in document.sections
        for block in section.blocks
        if isinstance(block, DefinitionList)
        for item in block.items
    ]


# -- summary and series ---------------------------------------------------------------------------


def summary_table(data: ExportFigures, document: Document) -> ExportTable:
    """One row per metric: value, comparisons, target, significance and direction."""
    figures = data.figures
    units = {d.term: dict(d.extra).get("Unit") for d in definitions(document)}
    insights = data.insights
    tests = insights.significance if insights is not None else None
    columns = [
        *METRIC_KEYS,
        _text("period", "Period"),
        _text("unit", "Unit"),
        _col("current", "Current", fmt=VALUE),
        _col("previous", "Previous", fmt=VALUE),
        _col("delta", "Δ", fmt=CHANGE),
        _col("delta_pct", "Δ %", fmt=SIGNED_PERCENT),
        _col("last_year", "Last year", fmt=VALUE),
        _col("target", "Target", fmt=VALUE),
        _col("vs_target", "vs target", fmt=CHANGE),
        _text("target_status", "Target status"),
    ]
    if tests is not None:
        columns += [
            _text("test", "Test"),
            _col("p_value", "p-value", fmt=P_VALUE),
            _col("significant", "Significant", "bool"),
        ]
    columns += [_text("direction", "Direction"), _text("provisional", "Provisional")]
    rows = []
    for name, m in figures.metrics.items():
        values: list[Any] = [
            m.label,
            name,
            figures.period.label,
            units.get(m.label) or m.format,
            m.value,
            m.previous,
            m.delta,
            m.delta_pct,
            m.last_year,
            m.target,
            m.vs_target,
            status_text(m.target_met),
        ]
        if tests is not None:
            test = tests.metrics.get(name)
            result = test.result if test is not None else None
            values += [
                result.test if result else None,
                result.p_value if result else None,
                test.significant(tests.alpha) if test is not None else None,
            ]
        values += [_direction(m.direction), _provisional(m)]
        rows.append(ExportRow(tuple(values), metric_formats(m)))
    return ExportTable(
        "summary",
        "Summary",
        tuple(columns),
        tuple(rows),
        description=f"Each metric in {figures.period.label}: value, previous, last year, "
        "target and its status, test",
        highlight=Highlight("target_status", ("current", "target_status")),
    )


def _provisional(m: MetricFigures) -> str | None:
    """ "until 2026-12-06: appeals still arriving" for a figure late data may still change."""
    if not m.provisional:
        return None
    return f"until {m.matures_on}: {m.provisional_reason or 'late data'}"


_SUM_COLUMNS = (
    _col("numerator", "Numerator", fmt=SUMS),
    _col("denominator", "Denominator", fmt=SUMS),
)


def _sum_values(stats: Stats) -> tuple[float | None, float | None]:
    return numerator_denominator(stats)


def _row_formats(m: MetricFigures | None, stats: Iterable[Stats]) -> dict[str, str]:
    """The metric's formats, and one for its sums (whole counts or decimals)."""
    sums = [v for s in stats for v in (*numerator_denominator(s), weight_of(s))]
    return {**metric_formats(m), SUMS: sums_format(sums)}


def _totals(data: ExportFigures) -> dict[tuple[str, str], SegmentPoint]:
    return {(p.metric, p.period): p for p in data.series.points if not p.dimensions}


def series_table(data: ExportFigures) -> ExportTable:
    """Each metric's total per shown period, with the sums it is derived from."""
    columns = (
        *METRIC_KEYS,
        _text("period", "Period"),
        _col("start", "Start", "date", DATE),
        _col("value", "Value", fmt=VALUE),
        *_SUM_COLUMNS,
        _col("n", "n", fmt=SUMS),
        _col("target", "Target", fmt=VALUE),
        _text("target_status", "Target status"),
        _col("last_year", "Last year", fmt=VALUE),
        _col("complete", "Complete", "bool"),
        _col("provisional", "Provisional", "bool"),
        _text("aggregation", "Aggregation"),
    )
    totals = _totals(data)
    rows = []
    for name, m in data.figures.metrics.items():
        for p in m.series:
            point = totals.get((name, p.period))
            stats = point.stats if point else Stats()
            target = point.target if point else None
            values = (
                m.label,
                name,
                p.period,
                p.start,
                p.value,
                *_sum_values(stats),
                weight_of(stats),
                target,
                status_text(target_met(m.direction, p.value, target)),
                _last_year(data, m, p.period, point),
                p.complete,
                p.provisional,
                _rule(m, stats),
            )
            rows.append(ExportRow(values, _row_formats(m, [stats])))
    return ExportTable(
        "series",
        "Series",
        columns,
        tuple(rows),
        description=f"Each metric's total per {data.figures.period.grain} (every shown period) "
        "with numerator, denominator, target and last year",
        notes={"value": AGGREGATION_NOTE},
        highlight=Highlight("target_status", ("value", "target_status")),
    )


def _last_year(
    data: ExportFigures, m: MetricFigures, period: str, point: SegmentPoint | None
) -> float | None:
    """A total's value a year earlier; the built period's as the Summary shows it (a quantile's
    sketch is counted for the shown periods only, so only the built period has one)."""
    if period == data.figures.period.label:
        return m.last_year
    return point.last_year if point else None


# -- breakdowns: every segment, every shown period -----------------------------------------------


def _rule(m: MetricFigures | None, stats: Stats) -> str:
    """How rows of this metric add up (the Breakdowns table's own aggregation column)."""
    kind = m.type if m is not None else ""
    if kind == "quantile":
        return "not additive (a quantile: read it, never sum or average it)"
    numerator, denominator = numerator_denominator(stats)
    if denominator is not None:
        return "Σ numerator / Σ denominator"
    if numerator is None:
        return "not additive"
    if m is not None and m.as_of is not None:
        return "Σ numerator within a period (a period-end snapshot)"
    if kind == "derived":
        return "not additive (a formula of other metrics)"
    return "Σ numerator"


def _dimension_columns(data: ExportFigures) -> tuple[ExportColumn, ...]:
    labels = data.series.dimension_labels
    return tuple(_text(slug(d), labels.get(d, d)) for d in _all_dimensions(data))


def _all_dimensions(data: ExportFigures) -> tuple[str, ...]:
    """Every dimension of the shown groupings, in order: the per-dimension columns."""
    return tuple(dict.fromkeys(d for g in data.series.groupings for d in g))


def _dimension_values(dims: tuple[str, ...], point: SegmentPoint) -> tuple[str | None, ...]:
    found = dict(zip(point.dimensions, point.segment, strict=True))
    return tuple(found.get(d) for d in dims)


def _stats_by_metric(points: Iterable[SegmentPoint]) -> dict[str, list[Stats]]:
    """Each metric's stats over ``points`` (one pass, not one per metric)."""
    found: dict[str, list[Stats]] = {}
    for p in points:
        found.setdefault(p.metric, []).append(p.stats)
    return found


def breakdowns_table(data: ExportFigures) -> ExportTable:
    """One long table: metric × period × dimension × segment, ready for a PivotTable."""
    metrics = data.figures.metrics
    has_squares = any(p.stats.sum_squares is not None for p in data.series.points)
    columns = [
        *METRIC_KEYS,
        _text("period", "Period"),
        _col("start", "Start", "date", DATE),
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        *_dimension_columns(data),
        _col("value", "Value", fmt=VALUE),
        *_SUM_COLUMNS,
    ]
    if has_squares:
        columns.append(_col("sum_squares", "Sum of squares", fmt=SUMS))
    columns += [
        _col("n", "n", fmt=SUMS),
        _col("target", "Target", fmt=VALUE),
        _text("target_status", "Target status"),
        _col("last_year", "Last year", fmt=VALUE),
    ]
    stats = _stats_by_metric(data.series.points)
    formats = {name: _row_formats(m, stats.get(name, [])) for name, m in metrics.items()}
    dims = _all_dimensions(data)
    rows = []
    for p in data.series.points:
        if not p.dimensions:
            continue
        values: list[Any] = [
            label_of(data, p.metric),
            p.metric,
            p.period,
            p.start,
            dimension_text(p.dimensions),
            segment_text(p.segment),
            *_dimension_values(dims, p),
            p.value,
            *_sum_values(p.stats),
        ]
        if has_squares:
            values.append(p.stats.sum_squares)
        values += [
            weight_of(p.stats),
            p.target,
            status_text(p.target_met),
            p.last_year,
        ]
        rows.append(ExportRow(tuple(values), formats.get(p.metric, {})))
    return ExportTable(
        "breakdowns",
        "Breakdowns",
        tuple(columns),
        tuple(rows),
        description="Any follow-up, by PivotTable: every metric × period × dimension × "
        "segment with numerator, denominator, n, target, last year; re-aggregate as "
        "Σ numerator / Σ denominator",
        notes={
            "value": AGGREGATION_NOTE,
            "numerator": AGGREGATION_NOTE,
            "n": "n: what the value rests on — the denominator (ratio, proportion), the count "
            "(mean, quantile) or the total (total).",
            "dimension": "Rows of one Dimension partition the metric's total; filter on one "
            "Dimension before you sum.",
        },
        highlight=Highlight("target_status", ("value", "target_status")),
    )


def segment_series_tables(data: ExportFigures) -> list[ExportTable]:
    """Per grouping: segment × period, one row per metric, segment and measure (wide)."""
    return [_segment_series_table(data, g) for g in data.series.groupings]


def _segment_series_table(data: ExportFigures, grouping: tuple[str, ...]) -> ExportTable:
    labels = data.series.dimension_labels
    periods = data.series.periods
    dims = tuple(_text(slug(d), labels.get(d, d)) for d in grouping)
    columns = (
        *METRIC_KEYS,
        *dims,
        _text("measure", "Measure"),
        *(_col(f"p_{slug(p.label)}", p.label, fmt=VALUE) for p in periods),
    )
    cells: dict[tuple[str, tuple[str, ...]], dict[str, SegmentPoint]] = {}
    for p in data.series.points:
        if p.dimensions == grouping:
            cells.setdefault((p.metric, p.segment), {})[p.period] = p
    rows = []
    for (metric, segment), by_period in cells.items():
        m = data.figures.metrics.get(metric)
        points = [by_period.get(p.label) for p in periods]
        stats = [pt.stats for pt in points if pt is not None]
        sums = _row_formats(m, stats)
        measures: list[tuple[str, Any, dict[str, str]]] = [
            ("Value", lambda pt: pt.value, metric_formats(m))
        ]
        if any(numerator_denominator(s)[1] is not None for s in stats):
            sum_formats = {VALUE: sums[SUMS]}
            measures += [
                ("Numerator", lambda pt: numerator_denominator(pt.stats)[0], sum_formats),
                ("Denominator", lambda pt: numerator_denominator(pt.stats)[1], sum_formats),
            ]
        for measure, read, fmts in measures:
            values = tuple(read(pt) if pt is not None else None for pt in points)
            keys = (label_of(data, metric), metric, *segment, measure)
            rows.append(ExportRow((*keys, *values), fmts))
    text = dimension_text(grouping)
    return ExportTable(
        f"series_by_{slug('_'.join(grouping))}",
        "Series by",
        columns,
        tuple(rows),
        title_suffix=f" {text}",
        description=_series_question(grouping, [labels.get(d, d).lower() for d in grouping])
        + f" Each metric by {text}, period by period: value, numerator, denominator",
        label_columns=len(dims) + 3,  # metric, its id, the segment, the measure
    )


def _series_question(grouping: tuple[str, ...], names: list[str]) -> str:
    """The follow-up question a segment × period sheet answers, for the Index."""
    if len(names) == 1:
        return f"When did a {names[0]} start to move?"
    outer, inner = names[0], names[-1]
    return f"Which {inner} drives a {outer}'s change; is it in every {outer}?"


def segment_changes_table(data: ExportFigures) -> ExportTable:
    """The built period's segments as the report shows them: change, share, target, sums."""
    figures = data.figures
    columns = (
        *METRIC_KEYS,
        _text("period", "Period"),
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        _col("value", "Value", fmt=VALUE),
        _col("previous", "Previous", fmt=VALUE),
        _col("delta", "Δ", fmt=CHANGE),
        _col("delta_pct", "Δ %", fmt=SIGNED_PERCENT),
        _col("share", "Share", fmt=PERCENT),
        _col("target", "Target", fmt=VALUE),
        _text("target_status", "Target status"),
        *_SUM_COLUMNS,
        _col("sum_squares", "Sum of squares", fmt=SUMS),
        _col("previous_numerator", "Previous numerator", fmt=SUMS),
        _col("previous_denominator", "Previous denominator", fmt=SUMS),
        _col("previous_sum_squares", "Previous sum of squares", fmt=SUMS),
    )
    rows = []
    for name, m in figures.metrics.items():
        for dimension, segments in m.breakdowns.items():
            stats = [s.stats for s in segments] + [s.previous_stats for s in segments]
            formats = _row_formats(m, stats)
            for s in segments:
                values = (
                    m.label,
                    name,
                    figures.period.label,
                    dimension,
                    s.segment,
                    s.value,
                    s.previous,
                    s.delta,
                    s.delta_pct,
                    s.share,
                    s.target,
                    status_text(target_met(m.direction, s.value, s.target)),
                    *_sum_values(s.stats),
                    s.stats.sum_squares,
                    *_sum_values(s.previous_stats),
                    s.previous_stats.sum_squares,
                )
                rows.append(ExportRow(values, formats))
    return ExportTable(
        "segment_changes",
        "Segment changes",
        columns,
        tuple(rows),
        description=f"Each segment in {figures.period.label} against "
        f"{figures.previous_period.label}: change, share, target (as the report's tables)",
        notes={"numerator": AGGREGATION_NOTE},
        highlight=Highlight("target_status", ("value", "target_status")),
    )


def daily_table(data: ExportFigures) -> ExportTable:
    """The built period day by day: each metric's total and its segments."""
    columns = (
        *METRIC_KEYS,
        _col("day", "Day", "date", DATE),
        _text("weekday", "Weekday"),
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        _col("value", "Value", fmt=VALUE),
        *_SUM_COLUMNS,
        _col("n", "n", fmt=SUMS),
        _col("complete", "Complete", "bool"),
    )
    metrics = data.figures.metrics
    stats = _stats_by_metric(data.series.daily)
    formats = {name: _row_formats(m, stats.get(name, [])) for name, m in metrics.items()}
    rows = tuple(
        ExportRow(
            (
                label_of(data, p.metric),
                p.metric,
                p.start,
                f"{p.start:%a}",
                dimension_text(p.dimensions) or "total",
                segment_text(p.segment) or "Total",
                p.value,
                *_sum_values(p.stats),
                weight_of(p.stats),
                p.complete,
            ),
            formats.get(p.metric, {}),
        )
        for p in data.series.daily
    )
    return ExportTable(
        "daily",
        "Daily",
        columns,
        rows,
        description=f"{data.figures.period.label} day by day: each metric's total and its "
        f"segments (quantiles are counted per {data.figures.period.grain} only)",
        notes={
            "dimension": "'total' rows hold the day's total; the segments of one Dimension "
            "add up to it. " + AGGREGATION_NOTE
        },
    )
