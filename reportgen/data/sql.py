"""The cube's SQL: each scan as a dialect-neutral sqlglot expression.

The expressions are built once from the metric definitions (filters are
written in DuckDB syntax) and rendered in each engine's dialect by
:mod:`reportgen.data.plan`, so measure filters, day truncation in the
report's timezone and sums of squares mean the same on DuckDB, PostgreSQL and
Spark. Nothing here connects to an engine or reads a row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp

from reportgen.config.models import Catalog, FactDef, MeasureDef
from reportgen.semantics.aggregations import aggregation_of, condition, count_where

#: the columns a scan returns: the local day, then dimensions, measures and check counters
DAY = "day"
CHECK_PREFIX = "check__"
BUCKET = "bucket"  # a sketch frame's histogram bucket (see reportgen.semantics.sketch)
GROUPING_PREFIX = "grouping__"
SKETCH_ROWS = "sketch_rows"  # the sketch's per-row subquery (see restrict_sketch)


def signature_expression(
    time_column: str,
    time_type: str,
    timezone: str,
    table: exp.Expression,
    change_column: str | None,
) -> exp.Select:
    """Rows per local day, and the newest ``change_column`` value: one cheap aggregate."""
    day = day_expression(time_column, time_type, timezone)
    select: list[exp.Expression] = [
        exp.alias_(day, DAY),
        exp.alias_(exp.Count(this=exp.Star()), "n"),
    ]
    if change_column:
        changed = exp.cast(exp.Max(this=exp.column(change_column)), "VARCHAR")
        select.append(exp.alias_(changed, "changed"))
    return exp.select(*select).from_(table).group_by(exp.Literal.number(1))


def build_sketch_expression(
    measure: MeasureDef,
    fact: FactDef,
    time_column: str,
    dimensions: tuple[str, ...],
    name: str,
    levels: tuple[tuple[str, ...], ...],
    *,
    table: exp.Expression | str,
    timezone: str,
    grain: str,
) -> exp.Select:
    """Bucket counts of a sketch measure per period × grouping set, as one scan.

    The period and the bucket are computed once per row in a subquery; the
    outer query only counts, with one small hash table per grouping set.
    ``GROUPING(d)`` tells a dimension rolled up by the grouping set from a NULL
    in the data, on every engine. A row whose value is NULL gets a NULL
    bucket (dropped by :func:`tidy`) rather than a second evaluation of the
    value in the WHERE clause. This form counts every period;
    :func:`restrict_sketch` limits it to the periods a build shows.
    """
    day = day_expression(time_column, fact.time_type, timezone)
    if grain != "day":
        day = exp.cast(exp.DateTrunc(this=day, unit=exp.var(grain.upper())), "DATE")
    where = exp.and_(
        exp.Not(this=exp.Is(this=exp.column(time_column), expression=exp.Null())),
        *([exp.paren(condition(measure.filter))] if measure.filter else []),
    )
    source = sqlglot.parse_one(table, read="duckdb") if isinstance(table, str) else table
    rows = (
        exp.select(
            exp.alias_(day, DAY),
            *[exp.column(d) for d in dimensions if d != time_column],
            exp.alias_(aggregation_of(measure).select(measure), BUCKET),
        )
        .from_(source.copy())
        .where(where)
    )
    select: list[exp.Expression] = [exp.column(DAY)]
    select += [exp.column(d) for d in dimensions]
    select += [
        exp.alias_(
            exp.Anonymous(this="GROUPING", expressions=[exp.column(d)]), f"{GROUPING_PREFIX}{d}"
        )
        for d in dimensions
    ]
    select += [exp.column(BUCKET), exp.alias_(exp.Count(this=exp.Star()), name)]
    sets = [
        exp.Tuple(
            expressions=[exp.column(DAY), *[exp.column(d) for d in level], exp.column(BUCKET)]
        )
        for level in levels
    ]
    query = exp.select(*select).from_(rows.subquery(SKETCH_ROWS))
    query.set("group", exp.Group(grouping_sets=[exp.GroupingSets(expressions=sets)]))
    return query


def restrict_sketch(
    expression: exp.Select,
    time_column: str,
    time_type: str,
    timezone: str,
    periods: tuple[tuple[date, date], ...],
) -> exp.Select:
    """The sketch scan of :func:`build_sketch_expression` for ``periods`` only.

    Each row's period is found by comparing the raw time column with the
    periods' ends as instants (local midnights in UTC, exact at DST changes),
    ``CASE WHEN t < end₁ THEN start₁ WHEN t < end₂ …``, and the rows are limited
    to the periods' spans the same way. Converting every row to local time
    instead (``AT TIME ZONE``, then ``DATE_TRUNC``) cost DuckDB three times as
    much on 10M rows; comparisons on the raw column also let every engine
    prune files and row groups by their min/max statistics.
    """
    if not periods:
        raise ValueError("restrict_sketch needs at least one period")
    ordered = sorted(periods)
    column = exp.column(time_column)

    def bound(day: date) -> exp.Expression:
        return local_midnight(day, time_type, timezone)

    assign = exp.Case()
    for start, end in ordered:
        label = exp.cast(exp.Literal.string(start.isoformat()), "DATE")
        assign = assign.when(exp.LT(this=column.copy(), expression=bound(next_day(end))), label)
    spans = [
        exp.and_(
            exp.GTE(this=column.copy(), expression=bound(first)),
            exp.LT(this=column.copy(), expression=bound(next_day(last))),
        )
        for first, last in _spans(ordered)
    ]
    restricted = expression.copy()
    rows = restricted.find(exp.Subquery).this
    rows.expressions[0] = exp.alias_(assign, DAY)
    rows.where(exp.paren(exp.or_(*spans)) if len(spans) > 1 else spans[0], copy=False)
    return restricted


def next_day(day: date) -> date:
    return day + timedelta(days=1)


def _spans(periods: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Sorted periods merged where one starts the day after the previous ends."""
    spans: list[tuple[date, date]] = []
    for start, end in periods:
        if spans and start <= next_day(spans[-1][1]):
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def local_midnight(day: date, time_type: str, timezone: str) -> exp.Expression:
    """The first instant of local ``day`` as a literal of the column's kind.

    For a gap at midnight (the clock jumps from 23:59 to 01:00) zoneinfo's
    ``fold=0`` gives the old offset, whose midnight is the transition instant:
    the day's first instant all the same.
    """
    if time_type == "date":
        return exp.cast(exp.Literal.string(day.isoformat()), "DATE")
    return _midnight_instant(day, timezone)


