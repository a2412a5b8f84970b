"""Where a second source (``init --add``) can live beside the project's first.

One ``sources.yaml`` names one engine: the cube queries of every *table* run
there. Files (``path:``) are different: DuckDB and Spark read them directly,
and with a server engine they are read by an embedded DuckDB beside it
(:meth:`reportgen.data.engines.Engines.for_fact`). Metrics that combine two
facts (tickets per staffed hour) are combined after each fact's cube query, so
the two facts need not share an engine.

That gives the rules :func:`check_engines` applies:

* a file can always be added;
* a table on the project's own engine can be added (the same server URL, the
  same DuckDB database file);
* a server table added to a project whose facts are all files switches the
  project to that server — the files keep being read from their paths;
* anything else (a second server, a table in another DuckDB file, a server
  table beside a DuckDB database's tables) is refused, naming the command that
  exports the table to a file, which can then be added.
"""

from __future__ import annotations

import re
from pathlib import Path

from reportgen.config.models import SourcesConfig
from reportgen.data.engines.base import redact_url
from reportgen.errors import ConfigError
from reportgen.project.profile import SourceLocation


def check_engines(location: SourceLocation, sources: SourcesConfig, sources_path: Path) -> bool:
    """Whether ``location`` can join the project; True when sources.yaml must switch to its
    server (see the module docstring). Raises :class:`ConfigError` when it cannot join."""
    if location.kind == "file":
        return False
    if location.kind == "sqlalchemy":
        if sources.engine == "sqlalchemy" and _same_url(sources.url or "", location.url or ""):
            return False
        if sources.engine == "duckdb" and not sources.database and _only_files(sources):
            return True
        raise _refused(location, sources, sources_path)
    if location.kind == "duckdb" and sources.engine == "duckdb" and sources.database:
        database = (sources_path.parent / sources.database).resolve()
        if location.path is not None and database == location.path.resolve():
            return False
    raise _refused(location, sources, sources_path)


def _only_files(sources: SourcesConfig) -> bool:
    return all(f.path for f in sources.facts.values())


def _same_url(configured: str, given: str) -> bool:
    """The same server and database, whatever the password (a ${VAR} reference or literal)."""
    return redact_url(configured) == redact_url(given)


def _main_engine(sources: SourcesConfig, sources_path: Path) -> str:
    if sources.engine == "sqlalchemy":
        return f"the server {redact_url(sources.url or '')}"
    if sources.engine == "spark":
        return "Spark"
    if sources.database:
        return f"the DuckDB database {(sources_path.parent / sources.database).resolve()}"
    return "DuckDB"


def _export_command(location: SourceLocation) -> tuple[str, str]:
    """The command that writes the table to a file, and the file's name."""
    table = location.table or "t"
    name = table.rpartition(".")[2]
    if location.kind == "sqlalchemy":
        # psql reads the password from $PGPASSWORD: the command never carries one
        url = re.sub(r"^([^:/]+)\+[^:/]+://", r"\1://", location.url or "")
        url = re.sub(r"^([^:/]+://[^:@/]*):[^@/]*@", r"\1@", url)
        url = re.sub(r"[?&](?:password|pwd|token|secret)=[^&]*", "", url, flags=re.I)
        copy = f"\\copy {table} TO '{name}.csv' CSV HEADER"
        return f'PGPASSWORD=… psql "{url}" -c "{copy}"', f"{name}.csv"
    return (
        f"duckdb {location.path} -c \"COPY {table} TO '{name}.parquet' (FORMAT parquet)\"",
        f"{name}.parquet",
    )


def _refused(location: SourceLocation, sources: SourcesConfig, sources_path: Path) -> ConfigError:
    command, file = _export_command(location)
    main = _main_engine(sources, sources_path)
    why = (
        "a project runs the cube queries of its tables on one engine, and its facts so far are "
        "not all files"
        if location.kind == "sqlalchemy" and sources.engine == "duckdb"
        else "a project runs the cube queries of its tables on one engine"
    )
    return ConfigError(
        f"{location.label} is not on {main}, where {sources_path} reads its tables: {why}",
        file=sources_path,
        fix=f"export the table to a file and add the file — {command}, then "
        f"`reportgen init --from {file} --add` (files are read beside any engine); or create "
        f"a view of the table on {main}",
    )


__all__ = ["check_engines"]
