"""One place that turns numbers into text, so every renderer agrees.

The same :data:`~reportgen.document.ValueFormat` also maps to a d3 format
(Altair axes) and an Office number format (native PPTX charts, XLSX cells),
so a value reads the same in the PDF, the deck and the workbook.
"""

from __future__ import annotations

import math

from reportgen.document import ValueFormat

MINUS = "\u2212"  # typographic minus: reads better than a hyphen in tables

_D3 = {
    "count": ",.0f",
    "percent": ".1%",
    "seconds": ",.0f",
    "minutes": ",.1f",
    "rate": ",.1f",
    "hours": ",.3~r",  # three significant digits: a 2-minute median (0.0312 h) and 10.7 h
    "decimal": ",.2f",
}
_OFFICE = {
    "count": "#,##0",
    "percent": "0.0%",
    "seconds": '#,##0" s"',
    "minutes": '#,##0.0" min"',
    "rate": "#,##0.0",
    # one decimal from an hour up, three below (a 2-minute median is 0.031 h, not 0 h)
    "hours": '[>=1]#,##0.0" h";[<=-1]-#,##0.0" h";0.0##" h"',
    "decimal": "#,##0.00",
}


def d3_format(fmt: ValueFormat, decimals: int | None = None) -> str:
    if fmt == "percent" and decimals is not None:
        return f".{decimals}%"
    return _D3[fmt]


def office_number_format(fmt: ValueFormat, decimals: int | None = None) -> str:
    if fmt == "percent" and decimals is not None:
        return "0." + "0" * decimals + "%" if decimals else "0%"
    return _OFFICE[fmt]


def _signed(text: str, value: float) -> str:
    if value > 0:
        return "+" + text
    if value < 0:
        return MINUS + text
    return "±" + text


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, fmt: ValueFormat, decimals: int | None = None) -> str:
    """Format a metric value for display; ``—`` for a missing value.

    ``decimals`` overrides the precision of percentages (e.g. 3 for a violative view rate).
    """
    if _is_missing(value):
        return "—"
    assert value is not None
    text = _format_abs(abs(value), fmt, decimals)
    return (MINUS + text) if value < 0 and text.strip("0.,% shmin") else text


def _format_abs(value: float, fmt: ValueFormat, decimals: int | None = None) -> str:
    if fmt == "count":
        return _compact_count(value)
    if fmt == "percent":
        return f"{value * 100:.{1 if decimals is None else decimals}f}%"
    if fmt == "seconds":
        return f"{value:,.1f} s" if value < 10 else f"{value:,.0f} s"
    if fmt == "rate":
        return f"{value:,.1f}"
    if fmt == "hours":
        return _hours(value)
    if fmt == "minutes":
        return _minutes(value)
    return f"{value:,.2f}"


def _hours(value: float) -> str:
    """Hours, or minutes below one hour: a 2-minute median is not "0 h"."""
    if value < 1:
        return _minutes(value * 60)
    return f"{value:,.1f} h" if value < 100 else f"{value:,.0f} h"


def _minutes(value: float) -> str:
    return f"{value:.2f} min" if value < 1 else f"{value:,.1f} min"


def _compact_count(value: float) -> str:
    if value >= 10_000_000:
        return f"{value / 1_000_000:,.1f}M"
    if value >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    if value >= 100_000:
        return f"{value / 1_000:,.0f}k"
    return f"{value:,.0f}"


def format_full(value: float | None, fmt: ValueFormat) -> str:
    """Like :func:`format_value` but never abbreviates counts (tables, appendix)."""
    if fmt == "count" and not _is_missing(value):
        assert value is not None
        text = f"{abs(value):,.0f}"
        return (MINUS + text) if value < 0 else text
    return format_value(value, fmt)


def format_change(delta: float | None, fmt: ValueFormat, decimals: int | None = None) -> str:
    """Format an absolute change: percentage points for proportions, units otherwise."""
    if _is_missing(delta):
        return "—"
    assert delta is not None
    if fmt == "percent":
        return _signed(f"{abs(delta) * 100:.{1 if decimals is None else decimals}f} pp", delta)
    if fmt == "count":
        return _signed(f"{abs(delta):,.0f}", delta)
    return _signed(_format_abs(abs(delta), fmt), delta)


def format_relative(ratio: float | None) -> str:
    """Format a relative change (0.034 → "+3.4%")."""
    if _is_missing(ratio):
        return "—"
    assert ratio is not None
    return _signed(f"{abs(ratio) * 100:.1f}%", ratio)
