"""The typed figures the data exports (XLSX workbook, CSV folder) read.

The report's figures (:mod:`reportgen.figures`) hold each metric's total per
shown period and its segments for the built period only. The analyst who
opens the workbook after the review asks the next question — "when did the
Latin America backlog start?", "is Harassment AHT up in every region?",
"which site drives the Southeast Asia QA drop?" — and needs every segment in
every shown period, the first breakdown dimension crossed with the others, and
the days of the built period. They are computed here from the same cube and
the same way as the headline: measures summed over the segment and period, the
metric derived from the sums (Σ numerator / Σ denominator), never an average of
ratios, so a pivot of them re-aggregates to the report's figures.

They are not in figures.json (that stays the serialisation of
:class:`~reportgen.figures.ReportFigures`, about ten times smaller); the
workbook and the CSV folder carry them, next to the typed figures, insights
and provenance they read instead of the figures.json dict.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import MetricDef
from reportgen.data.scan import Cube
from reportgen.data.sql import DAY
from reportgen.figures import (
    ReportFigures,
    Stats,
    Targets,
    _in_window,
    _measure_groups,
    data_begins,
    is_provisional,
    measure_series,
    metric_stats,
    metric_values,
    period_is_complete,
    target_met,
)
from reportgen.periods import Period, period_containing, period_starts
from reportgen.semantics import kind_of

if TYPE_CHECKING:
    from reportgen.analysis.insights import Insights
    from reportgen.ops.restatements import Restatement

#: One dimension, or the first breakdown dimension crossed with another ("region", "queue").
Grouping = tuple[str, ...]


@dataclass(frozen=True)
class SegmentPoint:
    """One metric over one segment (or the total, ``dimensions == ()``) in one period or day."""

    metric: str
    dimensions: Grouping  # () for the metric's total; ("region", "queue") for a crossing
    segment: tuple[str, ...]  # one label per dimension
    period: str
    start: date
    end: date
    value: float | None
    stats: Stats  # the summed measures it is derived from (a quantile: its row count only)
    target: float | None
    target_met: bool | None
    last_year: float | None
    complete: bool
    provisional: bool


@dataclass(frozen=True)
class SegmentSeries:
    """Every metric × grouping × segment × shown period, and the built period's days."""

    groupings: tuple[Grouping, ...]  # in sheet order: each dimension, then the crossings
    periods: tuple[Period, ...]  # the shown (trailing) periods, oldest first
    points: tuple[SegmentPoint, ...]  # totals and segments, every shown period
    days: tuple[Period, ...]  # the built period's days up to the data's last day
    daily: tuple[SegmentPoint, ...]  # totals and single-dimension segments, every day
    dimension_labels: Mapping[str, str] = field(default_factory=dict)  # region → "Region"
    #: crossings left out for holding more rows than ``exports.max_crossing_rows``: (grouping,
    #: rows it would have had)
    left_out: tuple[tuple[Grouping, int], ...] = ()


@dataclass(frozen=True)
class Provenance:
    """Where an export found in a mailbox came from (the figures.json header)."""

    title: str | None = None
    audience: str | None = None
    generated_at: str | None = None
    generator: str | None = None
    config: str | None = None
    config_hash: str | None = None
    sources: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> Provenance:
        names = ("title", "audience", "generated_at", "generator", "config", "config_hash")
        return cls(**{k: meta.get(k) for k in names}, sources=dict(meta.get("sources") or {}))


@dataclass(frozen=True)
class ExportFigures:
    """Everything the data exports show, typed: figures, insights, segment series, provenance."""

    figures: ReportFigures
    insights: Insights | None
    provenance: Provenance
    series: SegmentSeries
    restatements: tuple[Restatement, ...] = ()
    schema_version: int = 1


# -- which segments ---------------------------------------------------------------------------


def export_dimensions(report: ResolvedReport) -> tuple[str, ...]:
    """Every dimension the report breaks down, checks or digs by, never a personal one."""
    catalog = report.catalog.dimensions
    return tuple(d for d in report.dimensions if not getattr(catalog.get(d), "personal", False))


