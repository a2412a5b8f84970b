"""Chart specs → Altair → static SVG, for the PDF and the HTML preview.

The PPTX renderer draws the same :class:`~reportgen.document.Chart` as a native
chart; both take their colours from the :class:`~reportgen.document.Brand`
(primary series in ``primary``, comparison in ``secondary``, target in
``muted``, the current period in ``accent``) so a slide and a PDF page agree.

The SVG is produced by vl-convert with network access disabled and is then
re-serialised from a parsed tree with anything that could fetch or run
(``<image>``, ``<script>``, ``<foreignObject>``, external ``href``/``url()``,
event handlers) removed. That re-serialisation is what makes it safe to mark
the result as trusted markup in the HTML templates: every label a data source
supplies is XML-escaped by the serialiser, whatever it contains.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import altair as alt
from altair.utils.schemapi import debug_mode

from reportgen.document import Brand, Chart, Dendrogram, Graphic, Heatmap, Scatter
from reportgen.errors import RenderError
from reportgen.formatting import d3_format
from reportgen.render.charts import vega
from reportgen.render.charts._layers import (
    LABEL_FONT_SIZE,
    finite,
    highlight_layers,
    js_string,
    layer_of,
    value_domain,
)
from reportgen.render.charts.rules import (
    axis_values,
    change_units,
    dendrogram_links,
    heatmap_colour,
    heatmap_stops,
    ink_on,
    role_colours,
    scatter_domain,
    waterfall_steps,
)
from reportgen.text import breakable, clean_label, no_break

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

#: Formats whose values are totals: their axis starts at zero so bar lengths
#: and line heights stay proportional. Rates and proportions get a padded
#: domain instead, otherwise a 2 pp drop in accuracy is a flat line.
ZERO_BASED_FORMATS = frozenset({"count", "hours", "minutes"})

#: Bar-chart labels take at most this share of the chart's width, wrap onto at
#: most LABEL_MAX_LINES lines (one line once a chart has more than
#: MANY_SEGMENTS bars, so 24 segments still fit a page) and are then cut with
#: an ellipsis; the full label goes into an SVG <title> and is always in the
#: table next to the chart.
LABEL_WIDTH_SHARE = 0.4
LABEL_MAX_LINES = 2
MANY_SEGMENTS = 12
SMALL_SAMPLE_OPACITY = 0.35  # a small sample's bars: there, but not to be read into
AXIS_FONT_SIZE = 11
_LINE_HEIGHT = 13
_CHAR_WIDTH = 6.6  # average px per character at 11 px in Inter; for layout estimates only


@dataclass(frozen=True)
class _Role:
    colour: str
    dash: tuple[int, ...]


def font_stack(family: str) -> str:
    """The brand font followed by fallbacks installed almost everywhere."""
    names = [family, "Inter", "DejaVu Sans", "Liberation Sans", "Arial"]
    unique = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    return ", ".join([*unique, "sans-serif"])


# --------------------------------------------------------------------------- colours


def series_colours(chart: Chart, brand: Brand) -> dict[str, _Role]:
    """Colour (the PPTX renderer's rule, :func:`role_colours`) and dash per series name."""
    return {
        series.name: _Role(colour, (6, 4) if series.role == "target" else ())
        for series, colour in zip(chart.series, role_colours(chart, brand), strict=True)
    }


# --------------------------------------------------------------------------- scales


# --------------------------------------------------------------------------- labels


def label_chars(width: int) -> int:
    """How many characters of a bar label fit on one line at this chart width."""
    return max(16, min(70, int(width * LABEL_WIDTH_SHARE / _CHAR_WIDTH)))


def label_lines(chart: Chart) -> int:
    """Lines a bar label may wrap onto: two, or one when there are many bars."""
    return 1 if len(chart.categories) > MANY_SEGMENTS else LABEL_MAX_LINES


def labels_fit(chart: Chart, width: int) -> bool:
    """Whether every bar label fits its lines uncut at this chart width."""
    chars, lines = label_chars(width), label_lines(chart)
    return all(len(_label_lines(c, chars)) <= lines for c in chart.categories)


def wrap_label(label: str, chars: int, max_lines: int = LABEL_MAX_LINES) -> str:
    """Wrap a long category label onto a few lines; cut the rest with an ellipsis."""
    lines = _label_lines(label, chars, max_lines)
    return "\n".join(lines) if lines else label


def _label_lines(label: str, chars: int, max_lines: int | None = None) -> list[str]:
    """A label's lines, never split inside a period, code or quantity ("Change 55.6 s
    → 62.7 s" wraps before "62.7 s", not before its "s"): see reportgen.text.KEEP_WHOLE."""
    kept = no_break(" ".join(label.split()))
    lines = textwrap.wrap(
        kept,
        width=chars,
        max_lines=max_lines,
        placeholder=" …",
        break_long_words=True,
        break_on_hyphens=True,
    )
    return [breakable(line) for line in lines]


def _x_label_angle(categories: tuple[str, ...], width: int) -> int:
    """0° when every period label fits its slot, else −45° so none overlap."""
    if not categories:
        return 0
    longest = max(len(c) for c in categories) * _CHAR_WIDTH + 8
    return 0 if longest <= (width - 80) / len(categories) else -45


# --------------------------------------------------------------------------- specs


def _base_config(brand: Brand) -> dict[str, Any]:
    font = font_stack(brand.font_family)
    return {
        "font": font,
        "background": brand.background,
        "view": {"stroke": None},
        "axis": {
            "labelFont": font,
            "titleFont": font,
            "labelFontSize": AXIS_FONT_SIZE,
            "titleFontSize": AXIS_FONT_SIZE,
            "titleFontWeight": "normal",
            "labelColor": brand.text,
            "titleColor": brand.muted,
            "domainColor": "#9AA3AE",
            "tickColor": "#9AA3AE",
            "gridColor": "#E3E7EC",
        },
        "legend": {
            "labelFont": font,
            "labelFontSize": AXIS_FONT_SIZE,
            "labelColor": brand.text,
            "labelLimit": 320,
            "orient": "top",
            "direction": "horizontal",
            "title": None,
            "symbolStrokeWidth": 2.5,
        },
    }


def _line_rows(chart: Chart) -> list[dict[str, Any]]:
    return [
        {"period": category, "series": s.name, "role": s.role, "value": finite(value)}
        for s in chart.series
        for category, value in zip(chart.categories, s.values, strict=False)
    ]


def _colour_scale(chart: Chart, brand: Brand) -> alt.Scale:
    roles = series_colours(chart, brand)
    return alt.Scale(domain=list(roles), range=[r.colour for r in roles.values()])


def _line_chart(chart: Chart, brand: Brand, width: int, height: int) -> alt.LayerChart:
    fmt = d3_format(chart.value_format, chart.value_decimals)
    roles = series_colours(chart, brand)
    domain = value_domain(chart)
    if domain is None:
        y_scale = _zero_based_scale(chart)
    else:
        y_scale = alt.Scale(domain=list(domain), zero=False, nice=True)
    angle = _x_label_angle(chart.categories, width)
    highlight = js_string(chart.highlight or "")
    x = alt.X(
        "period:O",
        sort=list(chart.categories),
        title=None,
        axis=alt.Axis(
            labelAngle=angle,
            labelLimit=200,
            labelOverlap=False,
            labelPadding=6,
            labelFontWeight=alt.ExprRef(f"datum.value === {highlight} ? 'bold' : 'normal'"),
        ),
    )
    y = alt.Y(
        "value:Q",
        title=chart.value_label,
        scale=y_scale,
        axis=alt.Axis(format=fmt, tickCount=5, grid=True),
    )
    legend = alt.Legend(symbolType="stroke", symbolSize=300)
    colour = alt.Color(
        "series:N", scale=_colour_scale(chart, brand), sort=list(roles), legend=legend
    )
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=list(roles), range=[list(r.dash) or [1, 0] for r in roles.values()]),
        sort=list(roles),
        legend=legend,
    )
    base = layer_of(_line_rows(chart)).encode(x=x, y=y)
    lines = base.mark_line(strokeWidth=2.5, interpolate="linear").encode(
        color=colour, strokeDash=dash, detail="series:N"
    )
    points = (
        base.transform_filter(alt.datum.role != "target")
        .mark_point(filled=True, size=36, opacity=1)
        .encode(color=colour)
    )
    layers: list[alt.Chart] = [lines, points]
    if chart.highlight is not None:
        layers.extend(highlight_layers(base, chart, brand, fmt))
    return alt.layer(*layers).properties(width=width, height=height)


