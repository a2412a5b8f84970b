"""DuckDB, embedded: Parquet/CSV files or a DuckDB database file. The default engine."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from reportgen.config.models import FactSource
from reportgen.data.engines.base import Engine, expand_env, is_csv, resolve_files, table_name
from reportgen.errors import SourceError


class DuckDBEngine(Engine):
    """Scans files in place (``read_parquet``/``read_csv_auto``) or tables of a database file."""

    name = "DuckDB"
    dialect = "duckdb"

    def __init__(self, base: Path, database: str | None = None) -> None:
        self._base = base
        self._database = database
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def identity(self) -> str:
        return f"duckdb:{self._database_path() or ':memory:'}"

    def database_file(self) -> str | None:
        """The database file's absolute path (None: files read in place)."""
        return self._database_path()

    def _database_path(self) -> str | None:
        if not self._database:
            return None
        path = Path(expand_env(self._database, what="database"))
        return str(path if path.is_absolute() else (self._base / path).resolve())

    def table(self, fact: str, source: FactSource) -> exp.Expression:
        if source.table:
            return table_name(source.table, self.dialect)
        pattern, _files = resolve_files(source, fact, self._base)
        reader = "read_csv_auto" if is_csv(pattern) else "read_parquet"
        return exp.Anonymous(this=reader, expressions=[exp.Literal.string(pattern)])

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            database = self._database_path()
            if database and not Path(database).is_file():
                raise SourceError(
                    f"DuckDB database file '{self._database}' not found (resolved to {database})",
                    fix="paths in sources.yaml are relative to its folder",
                )
            self._con = duckdb.connect(database or ":memory:", read_only=bool(database))
            # naive timestamps are read as UTC on every engine, whatever the machine's zone
            self._con.execute("SET TimeZone = 'UTC'")
        return self._con

    def fetch(self, sql: str, *, fact: str) -> pd.DataFrame:
        try:
            return self.connection().execute(sql).df()
        except duckdb.Error as exc:
            raise self.query_failed(fact, exc) from None

    def fetch_scan(self, sql: str, *, fact: str) -> pd.DataFrame:
        """A cube scan through Arrow, on a connection closed when it is done.

        ``.df()`` makes a Python ``str`` object for every string cell (a quantile
        sketch scan of 10M rows returns ~700k rows × 3 dimensions) besides the
        engine's own copy of the result; a relation's Arrow table is one
        columnar copy, handed to pandas buffer by buffer (``self_destruct``).
        DuckDB keeps what a scan allocated (~100 MB after a 10M-row scan) until
        its connection closes, so the next scan, or the data-quality probe,
        would stack its own peak on it; the next query opens a new connection.
        """
        try:
            table = self.connection().sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise self.query_failed(fact, exc) from None
        finally:
            self.close()
        return arrow_frame(table)

    def columns(self, table: exp.Expression, *, fact: str) -> dict[str, str]:
        """``DESCRIBE`` a zero-row select: DuckDB reads only Parquet footers / the catalog."""
        sql = f"DESCRIBE SELECT * FROM {table.sql(dialect=self.dialect)}"
        try:
            rows = self.connection().execute(sql).fetchall()
        except duckdb.Error as exc:
            raise self.query_failed(fact, exc) from None
        return {str(row[0]): str(row[1]) for row in rows}

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as a frame with ``.df()``'s numbers: DECIMAL (``SUM`` of integers is
    HUGEINT, i.e. decimal128 in Arrow) as float64, DATE as datetime64 (not Python dates)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.float64()))
    return table.to_pandas(date_as_object=False, self_destruct=True, split_blocks=True)