def export_groupings(report: ResolvedReport) -> tuple[Grouping, ...]:
    """Each dimension on its own, then the first one (region) crossed with the others that
    ``exports.crossings`` asks for (all of them by default)."""
    dims = export_dimensions(report)
    singles = [(d,) for d in dims]
    wanted = report.config.exports.crossings
    others = [d for d in dims[1:] if wanted == "all" or (isinstance(wanted, list) and d in wanted)]
    crossings = [(dims[0], d) for d in others] if dims else []
    return (*singles, *crossings)


def _available(cube: Cube, metric: MetricDef, grouping: Grouping) -> bool:
    """The metric's every measure can be split by the grouping (a sketch: one dimension only)."""
    if kind_of(metric).reads_sketch and len(grouping) > 1:
        return False
    return all(set(grouping) <= set(cube.dimensions_of(m)) for m in metric.measures)


# -- sums per period and segment ----------------------------------------------------------------


class SumsMemo:
    """Sums of all the report's measures of one scan per (periods, grouping), computed once.

    Metrics share measures (decisions, productive hours …): summing every
    measure of a scan in one GROUP BY is as fast as summing one.
    """

    def __init__(self, cube: Cube, measures: tuple[str, ...]) -> None:
        self.cube = cube
        self.groups = {
            (group, stock): cols
            for group, cols, stock in _measure_groups(cube, measures)
            if not cube.query_of(cols[0]).sketch
        }
        self.found: dict[tuple, pd.DataFrame] = {}

    def columns(self, group: str, stock: bool, cols: list[str]) -> list[str]:
        return self.groups.get((group, stock), cols)


def period_sums(
    cube: Cube,
    measures: tuple[str, ...],
    periods: tuple[Period, ...],
    by: Grouping,
    memo: SumsMemo | None = None,
) -> pd.DataFrame:
    """Σ of each measure per period and segment of ``by`` (index: period start, *segment).

    Like :func:`reportgen.figures.measure_series`, for any number of dimensions:
    a stock takes each period's own last day with data; every period gets every
    segment seen in any of them (absent ones hold 0). Sketches go through
    ``measure_series`` itself (one dimension at most).
    """
    if any(cube.query_of(m).sketch for m in measures):
        frame = measure_series(cube, measures, periods, by=by[0] if by else None)
        if not by:
            frame.index = pd.MultiIndex.from_arrays([frame.index], names=["period"])
        return frame
    wanted = pd.DatetimeIndex([pd.Timestamp(p.start) for p in periods])
    parts = []
    for group, cols, stock in _measure_groups(cube, measures):
        key = (group, stock, periods, by)
        if memo is None or key not in memo.found:
            summed = _group_sums(
                cube, group, stock, periods, by, memo.columns(group, stock, cols) if memo else cols
            )
            if memo is None:
                parts.append(summed)
                continue
            memo.found[key] = summed
        parts.append(memo.found[key][cols])
    joined = pd.concat(parts, axis=1).fillna(0.0)
    joined = joined[joined.index.get_level_values(0).isin(wanted)]
    if not by:
        joined.index = pd.MultiIndex.from_arrays([joined.index], names=["period"])
        return joined.reindex(pd.MultiIndex.from_arrays([wanted], names=["period"])).fillna(0.0)
    segments = joined.index.droplevel(0).unique()
    if segments.empty:  # no row in any of the periods (a fact without data there)
        empty = pd.MultiIndex.from_arrays([[] for _ in range(len(by) + 1)], names=["period", *by])
        return joined.reindex(empty)
    full = pd.MultiIndex.from_tuples(
        [(s, *(seg if isinstance(seg, tuple) else (seg,))) for s in wanted for seg in segments],
        names=["period", *by],
    )
    return joined.reindex(full).fillna(0.0)