def bar_labels(chart: Chart, width: int) -> dict[str, str]:
    """Category → the label drawn on the axis (wrapped, maybe cut) at this width."""
    chars, lines = label_chars(width), label_lines(chart)
    drawn: dict[str, str] = {}
    for category in chart.categories:
        label = wrap_label(category, chars, lines)
        while label in drawn.values():  # two labels cut to the same text must stay two bars
            label += "\u200b"
        drawn[category] = label
    return drawn


def _bar_rows(chart: Chart, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "segment": labels[category],
            "full": category,
            "series": s.name,
            "value": finite(value),
            "small": category in chart.muted_categories,  # a small sample: drawn faded
        }
        for s in chart.series
        for category, value in zip(chart.categories, s.values, strict=False)
    ]


def bar_height(chart: Chart, width: int) -> int:
    """Grow a bar chart with its segments so bars and wrapped labels keep their size."""
    n_series = max(1, len(chart.series))
    lines = max((t.count("\n") + 1 for t in bar_labels(chart, width).values()), default=1)
    bar = 7 if len(chart.categories) > MANY_SEGMENTS else 8
    step = max(bar * n_series + 8, _LINE_HEIGHT * lines + 6)
    return max(100, step * max(1, len(chart.categories)))


def _zero_based_scale(chart: Chart) -> alt.Scale:
    """A scale from zero (or below, for negatives); proportions end at 100 %.

    No headroom is added for the value labels at the bar ends: ``autosize: fit``
    counts them in the chart's bounds and shrinks the plot to make room.
    """
    values = axis_values(chart)
    clamp = bool(chart.muted_categories)  # a small sample past the axis ends at its edge
    if chart.value_format == "percent" and values and min(values) >= 0.0 and max(values) <= 1.0:
        # from zero to just past the data (never past 100 %): 0–100 % hides 12 % vs 16 %
        high = min(1.0, max(values) * 1.08) or 1.0
        return alt.Scale(domain=[0.0, high], nice=True, zero=True, clamp=clamp)
    if clamp and values:
        low, high = min(0.0, min(values)), max(0.0, max(values))
        return alt.Scale(domain=[low, high], zero=True, nice=True, clamp=True)
    return alt.Scale(zero=True, nice=True)