def _midnight_instant(day: date, timezone: str, shift_days: int = 0) -> exp.Expression:
    """Local midnight of ``day`` as a UTC ``TIMESTAMPTZ`` literal, shifted by ``shift_days``."""
    midnight = datetime.combine(day, time(), tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    text = (midnight + timedelta(days=shift_days)).strftime("%Y-%m-%d %H:%M:%S+00:00")
    return exp.cast(exp.Literal.string(text), "TIMESTAMPTZ")


def build_cube_expression(
    catalog: Catalog,
    fact: FactDef,
    time_column: str,
    dimensions: tuple[str, ...],
    measures: list[str],
    checks: tuple[str, ...],
    *,
    table: exp.Expression | str,
    timezone: str,
    counters: dict[str, str | None] | None = None,
) -> exp.Select:
    """The GROUP BY for one scan as a dialect-neutral sqlglot expression.

    ``counters`` are the conditions of the ``checks`` (default: the fact's own,
    :meth:`FactDef.counters`; the plan adds the catalog-wide default checks).
    """
    day = day_expression(time_column, fact.time_type, timezone)
    select: list[exp.Expression] = [exp.alias_(day, DAY)]
    select += [exp.column(d) for d in dimensions]
    select += [
        exp.alias_(aggregation_of(catalog.measures[m]).select(catalog.measures[m]), m)
        for m in measures
    ]
    rules = fact.counters() if counters is None else counters
    select += [exp.alias_(count_where(rules[name]), f"{CHECK_PREFIX}{name}") for name in checks]
    source = sqlglot.parse_one(table, read="duckdb") if isinstance(table, str) else table
    return (
        exp.select(*select)
        .from_(source.copy())
        .where(exp.Not(this=exp.Is(this=exp.column(time_column), expression=exp.Null())))
        .group_by(*[exp.Literal.number(i + 1) for i in range(1 + len(dimensions))])
    )


def day_expression(column: str, time_type: str, timezone: str) -> exp.Expression:
    """The local calendar day of a time column, as the cube groups it."""
    col = exp.column(column)
    if time_type == "date":
        return exp.cast(col, "DATE")
    local = exp.AtTimeZone(this=exp.cast(col, "TIMESTAMPTZ"), zone=exp.Literal.string(timezone))
    return exp.cast(local, "DATE")


def since_condition(column: str, time_type: str, timezone: str, day: date) -> exp.Expression:
    """Rows on local ``day`` or later.

    The exact test is on the local day; the looser test on the raw column
    (two days of slack covers any UTC offset and DST gap) lets the engine
    prune files, partitions and row groups by their min/max statistics.
    """
    exact = exp.GTE(
        this=day_expression(column, time_type, timezone),
        expression=exp.cast(exp.Literal.string(day.isoformat()), "DATE"),
    )
    if time_type == "date":
        return exact
    prune = exp.GTE(this=exp.column(column), expression=_midnight_instant(day, timezone, -2))
    return exp.and_(prune, exact)


def window_condition(
    column: str, time_type: str, timezone: str, start: date, end: date
) -> exp.Expression:
    """Rows on local days ``start``…``end``, with the raw-column bounds that let engines prune.

    Like :func:`since_condition`: the exact test is on the local day, the
    loose one (two days of slack) on the raw column, which min/max statistics
    of files and row groups can answer without reading them.
    """
    exact = exp.Between(
        this=day_expression(column, time_type, timezone),
        low=exp.cast(exp.Literal.string(start.isoformat()), "DATE"),
        high=exp.cast(exp.Literal.string(end.isoformat()), "DATE"),
    )
    if time_type == "date":
        return exact
    prune = exp.Between(
        this=exp.column(column),
        low=_midnight_instant(start, timezone, -2),
        high=_midnight_instant(end, timezone, 3),
    )
    return exp.and_(prune, exact)
