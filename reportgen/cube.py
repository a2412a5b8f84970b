"""The cube: additive measures by (day × dimensions), computed inside the SQL engine.

Raw rows never reach pandas. For every (fact, time column) pair the report
needs, one ``GROUP BY`` query sums the measures and counts data-quality
violations in the same scan; pandas receives only the aggregated rows. The
query is built with sqlglot in DuckDB's dialect so the same definitions can
be transpiled to a server engine's dialect.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import Catalog, FactDef, MeasureDef, SourcesConfig
from reportgen.errors import SourceError

DAY = "day"


@dataclass(frozen=True)
class CubeQuery:
    """One scan: the measures of one fact grouped by its day in one time column."""

    fact: str
    time_column: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    checks: tuple[str, ...]
    sql: str


@dataclass(frozen=True)
class Cube:
    """Aggregated measures; ``frames[group]`` has columns day, dimensions…, measures…, checks…."""

    frames: dict[str, pd.DataFrame]
    queries: tuple[CubeQuery, ...]
    last_day: dict[str, date]  # per group: the latest day with data
    first_day: dict[str, date]

    def group_of(self, measure: str) -> str:
        for query in self.queries:
            if measure in query.measures:
                return _group_key(query.fact, query.time_column)
        raise KeyError(measure)

    def frame_for(self, measure: str) -> pd.DataFrame:
        return self.frames[self.group_of(measure)]

    def dimensions_of(self, measure: str) -> tuple[str, ...]:
        key = self.group_of(measure)
        return next(q.dimensions for q in self.queries if _group_key(q.fact, q.time_column) == key)

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


def plan_queries(report: ResolvedReport, measures: Iterable[str]) -> tuple[CubeQuery, ...]:
    """Group the needed measures by scan and build one SQL statement per scan."""
    catalog, sources = report.catalog, report.sources
    by_group: dict[tuple[str, str], list[str]] = {}
    for name in dict.fromkeys(measures):
        measure = catalog.measures[name]
        fact = catalog.facts[measure.fact]
        key = (measure.fact, measure.time_column or fact.time_column)
        by_group.setdefault(key, []).append(name)
    queries = []
    for (fact_name, time_column), names in by_group.items():
        fact = catalog.facts[fact_name]
        dims = tuple(d for d in report.dimensions if d in fact.dimensions)
        # data-quality checks ride on the fact's main scan only
        checks = tuple(c.name for c in fact.checks) if time_column == fact.time_column else ()
        sql = build_cube_sql(
            catalog,
            fact_name,
            fact,
            time_column,
            dims,
            names,
            checks,
            table=_table_expression(sources, fact_name, report.sources_path),
            timezone=report.config.period.timezone,
        )
        queries.append(CubeQuery(fact_name, time_column, dims, tuple(names), checks, sql))
    return tuple(queries)


def build_cube_sql(
    catalog: Catalog,
    fact_name: str,
    fact: FactDef,
    time_column: str,
    dimensions: tuple[str, ...],
    measures: list[str],
    checks: tuple[str, ...],
    *,
    table: str,
    timezone: str,
    dialect: str = "duckdb",
) -> str:
    """The GROUP BY statement for one scan, in ``dialect``."""
    day = _day_expression(time_column, fact.time_type, timezone)
    select: list[exp.Expression] = [exp.alias_(day, DAY)]
    select += [exp.column(d) for d in dimensions]
    select += [exp.alias_(_measure_expression(catalog.measures[m]), m) for m in measures]
    rules = {c.name: c for c in fact.checks}
    select += [exp.alias_(_count_where(rules[name].when), f"check__{name}") for name in checks]
    query = (
        exp.select(*select)
        .from_(sqlglot.parse_one(table, read="duckdb"))
        .where(exp.Not(this=exp.Is(this=exp.column(time_column), expression=exp.Null())))
        .group_by(*[exp.Literal.number(i + 1) for i in range(1 + len(dimensions))])
    )
    return query.sql(dialect=dialect, pretty=True)


def _day_expression(column: str, time_type: str, timezone: str) -> exp.Expression:
    col = exp.column(column)
    if time_type == "date":
        return exp.cast(col, "DATE")
    local = exp.AtTimeZone(this=exp.cast(col, "TIMESTAMPTZ"), zone=exp.Literal.string(timezone))
    return exp.cast(local, "DATE")


def _condition(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="duckdb")


def _count_where(condition: str | None) -> exp.Expression:
    if condition is None:
        return exp.Count(this=exp.Star())
    case = (
        exp.Case()
        .when(exp.paren(_condition(condition)), exp.Literal.number(1))
        .else_(exp.Literal.number(0))
    )
    return exp.Sum(this=case)


def _measure_expression(measure: MeasureDef) -> exp.Expression:
    if measure.agg == "count":
        return _count_where(measure.filter)
    value: exp.Expression = exp.cast(exp.column(measure.column), "DOUBLE")
    if measure.agg == "sum_squares":
        value = exp.Mul(this=value, expression=value.copy())
    if measure.filter:
        value = (
            exp.Case()
            .when(exp.paren(_condition(measure.filter)), value)
            .else_(exp.Literal.number(0))
        )
    return exp.Coalesce(this=exp.Sum(this=value), expressions=[exp.Literal.number(0)])


def _table_expression(sources: SourcesConfig, fact: str, sources_path: Path) -> str:
    source = sources.facts[fact]
    if source.table:
        return source.table
    assert source.path is not None
    pattern = (
        source.path if Path(source.path).is_absolute() else str(sources_path.parent / source.path)
    )
    files = sorted(glob.glob(pattern))
    if not files:
        raise SourceError(
            f"no data file matches '{source.path}' for fact '{fact}' (looked for {pattern})",
            fix="run `reportgen demo-data` for the demo, or point configs/sources.yaml at your data",
            fact=fact,
        )
    literal = pattern.replace("'", "''")
    reader = "read_csv_auto" if pattern.lower().endswith((".csv", ".csv.gz")) else "read_parquet"
    return f"{reader}('{literal}')"


def compute_cube(
    report: ResolvedReport,
    measures: Iterable[str],
    connection: duckdb.DuckDBPyConnection | None = None,
) -> Cube:
    """Run every cube query on DuckDB and collect the aggregated frames."""
    queries = plan_queries(report, measures)
    con = connection or duckdb.connect()
    frames: dict[str, pd.DataFrame] = {}
    last_day: dict[str, date] = {}
    first_day: dict[str, date] = {}
    for query in queries:
        key = _group_key(query.fact, query.time_column)
        try:
            frame = con.execute(query.sql).df()
        except duckdb.Error as exc:
            raise SourceError(
                f"the cube query for fact '{query.fact}' failed: {str(exc).splitlines()[0]}",
                fix="check that the source has the columns the catalog's measures and checks use "
                "(`reportgen build --explain` prints the query)",
                fact=query.fact,
            ) from None
        if frame.empty:
            raise SourceError(
                f"fact '{query.fact}' has no rows",
                fact=query.fact,
                fix="check the source path and that the data was loaded",
            )
        # datetime64 days, sorted: period windows become binary searches, not scans
        frame[DAY] = pd.to_datetime(frame[DAY])
        frame = frame.sort_values(DAY, kind="stable").reset_index(drop=True)
        for dim in query.dimensions:
            frame[dim] = frame[dim].astype("string").fillna("(missing)").astype("category")
        frames[key] = frame
        last_day[key] = frame[DAY].iloc[-1].date()
        first_day[key] = frame[DAY].iloc[0].date()
    return Cube(frames, queries, last_day, first_day)
