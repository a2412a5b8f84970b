"""The cube: additive measures by (day × dimensions), computed inside the SQL engine.

Raw rows never reach pandas. For every (fact, time column) pair the report
needs, one ``GROUP BY`` query sums the measures and counts data-quality
violations in the same scan; pandas receives only the aggregated rows. The
query is built once as a sqlglot expression from the metric definitions
(filters are written in DuckDB syntax) and rendered in each engine's dialect,
so measure filters, day truncation in the report's timezone and sums of
squares mean the same on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import Catalog, FactDef, MeasureDef
from reportgen.engines import Engines
from reportgen.engines._sql import to_sql
from reportgen.errors import SourceError
from reportgen.freshness import DEFAULT_TABLE_RESTATE_DAYS, DaySpans, SourceWatch
from reportgen.sketch import bucket_expression


class FrameSource(Protocol):
    """Where :func:`compute_cube` gets a scan's rows from instead of the engine: the cube cache
    (:class:`reportgen.cache.CubeCache`), which is handed the scan rather than importing cube."""

    def frame(
        self, query: CubeQuery, engines: Engines, data_through: date | None = None
    ) -> pd.DataFrame: ...


DAY = "day"
CHECK_PREFIX = "check__"
BUCKET = "bucket"  # a sketch frame's histogram bucket (see reportgen.sketch)
LEVEL = "level"  # a sketch frame's grouping set: "" (all rows) or "region" or "region+site"
GROUPING_PREFIX = "grouping__"
SKETCH_ROWS = "sketch_rows"  # the sketch's per-row subquery (see restrict_sketch)


@dataclass(frozen=True)
class CubeQuery:
    """One scan: the measures of one fact grouped by its day in one time column."""

    fact: str
    time_column: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    checks: tuple[str, ...]
    sql: str  # the full scan in the engine's dialect: what runs, what --explain prints
    engine: str = "DuckDB"
    dialect: str = "duckdb"
    source: str = ""  # secret-free engine identity; with the definition, the cache key
    time_type: str = "timestamp"
    timezone: str = "UTC"
    expression: exp.Select | None = field(default=None, compare=False, repr=False)
    # measures (agg 'last') summed per day like the others, but read at a period's last day
    stocks: tuple[str, ...] = ()
    # a sketch scan: bucket counts of one sketch measure, per period of ``grain`` and per
    # grouping set in ``levels`` (never the full dimension grain: see plan_queries)
    sketch: bool = False
    alpha: float = 0.01  # a sketch's relative accuracy
    grain: str = "day"
    levels: tuple[tuple[str, ...], ...] = ()
    # the (first, last) local days of each period a sketch counts; () = every period
    periods: tuple[tuple[date, date], ...] = ()
    # where the rows come from and how the cache sees them change (see reportgen.freshness)
    watch: SourceWatch | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        base = _group_key(self.fact, self.time_column)
        return f"{base}#{self.measures[0]}" if self.sketch else base

    @property
    def definition(self) -> str:
        """The scan in one canonical dialect: metric definitions, grain, zone and table.

        A sketch's definition counts every period: the periods a build asks for
        are not part of it, since a period's bucket counts do not depend on
        which other periods are counted (the cache keeps them per period).
        """
        assert self.expression is not None
        return self.expression.sql(dialect="duckdb")

    @property
    def definition_hash(self) -> str:
        payload = {"source": self.source, "definition": self.definition, "timezone": self.timezone}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def sql_for_periods(self, periods: tuple[tuple[date, date], ...]) -> str:
        """A sketch scan restricted to ``periods`` (the cache asks only for those it lacks)."""
        assert self.expression is not None and self.sketch
        restricted = restrict_sketch(
            self.expression, self.time_column, self.time_type, self.timezone, periods
        )
        return to_sql(restricted, self.dialect)

    def sql_since(self, day: date) -> str:
        """The same scan restricted to ``day`` and later (incremental builds)."""
        return self.sql_days(DaySpans(), day)

    def sql_days(self, stale: DaySpans, since: date | None) -> str:
        """The scan restricted to the ``stale`` days and those from ``since`` on.

        A cached build asks for the days after its closed ones plus the closed
        days a source change can have touched (:mod:`reportgen.freshness`).
        """
        assert self.expression is not None and not stale.everything
        column, kind, zone = self.time_column, self.time_type, self.timezone
        parts = [window_condition(column, kind, zone, first, last) for first, last in stale.spans]
        if since is not None:
            parts.append(_since_condition(column, kind, zone, since))
        if not parts:
            raise ValueError("sql_days needs stale days or a first day")
        return to_sql(self.expression.copy().where(exp.or_(*parts)), self.dialect)


@dataclass(frozen=True)
class Cube:
    """Aggregated measures; ``frames[group]`` has columns day, dimensions…, measures…, checks…."""

    frames: dict[str, pd.DataFrame]
    queries: tuple[CubeQuery, ...]
    last_day: dict[str, date]  # per group: the latest day with data
    first_day: dict[str, date]

    # the dimensions an audience's row filter pinned in the sketch frames (see filter_cube)
    sketch_scope: tuple[str, ...] = ()

    def group_of(self, measure: str) -> str:
        return self.query_of(measure).key

    def query_of(self, measure: str) -> CubeQuery:
        for query in self.queries:
            if measure in query.measures:
                return query
        raise KeyError(measure)

    def frame_for(self, measure: str) -> pd.DataFrame:
        return self.frames[self.group_of(measure)]

    def is_stock(self, measure: str) -> bool:
        """A snapshot measure: a period takes its last day's value instead of the sum of days."""
        return any(measure in q.stocks for q in self.queries)

    def dimensions_of(self, measure: str) -> tuple[str, ...]:
        """Dimensions a measure can be split by (a sketch: those with a grouping set)."""
        query = self.query_of(measure)
        if not query.sketch:
            return query.dimensions
        scope = set(self.sketch_scope)
        return tuple(
            d for d in query.dimensions if any(set(level) == scope | {d} for level in query.levels)
        )

    @property
    def last_complete_day(self) -> date:
        """The latest day every fact has complete data for.

        The newest day present in a fact is assumed to be still filling up
        (late-arriving data, today's partial day), so a fact is complete
        through the day before it.
        """
        return min(self.last_day.values()) - timedelta(days=1)

    @property
    def first_complete_day(self) -> date:
        return max(self.first_day.values())

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.frames.values())


