"""SQL engines the cube runs on: embedded DuckDB (default), any SQLAlchemy URL, Spark SQL.

``Engines`` maps each fact to the engine that scans it. A fact given by
``table`` runs on the configured engine; a fact given by ``path`` runs there
too when that engine reads files (DuckDB, Spark), and on embedded DuckDB when
it is a server (a warehouse cannot read a CSV on this machine).
"""

from __future__ import annotations

from pathlib import Path

from reportgen.config.models import SourcesConfig
from reportgen.data.engines.base import Engine, expand_env, redact_url, resolve_files
from reportgen.data.engines.embedded import DuckDBEngine
from reportgen.data.engines.spark import SparkEngine
from reportgen.data.engines.warehouse import WarehouseEngine


class Engines:
    """The engines of one sources config; each connects on first use and closes with this."""

    def __init__(self, sources: SourcesConfig, sources_path: Path) -> None:
        self._sources = sources
        self._base = sources_path.parent
        self._main = self._make_main()
        self._embedded: DuckDBEngine | None = None

    def _make_main(self) -> Engine:
        s = self._sources
        if s.engine == "sqlalchemy":
            assert s.url is not None  # the config model requires it
            return WarehouseEngine(s.url, s.dialect)
        if s.engine == "spark":
            return SparkEngine(self._base, s.url, s.options)
        return DuckDBEngine(self._base, s.database)

    def for_fact(self, fact: str) -> Engine:
        source = self._sources.facts[fact]
        if source.path and isinstance(self._main, WarehouseEngine):
            if self._embedded is None:
                self._embedded = DuckDBEngine(self._base)
            return self._embedded
        return self._main

    def location(self, fact: str) -> tuple[str | None, str | None]:
        """``(glob, None)`` for a path source, ``(None, database file)`` for a table in a DuckDB
        file, ``(None, None)`` for a table on a server: what the cache can stamp."""
        source = self._sources.facts[fact]
        if source.path:
            pattern, _files = resolve_files(source, fact, self._base)
            return pattern, None
        engine = self.for_fact(fact)
        if isinstance(engine, DuckDBEngine):
            return None, engine.database_file()
        return None, None

    def close(self) -> None:
        for engine in (self._main, self._embedded):
            if engine is not None:
                engine.close()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = ["Engine", "Engines", "expand_env", "redact_url"]
