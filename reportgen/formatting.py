"""One place that turns numbers into text, so every renderer agrees.

The same :data:`~reportgen.document.ValueFormat` also maps to a d3 format
(Altair axes) and an Office number format (native PPTX charts, XLSX cells),
so a value reads the same in the PDF, the deck and the workbook.

Rules every shown number follows (text, tables, tiles, chart labels, email):

* **One minus sign.** A negative number is written with U+2212 (``−``), never
  the ASCII hyphen; Office number formats draw it too (``#,##0;"−"#,##0``), and
  d3 formats already do. XLSX/CSV cells keep real numbers (only formats change).
* **No signed zero.** Nothing reads ``−0.0`` or ``+0.0``: a change that is
  exactly zero is ``±0``-signed, and a value that rounds to zero is unsigned.
* **A change agrees with the values beside it** (the one rule for precision).
  Each format has one fixed precision (percent 1 decimal in pp, seconds, minutes,
  hours and rates 1 decimal, decimals 2). A change is shown with the values it
  compares at one shared precision (:func:`comparison_decimals`), and the change
  shown is the difference of the values *as shown* (:func:`shown_difference`), so a
  reader who subtracts them gets the printed change. The precision is the format's
  own; one more decimal for the values and the change alike when that makes the
  rounded change itself agree (70.94 % → 68.36 % reads ``−2.58 pp``, not ``−2.5 pp``
  beside 70.9 % and 68.4 %); never more for agreement alone: 60.836 → 51.452
  decisions / productive hour reads ``60.8 → 51.5, −9.3`` at the metric's precision,
  not ``−9.384`` to three decimals. More decimals (at most :data:`MAX_EXTRA_DIGITS`)
  only where a non-zero change would otherwise read as zero: 83.454 % → 83.438 %
  reads ``−0.016 pp`` (never ``−0.0 pp``/"unchanged"). A change shown without its
  values (a driver's share of it) gets more digits only when it would otherwise
  read as zero.
* **p-values never contradict their verdict.** :func:`format_p` shows two
  decimals (three below 0.01) and adds digits until the shown value lies on
  the same side of the threshold as the true one: ``p = 0.053``, not
  ``p = 0.05`` beside "not significant".
* **Every value carries its unit.** A metric's ``unit`` (catalog) is written after
  rates (``49.0 decisions / productive hour``); durations carry ``s``/``min``/``h``.
  A metric in hours is shown in minutes when its values are under an hour —
  one unit per metric, chosen once (:func:`duration_unit`), and an interval has
  one unit for both ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from reportgen.document import ValueFormat

MINUS = "\u2212"  # typographic minus: the one minus sign of every shown number
#: How many decimals beyond a format's own a change may add so a non-zero change never reads as 0.
MAX_EXTRA_DIGITS = 2
#: How many decimals beyond that a comparison may add so the rounded change agrees by itself;
#: past it the change shown is the difference of the rounded values (:func:`shown_difference`).
AGREEMENT_EXTRA_DIGITS = 1

#: Decimals of each format (percent: in percent/pp units).
BASE_DECIMALS: dict[str, int] = {
    "count": 0,
    "percent": 1,
    "seconds": 1,
    "minutes": 1,
    "rate": 1,
    "hours": 1,
    "decimal": 2,
}

_D3 = {
    "count": ",.0f",
    "percent": ".1%",
    "seconds": ",.1f",
    "minutes": ",.1f",
    "rate": ",.1f",
    "hours": ",.3~r",  # three significant digits: a 2-minute median (0.0312 h) and 10.7 h
    "decimal": ",.2f",
}
_NEG = f'"{MINUS}"'  # a quoted literal: every Office reader draws it as it is
_OFFICE = {
    "count": f"#,##0;{_NEG}#,##0",
    "percent": f"0.0%;{_NEG}0.0%",
    "seconds": f'#,##0.0" s";{_NEG}#,##0.0" s"',  # one decimal, as the text (62.7 s)
    "minutes": f'#,##0.0" min";{_NEG}#,##0.0" min"',
    "rate": f"#,##0.0;{_NEG}#,##0.0",
    # one decimal from an hour up, three below (a 2-minute median is 0.031 h, not 0 h)
    "hours": f'[>=1]#,##0.0" h";[<=-1]{_NEG}#,##0.0" h";0.0##" h"',
    "decimal": f"#,##0.00;{_NEG}#,##0.00",
}


def d3_format(fmt: ValueFormat, decimals: int | None = None) -> str:
    """A d3 format (d3-format writes U+2212 for negatives by default)."""
    if fmt == "percent" and decimals is not None:
        return f".{decimals}%"
    if fmt in ("rate", "decimal") and decimals is not None:  # 0.17 / h must not read "0.2"
        return f",.{decimals}f"
    return _D3[fmt]


def office_number_format(fmt: ValueFormat, decimals: int | None = None) -> str:
    """An Office number format whose negative section draws U+2212."""
    if fmt == "percent" and decimals is not None:
        body = "0." + "0" * decimals + "%" if decimals else "0%"
        return f"{body};{_NEG}{body}"
    if fmt in ("rate", "decimal") and decimals is not None:
        body = "#,##0." + "0" * decimals if decimals else "#,##0"
        return f"{body};{_NEG}{body}"
    return _OFFICE[fmt]


def signed_office_format(fmt: str) -> str:
    """The signed form of a one-section Office format: ``+0.0%;"−"0.0%;0.0%``."""
    body = fmt.split(";")[0]
    if body.startswith("["):  # conditional sections cannot be signed simply
        return fmt
    return f"+{body};{_NEG}{body};{body}"


def minus(text: str) -> str:
    """Replace hyphen-minus signs before digits with U+2212 (numbers made by f-strings)."""
    out = []
    for i, ch in enumerate(text):
        if (
            ch == "-"
            and i + 1 < len(text)
            and (text[i + 1].isdigit() or text[i + 1] == ".")
            and (i == 0 or not text[i - 1].isalnum())
        ):
            out.append(MINUS)
        else:
            out.append(ch)
    return "".join(out)


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _base(fmt: str, decimals: int | None) -> int:
    if decimals is not None:
        return decimals
    return BASE_DECIMALS.get(fmt, 2)


def _scaled(value: float, fmt: str) -> float:
    return value * 100 if fmt == "percent" else value


# -- values -----------------------------------------------------------------------------------


def format_value(
    value: float | None, fmt: ValueFormat, decimals: int | None = None, unit: str | None = None
) -> str:
    """Format a metric value for display; ``—`` for a missing value.

    ``decimals`` overrides the format's precision (e.g. 3 for a violative view
    rate, or the shared precision of a comparison); ``unit`` is written after
    a rate (``49.0 decisions / productive hour``).
    """
    if _is_missing(value):
        return "—"
    assert value is not None
    text = _format_abs(abs(value), fmt, decimals)
    if value < 0 and _nonzero(text):
        text = MINUS + text
    return with_unit(text, fmt, unit)


def _nonzero(text: str) -> bool:
    return any(c in "123456789" for c in text)


def with_unit(text: str, fmt: str, unit: str | None) -> str:
    """``49.0`` → ``49.0 decisions / productive hour`` for unitless formats with a unit."""
    if not unit or text == "—" or fmt not in ("rate", "decimal", "count"):
        return text
    return f"{text} {unit_label(unit)}"


def unit_label(unit: str) -> str:
    """The short form of a catalog unit: "decisions per productive hour" → "decisions / productive hour"."""
    return unit.replace(" per ", " / ")


def _format_abs(value: float, fmt: str, decimals: int | None = None) -> str:
    if fmt == "count":
        return _compact_count(value) if decimals is None else f"{value:,.{decimals}f}"
    d = _base(fmt, decimals)
    if fmt == "percent":
        return f"{value * 100:.{d}f}%"
    if fmt == "seconds":
        return f"{value:,.{d}f} s"
    if fmt == "rate":
        return f"{value:,.{d}f}"
    if fmt == "hours":
        if decimals is None and value < 1:  # a lone value under an hour: minutes, said so
            return _format_abs(value * 60, "minutes")
        return f"{value:,.{d}f} h"
    if fmt == "minutes":
        return f"{value:,.{d}f} min"
    return f"{value:,.{d}f}"


def _compact_count(value: float) -> str:
    if value >= 10_000_000:
        return f"{value / 1_000_000:,.1f}M"
    if value >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    if value >= 100_000:
        return f"{value / 1_000:,.0f}k"
    return f"{value:,.0f}"


def format_full(value: float | None, fmt: ValueFormat, unit: str | None = None) -> str:
    """Like :func:`format_value` but never abbreviates counts (tables, appendix)."""
    if fmt == "count" and not _is_missing(value):
        assert value is not None
        return format_value(value, fmt, 0, unit)
    return format_value(value, fmt, unit=unit)


# -- durations: one unit per metric -------------------------------------------------------------


def duration_unit(values: Iterable[float | None]) -> ValueFormat:
    """``"minutes"`` when every value of an hours metric is under an hour, else ``"hours"``."""
    shown = [abs(v) for v in values if not _is_missing(v)]
    return "minutes" if shown and max(shown) < 1 else "hours"


def in_unit(value: float | None, source: str, shown: str) -> float | None:
    """A value of ``source`` format expressed in ``shown`` format (hours → minutes)."""
    if value is None or source == shown:
        return value
    if source == "hours" and shown == "minutes":
        return value * 60
    return value


# -- changes ----------------------------------------------------------------------------------


def _signed(text: str, value: float) -> str:
    if not _nonzero(text):
        return "±" + text
    if value > 0:
        return "+" + text
    if value < 0:
        return MINUS + text
    return "±" + text


def _scaled_comparison(
    current: float | None, previous: float | None, fmt: str, delta: float | None
) -> tuple[float, float, float] | None:
    """Both values and their change (``delta``, else their difference) in shown units
    (percent in %), or None when a value is missing."""
    if _is_missing(current) or _is_missing(previous):
        return None
    assert current is not None and previous is not None
    change = current - previous if delta is None else delta
    return _scaled(current, fmt), _scaled(previous, fmt), _scaled(change, fmt)


def comparison_decimals(
    current: float | None,
    previous: float | None,
    fmt: str,
    decimals: int | None = None,
    delta: float | None = None,
) -> int:
    """The shared precision of two values and their change (see the module's rule).

    The first precision at which the change reads as non-zero — as rounded and as the
    difference of the rounded values — and then at most :data:`AGREEMENT_EXTRA_DIGITS`
    more if that makes the rounded change equal the rounded values' difference. Where it
    does not, the precision stays where the change first reads, and the change shown
    beside the values is their difference as shown (:func:`shown_difference`).
    """
    readable = reading_decimals(current, previous, fmt, decimals, delta)
    if (scaled := _scaled_comparison(current, previous, fmt, delta)) is None:
        return readable
    cur, prev, ch = scaled
    last = _base(fmt, decimals) + MAX_EXTRA_DIGITS
    for d in range(readable, min(readable + AGREEMENT_EXTRA_DIGITS, last) + 1):
        shown = round(round(cur, d) - round(prev, d), d)
        if math.isclose(shown, round(ch, d), abs_tol=10 ** -(d + 3)):
            return d
    return readable


def reading_decimals(
    current: float | None,
    previous: float | None,
    fmt: str,
    decimals: int | None = None,
    delta: float | None = None,
) -> int:
    """The first precision at which a change reads as non-zero both as rounded and as the
    difference of the two values rounded: the format's own but for tiny changes.

    A table's rows share it (the finest any row needs), each row's change printed as the
    difference of its values as shown (:func:`shown_difference`): one precision down the
    column, the metric's own wherever it suffices.
    """
    base = _base(fmt, decimals)
    if (scaled := _scaled_comparison(current, previous, fmt, delta)) is None:
        return change_decimals(delta, fmt, decimals) if delta is not None else base
    cur, prev, ch = scaled
    last = base + MAX_EXTRA_DIGITS
    return next(
        (
            d
            for d in range(base, last + 1)
            if ch == 0 or (round(ch, d) != 0 and round(cur, d) != round(prev, d))
        ),
        last,
    )


def shown_difference(
    current: float | None, previous: float | None, fmt: str, decimals: int
) -> float | None:
    """The change a reader computes from the two values as shown at ``decimals``, in the
    values' own units (a fraction for a percent): the change to print beside them.

    Equal to the change rounded wherever :func:`comparison_decimals` found them to agree;
    elsewhere it is the one change that agrees with the values on the page (60.8 → 51.5:
    −9.3, where the unrounded change, −9.38, would print as −9.4).
    """
    if _is_missing(current) or _is_missing(previous):
        return None
    assert current is not None and previous is not None
    scale = 100 if fmt == "percent" else 1
    cur, prev = round(current * scale, decimals), round(previous * scale, decimals)
    return round(cur - prev, decimals) / scale


def change_decimals(delta: float | None, fmt: str, decimals: int | None = None) -> int:
    """A lone change's precision: the format's, more only where it would read as zero."""
    base = _base(fmt, decimals)
    if _is_missing(delta) or delta == 0:
        return base
    assert delta is not None
    scaled = abs(_scaled(delta, fmt))
    for d in range(base, base + MAX_EXTRA_DIGITS + 1):
        if round(scaled, d) != 0:
            return d
    return base + MAX_EXTRA_DIGITS


def shared_decimals(deltas: Iterable[float | None], fmt: str, decimals: int | None = None) -> int:
    """One precision for changes shown together (a table column, a sentence)."""
    return max((change_decimals(d, fmt, decimals) for d in deltas), default=_base(fmt, decimals))


def format_change(
    delta: float | None, fmt: ValueFormat, decimals: int | None = None, unit: str | None = None
) -> str:
    """Format an absolute change: percentage points for proportions, units otherwise.

    At ``decimals`` (default: the format's precision), with more digits only
    where a non-zero change would otherwise read as zero.
    """
    if _is_missing(delta):
        return "—"
    assert delta is not None
    d = change_decimals(delta, fmt, decimals)
    if fmt == "percent":
        text = f"{abs(delta) * 100:.{d}f} pp"
    elif fmt == "count":
        text = f"{abs(delta):,.{d}f}"
    else:
        text = _format_abs(abs(delta), fmt, d)
    return with_unit(_signed(text, delta), fmt, unit)


def format_relative(ratio: float | None, decimals: int | None = None) -> str:
    """Format a relative change (0.034 → "+3.4%"); more digits only where it would read as zero."""
    if _is_missing(ratio):
        return "—"
    assert ratio is not None
    d = change_decimals(ratio, "percent", decimals)
    return _signed(f"{abs(ratio) * 100:.{d}f}%", ratio)


def format_interval(
    low: float | None,
    high: float | None,
    fmt: ValueFormat,
    decimals: int | None = None,
    unit: str | None = None,
) -> str:
    """A confidence interval of a change: one unit, one precision for both ends; ``—`` if none."""
    if _is_missing(low) or _is_missing(high):
        return "—"
    d = shared_decimals((low, high), fmt, decimals) if decimals is None else decimals
    return f"{format_change(low, fmt, d)} to {format_change(high, fmt, d, unit)}"


# -- p-values ---------------------------------------------------------------------------------


def format_p(p: float | None, alpha: float = 0.05, name: str = "p") -> str:
    """``p = 0.41``, ``p = 0.004``, ``p < 0.001``; digits enough to sit on the true side of ``alpha``."""
    if _is_missing(p):
        return f"{name} n/a"
    assert p is not None
    if p < 0.001:
        return f"{name} < 0.001"
    d = 3 if p < 0.01 else 2
    while d < 6:
        shown = round(p, d)
        if shown != alpha and (shown < alpha) == (p < alpha):
            break
        d += 1
    return f"{name} = {p:.{d}f}"


def amount_text(count: int, unit: str) -> str:
    """``1 row``, ``2 days``, ``1,204 rows``: how many of what a check found."""
    return f"{count:,} {unit[:-1] if count == 1 and unit.endswith('s') else unit}"
