"""Spark SQL through pyspark: local mode in tests, a cluster (or Spark Connect) by URL.

Local mode is the tested stand-in for a cluster: the same query text runs on
``spark://host:7077``, YARN/Kubernetes masters or ``sc://host:15002`` (Spark
Connect, needs ``pyspark[connect]``). Parquet paths are read in place with
Spark's ``parquet.`path``` syntax; tables come from the session's catalog.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
from sqlglot import exp

from reportgen.config.models import FactSource
from reportgen.data.engines.base import Engine, expand_env, is_csv, resolve_files, table_name
from reportgen.errors import SourceError

DEFAULT_MASTER = "local[*]"

# Spark's defaults are tuned for clusters; local scans of a cube want few shuffle partitions
_LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
_ALWAYS = {
    # naive timestamps are read as UTC on every engine; the report's zone is applied in SQL
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


class SparkEngine(Engine):
    """Runs the cube query with ``spark.sql`` and collects the aggregate through Arrow."""

    name = "Spark SQL"
    dialect = "spark"

    def __init__(self, base: Any, url: str | None, options: dict[str, str]) -> None:
        self._base = base
        self._master = url or DEFAULT_MASTER
        self._options = options

    @property
    def identity(self) -> str:
        return f"spark:{self._master}"

    @property
    def local(self) -> bool:
        return self._master.startswith("local")

    def table(self, fact: str, source: FactSource) -> exp.Expression:
        if source.table:
            return table_name(source.table, self.dialect)
        pattern, _files = resolve_files(source, fact, self._base)
        if is_csv(pattern):
            raise SourceError(
                f"fact '{fact}' is a CSV file; the Spark engine reads Parquet paths or tables",
                fix="convert it to Parquet, or register it as a table in Spark's catalog",
                fact=fact,
            )
        return exp.Table(
            this=exp.to_identifier(pattern, quoted=True), db=exp.to_identifier("parquet")
        )

    def session(self) -> Any:
        """The process's Spark session (created once: starting a JVM takes seconds)."""
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SourceError(
                "engine 'spark' needs pyspark",
                fix="pip install 'reportgen[spark]' (and Java 17+ for local mode)",
            ) from None
        builder = SparkSession.builder.appName("reportgen")
        if self._master.startswith("sc://"):
            builder = builder.remote(expand_env(self._master, what="url"))
        else:
            builder = builder.master(expand_env(self._master, what="url"))
        conf = {**(_LOCAL_DEFAULTS if self.local else {}), **_ALWAYS}
        conf.update({k: expand_env(v, what=f"option {k}") for k, v in self._options.items()})
        for key, value in conf.items():
            builder = builder.config(key, value)
        if self.local:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # listen on loopback only
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # no Java, bad master URL: the JVM's first line says which
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SourceError(
                f"cannot start Spark ({self._master}): {first}",
                fix="install Java 17+ for local mode, or check the master URL in sources.yaml",
            ) from None
        spark.sparkContext.setLogLevel("ERROR")
        return spark

    def fetch(self, sql: str, *, fact: str) -> pd.DataFrame:
        spark = self.session()
        try:
            table = spark.sql(sql).toArrow()
        except Exception as exc:  # AnalysisException and friends
            raise self.query_failed(fact, exc) from None
        return table.to_pandas()

    def columns(self, table: exp.Expression, *, fact: str) -> dict[str, str]:
        """The analysed schema of a zero-row select (Parquet footers or the catalog; no job runs)."""
        spark = self.session()
        try:
            schema = spark.sql(f"SELECT * FROM {table.sql(dialect=self.dialect)} LIMIT 0").schema
        except Exception as exc:  # AnalysisException: no such table or path
            raise self.query_failed(fact, exc) from None
        return {f.name: f.dataType.simpleString() for f in schema.fields}


def stop_spark() -> None:
    """Stop the process's Spark session, if any (tests; long-lived processes)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
