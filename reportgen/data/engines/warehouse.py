"""Any SQL warehouse reachable by a SQLAlchemy URL (PostgreSQL tested; Trino, Snowflake … by URL).

Only the aggregated cube crosses the wire: the engine scans and groups, and
the rows fetched here are (day × dimensions), never raw events.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from reportgen.config.models import FactSource
from reportgen.data.engines.base import Engine, expand_env, redact_url, table_name
from reportgen.errors import SourceError

# SQLAlchemy backend name → sqlglot dialect, where they differ
_DIALECTS = {
    "postgresql": "postgres",
    "mssql": "tsql",
    "mariadb": "mysql",
    "awsathena": "athena",
    "databricks": "databricks",
    "hive": "hive",
}

# statements that make the session read naive timestamps as UTC, like DuckDB and Spark here
_SESSION_UTC = {
    "postgres": "SET TIME ZONE 'UTC'",
    "redshift": "SET TIME ZONE 'UTC'",
    "mysql": "SET time_zone = '+00:00'",
    "snowflake": "ALTER SESSION SET TIMEZONE = 'UTC'",
}


def backend_of(url: str) -> str:
    """``postgresql+psycopg://…`` → ``postgresql`` without importing SQLAlchemy."""
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def dialect_for(url: str, override: str | None) -> str:
    """The sqlglot dialect for a URL; an unknown backend needs ``dialect:`` in sources.yaml."""
    name = override or _DIALECTS.get(backend_of(url), backend_of(url))
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        raise SourceError(
            f"no SQL dialect known for '{name}' (from the sources' url)",
            fix="set 'dialect:' in sources.yaml to a sqlglot dialect "
            "(postgres, trino, snowflake, bigquery, spark, tsql, …)",
        ) from None
    return name


class WarehouseEngine(Engine):
    """A server engine behind SQLAlchemy; the cube query runs there, aggregated rows come back."""

    def __init__(self, url: str, dialect: str | None = None) -> None:
        self._url = url
        self.dialect = dialect_for(url, dialect)
        self.name = f"{backend_of(url)} ({self.dialect} dialect)"
        self._engine: Any = None

    @property
    def identity(self) -> str:
        return redact_url(self._url)

    def table(self, fact: str, source: FactSource) -> exp.Expression:
        assert source.table is not None  # path sources are routed to embedded DuckDB
        return table_name(source.table, self.dialect)

    def _connect(self) -> Any:
        if self._engine is None:
            try:
                import sqlalchemy
            except ImportError:
                raise SourceError(
                    "engine 'sqlalchemy' needs SQLAlchemy and the database's driver",
                    fix="pip install 'reportgen[postgres]' (or SQLAlchemy plus your warehouse's driver)",
                ) from None
            url = expand_env(self._url, what="url")
            try:
                self._engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
            except Exception as exc:  # unknown driver, malformed URL: say which, without the secret
                raise SourceError(
                    f"cannot use the sources' url {redact_url(self._url)}: {type(exc).__name__}: "
                    f"{redact_url(str(exc).splitlines()[0])}",
                    fix="install the driver named in the URL and check its spelling",
                ) from None
        return self._engine

    def fetch(self, sql: str, *, fact: str) -> pd.DataFrame:
        engine = self._connect()
        try:
            with engine.connect() as con:
                if self.dialect in _SESSION_UTC:
                    con.exec_driver_sql(_SESSION_UTC[self.dialect])
                result = con.exec_driver_sql(sql)
                columns = list(result.keys())
                rows = result.fetchall()
        except SourceError:
            raise
        except Exception as exc:  # the driver's own error types vary; keep its first line
            message = redact_url(str(getattr(exc, "orig", None) or exc))
            raise self.query_failed(fact, RuntimeError(message)) from None
        return pd.DataFrame.from_records(rows, columns=columns)

    def columns(self, table: exp.Expression, *, fact: str) -> dict[str, str]:
        """The table's columns from the database catalog (SQLAlchemy's inspector; no data read)."""
        import sqlalchemy

        assert isinstance(table, exp.Table)
        try:
            inspector = sqlalchemy.inspect(self._connect())
            found = inspector.get_columns(table.name, schema=table.db or None)
        except SourceError:
            raise
        except Exception as exc:  # NoSuchTableError, permissions, driver errors
            message = redact_url(str(getattr(exc, "orig", None) or exc) or type(exc).__name__)
            raise self.query_failed(fact, RuntimeError(message)) from None
        if not found:  # PostgreSQL's inspector returns [] for a table it cannot see
            raise self.query_failed(fact, RuntimeError(f"table {table.sql()} not found"))
        return {str(c["name"]): str(c["type"]) for c in found}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


__all__ = ["WarehouseEngine", "backend_of", "dialect_for"]