def _bar_chart(chart: Chart, brand: Brand, width: int, height: int) -> alt.LayerChart:
    fmt = d3_format(chart.value_format, chart.value_decimals)
    roles = series_colours(chart, brand)
    chars = label_chars(width)
    labels = bar_labels(chart, width)
    order = [labels[c] for c in chart.categories]
    y = alt.Y(
        "segment:N",
        sort=order,
        title=None,
        scale=alt.Scale(paddingInner=0.22, paddingOuter=0.1),
        axis=alt.Axis(
            labelExpr="split(datum.value, '\\n')",
            labelLimit=chars * _CHAR_WIDTH + 24,
            labelFontSize=LABEL_FONT_SIZE,
            labelLineHeight=_LINE_HEIGHT,
            labelPadding=6,
            ticks=False,
        ),
    )
    x_scale = _zero_based_scale(chart)
    x = alt.X(
        "value:Q",
        title=chart.value_label,
        scale=x_scale,
        axis=alt.Axis(format=fmt, tickCount=5, grid=True, labelFlush=True),
    )
    y_offset = alt.YOffset("series:N", sort=list(roles), scale=alt.Scale(paddingInner=0.08))
    base = layer_of(_bar_rows(chart, labels)).encode(y=y, x=x, yOffset=y_offset)
    bars = base.mark_bar(cornerRadiusEnd=2).encode(
        color=alt.Color("series:N", scale=_colour_scale(chart, brand), sort=list(roles)),
        opacity=alt.condition("datum.small", alt.value(SMALL_SAMPLE_OPACITY), alt.value(1.0)),
        tooltip=[alt.Tooltip("full:N", title="segment"), alt.Tooltip("value:Q", format=fmt)],
    )
    primary = next((s.name for s in chart.series if s.role == "primary"), None)
    layers: list[alt.Chart] = [bars]
    if primary is not None:  # value at the end of the current period's bars only
        values = base.transform_filter(f"datum.series === {js_string(primary)}").mark_text(
            align="left", baseline="middle", dx=4, fontSize=LABEL_FONT_SIZE - 1, color=brand.text
        )
        layers.append(values.encode(text=alt.Text("value:Q", format=fmt)))
    return alt.layer(*layers).properties(width=width, height=height)


def waterfall_rows(chart: Chart) -> list[dict[str, Any]]:
    """Bars of a bridge as Vega rows, from the steps the PPTX renderer draws too."""
    return [
        {
            "category": s.category,
            "lo": s.low,
            "hi": s.high,
            "top": s.top,
            "kind": s.kind,
            "label": s.label,
        }
        for s in waterfall_steps(chart)
    ]


def _waterfall_domain(rows: list[dict[str, Any]]) -> alt.Scale:
    """Every bar starts at zero, so the axis runs through zero (no truncated bars)."""
    ends = [0.0] + [r["hi"] for r in rows]
    low, high = min(ends), max(ends)
    pad = (high - low) * 0.15 or 1e-9
    return alt.Scale(
        domain=[low - (pad if low < 0 else 0.0), high + (pad if high > 0 else 0.0)],
        zero=True,
        nice=True,
    )


def _change_axis_labels(chart: Chart) -> str:
    """Signed tick labels in the bridge's units ("+2.0 pp", "−1.5 s"), as the deck's axis."""
    units = change_units(chart)
    suffix = js_string(units.suffix)
    number = f"format(datum.value * {units.scale:g}, '+,.{units.decimals}f')"
    zero = f"format(0, ',.{units.decimals}f')"  # "0.0 pp", not "+0.0 pp" (as the deck's axis)
    return f"(abs(datum.value) < 1e-12 ? {zero} : {number}) + {suffix}"


