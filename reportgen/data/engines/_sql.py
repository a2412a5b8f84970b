"""An expression as SQL for one engine, with the engine's fast forms of instant arithmetic.

The cube's expressions are dialect-neutral sqlglot trees, and sqlglot writes
each dialect's spelling. Two of those spellings are exact but slow on DuckDB,
where ``TIMESTAMPTZ`` arithmetic goes through ICU's calendar per row: the local
day ``CAST(t AT TIME ZONE 'UTC' AS DATE)`` and ``date_diff('microsecond', a,
b)``. For DuckDB they are rewritten into integer arithmetic on the epoch that
means the same thing, as sqlglot transforms on the tree:

* ``date_diff('microsecond', a, b)`` → ``(epoch_us(b) − epoch_us(a))``: both are
  the instants' difference in microseconds;
* the local day in a zone with a fixed UTC offset (UTC, ``Etc/GMT+5``,
  ``Asia/Kolkata`` …) → ``CAST(make_timestamp(epoch_us(t) + offset) AS DATE)``:
  the calendar day of the shifted instant, floored like the original.
  Zones with daylight saving keep ``AT TIME ZONE``.

On the 10M-row demo data these make the decisions scan ~20 % faster and the
time-to-action sketch ~40 % faster; other engines get sqlglot's output as is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp


def to_sql(expression: exp.Expression, dialect: str, *, pretty: bool = True) -> str:
    """``expression`` in ``dialect`` (DuckDB: with its fast instant arithmetic)."""
    if dialect == "duckdb":
        expression = expression.transform(_duckdb_fast_form)
    return expression.sql(dialect=dialect, pretty=pretty)


def _duckdb_fast_form(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DateDiff) and _unit(node) == "MICROSECOND":
        return exp.paren(exp.Sub(this=_epoch_us(node.this), expression=_epoch_us(node.expression)))
    if (
        isinstance(node, exp.Cast)
        and node.to.is_type(exp.DataType.Type.DATE)
        and isinstance(node.this, exp.AtTimeZone)
        and isinstance(zone := node.this.args.get("zone"), exp.Literal)
        and (offset := fixed_offset(zone.name)) is not None
    ):
        micros: exp.Expression = _epoch_us(node.this.this)
        if offset:
            micros = exp.Add(this=micros, expression=exp.Literal.number(offset))
        return exp.cast(exp.Anonymous(this="MAKE_TIMESTAMP", expressions=[micros]), "DATE")
    return node


def _unit(node: exp.DateDiff) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if unit is not None else "DAY"


def _epoch_us(value: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="EPOCH_US", expressions=[value.copy()])


@lru_cache(maxsize=64)
def fixed_offset(timezone: str) -> int | None:
    """The zone's UTC offset in microseconds when it never changed from 1970 to 2100, else None.

    Checked at each 1 January and 1 July: daylight saving shows as two
    offsets in a year, a change of standard time as two across years.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offsets = {
        datetime(year, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
        for year in range(1970, 2101)
        for month in (1, 7)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return (offset or timedelta()) // timedelta(microseconds=1)
