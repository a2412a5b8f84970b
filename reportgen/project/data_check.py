"""``reportgen validate --data``: the catalog checked against each source's real columns.

``validate`` alone checks the configs against each other; a misspelt column
or a yes/no column stored as 0/1 only shows at the first build, as an
engine's type error. This reads each fact's schema from the engine's
metadata (no rows are scanned) and says, for every column the catalog
needs, what is wrong and the exact fix: the real column it probably meant
(and every column the source has), ``filter: col = 1`` for a 0/1 integer
used as a flag, the cast to write for a timestamp stored as text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from reportgen.config.loader import ResolvedReport
from reportgen.data.engines import Engines
from reportgen.data.quality import _ACCEPTS, required_columns, type_family
from reportgen.errors import ReportgenError


@dataclass(frozen=True)
class DataFinding:
    """One problem between the catalog and a source: what, and the fix."""

    fact: str
    column: str
    severity: str  # error | warning
    message: str
    fix: str

    def __str__(self) -> str:
        return f"fact '{self.fact}': {self.message}. Fix: {self.fix}"


def check_data(report: ResolvedReport) -> list[DataFinding]:
    """Every column the report's facts need, compared with the source's schema."""
    facts = dict.fromkeys(
        report.catalog.measures[m].fact
        for choice in report.metrics
        for m in report.metric(choice.metric).measures
    )
    findings: list[DataFinding] = []
    with Engines(report.sources, report.sources_path) as engines:
        for fact in facts:
            engine = engines.for_fact(fact)
            try:
                found = engine.columns(engine.table(fact, report.sources.facts[fact]), fact=fact)
            except ReportgenError as error:
                findings.append(
                    DataFinding(
                        fact, "", "error", str(error).split(". Fix:")[0], "check sources.yaml"
                    )
                )
                continue
            findings += _compare(report, fact, found, engine.dialect)
    return findings


def _compare(
    report: ResolvedReport, fact: str, found: dict[str, str], dialect: str
) -> list[DataFinding]:
    findings = []
    lowered = {name.lower(): name for name in found}
    for column, (family, why) in required_columns(report, fact).items():
        actual_name = column if column in found else lowered.get(column.lower())
        if actual_name is None:
            findings.append(_missing(fact, column, why, list(found)))
            continue
        kind = found[actual_name]
        if family == "timestamp" and dialect == "duckdb" and kind.upper() == NANOSECONDS:
            findings.append(_nanoseconds(fact, column, why))
            continue
        actual = type_family(kind, dialect)
        if family == "any" or actual in _ACCEPTS[family]:
            continue
        findings.append(_wrong_type(report, fact, column, family, actual, kind, why))
    return findings


#: pandas' default timestamp type in Parquet, which DuckDB will not compare with TIMESTAMPTZ
NANOSECONDS = "TIMESTAMP_NS"


def _nanoseconds(fact: str, column: str, why: str) -> DataFinding:
    return DataFinding(
        fact,
        column,
        "error",
        f"column '{column}' ({why}) is TIMESTAMP_NS (nanoseconds), which DuckDB cannot compare "
        "with the time-zone-aware period bounds",
        "write the file with microsecond timestamps — pandas: df.to_parquet(path, "
        "coerce_timestamps='us', allow_truncated_timestamps=True); DuckDB: COPY (SELECT * "
        f"REPLACE ({column}::TIMESTAMP AS {column}) FROM 'in.parquet') TO 'out.parquet'",
    )


def _missing(fact: str, column: str, why: str, columns: list[str]) -> DataFinding:
    close = difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
    guess = f" — did you mean '{close[0]}'?" if close else ""
    return DataFinding(
        fact,
        column,
        "error",
        f"column '{column}' ({why}) is not in the source{guess} The source has: {', '.join(columns)}",
        f"rename '{column}' to '{close[0]}' in the catalog"
        if close
        else "use one of the source's columns in the catalog",
    )


def _wrong_type(
    report: ResolvedReport, fact: str, column: str, family: str, actual: str, kind: str, why: str
) -> DataFinding:
    message = f"column '{column}' is {kind} ({actual}), but {why} needs a {family}"
    if family == "boolean" and actual == "number":
        rewrites = _flag_rewrites(report, fact, column)
        return DataFinding(
            fact,
            column,
            "error",
            f"{message}: a 0/1 integer is not a condition by itself",
            "compare it with 1 — " + "; ".join(rewrites)
            if rewrites
            else f"write '{column} = 1' where it is used as a condition",
        )
    if family in ("timestamp", "date") and actual == "text":
        return DataFinding(
            fact,
            column,
            "error",
            f"{message}: a timestamp stored as text",
            f"in the database, create a view that casts it — CREATE VIEW {fact}_v AS SELECT * "
            f"REPLACE (CAST({column} AS TIMESTAMP) AS {column}) FROM … (PostgreSQL: SELECT …, "
            f"{column}::timestamptz AS {column}) — and point sources.yaml at the view; in a CSV, "
            "write the values as ISO timestamps (2026-11-16 08:30:00+01:00)",
        )
    return DataFinding(
        fact,
        column,
        "error",
        message,
        f"cast it in the source (or a view), or declare its type under facts.{fact}.quality.columns",
    )


def _flag_rewrites(report: ResolvedReport, fact: str, column: str) -> list[str]:
    """Each filter or check that uses ``column`` as a condition, rewritten with ``= 1``."""
    pattern = re.compile(
        rf"(?<![\w.'])({re.escape(column)})(?![\w'])(?!\s*(=|<|>|!|IS\b|IN\b))", re.I
    )
    rewrites = []
    compare = r"\1 = 1"
    for name, measure in report.catalog.measures.items():
        if measure.fact == fact and measure.filter and pattern.search(measure.filter):
            rewrites.append(f"measures.{name}: filter: {pattern.sub(compare, measure.filter)}")
    for check in report.catalog.facts[fact].checks:
        if pattern.search(check.when):
            rewrites.append(f"checks.{check.name}: when: {pattern.sub(compare, check.when)}")
    return rewrites


__all__ = ["DataFinding", "check_data"]
