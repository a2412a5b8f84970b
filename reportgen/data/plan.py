"""The cube's plan: which scans a report needs, of which measures, from the catalog.

For every (fact, time column) pair the report needs, one ``GROUP BY`` scan
sums the measures and counts data-quality violations in the same pass; each
quantile measure gets its own sketch scan. A :class:`CubeQuery` carries the
scan's SQL in its engine's dialect (what runs, what ``--explain`` prints) and
how the cache sees its source change. Planning never connects: ``--explain``
works without credentials or a JVM.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from reportgen.config.loader import ResolvedReport
from reportgen.data.default_checks import fact_counters
from reportgen.data.engines import Engines
from reportgen.data.engines._sql import to_sql
from reportgen.data.freshness import DEFAULT_TABLE_RESTATE_DAYS, DaySpans, SourceWatch
from reportgen.data.sql import (
    build_cube_expression,
    build_sketch_expression,
    restrict_sketch,
    signature_expression,
    since_condition,
    window_condition,
)
from reportgen.semantics.aggregations import aggregation_of


def needed_measures(report: ResolvedReport) -> list[str]:
    """Every measure the report's metrics (and its logit deep dive) read, in order."""
    measures = [m for choice in report.metrics for m in report.metric(choice.metric).measures]
    logit = report.config.insights.deep_dive.logit
    if logit is not None and report.uses_section("deep_dive"):
        measures += [logit.successes, logit.trials]
    return measures


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
    # where the rows come from and how the cache sees them change (see reportgen.data.freshness)
    watch: SourceWatch | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        base = group_key(self.fact, self.time_column)
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
        days a source change can have touched (:mod:`reportgen.data.freshness`).
        """
        assert self.expression is not None and not stale.everything
        column, kind, zone = self.time_column, self.time_type, self.timezone
        parts = [window_condition(column, kind, zone, first, last) for first, last in stale.spans]
        if since is not None:
            parts.append(since_condition(column, kind, zone, since))
        if not parts:
            raise ValueError("sql_days needs stale days or a first day")
        return to_sql(self.expression.copy().where(exp.or_(*parts)), self.dialect)


def group_key(fact: str, time_column: str) -> str:
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
        if aggregation_of(measure).is_sketch:
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
        # data-quality counters (catalog checks, volume, NULL keys, negative sums) ride on the
        # main scan only
        counters = fact_counters(catalog, fact_name)
        checks = tuple(counters) if time_column == fact.time_column else ()
        expression = build_cube_expression(
            catalog,
            fact,
            time_column,
            dims,
            names,
            checks,
            table=engine.table(fact_name, report.sources.facts[fact_name]),
            timezone=timezone,
            counters=counters,
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