def _group_sums(
    cube: Cube, group: str, stock: bool, periods: tuple[Period, ...], by: Grouping, cols: list[str]
) -> pd.DataFrame:
    frame = _in_window(cube.frames[group], periods[0].start, periods[-1].end)
    starts = period_starts(frame[DAY], periods[0].grain)
    if stock:  # each period's own last day with data: its closing snapshot
        closing = frame[DAY].groupby(starts.values).transform("max")
        keep = (frame[DAY] == closing).to_numpy()
        frame, starts = frame[keep], starts[keep]
    keys = [pd.Series(starts.values, index=frame.index, name="period")]
    keys += [frame[d].astype(object).rename(d) for d in by]
    return frame[cols].groupby(keys, observed=True).sum()


# -- targets in force, looked up once -------------------------------------------------------------


class TargetIndex:
    """:meth:`Targets.lookup` for thousands of (segment, period) pairs: one pass over the table."""

    def __init__(self, targets: Targets) -> None:
        rows: dict[tuple[str, str, str], list[tuple[date, float]]] = {}
        for r in targets.table.itertuples(index=False):
            rows.setdefault((r.metric, r.dimension, r.segment), []).append(
                (r.valid_from, float(r.target))
            )
        self.rows = {k: sorted(v, key=lambda x: x[0]) for k, v in rows.items()}

    def lookup(self, metric: str, period: Period, dimension: str = "", segment: str = ""):
        found = self.rows.get((metric, dimension, segment))
        if not found:
            return None
        i = bisect_right([d for d, _ in found], period.start)
        return found[i - 1][1] if i else None


# -- computing the series ----------------------------------------------------------------------------


def segment_series(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, targets: Targets
) -> SegmentSeries:
    """Every metric's totals and segments in every shown period, and the built period's days."""
    periods = figures.period.trailing(report.config.trailing_periods)
    groupings = export_groupings(report)
    index = TargetIndex(targets)
    points: list[SegmentPoint] = []
    daily: list[SegmentPoint] = []
    days = _days(figures.period, cube)
    needed = tuple(dict.fromkeys(m for n in figures.metrics for m in report.metric(n).measures))
    memo = SumsMemo(cube, needed)
    for name in figures.metrics:
        metric = report.metric(name)
        shown = [g for g in ((), *groupings) if _available(cube, metric, g)]
        for grouping in shown:
            points += _points(name, metric, cube, periods, grouping, index, memo, last_year=True)
        if days and (not kind_of(metric).reads_sketch or figures.period.grain == "day"):
            for grouping in (g for g in shown if len(g) <= 1):
                daily += _points(name, metric, cube, days, grouping, None, memo, last_year=False)
    labels = {d: report.catalog.dimensions[d].label for d in export_dimensions(report)}
    points, groupings, left_out = _within_limit(
        points, groupings, report.config.exports.max_crossing_rows
    )
    return SegmentSeries(
        groupings, periods, tuple(points), days, tuple(daily), labels, tuple(left_out)
    )


def _within_limit(
    points: list[SegmentPoint], groupings: tuple[Grouping, ...], limit: int
) -> tuple[list[SegmentPoint], tuple[Grouping, ...], list[tuple[Grouping, int]]]:
    """Crossings holding more than ``limit`` rows are left out whole (never cut: a pivot of
    part of a crossing would add up to the wrong total), and listed with their row count."""
    counts: dict[Grouping, int] = {}
    for p in points:
        if len(p.dimensions) > 1:
            counts[p.dimensions] = counts.get(p.dimensions, 0) + 1
    over = {g: n for g, n in counts.items() if n > limit}
    if not over:
        return points, groupings, []
    kept = [p for p in points if p.dimensions not in over]
    return kept, tuple(g for g in groupings if g not in over), list(over.items())


def _days(period: Period, cube: Cube) -> tuple[Period, ...]:
    """The built period's days that have data (an incomplete period stops at its last day)."""
    last = min(period.end, max(cube.last_day.values()))
    count = (last - period.start).days + 1
    return tuple(period_containing(period.start + timedelta(days=i), "day") for i in range(count))