def _waterfall_chart(chart: Chart, brand: Brand, width: int, height: int) -> alt.LayerChart:
    rows = waterfall_rows(chart)
    kinds = {"total": brand.primary, "good": brand.good, "bad": brand.bad, "neutral": brand.neutral}
    chars = max(8, int(width / max(1, len(rows)) / _CHAR_WIDTH) - 1)
    for row in rows:
        row["axis_label"] = wrap_label(row["category"], chars, 3)
    order = [r["axis_label"] for r in rows]
    x = alt.X(
        "axis_label:N",
        sort=order,
        title=None,
        axis=alt.Axis(
            labelAngle=0,
            labelExpr="split(datum.value, '\\n')",
            labelLimit=400,
            labelLineHeight=_LINE_HEIGHT,
            labelPadding=6,
            ticks=False,
            orient="bottom",
        ),
    )
    y_scale = _waterfall_domain(rows)
    title = chart.value_label
    if change_units(chart).suffix.strip() == "pp":
        title = f"{title} (pp)"
    base = layer_of(rows).encode(x=x)
    bars = base.mark_bar(clip=True, cornerRadius=1).encode(
        y=alt.Y(
            "lo:Q",
            title=title,
            scale=y_scale,
            axis=alt.Axis(labelExpr=_change_axis_labels(chart), tickCount=5),
        ),
        y2="hi:Q",
        color=alt.Color(
            "kind:N", scale=alt.Scale(domain=list(kinds), range=list(kinds.values())), legend=None
        ),
        tooltip=[alt.Tooltip("category:N"), alt.Tooltip("label:N", title="value")],
    )
    zero = (
        layer_of([{"zero": 0.0}])
        .mark_rule(color=brand.muted, strokeWidth=1)
        .encode(y=alt.Y("zero:Q", scale=y_scale))
    )
    above = base.transform_filter("datum.hi >= 0").mark_text(
        dy=-4, baseline="bottom", fontSize=LABEL_FONT_SIZE, color=brand.text
    )
    below = base.transform_filter("datum.hi < 0").mark_text(
        dy=4, baseline="top", fontSize=LABEL_FONT_SIZE, color=brand.text
    )
    labels = [
        layer.encode(y=alt.Y("hi:Q", scale=y_scale), text="label:N") for layer in (above, below)
    ]
    return alt.layer(bars, zero, *labels).properties(width=width, height=height)


def chart_to_altair(
    chart: Chart, brand: Brand, *, width: int = 640, height: int | None = None
) -> alt.LayerChart:
    """Build the Altair chart for a chart spec (no rendering, no I/O).

    ``width`` is the whole chart's width in CSS pixels, axes and legend
    included (Vega-Lite ``autosize: fit``), so the SVG can be placed at 1:1 and
    its 11 px labels print at a readable 8 pt. A bar chart's height follows
    its number of segments unless ``height`` is given.
    """
    if not chart.series or not chart.categories:
        raise RenderError(f"chart '{chart.title}' has no data", fix="drop empty charts upstream")
    if chart.chart_type == "line":
        drawn = _line_chart(chart, brand, width, height or 230)
        autosize = alt.AutoSizeParams(type="fit", contains="padding")
    elif chart.chart_type == "bar":
        drawn = _bar_chart(chart, brand, width, height or bar_height(chart, width))
        autosize = alt.AutoSizeParams(type="fit-x", contains="padding")
    elif chart.chart_type == "waterfall":
        drawn = _waterfall_chart(chart, brand, width, height or 260)
        autosize = alt.AutoSizeParams(type="fit", contains="padding")
    elif chart.chart_type == "wbr":  # two panels: Vega-Lite cannot fit a concatenation
        from reportgen.render.charts.wbr import wbr_to_altair

        drawn = wbr_to_altair(chart, brand, width, height or 230)
        autosize = alt.AutoSizeParams(type="pad")
    else:  # pragma: no cover - the Literal type rules this out
        raise RenderError(f"unknown chart type '{chart.chart_type}'", chart=chart.title)
    return drawn.properties(autosize=autosize, padding=4).configure(**_base_config(brand))


# --------------------------------------------------------------------------- graphics

#: Heatmap cells stay between these sizes (CSS px): big enough for "−0.45", small
#: enough that a 4 × 4 matrix does not fill a page.
HEATMAP_CELL = (44, 84)
HEATMAP_LABEL_LINES = 3
#: A heatmap's cells together stay within this height (CSS px), so the matrix and its
#: slanted labels fit a landscape page at 1:1 instead of being scaled down to fit.
HEATMAP_MAX_SIDE = 470
DENDROGRAM_ROW = 20  # px per leaf: 11 px labels with air between them
#: Taller dendrograms pack their leaves closer (and their labels smaller) instead.
DENDROGRAM_MAX_HEIGHT = 540


def distinct_labels(labels: tuple[str, ...], chars: int, lines: int) -> list[str]:
    """Wrapped (maybe cut) labels, kept distinct so two cut alike stay two rows."""
    drawn: list[str] = []
    for label in labels:
        text = wrap_label(label, chars, lines)
        while text in drawn:
            text += "\u200b"
        drawn.append(text)
    return drawn


