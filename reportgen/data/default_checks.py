"""The data-quality checks every fact gets without a line of configuration.

A new dataset is rarely clean, and its owner does not yet know which checks
to write. Two defects are common enough, and cheap enough to find, that the
gate looks for them unless the catalog turns them off:

* **NULL in a breakdown dimension** (``null_dimensions``). Such rows count in
  the totals but in no segment, so a breakdown's segments stop adding up to
  the total without a word. Counted from the cube itself: the scan groups by
  the report's dimensions, and a NULL group comes back as its own cell
  (``(missing)`` after :func:`reportgen.data.frames.tidy`), so the count per
  period costs no extra SQL.
* **A negative value in a summed column** (``negative_values``): a handle
  time, hours or an amount below zero is a broken row that silently lowers a
  sum (and every average built on it). Counted in the cube's own scan, one
  ``COUNT(*) FILTER (WHERE column < 0)`` per column a ``sum`` measure adds up.

Both are warnings by default (``quality.severity`` in the catalog sets them
to ``error`` or ``off``); a column that may be negative by meaning (a net
adjustment) is listed under ``quality.signed``. A check the catalog already
writes for the same condition (``when: region IS NULL`` or ``when:
handle_seconds < 0``) replaces the default, so no row is reported twice.
The third default, duplicate keys, needs only ``quality.key`` (see
:mod:`reportgen.data.quality`).
"""

from __future__ import annotations

import sqlglot

from reportgen.config.models import Catalog, FactDef

NEGATIVE = "negative_values"  # the severity key of the negative-value check
NULL_DIMENSIONS = "null_dimensions"  # the severity key of the NULL-dimension check
#: how the cube's frames hold a NULL dimension value (reportgen.data.frames.tidy)
MISSING = "(missing)"


def _canonical(condition: str) -> str:
    """A condition in one spelling, so ``region is null`` and ``region IS NULL`` compare equal."""
    return sqlglot.parse_one(condition, read="duckdb").sql(dialect="duckdb")


def _written(fact: FactDef) -> tuple[set[str], set[str]]:
    """The catalog's own checks of ``fact``: their conditions (canonical) and names."""
    return {_canonical(c.when) for c in fact.checks}, {c.name for c in fact.checks}


def negative_check(column: str) -> str:
    return f"negative_{column}"


def negative_columns(catalog: Catalog, fact_name: str) -> list[str]:
    """Columns of ``fact_name`` a ``sum`` measure adds up, that get the negative-value check.

    Not the ones listed under ``quality.signed``, nor those a catalog check
    already tests with ``column < 0`` (or whose check name the default would take).
    """
    fact = catalog.facts[fact_name]
    if fact.quality.severity_of(NEGATIVE) == "off":
        return []
    conditions, names = _written(fact)
    columns: list[str] = []
    for measure in catalog.measures.values():
        column = measure.column
        if measure.fact != fact_name or measure.agg != "sum" or not column:
            continue
        if column in columns or column in fact.quality.signed:
            continue
        if _canonical(f"{column} < 0") in conditions or negative_check(column) in names:
            continue
        columns.append(column)
    return columns


def fact_counters(catalog: Catalog, fact_name: str) -> dict[str, str | None]:
    """Every row counter of a fact's main scan: the fact's own, then the negative-value ones."""
    counters = catalog.facts[fact_name].counters()
    for column in negative_columns(catalog, fact_name):
        counters[negative_check(column)] = f"{column} < 0"
    return counters


def negative_rules(catalog: Catalog, fact_name: str) -> dict[str, tuple[str, str]]:
    """``check → (severity, description)`` of the negative-value counters."""
    severity = catalog.facts[fact_name].quality.severity_of(NEGATIVE)
    summed_by = {
        m.column: name
        for name, m in catalog.measures.items()
        if m.fact == fact_name and m.agg == "sum" and m.column
    }
    return {
        negative_check(column): (
            severity,
            f"{column} is negative (measure {summed_by[column]} sums it)",
        )
        for column in negative_columns(catalog, fact_name)
    }


def null_dimensions(fact: FactDef, dimensions: tuple[str, ...]) -> list[str]:
    """The scanned dimensions whose NULLs the default check counts.

    Not the key and ``quality.required`` ones (a NULL there is a ``null_keys``
    issue, counted by the scan) nor those a catalog check tests with ``IS NULL``.
    """
    if fact.quality.severity_of(NULL_DIMENSIONS) == "off":
        return []
    conditions, names = _written(fact)
    required = set(fact.null_columns())
    return [
        d
        for d in dimensions
        if d not in required
        and _canonical(f"{d} IS NULL") not in conditions
        and f"null_{d}" not in names
    ]


__all__ = [
    "MISSING",
    "NEGATIVE",
    "NULL_DIMENSIONS",
    "fact_counters",
    "negative_columns",
    "negative_rules",
    "null_dimensions",
]
