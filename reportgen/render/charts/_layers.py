"""Pieces every Altair chart draws alike: the value axis' domain, the current period's
highlighted point, and safe values and strings for Vega. The line, bar and waterfall
charts (:mod:`.svg`) and the weekly business review chart (:mod:`.wbr`) share them."""

from __future__ import annotations

import json
import math

import altair as alt

from reportgen.document import Brand, Chart
from reportgen.render.charts.rules import axis_values, starts_at_zero

LABEL_FONT_SIZE = 11


class InlineRows(alt.Data):
    """A chart's rows inline in its spec, shared by every copy Altair makes instead of copied."""

    def __deepcopy__(self, memo: object) -> InlineRows:
        return self


class SharedLayer(alt.Chart):
    """A layer Altair shares between the specs that combine it instead of deep-copying it.

    Altair deep-copies every layer, object by object and row by row, each
    time layers are combined or a property is set (``alt.layer``,
    ``.properties``, ``.configure``, ``alt.hconcat``): for the ~30 charts of
    a weekly report that was ~2.4 million copy calls and two thirds of the
    time spent building their specs. A layer here is made for one chart and
    never changed after it is combined (Altair's own changes to the copies —
    lifting the shared rows to the parent — are what the copies were for),
    so one object can serve every copy; the spec Altair writes is the same,
    which ``tests/test_render_html.py`` checks against a deep-copying build.
    """

    def __deepcopy__(self, memo: object) -> SharedLayer:
        return self


def layer_of(rows: list) -> alt.Chart:
    """An Altair chart of inline ``rows`` whose layers combine without copies (:class:`SharedLayer`)."""
    return SharedLayer(InlineRows(values=rows))


def value_domain(chart: Chart) -> tuple[float, float] | None:
    """A padded y domain for non-total metrics; ``None`` means start at zero.

    Proportions are kept inside [0, 1] so the axis never shows 104 %.
    """
    if starts_at_zero(chart):
        return None
    values = axis_values(chart)
    if not values:
        return None
    low, high = min(values), max(values)
    span = high - low or abs(high) * 0.1 or 1.0
    low, high = low - span * 0.2, high + span * 0.2
    if min(values) >= 0:
        low = max(low, 0.0)
    if chart.value_format == "percent" and max(values) <= 1.0:
        high = min(high, 1.0)
    return low, high


def js_string(text: str) -> str:
    """A Vega expression string literal (JSON escaping is a subset of it)."""
    return json.dumps(text)


def finite(value: float | None) -> float | None:
    """NaN and ±inf become gaps (null), which Vega skips instead of choking on."""
    return value if value is not None and math.isfinite(value) else None


def highlight_layers(base: alt.Chart, chart: Chart, brand: Brand, fmt: str) -> list[alt.Chart]:
    """The current period's point in the accent colour, labelled with its value."""
    current = base.transform_filter(
        f"datum.period === {js_string(chart.highlight or '')} && datum.role === 'primary'"
    )
    dot = current.mark_point(
        filled=True,
        size=150,
        color=brand.accent,
        opacity=1,
        stroke=brand.background,
        strokeWidth=1.5,
    )
    # The dot carries the accent; the figure stays in the text colour for
    # contrast, over a halo in the background colour so a line never runs through it.
    text = alt.Text("value:Q", format=fmt)
    # below a point the line falls to, above one it rises to (as on the slide): never on the line
    style = {
        "dy": 16 if _falls_to_highlight(chart) else -14,
        "fontSize": LABEL_FONT_SIZE + 1,
        "fontWeight": "bold",
    }
    halo = current.mark_text(
        **style, color=brand.background, stroke=brand.background, strokeWidth=4
    ).encode(text=text)
    label = current.mark_text(**style, color=brand.text).encode(text=text)
    return [dot, halo, label]


def _falls_to_highlight(chart: Chart) -> bool:
    """Whether the primary line comes down to the highlighted point from the one before."""
    primary = next((s for s in chart.series if s.role == "primary"), None)
    if primary is None or chart.highlight not in chart.categories:
        return False
    index = chart.categories.index(chart.highlight)
    values = primary.values
    current = values[index] if index < len(values) else None
    previous = next((v for v in reversed(values[:index]) if v is not None), None)
    return current is not None and previous is not None and current < previous