def heatmap_layout(heatmap: Heatmap, width: int) -> tuple[int, int, int, bool]:
    """(cell size, characters per row-label line, per column-label line, slanted columns).

    Column labels wrap under their cell while every word fits its width; otherwise
    (narrow cells, long words) they are slanted and kept to one line, so no word is
    ever split.
    """
    n = max(1, len(heatmap.labels))
    row_chars = 22
    room = width - row_chars * _CHAR_WIDTH - 110  # row labels and the colour legend
    cell = int(max(HEATMAP_CELL[0], min(HEATMAP_CELL[1], room / n, HEATMAP_MAX_SIDE / n)))
    col_chars = max(6, int(cell / _CHAR_WIDTH) - 1)
    words = (w for label in heatmap.labels for w in re.split(r"[\s-]+", label))
    slanted = any(len(w) + 1 > col_chars for w in words)
    return cell, row_chars, (28 if slanted else col_chars), slanted


def _column_labels(heatmap: Heatmap, chars: int, slanted: bool) -> list[str]:
    return distinct_labels(heatmap.labels, chars, 1 if slanted else HEATMAP_LABEL_LINES)


def _heatmap_chart(heatmap: Heatmap, brand: Brand, width: int) -> alt.LayerChart:
    cell, row_chars, col_chars, slanted = heatmap_layout(heatmap, width)
    rows_drawn = distinct_labels(heatmap.labels, row_chars, HEATMAP_LABEL_LINES)
    cols_drawn = _column_labels(heatmap, col_chars, slanted)
    data = []
    for i, row in enumerate(heatmap.values):
        for j, value in enumerate(row):
            fill = heatmap_colour(value, brand, heatmap.domain)
            shown = finite(value)
            data.append(
                {
                    "row": rows_drawn[i],
                    "col": cols_drawn[j],
                    "value": shown,
                    "text": "—" if shown is None else _signed(shown, heatmap.decimals),
                    "ink": ink_on(fill, brand),
                    "full": f"{heatmap.labels[i]} × {heatmap.labels[j]}",
                }
            )
    label_axis = {
        "labelExpr": "split(datum.value, '\\n')",
        "labelLineHeight": _LINE_HEIGHT,
        "labelFontSize": LABEL_FONT_SIZE,
        "labelLimit": 400,
        "labelPadding": 6,
        "ticks": False,
        "domain": False,
    }
    x = alt.X(
        "col:N",
        sort=cols_drawn,
        title=None,
        axis=alt.Axis(
            orient="bottom",
            labelAngle=-40 if slanted else 0,
            labelAlign="right" if slanted else "center",
            labelBaseline="top",
            **label_axis,
        ),
    )
    y = alt.Y("row:N", sort=rows_drawn, title=None, axis=alt.Axis(**label_axis))
    low, high = heatmap.domain
    colour = alt.Color(
        "value:Q",
        scale=alt.Scale(
            domain=[low, (low + high) / 2, high],
            range=list(heatmap_stops(brand)),
            interpolate="rgb",
            clamp=True,
        ),
        # Swatches, not a gradient: PDF viewers disagree on how to draw SVG gradients.
        legend=alt.Legend(
            title=heatmap.value_label,
            type="symbol",
            orient="right",
            direction="vertical",
            values=[high - (high - low) * i / 4 for i in range(5)],
            format=".1f",
            symbolType="square",
            symbolSize=180,
            symbolStrokeWidth=1,
            symbolStrokeColor="#D9DDE3",
            titleFontSize=AXIS_FONT_SIZE,
            titleFontWeight="normal",
        ),
    )
    base = layer_of(data).encode(x=x, y=y)
    cells = (
        base.transform_filter("datum.value !== null")
        .mark_rect(stroke=brand.background, strokeWidth=2)
        .encode(color=colour, tooltip=[alt.Tooltip("full:N"), alt.Tooltip("text:N")])
    )
    blank = base.transform_filter("datum.value === null").mark_rect(
        fill="#FFFFFF", stroke="#D9DDE3", strokeWidth=1
    )
    text = base.mark_text(fontSize=LABEL_FONT_SIZE + 1, fontWeight="bold").encode(
        text="text:N", fill=alt.Fill("ink:N", scale=None)
    )
    size = cell * len(heatmap.labels)
    return alt.layer(blank, cells, text).properties(width=size, height=size)


def _signed(value: float, decimals: int) -> str:
    """``0.62`` / ``−0.45`` with a real minus sign, as in the tables."""
    return f"{value:.{decimals}f}".replace("-", "\N{MINUS SIGN}")


