"""Period figures: value, previous, Δ, last year, target, trailing series and breakdowns.

Every metric is computed from *summed* measures at the grain it is shown —
``Σ numerator / Σ denominator`` — never as an average of averages. Each
figure keeps the sufficient statistics it was computed from (counts for
proportions; count, sum and sum of squares for means) so the analysis layer
can test significance without going back to the raw rows.
"""

from __future__ import annotations

import math
import weakref
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import (
    MetricDef,
)
from reportgen.data.frames import LEVEL
from reportgen.data.plan import CubeQuery
from reportgen.data.quality import QualityIssue, check_quality
from reportgen.data.scan import Cube
from reportgen.data.sql import BUCKET, DAY
from reportgen.document import ValueFormat
from reportgen.errors import SourceError
from reportgen.formatting import duration_unit
from reportgen.periods import Grain, Period, period_containing, period_starts
from reportgen.semantics import Stats, kind_of
from reportgen.semantics.sketch import Histogram

ALL = "__all__"


@dataclass(frozen=True)
class SegmentFigure:
    segment: str
    value: float | None
    previous: float | None
    delta: float | None
    delta_pct: float | None
    share: float | None  # share of the metric's weight (denominator, count or total)
    target: float | None
    stats: Stats
    previous_stats: Stats


@dataclass(frozen=True)
class SeriesPoint:
    period: str
    start: date
    value: float | None
    complete: bool
    provisional: bool = False  # younger than the metric's matures_after: late data still arriving
    n: float | None = None  # the sample behind the value (see series_sample_sizes); None for totals
    target: float | None = None  # the target in force at the period's start


@dataclass(frozen=True)
class MetricFigures:
    metric: str
    label: str
    type: str
    format: str
    decimals: int | None
    direction: str
    description: str
    value: float | None
    previous: float | None
    delta: float | None
    delta_pct: float | None
    last_year: float | None
    delta_last_year: float | None
    target: float | None
    vs_target: float | None
    target_met: bool | None
    stats: Stats
    previous_stats: Stats
    series: tuple[SeriesPoint, ...]
    breakdowns: dict[str, tuple[SegmentFigure, ...]] = field(default_factory=dict)
    formula: str | None = None  # a derived metric's formula, as written in the catalog
    # a stock (agg 'last', e.g. backlog): the snapshot day each value was read from — the
    # period's last day with data, which is its end only when the period is complete
    as_of: date | None = None
    previous_as_of: date | None = None
    q: float | None = None  # a quantile metric's q (0.5 median, 0.9 p90)
    # a maturing metric (catalog matures_after) whose period is younger than that, counted from
    # the period's last day to the data's last complete day: the figure will still change
    provisional: bool = False
    matures_on: date | None = None  # first data day at which the period's figure is final
    provisional_reason: str | None = None  # e.g. "appeals still arriving"
    previous_provisional: bool = False
    unit: str | None = None  # the catalog's unit label of a rate ("decisions per productive hour")
    #: the trailing closed months (weekly reports; not for quantiles, whose sketches are weekly),
    #: each from the days' summed measures like every other figure
    months: tuple[SeriesPoint, ...] = ()


@dataclass(frozen=True)
class ReportFigures:
    report: str
    period: Period
    previous_period: Period
    last_year_period: Period | None
    timezone: str
    complete: bool
    previous_complete: bool
    last_complete_day: date
    metrics: dict[str, MetricFigures]
    quality: tuple[QualityIssue, ...] = ()


# -- measure sums ---------------------------------------------------------------------------


