"""What every engine offers the cube: a dialect, a FROM clause per fact, and a fetch.

The cube builds one sqlglot expression per scan and renders it in the
engine's dialect, so an engine never sees hand-written SQL strings. Engines
connect lazily: planning a query (``reportgen build --explain``) needs only
the dialect, never a connection, a JVM or a password.
"""

from __future__ import annotations

import glob
import os
import re
from abc import ABC, abstractmethod
from pathlib import Path

import pandas as pd
from sqlglot import exp

from reportgen.config.models import FactSource
from reportgen.errors import SourceError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, *, what: str) -> str:
    """Replace ``${NAME}`` with the environment variable's value, at connect time only.

    Secrets are resolved as late as possible so they never reach a config
    model, a log line, ``--explain`` output or ``figures.json``.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceError(
                f"environment variable {name} is not set (the sources' {what} refers to it)",
                fix=f"export {name}=… where the build runs; secrets are read from the "
                "environment, never written in configs",
            )
        return os.environ[name]

    return _ENV_REF.sub(value, text)


def redact_url(url: str) -> str:
    """The URL without its password, for labels, cache keys and error messages."""
    url = re.sub(r"^([^:/]+://[^:@/]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"([?&](?:password|pwd|token|secret)=)[^&]*", r"\1***", url, flags=re.I)


def resolve_files(source: FactSource, fact: str, base: Path) -> tuple[str, list[str]]:
    """The absolute glob of a path source and the files it matches; no match is an error."""
    assert source.path is not None
    pattern = source.path if Path(source.path).is_absolute() else str(base / source.path)
    pattern = os.path.normpath(pattern)
    files = sorted(glob.glob(pattern))
    if not files:
        raise SourceError(
            f"no data file matches '{source.path}' for fact '{fact}' (looked for {pattern})",
            fix="run `reportgen demo-data` for the demo, or point configs/sources.yaml at your data",
            fact=fact,
        )
    return pattern, files


def is_csv(pattern: str) -> bool:
    return pattern.lower().endswith((".csv", ".csv.gz"))


class Engine(ABC):
    """One SQL engine: renders nothing itself, runs what the cube planned."""

    #: short name shown in ``--explain`` and progress messages
    name: str
    #: sqlglot dialect the cube's queries are rendered in
    dialect: str

    @property
    @abstractmethod
    def identity(self) -> str:
        """A secret-free description of where data comes from; part of the cache key."""

    @abstractmethod
    def table(self, fact: str, source: FactSource) -> exp.Expression:
        """The FROM clause of ``fact``'s scan, as a sqlglot expression."""

    @abstractmethod
    def fetch(self, sql: str, *, fact: str) -> pd.DataFrame:
        """Run an aggregate query; raise :class:`SourceError` naming the fact on failure."""

    def fetch_scan(self, sql: str, *, fact: str) -> pd.DataFrame:
        """Run one cube scan (:func:`reportgen.data.scan.scan` tidies what it returns).

        The same as :meth:`fetch` unless an engine has a leaner way to hand over
        a large aggregate: the cube's columns are retyped by ``tidy`` anyway, so
        an engine may return any numeric, date and string types here.
        """
        return self.fetch(sql, fact=fact)

    @abstractmethod
    def columns(self, table: exp.Expression, *, fact: str) -> dict[str, str]:
        """The source's columns and their types in the engine's own words, from metadata only.

        The data-quality gate compares them with what the catalog needs before
        the scan, so a renamed or retyped column fails with the column's name
        instead of a driver error (or, worse, a silent implicit cast).
        """

    def close(self) -> None:  # noqa: B027 - engines without a connection have nothing to close
        """Release the connection (if one was opened)."""

    def query_failed(self, fact: str, exc: BaseException) -> SourceError:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return SourceError(
            f"the cube query for fact '{fact}' failed on {self.name}: {first}",
            fix="check that the source has the columns the catalog's measures and checks use "
            "(`reportgen build --explain` prints the query)",
            fact=fact,
        )


def table_name(name: str, dialect: str) -> exp.Expression:
    """A possibly qualified table name (``schema.table``) in the engine's quoting rules."""
    return exp.to_table(name, dialect=dialect)