def _scatter_chart(scatter: Scatter, brand: Brand, width: int, height: int) -> alt.LayerChart:
    fmt = d3_format(scatter.value_format, scatter.value_decimals)
    low, high = scatter_domain(scatter)
    scale = alt.Scale(domain=[low, high], zero=False, nice=False)
    kinds = [scatter.points_name, scatter.highlight_name, scatter.line_name]
    palette = [brand.primary, brand.accent, brand.muted]
    rows = [
        {
            "x": finite(p.x),
            "y": finite(p.y),
            "label": p.label,
            "kind": kinds[1] if p.highlight else kinds[0],
        }
        for p in scatter.points
    ]
    colour = alt.Color(
        "kind:N",
        scale=alt.Scale(domain=kinds, range=palette),
        legend=alt.Legend(title=None, orient="top", symbolType="circle"),
    )
    x = alt.X("x:Q", title=scatter.x_label, scale=scale, axis=alt.Axis(format=fmt, tickCount=6))
    y = alt.Y("y:Q", title=scatter.y_label, scale=scale, axis=alt.Axis(format=fmt, tickCount=6))
    layers: list[alt.Chart] = []
    if scatter.line is not None:
        ends = [{"x": a, "y": b, "kind": kinds[2]} for a, b in scatter.line]
        layers.append(
            layer_of(ends)
            .mark_line(strokeWidth=1.5, strokeDash=[6, 4], clip=True)
            .encode(x=x, y=y, color=colour)
        )
    base = layer_of(rows).encode(x=x, y=y)
    layers.append(
        base.mark_circle(size=64, opacity=0.9).encode(
            color=colour,
            tooltip=[
                alt.Tooltip("label:N"),
                alt.Tooltip("x:Q", format=fmt, title=scatter.x_label),
                alt.Tooltip("y:Q", format=fmt, title=scatter.y_label),
            ],
        )
    )
    flagged = base.transform_filter(f"datum.kind === {js_string(kinds[1])}")
    style = {"align": "left", "dx": 8, "fontSize": LABEL_FONT_SIZE, "fontWeight": "bold"}
    layers.append(
        flagged.mark_text(
            **style, color=brand.background, stroke=brand.background, strokeWidth=4
        ).encode(text="label:N")
    )
    layers.append(flagged.mark_text(**style, color=brand.text).encode(text="label:N"))
    return alt.layer(*layers).properties(width=width, height=height)


def dendrogram_height(dendrogram: Dendrogram) -> int:
    return max(160, min(DENDROGRAM_MAX_HEIGHT, DENDROGRAM_ROW * len(dendrogram.leaves)))


def leaf_font_size(dendrogram: Dendrogram) -> float:
    """11 px, or smaller once leaves are packed closer than 14 px apart (never overlapping)."""
    row = dendrogram_height(dendrogram) / max(1, len(dendrogram.leaves))
    return max(6.0, min(float(LABEL_FONT_SIZE), round(row * 0.8, 1)))


def _dendrogram_chart(dendrogram: Dendrogram, brand: Brand, width: int) -> alt.LayerChart:
    """Leaves down the left (names as axis labels), merge heights along the x axis."""
    rows = []
    for link in dendrogram_links(dendrogram):
        (pl, hl), (pr, hr) = link.left, link.right
        top = link.height
        rows += [
            {"x": hl, "x2": top, "y": pl, "y2": pl, "merge": link.merge},
            {"x": top, "x2": top, "y": pl, "y2": pr, "merge": link.merge},
            {"x": hr, "x2": top, "y": pr, "y2": pr, "merge": link.merge},
        ]
    n = len(dendrogram.leaves)
    names = [dendrogram.leaves[i] for i in dendrogram.order]
    lookup = "[" + ",".join(js_string(name) for name in names) + "]"
    y = alt.Y(
        "y:Q",
        title=None,
        scale=alt.Scale(domain=[-0.5, n - 0.5], reverse=True, nice=False, zero=False),
        axis=alt.Axis(
            values=list(range(n)),
            labelExpr=f"{lookup}[datum.value]",
            labelFontSize=leaf_font_size(dendrogram),
            labelOverlap=False,  # every leaf is named; the size above keeps them apart
            labelLimit=260,
            labelPadding=6,
            grid=False,
            ticks=False,
            domain=False,
        ),
    )
    x = alt.X(
        "x:Q",
        title=dendrogram.height_label,
        scale=alt.Scale(zero=True, nice=True),
        axis=alt.Axis(format=".1f", tickCount=6, grid=True),
    )
    rules = (
        layer_of(rows)
        .mark_rule(strokeWidth=1.75, color=brand.primary, strokeCap="square")
        .encode(x=x, x2="x2:Q", y=y, y2="y2:Q")
    )
    return alt.layer(rules).properties(width=width, height=dendrogram_height(dendrogram))


def graphic_to_altair(block: Graphic, brand: Brand, *, width: int = 640) -> alt.LayerChart:
    """Build the Altair chart for a heatmap, scatter or dendrogram (no rendering, no I/O)."""
    if isinstance(block, Heatmap):
        if not block.labels:
            raise RenderError(f"heatmap '{block.title}' has no data")
        drawn = _heatmap_chart(block, brand, width)
        autosize = alt.AutoSizeParams(type="pad")
    elif isinstance(block, Scatter):
        if not block.points:
            raise RenderError(f"scatter '{block.title}' has no data")
        drawn = _scatter_chart(block, brand, width, min(360, int(width * 0.62)))
        autosize = alt.AutoSizeParams(type="fit", contains="padding")
    else:
        if not block.merges:
            raise RenderError(f"dendrogram '{block.title}' has no data")
        drawn = _dendrogram_chart(block, brand, width)
        autosize = alt.AutoSizeParams(type="fit-x", contains="padding")
    return drawn.properties(autosize=autosize, padding=4).configure(**_base_config(brand))