def _points(
    name: str,
    metric: MetricDef,
    cube: Cube,
    periods: tuple[Period, ...],
    grouping: Grouping,
    targets: TargetIndex | None,
    memo: SumsMemo,
    *,
    last_year: bool,
) -> list[SegmentPoint]:
    sums = period_sums(cube, metric.measures, periods, grouping, memo)
    values = metric_values(metric, sums)
    begins = data_begins(cube, metric.measures)
    by_start = {pd.Timestamp(p.start): p for p in periods}
    earlier = _last_year_values(metric, cube, periods, grouping, memo) if last_year else {}
    rows = _rows(metric, sums)
    last_complete = cube.last_complete_day
    complete = {p.start: period_is_complete(cube, p) for p in periods}
    provisional = {p.start: is_provisional(metric, p, last_complete) for p in periods}
    out = []
    for (key, value), row in zip(values.items(), rows, strict=True):
        start, *segment = key if isinstance(key, tuple) else (key,)
        period = by_start[pd.Timestamp(start)]
        known = None if (begins is not None and period.end < begins) else _num(value)
        target = _target(targets, name, period, grouping, segment)
        out.append(
            SegmentPoint(
                metric=name,
                dimensions=grouping,
                segment=tuple(str(s) for s in segment),
                period=period.label,
                start=period.start,
                end=period.end,
                value=known,
                stats=_plain_stats(metric_stats(metric, row)),
                target=target,
                target_met=target_met(metric.direction, known, target),
                last_year=earlier.get((period.start, *segment)),
                complete=complete[period.start],
                provisional=provisional[period.start],
            )
        )
    return out


def _rows(metric: MetricDef, sums: pd.DataFrame) -> list[Any]:
    """Each row of ``sums`` as :func:`metric_stats` reads it (a dict: ``.loc`` per row is slow)."""
    return sums.to_dict("records")


def _target(
    targets: TargetIndex | None, name: str, period: Period, grouping: Grouping, segment: list
) -> float | None:
    """The target in force: the metric's for a total, the segment's for one dimension."""
    if targets is None or len(grouping) > 1:
        return None
    if not grouping:
        return targets.lookup(name, period)
    return targets.lookup(name, period, grouping[0], str(segment[0]))


def _last_year_values(
    metric: MetricDef, cube: Cube, periods: tuple[Period, ...], grouping: Grouping, memo: SumsMemo
) -> dict[tuple, float | None]:
    """(period start, *segment) → the value in the same period last year, where data has it.

    A quantile's sketch is counted for the shown periods only: it has no last year here.
    """
    if kind_of(metric).reads_sketch:
        return {}
    pairs = [(p, p.same_period_last_year()) for p in periods]
    pairs = [(p, ly) for p, ly in pairs if ly is not None and ly.start >= cube.first_complete_day]
    if not pairs:
        return {}
    sums = period_sums(cube, metric.measures, tuple(ly for _, ly in pairs), grouping, memo)
    values = metric_values(metric, sums)
    back = {pd.Timestamp(ly.start): p.start for p, ly in pairs}
    out = {}
    for key, value in values.items():
        start, *segment = key if isinstance(key, tuple) else (key,)
        out[(back[pd.Timestamp(start)], *segment)] = _num(value)
    return out


def _plain_stats(stats: Stats) -> Stats:
    """The stats without a quantile's histogram (working data, hundreds of buckets a row)."""
    return Stats(**{k: v for k, v in stats.as_dict().items()})


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN: no value (a zero denominator)


def weight_of(stats: Stats) -> float | None:
    """n: what the value rests on — the denominator, the count (mean, quantile) or the total."""
    for value in (stats.denominator, stats.count, stats.total):
        if value is not None:
            return value
    return None


def numerator_denominator(stats: Stats) -> tuple[float | None, float | None]:
    """The two sums whose ratio is the value (a mean: Σ sum / Σ count; a total: Σ total / —)."""
    if stats.numerator is not None or stats.denominator is not None:
        return stats.numerator, stats.denominator
    if stats.sum is not None:
        return stats.sum, stats.count
    return stats.total, None


__all__ = ["ExportFigures", "Provenance", "SegmentPoint", "SegmentSeries", "segment_series"]
