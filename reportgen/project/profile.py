"""Profile a source before any catalog exists: what each column looks like, read in the engine.

``reportgen init`` needs to know, for a file, a DuckDB table or a warehouse
table it has never seen, which columns are times (and in which zone), which
are ids, low-cardinality dimensions, flags (booleans or 0/1 integers) and
numeric measures, and how often each is NULL. One aggregate query per source
answers that inside the engine (``COUNT``, ``COUNT(DISTINCT)``, ``MIN``,
``MAX`` per column), rendered by sqlglot in the engine's dialect, plus a small
``LIMIT`` sample for example values — the raw rows never come back whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from reportgen.config.models import FactSource
from reportgen.data.engines.base import Engine, expand_env, redact_url
from reportgen.data.engines.embedded import DuckDBEngine
from reportgen.data.engines.warehouse import WarehouseEngine, backend_of
from reportgen.data.quality import type_family
from reportgen.errors import SourceError

#: a text column with at most this many distinct values is a candidate dimension
MAX_DIMENSION_VALUES = 50
#: rows in the sample that gives example values and finds timestamps stored as text
SAMPLE_ROWS = 200
_ID_NAME = re.compile(r"(^id$|_id$|^id_|_key$|_uuid$|^uuid$)")
_INTEGER_TYPES = ("INT", "SERIAL")


@dataclass(frozen=True)
class SourceLocation:
    """Where a profiled source lives: a file or glob, a DuckDB file's table, or a server table."""

    kind: str  # "file", "duckdb" or "sqlalchemy"
    path: Path | None = None  # file/glob (absolute), or the DuckDB database file
    table: str | None = None
    url: str | None = None  # as given (may hold ${VAR} references)

    @property
    def label(self) -> str:
        if self.kind == "sqlalchemy":
            return f"{self.table} on {redact_url(self.url or '')}"
        if self.kind == "duckdb":
            return f"{self.table} in {self.path}"
        return str(self.path)


#: two-valued text columns read as yes/no flags: (yes, no), lower case
_YES_NO = (("y", "n"), ("yes", "no"), ("true", "false"), ("t", "f"))


@dataclass(frozen=True)
class ColumnProfile:
    """One column's type family and statistics, and what they suggest it is."""

    name: str
    engine_type: str
    family: str  # timestamp, date, number, boolean, text, other
    tz_aware: bool  # a timestamp with time zone (offsets in the data, read as instants)
    rows: int
    non_null: int
    distinct: int
    minimum: Any = None
    maximum: Any = None
    total: float | None = None  # the sum of a numeric column (a ratio's scale, for its decimals)
    examples: tuple[str, ...] = ()
    text_timestamp: bool = False  # text whose sampled values all parse as timestamps

    @property
    def null_rate(self) -> float:
        return 0.0 if self.rows == 0 else 1 - self.non_null / self.rows

    @property
    def integer(self) -> bool:
        return self.family == "number" and any(
            t in self.engine_type.upper() for t in _INTEGER_TYPES
        )

    @property
    def is_time(self) -> bool:
        return self.family in ("timestamp", "date")

    @property
    def is_flag(self) -> bool:
        """A boolean, an integer holding only 0 and 1, or text holding only yes/no words
        (``Y``/``N``, ``yes``/``no``, ``true``/``false``): how exports store yes/no."""
        if self.family == "boolean" or self.text_yes is not None:
            return True
        return (
            self.integer
            and self.non_null > 0
            and self.minimum is not None
            and float(self.minimum) >= 0
            and float(self.maximum) <= 1
        )

    @property
    def text_yes(self) -> str | None:
        """For a text column of exactly two yes/no words, the one meaning yes (as stored)."""
        if self.family != "text" or self.distinct != 2 or self.minimum is None:
            return None
        values = {str(self.minimum).strip().lower(): str(self.minimum)}
        values[str(self.maximum).strip().lower()] = str(self.maximum)
        for yes, no in _YES_NO:
            if set(values) == {yes, no}:
                return values[yes]
        return None

    @property
    def flag_condition(self) -> str:
        """The SQL condition that selects the flagged rows: ``col``, ``col = 1`` or ``col = 'Y'``."""
        if self.family == "boolean":
            return self.name
        yes = self.text_yes
        if yes is not None:
            return f"{self.name} = '{yes}'"
        return f"{self.name} = 1"

    @property
    def is_id(self) -> bool:
        """Unique (or nearly) and named like an id, or a unique text column."""
        if self.non_null == 0 or self.is_time or self.is_flag:
            return False
        unique = self.distinct >= 0.99 * self.non_null
        return unique and (bool(_ID_NAME.search(self.name.lower())) or self.family == "text")

    @property
    def is_dimension(self) -> bool:
        """Text with few distinct values (a segment to break down by), not an id."""
        if self.family != "text" or self.is_id or self.text_timestamp or self.is_flag:
            return False
        return 1 <= self.distinct <= MAX_DIMENSION_VALUES and self.distinct <= max(
            2, 0.5 * self.non_null
        )

    @property
    def is_measure(self) -> bool:
        return self.family == "number" and not self.is_flag and not self.is_id