def graphic_to_svg(block: Graphic, brand: Brand, width: int = 640) -> str:
    """A heatmap, scatter or dendrogram as a self-contained, fetch-free SVG string."""
    return _graphic_to_svg(_clean_graphic(block), brand, width)


def _clean_graphic(block: Graphic) -> Graphic:
    """Labels without characters SVG cannot hold (vl-convert aborts the process on them)."""
    if isinstance(block, Heatmap):
        return dataclasses.replace(
            block,
            title=clean_label(block.title),
            value_label=clean_label(block.value_label),
            labels=tuple(clean_label(x) for x in block.labels),
        )
    if isinstance(block, Scatter):
        return dataclasses.replace(
            block,
            title=clean_label(block.title),
            x_label=clean_label(block.x_label),
            y_label=clean_label(block.y_label),
            points_name=clean_label(block.points_name),
            highlight_name=clean_label(block.highlight_name),
            line_name=clean_label(block.line_name),
            points=tuple(dataclasses.replace(p, label=clean_label(p.label)) for p in block.points),
        )
    return dataclasses.replace(
        block,
        title=clean_label(block.title),
        height_label=clean_label(block.height_label),
        leaves=tuple(clean_label(x) for x in block.leaves),
    )


@lru_cache(maxsize=128)
def _graphic_to_svg(block: Graphic, brand: Brand, width: int) -> str:
    svg = _draw(
        lambda: graphic_to_altair(block, brand, width=width), block.title, (block, brand, width)
    )
    titles: dict[str, str] = {}
    if isinstance(block, Heatmap):
        _, row_chars, col_chars, slanted = heatmap_layout(block, width)
        for drawn in (
            distinct_labels(block.labels, row_chars, HEATMAP_LABEL_LINES),
            _column_labels(block, col_chars, slanted),
        ):
            titles |= dict(zip(drawn, block.labels, strict=True))
    return sanitize_svg(svg, label_titles=titles)


# --------------------------------------------------------------------------- SVG


def chart_to_svg(chart: Chart, brand: Brand, width: int = 640, height: int | None = None) -> str:
    """Render a chart spec to a self-contained, fetch-free SVG string.

    Memoised: a build renders the same charts for the PDF and the HTML preview,
    and drawing is the costly part (Chart and Brand are frozen, hence hashable).
    """
    return _chart_to_svg(_clean_chart(chart), brand, width, height)


def _clean_chart(chart: Chart) -> Chart:
    """Labels without characters SVG cannot hold: vl-convert aborts the process on them."""
    return dataclasses.replace(
        chart,
        title=clean_label(chart.title),
        value_label=clean_label(chart.value_label),
        categories=tuple(_vega_safe(clean_label(c)) for c in chart.categories),
        highlight=_vega_safe(clean_label(chart.highlight)) if chart.highlight is not None else None,
        muted_categories=tuple(_vega_safe(clean_label(c)) for c in chart.muted_categories),
        series=tuple(
            dataclasses.replace(s, name=_vega_safe(clean_label(s.name))) for s in chart.series
        ),
        flagged=tuple(_vega_safe(clean_label(c)) for c in chart.flagged),
        panel=_clean_chart(chart.panel) if chart.panel is not None else None,
    )


#: code points an axis or legend label beyond the Basic Multilingual Plane keeps (≤ 200 px)
_ASTRAL_LABEL_CHARS = 12


def _vega_safe(label: str) -> str:
    """A label Vega can draw: no line/paragraph separator, emoji labels pre-shortened.

    U+2028 and U+2029 end a JavaScript string literal inside a Vega
    expression ("Unexpected token ILLEGAL"). Vega truncates a label that
    exceeds its limit by UTF-16 index, which can split the surrogate pair of
    an emoji or other non-BMP character; vl-convert then fails on the lone
    half. Either failed the whole chart, and the build with it. Labels with
    such characters are cut at a code point boundary, short enough that Vega
    never truncates them.
    """
    label = label.replace("\u2028", " ").replace("\u2029", " ")
    if len(label) <= _ASTRAL_LABEL_CHARS or all(ord(c) <= 0xFFFF for c in label):
        return label
    return label[:_ASTRAL_LABEL_CHARS].rstrip() + "…"


@lru_cache(maxsize=512)
def _chart_to_svg(chart: Chart, brand: Brand, width: int, height: int | None) -> str:
    svg = _draw(
        lambda: chart_to_altair(chart, brand, width=width, height=height),
        chart.title,
        (chart, brand, width, height),
    )
    titles: dict[str, str] = {}
    if chart.chart_type == "bar":
        titles = {drawn: full for full, drawn in bar_labels(chart, width).items()}
    return sanitize_svg(svg, label_titles=titles)