def _in_window(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Rows with start ≤ day ≤ end; the cube keeps ``day`` sorted, so this is two binary searches."""
    lo, hi = _window_rows(frame, start, end)
    return frame.iloc[lo:hi]


def _window_rows(frame: pd.DataFrame, start: date, end: date) -> tuple[int, int]:
    """The row positions ``[lo, hi)`` of :func:`_in_window`."""
    days = frame[DAY].to_numpy()
    lo = days.searchsorted(_day_bound(start, days.dtype), side="left")
    hi = days.searchsorted(_day_bound(end, days.dtype), side="right")
    return int(lo), int(hi)


def _day_bound(day: date, dtype: np.dtype) -> np.datetime64:
    """``day`` in the day column's own unit: a bound in another unit makes numpy cast every row
    of the column before each search (a millisecond per search on a large cube)."""
    bound = np.datetime64(day, "D")
    return bound.astype(dtype) if dtype.kind == "M" else bound.astype("datetime64[ns]")


def measure_totals(
    cube: Cube,
    measures: tuple[str, ...],
    start: date,
    end: date,
    by: str | list[str] | None = None,
) -> pd.DataFrame:
    """Σ of each measure over [start, end]; one row (index ``ALL``) or one row per segment of ``by``.

    ``by`` may name several dimensions (a MultiIndex of their combinations).
    A stock measure (``agg: last``) is summed over the window's last day with
    data only — the period-end snapshot — so a segment's value is its own
    row(s) on that day, and a segment absent that day holds 0.
    """
    parts = []
    for group, cols, stock in _measure_groups(cube, measures):
        frame = _in_window(cube.frames[group], start, end)
        query = cube.query_of(cols[0])
        if query.sketch:
            by_list = [by] if isinstance(by, str) else list(by or [])
            parts.append(_sketch_histograms(cube, query, frame, by_list, start, end))
            continue
        if stock:
            frame = _last_day(frame)
        if by is None:
            parts.append(frame[cols].sum().to_frame(ALL).T)
        else:
            parts.append(frame.groupby(by, observed=True)[cols].sum())
    return pd.concat(parts, axis=1).fillna(0.0)


def _measure_groups(cube: Cube, measures: tuple[str, ...]) -> list[tuple[str, list[str], bool]]:
    """``(cube group, its measures, stock?)``: flows and stocks of one scan are read apart."""
    out = []
    for group in dict.fromkeys(cube.group_of(m) for m in measures):
        cols = [m for m in measures if cube.group_of(m) == group]
        for stock in (False, True):
            chosen = [m for m in cols if cube.is_stock(m) == stock]
            if chosen:
                out.append((group, chosen, stock))
    return out


def _last_day(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the window's last day (the cube is sorted by day): a stock's period value."""
    if frame.empty:
        return frame
    days = frame[DAY].to_numpy()
    return frame.iloc[days.searchsorted(days[-1], side="left") :]


def snapshot_day(cube: Cube, measure: str, start: date, end: date) -> date | None:
    """The day a stock measure is read from for [start, end]: its last day with data there."""
    frame = _in_window(cube.frame_for(measure), start, end)
    return None if frame.empty else frame[DAY].iloc[-1].date()


def measure_series(
    cube: Cube, measures: tuple[str, ...], periods: tuple[Period, ...], by: str | None = None
) -> pd.DataFrame:
    """Σ of each measure per period.

    Index: period start (Timestamp), or (period start, segment) when ``by`` is
    given — every period × segment pair present, missing ones filled with 0.

    Each distinct request is computed once per cube: the figures, the anomaly
    checks, the bands and the outlook of a build ask for many of the same sums
    (and a median and a p90 read the same sketch). The caller gets its own
    (shallow, copy-on-write) frame, so changing it never changes the memo.
    """
    memo = _memo_of(cube).series
    key = (tuple(measures), tuple(periods), by)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _measure_series(cube, tuple(measures), tuple(periods), by)
    return found.copy(deep=False)


@dataclass
class _CubeMemo:
    """What a build computes once per cube and reads many times."""

    series: dict[tuple, pd.DataFrame] = field(default_factory=dict)  # measure_series results
    starts: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # group, grain → starts


#: per live cube (by id; the entry goes with the cube)
_CUBE_MEMO: dict[int, tuple[weakref.ref[Cube], _CubeMemo]] = {}


def _memo_of(cube: Cube) -> _CubeMemo:
    """The memo of ``cube``, new for a cube not seen before."""
    entry = _CUBE_MEMO.get(id(cube))
    if entry is None or entry[0]() is not cube:
        entry = _CUBE_MEMO[id(cube)] = (weakref.ref(cube), _CubeMemo())
        weakref.finalize(cube, _CUBE_MEMO.pop, id(cube), None)
    return entry[1]


def _period_starts_of(cube: Cube, group: str, grain: Grain) -> np.ndarray:
    """The period start (datetime64[ns]) of every row of a cube frame, computed once per grain."""
    memo = _memo_of(cube).starts
    found = memo.get((group, grain))
    if found is None:
        found = memo[(group, grain)] = period_starts(cube.frames[group][DAY], grain).to_numpy()
    return found


def _measure_series(
    cube: Cube, measures: tuple[str, ...], periods: tuple[Period, ...], by: str | None
) -> pd.DataFrame:
    first, last = periods[0].start, periods[-1].end
    grain = periods[0].grain
    parts = []
    for group, cols, stock in _measure_groups(cube, measures):
        lo, hi = _window_rows(cube.frames[group], first, last)
        frame = cube.frames[group].iloc[lo:hi]
        query = cube.query_of(cols[0])
        if query.sketch:
            by_list = [by] if by is not None else []
            parts.append(_sketch_histograms(cube, query, frame, by_list, first, last, per=grain))
            continue
        starts = _period_starts_of(cube, group, grain)[lo:hi]
        if stock:  # each period's own last day with data: its closing snapshot
            closing = frame[DAY].groupby(starts).transform("max")
            keep = (frame[DAY] == closing).to_numpy()
            frame, starts = frame[keep], starts[keep]
        if by is None:
            parts.append(period_sums(frame, cols, starts))
        else:
            parts.append(frame[cols].groupby([starts, frame[by].values]).sum())
    starts = pd.DatetimeIndex([pd.Timestamp(p.start) for p in periods])
    joined = pd.concat(parts, axis=1, sort=False)  # reindexed to the periods just below
    if by is None:
        return joined.reindex(starts).fillna(0.0)
    segments = joined.index.get_level_values(1).unique()
    full = pd.MultiIndex.from_product([starts, segments], names=["period", by])
    return joined.reindex(full).fillna(0.0)


def period_sums(frame: pd.DataFrame, cols: list[str], starts: np.ndarray) -> pd.DataFrame:
    """``frame[cols].groupby(starts).sum()`` for rows in period order, without the groupby.

    For sorted keys and float columns without NaN, pandas sums each group with
    ``np.add.reduceat`` over the group's rows; this calls it directly, so the
    sums are the same to the last bit, without the grouper's set-up (most of
    the time of a series of a few hundred periods). Anything else — NaN, other
    dtypes, unsorted or missing keys — goes through the groupby itself.
    """
    columns = [frame[c].to_numpy() for c in cols]
    plain = (
        len(starts) > 0
        and starts.dtype.kind == "M"
        and not np.isnat(starts).any()
        and bool((starts[1:] >= starts[:-1]).all())
        and all(c.dtype == np.float64 and not np.isnan(c).any() for c in columns)
    )
    if not plain:
        return frame[cols].groupby(starts).sum()
    firsts = np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]])
    return pd.DataFrame(
        {c: np.add.reduceat(values, firsts) for c, values in zip(cols, columns, strict=True)},
        index=pd.DatetimeIndex(starts[firsts]),
    )