def _group_key(fact: str, time_column: str) -> str:
    return f"{fact}:{time_column}"


def plan_queries(
    report: ResolvedReport,
    measures: Iterable[str],
    engines: Engines | None = None,
    *,
    sketch_grain: str | None = None,
    sketch_periods: tuple[tuple[date, date], ...] = (),
) -> tuple[CubeQuery, ...]:
    """Group the needed measures by scan and build one statement per scan in its engine's dialect.

    Planning never connects: ``--explain`` works without credentials or a JVM.
    ``sketch_grain`` counts sketches per period of that grain (the grain of
    the period built, when it differs from the report's); ``sketch_periods``
    limits them to those periods, each its (first, last) local days — the
    periods a build shows.
    """
    catalog = report.catalog
    engines = engines or Engines(report.sources, report.sources_path)
    by_group: dict[tuple[str, str], list[str]] = {}
    sketches: list[str] = []
    for name in dict.fromkeys(measures):
        measure = catalog.measures[name]
        if measure.agg == "sketch":
            sketches.append(name)
            continue
        fact = catalog.facts[measure.fact]
        key = (measure.fact, measure.time_column or fact.time_column)
        by_group.setdefault(key, []).append(name)
    queries = []
    timezone = report.config.period.timezone
    for (fact_name, time_column), names in by_group.items():
        fact = catalog.facts[fact_name]
        engine = engines.for_fact(fact_name)
        dims = tuple(d for d in report.dimensions if d in fact.dimensions)
        # data-quality counters (catalog checks, volume, NULL keys) ride on the main scan only
        checks = tuple(fact.counters()) if time_column == fact.time_column else ()
        expression = build_cube_expression(
            catalog,
            fact,
            time_column,
            dims,
            names,
            checks,
            table=engine.table(fact_name, report.sources.facts[fact_name]),
            timezone=timezone,
        )
        queries.append(
            CubeQuery(
                fact_name,
                time_column,
                dims,
                tuple(names),
                checks,
                to_sql(expression, engine.dialect),
                engine=engine.name,
                dialect=engine.dialect,
                source=engine.identity,
                time_type=fact.time_type,
                timezone=timezone,
                expression=expression,
                stocks=tuple(n for n in names if catalog.measures[n].is_stock),
                watch=source_watch(report, engines, fact_name, time_column),
            )
        )
    grain = sketch_grain or report.config.period.grain
    queries += [_plan_sketch(report, name, engines, grain, sketch_periods) for name in sketches]
    return tuple(queries)