@dataclass(frozen=True)
class SourceProfile:
    """A profiled source: its location, row count and columns in source order."""

    location: SourceLocation
    dialect: str
    rows: int
    columns: tuple[ColumnProfile, ...]

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


def locate(source: str, table: str | None, *, cwd: Path | None = None) -> SourceLocation:
    """Read ``--from`` and ``--table``: a SQLAlchemy URL, a DuckDB file, or a CSV/Parquet path."""
    if "://" in source:
        if backend_of(source) == "sqlite":
            raise SourceError(
                "SQLite is not supported: reportgen buckets timestamps into days in the report's "
                "time zone inside the engine (AT TIME ZONE), which SQLite has no function for",
                fix="export the table to Parquet or CSV (sqlite3 -csv …) and run `reportgen init "
                '--from FILE`, or load it into DuckDB: duckdb ops.duckdb "CREATE TABLE t AS '
                "SELECT * FROM sqlite_scan('ops.sqlite', 't')\"",
            )
        if not table:
            raise SourceError(
                f"--from {redact_url(source)} is a database URL: name the table with --table",
                fix="e.g. reportgen init --from 'postgresql+psycopg://…' --table analytics.tickets",
            )
        return SourceLocation("sqlalchemy", table=table, url=source)
    base = cwd or Path.cwd()
    path = Path(source).expanduser()
    path = path if path.is_absolute() else (base / path)
    if path.suffix.lower() in (".duckdb", ".ddb", ".db"):
        if not path.is_file():
            raise SourceError(f"DuckDB database file {path} not found", fix="check the path")
        return SourceLocation("duckdb", path=path.resolve(), table=table or _only_table(path))
    if table:
        raise SourceError(
            f"--table names a table in a database, but {source} is a file",
            fix="drop --table for a CSV/Parquet file or glob",
        )
    if not any(ch in str(path) for ch in "*?[") and not path.is_file():
        raise SourceError(
            f"no file {path}", fix="check the path (a glob such as 'data/*.parquet' also works)"
        )
    if not str(path).lower().endswith((".csv", ".csv.gz", ".parquet", ".pq")):
        raise SourceError(
            f"{source}: not a CSV or Parquet file, nor a DuckDB database (.duckdb)",
            fix="point --from at a .csv, .parquet (or a glob of them), a .duckdb file, or a "
            "database URL with --table",
        )
    return SourceLocation("file", path=path)


def _only_table(path: Path) -> str:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            ".".join(r) if r[0] != "main" else r[1]
            for r in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
            ).fetchall()
        ]
    if len(tables) != 1:
        raise SourceError(
            f"{path} holds {len(tables)} tables ({', '.join(tables) or 'none'}): name one with --table",
            fix=f"e.g. reportgen init --from {path} --table {tables[0] if tables else 'tickets'}",
        )
    return tables[0]


def _engine_for(location: SourceLocation) -> tuple[Engine, FactSource]:
    if location.kind == "sqlalchemy":
        assert location.url is not None and location.table is not None
        return WarehouseEngine(location.url), FactSource(table=location.table)
    if location.kind == "duckdb":
        assert location.path is not None
        return DuckDBEngine(location.path.parent, str(location.path)), FactSource(
            table=location.table
        )
    assert location.path is not None
    return DuckDBEngine(Path("/")), FactSource(path=str(location.path))