def _sketch_histograms(
    cube: Cube,
    query: CubeQuery,
    frame: pd.DataFrame,
    by: list[str],
    start: date,
    end: date,
    *,
    per: Grain | None = None,
) -> pd.DataFrame:
    """A sketch's summed histogram per segment of ``by`` (and per period of ``per``, if given)."""
    rows = _sketch_rows(cube, query, frame, by, start, end)
    keys = list(by)
    if per is not None:
        rows = rows.assign(period=period_starts(rows[DAY], per).values)
        keys = ["period", *keys]
    return _histograms(rows, keys, query.measures[0], query.alpha)


def _sketch_rows(
    cube: Cube, query: CubeQuery, frame: pd.DataFrame, by: list[str], start: date, end: date
) -> pd.DataFrame:
    """The sketch rows of the grouping set for ``by`` (within the audience's scope).

    None when no grouping set matches (a breakdown the sketch was not counted
    by) or the window is not whole periods of the sketch's grain (a daily
    alert on a weekly report): a quantile of part of a week cannot be read
    from the week's histogram.
    """
    wanted = set(cube.sketch_scope) | set(by)
    level = "+".join(d for d in query.dimensions if d in wanted)
    known = any(set(lv) == wanted for lv in query.levels)
    if not known or not _whole_periods(query.grain, start, end):
        return frame.iloc[0:0]
    return frame[(frame[LEVEL] == level).to_numpy()]