#: Specs are built one at a time: building is pure Python (no gain from threads under the
#: GIL) and Altair's switch for validating each object as it is made is process-wide.
_BUILDING = threading.Lock()


def vegalite_spec(build: Callable[[], alt.TopLevelMixin]) -> dict[str, Any]:
    """The Vega-Lite spec of the Altair chart ``build()`` makes, without schema checks.

    The specs are made by our own code and checked against the schema in the
    tests (test_render_html, test_deepdive_charts); Altair's checks of every object as
    it is made, and of the whole spec again, cost about half of a report's spec building.
    """
    with _BUILDING, debug_mode(False):
        return build().to_dict(validate=False)


def _draw(build: Callable[[], alt.TopLevelMixin], title: str, source: tuple[Any, ...]) -> str:
    """One Altair chart to SVG: a kept drawing, else through vl-convert (in a worker process).

    ``source`` is what ``build`` makes the spec from (the block, brand and
    size): a drawing kept for it is served without building the spec at all.
    """
    drawings = vega.kept_drawings()
    if drawings is not None and (kept := drawings.get_for(source)) is not None:
        return kept
    spec = vegalite_spec(build)
    try:
        svg = vega.vegalite_to_svg(spec)
    except ValueError as error:  # vl-convert's own message, with a JS trace
        raise RenderError(f"could not draw chart '{title}': {error}", chart=title) from error
    if drawings is not None:
        drawings.point(source, spec)
    return svg


_FORBIDDEN_TAGS = {"script", "image", "foreignObject", "iframe", "use", "style", "a"}
_URL_IN_CSS = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _clean_attributes(element: ET.Element) -> None:
    for name in list(element.attrib):
        local = _local(name).lower()
        value = element.attrib[name]
        external_ref = local in {"href", "src"} and not value.startswith("#")
        if local.startswith("on") or external_ref or _URL_IN_CSS.search(value):
            del element.attrib[name]


def _add_label_title(element: ET.Element, label_titles: dict[str, str]) -> None:
    """Give a wrapped/truncated axis label its full text as an SVG <title>."""
    spans = element.findall(f"{{{SVG_NS}}}tspan")
    text = "\n".join(s.text or "" for s in spans) if spans else (element.text or "")
    full = label_titles.get(text)
    if full is not None and full != text.replace("\n", " "):
        title = ET.Element(f"{{{SVG_NS}}}title")
        title.text = full
        element.insert(0, title)


def sanitize_svg(svg: str, *, label_titles: dict[str, str] | None = None) -> str:
    """Re-serialise an SVG without anything that fetches or runs.

    Parsing and re-serialising also guarantees every text node is XML-escaped,
    which is what lets the HTML templates embed the result as markup.
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            if _local(child.tag) in _FORBIDDEN_TAGS:
                parent.remove(child)
        _clean_attributes(parent)
        if label_titles and _local(parent.tag) == "text":
            _add_label_title(parent, label_titles)
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")


#: Attributes a ``<g>`` may carry and still change nothing of what is drawn below it.
_SEMANTIC_ONLY = frozenset(
    {"class", "role", "aria-roledescription", "aria-label", "aria-hidden", "pointer-events"}
)


def printable_svg(svg: str) -> str:
    """The same drawing with only what paints: about half the elements of vl-convert's SVG.

    vl-convert writes a group per mark, axis and scenegraph node, an
    invisible background and foreground path per group, and ARIA roles for
    a screen reader. A PDF's reader gets the chart's text alternative from
    the ``<img alt>`` instead, and WeasyPrint draws an SVG element by
    element (~13 % of the PDF's layout CPU for the weekly report). Dropped:
    elements with ``display="none"``; background/foreground paths that paint
    nothing (no fill and no stroke, inherited ones included); groups left
    empty. Unwrapped: groups whose attributes change nothing below them
    (class, ARIA, pointer events). The pages render pixel for pixel the same
    (``tests/test_speed_chart_images.py``).
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    _keep_painting(root, fill="black", stroke="none")  # SVG's initial fill and stroke
    return ET.tostring(root, encoding="unicode")


def _keep_painting(parent: ET.Element, *, fill: str, stroke: str) -> None:
    fill = parent.get("fill", fill)
    stroke = parent.get("stroke", stroke)
    kept: list[ET.Element] = []
    for child in list(parent):
        _keep_painting(child, fill=fill, stroke=stroke)
        if _paints_nothing(child, fill, stroke):
            continue
        if _local(child.tag) == "g" and set(child.attrib) <= _SEMANTIC_ONLY:
            kept.extend(child)
        else:
            kept.append(child)
    if kept != list(parent):
        for child in list(parent):
            parent.remove(child)
        parent.extend(kept)


def _paints_nothing(element: ET.Element, fill: str, stroke: str) -> bool:
    if element.get("display") == "none":
        return True
    tag = _local(element.tag)
    if tag == "g":
        return len(element) == 0
    if tag == "path" and element.get("class") in ("background", "foreground"):
        return element.get("fill", fill) == "none" and element.get("stroke", stroke) == "none"
    return False