def profile_source(location: SourceLocation, name: str = "source") -> SourceProfile:
    """Profile every column of one source in one aggregate query on its own engine."""
    engine, fact_source = _engine_for(location)
    try:
        table = engine.table(name, fact_source)
        types = engine.columns(table, fact=name)
        zones = _timezone_columns(location, types, engine.dialect)
        stats = engine.fetch(_profile_sql(table, types, engine.dialect), fact=name).iloc[0]
        sample = engine.fetch(
            exp.select("*").from_(table).limit(SAMPLE_ROWS).sql(dialect=engine.dialect), fact=name
        )
    finally:
        engine.close()
    rows = int(stats["n__rows"])
    columns = []
    for i, (column, engine_type) in enumerate(types.items()):
        family = type_family(engine_type, engine.dialect)
        values = sample[column].dropna() if column in sample else pd.Series(dtype=object)
        text_ts = family == "text" and _all_timestamps(values)
        columns.append(
            ColumnProfile(
                name=column,
                engine_type=engine_type,
                family=family,
                tz_aware=column in zones,
                rows=rows,
                non_null=int(stats[f"c{i}__n"]),
                distinct=int(stats[f"c{i}__d"]),
                minimum=_plain(stats.get(f"c{i}__min")),
                maximum=_plain(stats.get(f"c{i}__max")),
                total=_float(stats.get(f"c{i}__sum")),
                examples=tuple(str(v) for v in values.drop_duplicates().head(4)),
                text_timestamp=text_ts,
            )
        )
    return SourceProfile(location, engine.dialect, rows, tuple(columns))


def _profile_sql(table: exp.Expression, types: dict[str, str], dialect: str) -> str:
    """COUNT, COUNT(DISTINCT) and, for numbers, times and text, MIN and MAX of every column
    (a two-valued text column's MIN and MAX are its values: Y/N flags are read from them)."""
    parts: list[exp.Expression] = [exp.alias_(exp.Count(this=exp.Star()), "n__rows")]
    for i, (column, engine_type) in enumerate(types.items()):
        ref = exp.column(column, quoted=True)
        parts.append(exp.alias_(exp.Count(this=ref.copy()), f"c{i}__n"))
        parts.append(exp.alias_(exp.Count(this=exp.Distinct(expressions=[ref.copy()])), f"c{i}__d"))
        if type_family(engine_type, dialect) in ("number", "timestamp", "date", "text"):
            parts.append(exp.alias_(exp.Min(this=ref.copy()), f"c{i}__min"))
            parts.append(exp.alias_(exp.Max(this=ref.copy()), f"c{i}__max"))
        if type_family(engine_type, dialect) == "number":
            parts.append(exp.alias_(exp.Sum(this=ref.copy()), f"c{i}__sum"))
    return exp.select(*parts).from_(table).sql(dialect=dialect)


def _timezone_columns(location: SourceLocation, types: dict[str, str], dialect: str) -> set[str]:
    """Timestamp columns that carry a zone (offsets in a CSV, ``timestamptz`` in a database)."""
    if location.kind != "sqlalchemy":
        return {
            c
            for c, t in types.items()
            if exp.DataType.build(t, dialect=dialect, udt=True).is_type(
                exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ
            )
        }
    import sqlalchemy

    assert location.url is not None and location.table is not None
    engine = sqlalchemy.create_engine(
        expand_env(location.url, what="url"), poolclass=sqlalchemy.pool.NullPool
    )
    try:
        schema, _, table = location.table.rpartition(".")
        found = sqlalchemy.inspect(engine).get_columns(table, schema=schema or None)
    finally:
        engine.dispose()
    return {str(c["name"]) for c in found if getattr(c["type"], "timezone", False)}


def _all_timestamps(values: pd.Series) -> bool:
    """Whether sampled text values all read as date-times (a timestamp stored as text)."""
    texts = values.astype(str)
    if texts.empty or not texts.str.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}").all():
        return False
    parsed = pd.to_datetime(texts, errors="coerce", utc=True, format="mixed")
    return bool(parsed.notna().all())


def _float(value: Any) -> float | None:
    plain = _plain(value)
    return None if plain is None else float(plain)


def _plain(value: Any) -> Any:
    """A scalar from the engine as a plain Python value (None for NULL/NaN)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


__all__ = ["ColumnProfile", "SourceLocation", "SourceProfile", "locate", "profile_source"]