def _whole_periods(grain: str, start: date, end: date) -> bool:
    if grain == "day":
        return True
    return (
        period_containing(start, grain).start == start and period_containing(end, grain).end == end
    )


def _histograms(rows: pd.DataFrame, keys: list[str], measure: str, alpha: float) -> pd.DataFrame:
    """One :class:`Histogram` per combination of ``keys`` (or one, index ``ALL``) in column ``measure``."""
    if not keys:
        summed = rows.groupby(BUCKET)[measure].sum()
        histogram = Histogram(
            summed.index.to_numpy(dtype="int64"), summed.to_numpy(dtype=float), alpha
        )
        return pd.DataFrame({measure: [histogram]}, index=[ALL], dtype=object)
    summed = rows.groupby([*keys, BUCKET], observed=True)[measure].sum()
    summed = summed[summed > 0]
    cells = dict(_cells(summed, len(keys), alpha))
    if len(keys) > 1:
        index = pd.MultiIndex.from_tuples(list(cells), names=keys)
    else:
        index = pd.Index(list(cells), name=keys[0])
    return pd.DataFrame({measure: pd.Series(list(cells.values()), index=index, dtype=object)})


def _cells(summed: pd.Series, keys: int, alpha: float) -> Iterator[tuple[Any, Histogram]]:
    """(key, histogram) per combination of the first ``keys`` index levels of ``summed``.

    ``summed`` comes sorted from a groupby, so each combination's buckets are one
    run of rows: the runs are cut from the index codes, in the order (and with the
    keys) ``summed.groupby(level=…)`` would give them, without a frame per group.
    """
    index = summed.index
    assert isinstance(index, pd.MultiIndex)
    if summed.empty:  # no rows (a window before the sketch's data): no cells
        return
    codes = np.column_stack([np.asarray(index.codes[i]) for i in range(keys)])
    buckets = index.get_level_values(BUCKET).to_numpy(dtype="int64")
    counts = summed.to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]).any(axis=1)])
    ends = np.r_[starts[1:], len(codes)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        values = tuple(index.levels[i][codes[a, i]] for i in range(keys))
        key = values if keys > 1 else values[0]
        yield key, Histogram(buckets[a:b].copy(), counts[a:b].copy(), alpha)


# -- metric values from summed measures -----------------------------------------------------


def metric_values(metric: MetricDef, totals: pd.DataFrame) -> pd.Series:
    """Metric value per row of ``totals``; NaN where the denominator is zero."""
    return kind_of(metric).values(totals)


def metric_weight(metric: MetricDef, totals: pd.DataFrame) -> pd.Series:
    """What a segment's share is a share of: the denominator, the count, or the total."""
    return kind_of(metric).weight(totals)


def series_sample_sizes(metric: MetricDef, totals: pd.DataFrame) -> list[float | None]:
    """Each row's n, as a reader of a chart tooltip means it: the denominator of a
    proportion, the count of a mean or of the rows a quantile is read from.

    None for other ratios (throughput's denominator is hours, not a sample),
    totals (a total is its own volume) and formulas — the rule of the tables' n column.
    """
    kind = kind_of(metric)
    return [kind.sample_size(kind.stats(row)) for _, row in totals.iterrows()]


def metric_stats(metric: MetricDef, row: pd.Series | None) -> Stats:
    return Stats() if row is None else kind_of(metric).stats(row)


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _delta(value: float | None, previous: float | None) -> tuple[float | None, float | None]:
    if value is None or previous is None:
        return None, None
    delta = value - previous
    return delta, (delta / previous if previous != 0 else None)


# -- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Targets in force: the row with the greatest ``valid_from`` on or before a period's start."""

    table: pd.DataFrame  # metric, valid_from, dimension, segment, target

    @classmethod
    def load(cls, report: ResolvedReport) -> Targets:
        spec = report.sources.targets
        columns = ["metric", "valid_from", "dimension", "segment", "target"]
        if spec is None:
            return cls(pd.DataFrame(columns=columns))
        path = (report.sources_path.parent / spec.path).resolve()
        try:
            table = pd.read_csv(path, dtype={"metric": str, "dimension": str, "segment": str})
        except FileNotFoundError:
            raise SourceError(
                f"targets file not found: {path}",
                fix="run `reportgen demo-data`, or remove 'targets:' from the sources config",
            ) from None
        missing = set(columns) - set(table.columns)
        if missing:
            raise SourceError(
                f"targets file {path} lacks columns {sorted(missing)}",
                fix=f"give it the columns {', '.join(columns)}",
            )
        table["valid_from"] = pd.to_datetime(table["valid_from"]).dt.date
        table["dimension"] = table["dimension"].fillna("")
        table["segment"] = table["segment"].fillna("")
        return cls(table[columns])

    def lookup(
        self, metric: str, period: Period, dimension: str = "", segment: str = ""
    ) -> float | None:
        found = self._in_force.get((metric, dimension, segment))
        if not found:
            return None
        starts, values = found
        i = bisect_right(starts, period.start)
        return values[i - 1] if i else None

    @cached_property
    def _in_force(self) -> dict[tuple[str, str, str], tuple[list[date], list[float]]]:
        """(metric, dimension, segment) → its ``valid_from`` dates in order, and their targets.

        A build looks targets up hundreds of times (every series point, every segment):
        one pass over the table here instead of a filtered frame per lookup. A row whose
        ``valid_from`` is not a date is never in force, as in a comparison with it.
        """
        rows: dict[tuple[str, str, str], list[tuple[date, float]]] = {}
        for r in self.table.itertuples(index=False):
            if isinstance(r.valid_from, date):
                key = (r.metric, r.dimension, r.segment)
                rows.setdefault(key, []).append((r.valid_from, float(r.target)))
        ordered = {k: sorted(v, key=lambda row: row[0]) for k, v in rows.items()}
        return {k: ([d for d, _ in v], [t for _, t in v]) for k, v in ordered.items()}


def target_met(direction: str, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None or direction == "neutral":
        return None
    return value >= target if direction == "higher_is_better" else value <= target


# -- assembling the figures -------------------------------------------------------------------


def period_is_complete(cube: Cube, period: Period) -> bool:
    return cube.first_complete_day <= period.start and period.end <= cube.last_complete_day


def compute_figures(
    report: ResolvedReport,
    cube: Cube,
    period: Period,
    targets: Targets,
    quality: tuple[QualityIssue, ...] | None = None,
) -> ReportFigures:
    """Every figure of the report; ``quality`` is the gate's verdict (see :mod:`reportgen.data.quality`).

    Without it (alerts, tests) the checks the cube alone can evaluate run here,
    so no caller computes figures from data that fails an error-level check.
    """
    previous = period.previous()
    last_year = period.same_period_last_year()
    if last_year is not None and last_year.start < cube.first_complete_day:
        last_year = None
    trailing = period.trailing(report.config.trailing_periods)
    metrics = {}
    for choice in report.metrics:
        metric = report.metric(choice.metric)
        metrics[choice.metric] = _metric_figures(
            choice.metric,
            metric,
            choice.breakdowns or [],
            cube,
            period,
            previous,
            last_year,
            trailing,
            targets,
            complete=lambda p: period_is_complete(cube, p),
            last_complete_day=cube.last_complete_day,
        )
    if quality is None:
        quality = check_quality(report, cube, trailing, period)
    return ReportFigures(
        report=report.id,
        period=period,
        previous_period=previous,
        last_year_period=last_year,
        timezone=report.config.period.timezone,
        complete=period_is_complete(cube, period),
        previous_complete=period_is_complete(cube, previous),
        last_complete_day=cube.last_complete_day,
        metrics=metrics,
        quality=quality,
    )


def matures_on(metric: MetricDef, period: Period) -> date | None:
    """The first data day on which ``period``'s figure of a maturing metric is final; else None."""
    if metric.matures_after is None:
        return None
    return period.end + timedelta(days=metric.matures_after.days)


def is_provisional(metric: MetricDef, period: Period, last_complete_day: date) -> bool:
    """Late data (appeals, QA verdicts) may still change this period's figure."""
    final = matures_on(metric, period)
    return final is not None and last_complete_day < final


def _metric_figures(
    name,
    metric,
    breakdowns,
    cube,
    period,
    previous,
    last_year,
    trailing,
    targets,
    complete,
    last_complete_day,
):
    measures = metric.measures
    kind = kind_of(metric)
    begins = data_begins(cube, measures)
    current_totals = measure_totals(cube, measures, period.start, period.end)
    previous_totals = measure_totals(cube, measures, previous.start, previous.end)
    value = _known(begins, period, metric_values(metric, current_totals).iloc[0])
    prev = _known(begins, previous, metric_values(metric, previous_totals).iloc[0])
    delta, delta_pct = _delta(value, prev)
    ly_value = None
    if last_year is not None:
        ly_value = _num(
            metric_values(
                metric, measure_totals(cube, measures, last_year.start, last_year.end)
            ).iloc[0]
        )
    target = targets.lookup(name, period)
    series = _series_points(name, metric, cube, trailing, targets, complete, last_complete_day)
    months = ()
    if period.grain == "week" and not kind_of(metric).reads_sketch:
        months = _series_points(
            name, metric, cube, closed_months(period), targets, complete, last_complete_day
        )
    return MetricFigures(
        metric=name,
        label=metric.label,
        type=metric.type,
        format=metric.format,
        decimals=metric.decimals,
        unit=metric.unit,
        direction=metric.direction,
        description=metric.description,
        value=value,
        previous=prev,
        delta=delta,
        delta_pct=delta_pct,
        last_year=ly_value,
        delta_last_year=_delta(value, ly_value)[0],
        target=target,
        vs_target=(value - target) if value is not None and target is not None else None,
        target_met=target_met(metric.direction, value, target),
        stats=metric_stats(metric, current_totals.iloc[0]),
        previous_stats=metric_stats(metric, previous_totals.iloc[0]),
        series=series,
        breakdowns=_breakdowns(name, metric, breakdowns, cube, period, previous, targets),
        formula=kind.formula,
        as_of=_as_of(cube, measures, period),
        previous_as_of=_as_of(cube, measures, previous),
        q=kind.q,
        provisional=is_provisional(metric, period, last_complete_day),
        matures_on=matures_on(metric, period),
        provisional_reason=metric.matures_after.reason if metric.matures_after else None,
        previous_provisional=is_provisional(metric, previous, last_complete_day),
        months=months,
    )


#: A weekly business review shows the trailing twelve months beside the trailing weeks.
TRAILING_MONTHS = 12


def closed_months(period: Period, count: int = TRAILING_MONTHS) -> tuple[Period, ...]:
    """The ``count`` months ending with the last one that ends on or before ``period``'s end.

    A month still running when the period ends is left out: a month-to-date total
    would read as a drop, and a rebuild of an old week must show the same months.
    """
    month = period_containing(period.end, "month")
    if month.end > period.end:
        month = month.previous()
    return month.trailing(count)


def _series_points(
    name: str,
    metric: MetricDef,
    cube: Cube,
    periods: tuple[Period, ...],
    targets: Targets,
    complete,
    last_complete_day: date,
) -> tuple[SeriesPoint, ...]:
    """One point per period, each from that period's summed measures (days roll up to weeks
    or months alike), with the target in force at its start."""
    begins = data_begins(cube, metric.measures)
    totals = measure_series(cube, metric.measures, periods)
    values = metric_values(metric, totals)
    sizes = series_sample_sizes(metric, totals)
    return tuple(
        SeriesPoint(
            p.label,
            p.start,
            _known(begins, p, v),
            complete(p),
            is_provisional(metric, p, last_complete_day),
            n,
            targets.lookup(name, p),
        )
        for p, v, n in zip(periods, values, sizes, strict=True)
    )


def data_begins(cube: Cube, measures: tuple[str, ...]) -> date | None:
    """The first day every measure of a metric has data (its facts' latest first day).

    A sketch's frame is dated by period start: its first row is its first period.
    """
    days = []
    for measure in measures:
        group = cube.group_of(measure)
        if group in cube.first_day:
            days.append(cube.first_day[group])
        elif not (frame := cube.frames[group]).empty:
            days.append(frame[DAY].iloc[0].date())
    return max(days) if days else None


def _known(begins: date | None, period: Period, value: object) -> float | None:
    """A period's value; None when the period ends before the data begins (empty, never 0)."""
    if begins is not None and period.end < begins:
        return None
    return _num(value)  # type: ignore[arg-type]


def _as_of(cube: Cube, measures: tuple[str, ...], period: Period) -> date | None:
    """The snapshot day of the metric's first stock measure in ``period``; None for flows."""
    stock = next((m for m in measures if cube.is_stock(m)), None)
    return None if stock is None else snapshot_day(cube, stock, period.start, period.end)


def _breakdowns(name, metric, dims, cube, period, previous, targets):
    """Each breakdown; a quantile's only where its sketch was counted by that dimension.

    A sketch has no segments for a dimension outside its grouping sets, or for
    a period that is not whole periods of its grain: that breakdown is left out.
    """
    found = {}
    for dim in dims:
        if dim not in cube.dimensions_of(metric.measures[0]):
            continue
        segments = _breakdown(name, metric, dim, cube, period, previous, targets)
        if segments or not kind_of(metric).reads_sketch:
            found[dim] = segments
    return found


def _breakdown(name, metric, dim, cube, period, previous, targets) -> tuple[SegmentFigure, ...]:
    measures = metric.measures
    current = measure_totals(cube, measures, period.start, period.end, by=dim)
    prior = measure_totals(cube, measures, previous.start, previous.end, by=dim)
    both = current.join(prior.add_suffix("__prev"), how="outer").fillna(0.0)
    prior_cols = {f"{m}__prev": m for m in measures}
    prior_aligned = both[list(prior_cols)].rename(columns=prior_cols)
    current_aligned = both[list(measures)]
    values = metric_values(metric, current_aligned)
    prev_values = metric_values(metric, prior_aligned)
    weights = metric_weight(metric, current_aligned)
    total_weight = weights.sum()
    order = weights.sort_values(ascending=False, kind="stable").index
    segments = []
    for segment in order:
        value, prev = _num(values[segment]), _num(prev_values[segment])
        delta, delta_pct = _delta(value, prev)
        segments.append(
            SegmentFigure(
                segment=str(segment),
                value=value,
                previous=prev,
                delta=delta,
                delta_pct=delta_pct,
                share=float(weights[segment] / total_weight) if total_weight else None,
                target=targets.lookup(name, period, dim, str(segment)),
                stats=metric_stats(metric, current_aligned.loc[segment]),
                previous_stats=metric_stats(metric, prior_aligned.loc[segment]),
            )
        )
    return tuple(segments)


__all__ = ["MetricFigures", "ReportFigures", "Targets", "compute_figures"]


def display_format(figures: MetricFigures) -> ValueFormat:
    """The format a metric is shown in: an hours metric under an hour is shown in minutes.

    Here, not in the narrative, because analysis reports it too (one unit per metric).
    """
    if figures.format == "hours":
        return duration_unit((figures.value, figures.previous))
    return figures.format  # type: ignore[return-value]