def sketch_levels(report: ResolvedReport, dims: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The grouping sets a sketch is counted by: all rows, each dimension, each audience filter.

    A histogram holds up to hundreds of buckets per group, so grouping by every
    dimension at once (as the additive cube does) would multiply the cube's
    rows by that; one grouping set per dimension keeps the sketch at about
    (periods × segments × buckets) rows at any data size. An audience's row
    filter gets its own set (its filter dimensions together), so the audience's
    own quantiles are exact too; its breakdowns by other dimensions are not
    available (they would need the filter × dimension grain).
    """
    levels: dict[tuple[str, ...], None] = {(): None}
    levels.update({(d,): None for d in dims})
    for audience in report.config.audience_list():
        filtered = tuple(d for d in dims if d in audience.filter)
        if filtered and len(filtered) == len(audience.filter):
            levels[filtered] = None
    return tuple(levels)


def _plan_sketch(
    report: ResolvedReport,
    name: str,
    engines: Engines,
    grain: str,
    periods: tuple[tuple[date, date], ...],
) -> CubeQuery:
    catalog = report.catalog
    measure = catalog.measures[name]
    fact = catalog.facts[measure.fact]
    time_column = measure.time_column or fact.time_column
    engine = engines.for_fact(measure.fact)
    dims = tuple(d for d in report.dimensions if d in fact.dimensions)
    levels = sketch_levels(report, dims)
    expression = build_sketch_expression(
        measure,
        fact,
        time_column,
        dims,
        name,
        levels,
        table=engine.table(measure.fact, report.sources.facts[measure.fact]),
        timezone=report.config.period.timezone,
        grain=grain,
    )
    timezone = report.config.period.timezone
    periods = tuple(sorted(periods))
    shown = (
        restrict_sketch(expression, time_column, fact.time_type, timezone, periods)
        if periods
        else expression
    )
    return CubeQuery(
        measure.fact,
        time_column,
        dims,
        (name,),
        (),
        to_sql(shown, engine.dialect),
        engine=engine.name,
        dialect=engine.dialect,
        source=engine.identity,
        time_type=fact.time_type,
        timezone=timezone,
        expression=expression,
        sketch=True,
        alpha=measure.alpha,
        grain=grain,
        levels=levels,
        periods=periods,
        watch=source_watch(report, engines, measure.fact, time_column),
    )


def source_watch(
    report: ResolvedReport, engines: Engines, fact_name: str, time_column: str
) -> SourceWatch:
    """How the cache sees this scan's source change: file stamps, or a table's day signature."""
    fact = report.catalog.facts[fact_name]
    timezone = report.config.period.timezone
    pattern, database = engines.location(fact_name)
    refresh = fact.refresh
    restate = refresh.restate_days
    if restate is None:
        restate = 0 if pattern else DEFAULT_TABLE_RESTATE_DAYS
    signature = None
    if pattern is None:
        engine = engines.for_fact(fact_name)
        table = engine.table(fact_name, report.sources.facts[fact_name])
        expression = signature_expression(
            time_column, fact.time_type, timezone, table, refresh.change_column
        )
        signature = to_sql(expression, engine.dialect)
    return SourceWatch(
        fact_name,
        time_column,
        fact.time_type,
        timezone,
        pattern=pattern,
        database=database,
        restate_days=restate,
        change_column=refresh.change_column,
        signature_sql=signature,
    )


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
        *([exp.paren(_condition(measure.filter))] if measure.filter else []),
    )
    source = sqlglot.parse_one(table, read="duckdb") if isinstance(table, str) else table
    rows = (
        exp.select(
            exp.alias_(day, DAY),
            *[exp.column(d) for d in dimensions if d != time_column],
            exp.alias_(bucket_expression(_sketch_value(measure), measure.alpha), BUCKET),
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


def _sketch_value(measure: MeasureDef) -> exp.Expression:
    if measure.value:
        return exp.cast(exp.paren(_condition(measure.value)), "DOUBLE")
    return exp.cast(exp.column(measure.column), "DOUBLE")


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
) -> exp.Select:
    """The GROUP BY for one scan as a dialect-neutral sqlglot expression."""
    day = day_expression(time_column, fact.time_type, timezone)
    select: list[exp.Expression] = [exp.alias_(day, DAY)]
    select += [exp.column(d) for d in dimensions]
    select += [exp.alias_(_measure_expression(catalog.measures[m]), m) for m in measures]
    rules = fact.counters()
    select += [exp.alias_(_count_where(rules[name]), f"{CHECK_PREFIX}{name}") for name in checks]
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


def _since_condition(column: str, time_type: str, timezone: str, day: date) -> exp.Expression:
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

    Like :func:`_since_condition`: the exact test is on the local day, the
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


def _condition(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="duckdb")


def _count_where(condition: str | None) -> exp.Expression:
    """``COUNT(*)``, or ``COUNT(*) FILTER (WHERE …)``.

    A ``FILTER`` clause updates an aggregate only for the rows that pass, where
    ``SUM(CASE WHEN … THEN 1 ELSE 0 END)`` updates every aggregate for every row:
    on DuckDB the decisions scan (nine such counters, ten checks that are almost
    always false) takes a third less time. sqlglot writes it as ``COUNT_IF`` /
    ``COUNTIF`` / ``IIF`` for dialects without ``FILTER`` (Snowflake, BigQuery, T-SQL).
    """
    return _filtered(exp.Count(this=exp.Star()), condition)


def _filtered(aggregate: exp.Expression, condition: str | None) -> exp.Expression:
    if condition is None:
        return aggregate
    return exp.Filter(this=aggregate, expression=exp.Where(this=exp.paren(_condition(condition))))


def _measure_expression(measure: MeasureDef) -> exp.Expression:
    """The per-(day × dimensions) aggregate; ``last`` is a plain sum here (one snapshot a day)."""
    if measure.agg == "count":
        return _count_where(measure.filter)
    value: exp.Expression = exp.cast(exp.column(measure.column), "DOUBLE")
    if measure.agg == "sum_squares":
        value = exp.Mul(this=value, expression=value.copy())
    total = _filtered(exp.Sum(this=value), measure.filter)
    return exp.Coalesce(this=total, expressions=[exp.Literal.number(0)])


def scan(engines: Engines, query: CubeQuery, sql: str | None = None) -> pd.DataFrame:
    """Run one scan (or its incremental form) and bring the result to the cube's types.

    Engines return different types for the same numbers (DuckDB HUGEINT,
    PostgreSQL bigint, Spark long, Decimal from NUMERIC); the cube always holds
    float64 measures, datetime64 days and string dimensions, so every later
    stage — and the cache — sees one schema.
    """
    engine = engines.for_fact(query.fact)
    frame = engine.fetch(sql or query.sql, fact=query.fact)
    return tidy(frame, query)


def tidy(frame: pd.DataFrame, query: CubeQuery) -> pd.DataFrame:
    """Fixed column order and types; dimensions as strings with nulls as ``(missing)``."""
    if query.sketch:
        return _tidy_sketch(frame, query)
    columns = [DAY, *query.dimensions, *query.measures]
    columns += [f"{CHECK_PREFIX}{c}" for c in query.checks]
    frame = frame.reindex(columns=columns)
    out = pd.DataFrame({DAY: pd.to_datetime(frame[DAY]).astype("datetime64[us]")})
    for dim in query.dimensions:
        out[dim] = frame[dim].astype("string").fillna("(missing)")
    for column in columns[1 + len(query.dimensions) :]:
        out[column] = pd.to_numeric(frame[column]).astype("float64")
    return out


def _tidy_sketch(frame: pd.DataFrame, query: CubeQuery) -> pd.DataFrame:
    """A sketch scan as day, level, dimensions, bucket, count (level from the GROUPING flags).

    Dimensions a grouping set rolls up hold ``(all)``. Built as categoricals
    straight away (no per-row strings): a sketch has ~10× the cube's rows.
    Idempotent: cached partitions, already tidy, keep their level.
    """
    (name,) = query.measures
    grouping = [f"{GROUPING_PREFIX}{d}" for d in query.dimensions]
    tidied = LEVEL in frame.columns
    flags = [LEVEL] if tidied else grouping
    frame = frame.reindex(columns=[DAY, *query.dimensions, *flags, BUCKET, name])
    if frame[BUCKET].isna().any():  # the rows whose value is NULL (see bucket_expression)
        frame = frame[frame[BUCKET].notna()].reset_index(drop=True)
    out = pd.DataFrame({DAY: pd.to_datetime(frame[DAY]).astype("datetime64[us]")})
    if tidied:
        out[LEVEL] = frame[LEVEL].astype("category")
        for dim in query.dimensions:
            out[dim] = frame[dim].astype("category")
    else:
        rolled = [pd.to_numeric(frame[g]).fillna(1).to_numpy(dtype=bool) for g in grouping]
        out[LEVEL] = _level_names(query.dimensions, rolled, len(frame))
        for dim, up in zip(query.dimensions, rolled, strict=True):
            values = frame[dim].astype("category")
            values = values.cat.add_categories(
                [c for c in ("(missing)", "(all)") if c not in values.cat.categories]
            )
            values = values.fillna("(missing)")
            values[up] = "(all)"
            out[dim] = values
    out[BUCKET] = pd.to_numeric(frame[BUCKET]).astype("int64")
    out[name] = pd.to_numeric(frame[name]).astype("float64")
    return out


def _level_names(
    dimensions: tuple[str, ...], rolled: list[np.ndarray], rows: int
) -> pd.Categorical:
    """Each row's grouping set as ``region+queue`` ("" for all rows), as a categorical."""
    code = np.zeros(rows, dtype=np.int64)
    for bit, up in enumerate(rolled):
        code |= (~up).astype(np.int64) << bit
    names = {
        c: "+".join(d for bit, d in enumerate(dimensions) if c >> bit & 1) for c in np.unique(code)
    }
    return pd.Categorical.from_codes(
        np.searchsorted(sorted(names), code), categories=[names[c] for c in sorted(names)]
    )


def finish(frame: pd.DataFrame, query: CubeQuery) -> pd.DataFrame:
    """Sorted by day then dimensions (same row order on every engine and from the cache).

    Sorted datetime64 days make period windows binary searches; categorical
    dimensions make group-bys cheap.
    """
    order = [DAY, LEVEL, *query.dimensions, BUCKET] if query.sketch else [DAY, *query.dimensions]
    frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    if query.sketch:
        frame[LEVEL] = frame[LEVEL].astype("category")
        frame[BUCKET] = frame[BUCKET].astype("int32")
    for dim in query.dimensions:
        frame[dim] = frame[dim].astype("category")
    return frame


def compute_cube(
    report: ResolvedReport,
    measures: Iterable[str],
    *,
    cache: FrameSource | None = None,
    engines: Engines | None = None,
    sketch_grain: str | None = None,
    sketch_periods: tuple[tuple[date, date], ...] = (),
    data_through: dict[str, date] | None = None,
) -> Cube:
    """Run every cube query in its engine (closed days from ``cache`` when given).

    Without a cache every day is scanned; with one, only days after the
    cached, closed days are, and only the sketch periods not cached yet —
    see :mod:`reportgen.cache`. ``data_through`` (the additive cube's
    ``last_day``) tells the cache which sketch periods are closed.
    """
    own = engines is None
    engines = engines or Engines(report.sources, report.sources_path)
    newest = data_through or {}
    try:
        queries = plan_queries(
            report, measures, engines, sketch_grain=sketch_grain, sketch_periods=sketch_periods
        )
        frames: dict[str, pd.DataFrame] = {}
        for query in queries:
            through = newest.get(_group_key(query.fact, query.time_column))
            frame = cache.frame(query, engines, through) if cache else scan(engines, query)
            if frame.empty and not query.sketch:  # a sketch's window may hold no rows
                raise SourceError(
                    f"fact '{query.fact}' has no rows",
                    fact=query.fact,
                    fix="check the source path and that the data was loaded",
                )
            frames[query.key] = finish(frame, query)
    finally:
        if own:
            engines.close()
    # sketch frames are dated by period start: the additive scans say which days are complete
    dated = {q.key for q in queries if not q.sketch}
    last_day = {k: f[DAY].iloc[-1].date() for k, f in frames.items() if k in dated}
    first_day = {k: f[DAY].iloc[0].date() for k, f in frames.items() if k in dated}
    return Cube(frames, queries, last_day, first_day)


def merge_cubes(cube: Cube, more: Cube) -> Cube:
    """The cube with another's scans added (sketches computed once the period is known)."""
    return replace(
        cube,
        frames={**cube.frames, **more.frames},
        queries=(*cube.queries, *more.queries),
    )
