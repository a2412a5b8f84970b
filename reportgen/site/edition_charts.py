"""The edition's charts, interactive: the PDF's own Vega-Lite specs with tooltips and toggles.

Each chart of the document is built by the same code that draws it for the PDF
(:func:`~reportgen.render.charts.svg.chart_to_altair`), so the page shows the
edition's chart — its weekly business review panels, its bridges, its
breakdowns — not a look-alike. This module then adds what a browser can do:

* a tooltip on every point, bar and band with its value as the report prints
  it (``format_full``: one minus sign, the metric's precision and unit) and,
  where ``figures.json`` has it, the sample behind it (n);
* a legend that toggles its series (click; shift-click for several);
* zoom and pan on a trend's value axis (wheel, drag; double-click resets).

A chart is built at two widths, for a desktop column and for a phone, because
its labels wrap for the width it is drawn at; the page's script picks one.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from reportgen.document import Brand, Chart, Graphic
from reportgen.formatting import format_full
from reportgen.render.html.page import PAGE_CONTENT_WIDTH
from reportgen.site.charts import n_text, sample_size

#: The widths (CSS px) a chart is drawn at: the PDF page's (its labels fit it) and a phone's.
WIDE = PAGE_CONTENT_WIDTH
NARROW = 340
#: Charts drawn narrower than this are laid out for a phone (:func:`_for_phone`).
PHONE_BELOW = 500
#: A phone panel leaves this much of its width to the value axis' labels and title.
PHONE_AXIS_ROOM = 80
#: A series hidden with the legend stays faintly visible, so the axis still reads.
HIDDEN_OPACITY = 0.12
#: Marks a tooltip is put on (lines are hovered through their points; text is a label).
_POINTED = frozenset({"point", "bar", "area", "rect", "circle", "square", "tick"})


def interactive_specs(
    chart: Chart, brand: Brand, metric: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chart's spec for a desktop (:data:`WIDE`) and for a phone (:data:`NARROW`).

    Building a spec in Altair is the slow part (~0.2 s a chart), so it is built once and
    the phone's is derived from it; a preview that re-renders after a label edit rebuilds
    only the charts that changed (the memo).
    """
    wide = _memo_spec(chart, brand, json.dumps(metric, sort_keys=True) if metric else None)
    return wide, _for_phone(copy.deepcopy(wide), chart)


@lru_cache(maxsize=512)
def _memo_spec(chart: Chart, brand: Brand, metric: str | None) -> dict[str, Any]:
    return interactive_chart(chart, brand, json.loads(metric) if metric else None, WIDE)


def interactive_chart(
    chart: Chart, brand: Brand, metric: dict[str, Any] | None, width: int
) -> dict[str, Any]:
    """The chart's Vega-Lite spec at ``width`` with tooltips, legend toggle and zoom."""
    from reportgen.render.charts.svg import chart_to_altair

    spec: dict[str, Any] = chart_to_altair(chart, brand, width=width).to_dict(validate=False)
    counts = _counts(chart, metric)
    for rows in _datasets(spec):
        for row in rows:
            _describe(row, chart, counts)
    legend = chart.chart_type in ("line", "bar", "wbr")
    first = True
    for unit in _units(spec):
        mark = _mark_type(unit)
        encoding = unit.setdefault("encoding", {})
        if mark in _POINTED:
            encoding["tooltip"] = _tooltip(unit, chart)
        if legend and "series" in _fields(unit):
            encoding["opacity"] = _toggled(encoding.get("opacity"))
            if first and _has_legend(encoding):
                unit.setdefault("params", []).append(
                    {
                        "name": "toggle",
                        "select": {"type": "point", "fields": ["series"]},
                        "bind": "legend",
                    }
                )
                if chart.chart_type in ("line", "wbr"):
                    unit["params"].append(
                        {
                            "name": "zoom",
                            "select": {"type": "interval", "encodings": ["y"]},
                            "bind": "scales",
                        }
                    )
                first = False
    spec["usermeta"] = {"reportgen": {"kind": chart.chart_type}}
    return _for_phone(spec, chart) if width < PHONE_BELOW else spec


def _for_phone(spec: dict[str, Any], chart: Chart) -> dict[str, Any]:
    """Rearrange a chart for a phone: what fits a page's width does not fit a phone's.

    A weekly business review's two panels stack (weeks above months, each the full
    width, the months with value labels of their own and slanted period labels); a
    bridge's parts are labelled by their whole name, slanted, instead of wrapped into
    eight-letter fragments.
    """
    if "width" in spec:
        spec["width"] = NARROW
    if chart.chart_type == "bar":  # labels were wrapped for the desktop: cut them instead
        for unit in _walk(spec):
            y_axis = ((unit.get("encoding") or {}).get("y") or {}).get("axis")
            if isinstance(y_axis, dict) and "labelLimit" in y_axis:
                y_axis["labelLimit"] = NARROW // 3
    for unit in _walk(spec):  # a legend wraps rather than run past a phone's edge
        for channel in ("color", "shape"):
            legend = ((unit.get("encoding") or {}).get(channel) or {}).get("legend")
            if isinstance(legend, dict) and legend.get("direction") == "horizontal":
                legend["columns"] = 2
    if chart.chart_type == "wbr" and "hconcat" in spec:
        panels = spec.pop("hconcat")
        spec["vconcat"] = panels
        spec["spacing"] = 18
        for index, panel in enumerate(panels):
            panel["width"] = NARROW - PHONE_AXIS_ROOM
            if index == 0:
                continue
            for unit in _units(panel):
                encoding = unit.get("encoding") or {}
                x_axis = (encoding.get("x") or {}).get("axis")
                if isinstance(x_axis, dict):
                    x_axis.update(labelAngle=-45, labelAlign="right")
                y_axis = (encoding.get("y") or {}).get("axis")
                if isinstance(y_axis, dict) and y_axis.get("labels") is False:
                    y_axis.update(labels=True, domain=True, ticks=True)
    if chart.chart_type == "waterfall":
        order = list(chart.categories)
        for unit in _walk(spec):
            x = (unit.get("encoding") or {}).get("x")
            if isinstance(x, dict) and x.get("field") == "axis_label":
                x.update(field="category", sort=order)
                axis = x.get("axis") or {}
                axis.pop("labelExpr", None)
                axis.update(labelAngle=-40, labelAlign="right", labelLimit=140)
                x["axis"] = axis
    return spec


def interactive_graphic(block: Graphic, brand: Brand, width: int) -> dict[str, Any]:
    """A heatmap, scatter or dendrogram as the PDF draws it, with its data in a tooltip."""
    from reportgen.render.charts.svg import graphic_to_altair

    spec: dict[str, Any] = graphic_to_altair(block, brand, width=width).to_dict(validate=False)
    for unit in _units(spec):
        mark = unit["mark"] if isinstance(unit["mark"], dict) else {"type": unit["mark"]}
        if mark["type"] in _POINTED:
            mark["tooltip"] = {"content": "data"}
        # the figure is one image to a screen reader, named by its holder, with the numbers in
        # the table beside it; an empty layer (a matrix without blank cells) would otherwise be
        # an unnamed graphics symbol (axe: svg-img-alt)
        mark["aria"] = False
        unit["mark"] = mark
    return spec


# --------------------------------------------------------------------------- data


def _datasets(spec: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Every inline row list: Altair's consolidated datasets and any ``data.values``."""
    yield from (rows for rows in (spec.get("datasets") or {}).values() if isinstance(rows, list))
    for unit in _walk(spec):
        values = (unit.get("data") or {}).get("values")
        if isinstance(values, list):
            yield values


def _describe(row: dict[str, Any], chart: Chart, counts: dict[tuple[str, str], str]) -> None:
    """Add the row's value as the report prints it, and its n where known."""
    if not isinstance(row, dict):
        return
    fmt = chart.value_format
    if "value" in row and chart.chart_type != "waterfall":
        row["shown"] = format_full(row["value"], fmt)
    if "low" in row and "high" in row:
        row["shown"] = f"{format_full(row['low'], fmt)} to {format_full(row['high'], fmt)}"
    category = str(row.get("full", row.get("period", "")))
    n = counts.get((category, str(row.get("series", ""))))
    if n is not None and n != "—":
        row["n"] = n


def _counts(chart: Chart, metric: dict[str, Any] | None) -> dict[tuple[str, str], str]:
    """(category, series) → n from figures.json: a week of a trend, a segment of a breakdown."""
    if metric is None:
        return {}
    primary = next((s.name for s in chart.series if s.role == "primary"), None)
    comparison = next((s.name for s in chart.series if s.role == "comparison"), None)
    found: dict[tuple[str, str], str] = {}
    if chart.chart_type in ("wbr", "line") and primary is not None:
        weeks = {_short(p["period"]): p.get("n") for p in metric.get("series") or []}
        for category in chart.categories:
            if (n := weeks.get(_bare(category))) is not None:
                found[(category, primary)] = n_text(n)
    if chart.chart_type == "bar":
        segments = _breakdown(chart, metric)
        for seg in segments:
            label = str(seg["segment"])
            for name, stats in ((primary, "stats"), (comparison, "previous_stats")):
                if name is not None and (n := sample_size(metric, seg.get(stats) or {})):
                    found[(label, name)] = n_text(n)
    return found


def _breakdown(chart: Chart, metric: dict[str, Any]) -> list[dict[str, Any]]:
    """The breakdown a bar chart draws: the one its title names ("… by queue")."""
    title = chart.title.lower()
    for dimension, segments in (metric.get("breakdowns") or {}).items():
        if f"by {dimension.replace('_', ' ')}" in title and segments:
            return list(segments)
    return []


def _short(period: str) -> str:
    """ "2026-W47" → "W47": a week as the chart's axis names it."""
    return period.split("-", 1)[1] if "-W" in period else period


def _bare(category: str) -> str:
    """A category without its footnote marks ("W47 †" → "W47")."""
    return re.sub(r"[\s†*‡§]+$", "", category)


# --------------------------------------------------------------------------- spec walking


def _walk(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield spec
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in spec.get(key) or []:
            if isinstance(child, dict):
                yield from _walk(child)
    if isinstance(spec.get("spec"), dict):
        yield from _walk(spec["spec"])


def _units(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The single views (those with a mark)."""
    return (unit for unit in _walk(spec) if "mark" in unit)


def _mark_type(unit: dict[str, Any]) -> str:
    mark = unit.get("mark")
    return str(mark.get("type") if isinstance(mark, dict) else mark)


def _fields(unit: dict[str, Any]) -> set[str]:
    return {
        str(channel.get("field"))
        for channel in (unit.get("encoding") or {}).values()
        if isinstance(channel, dict) and channel.get("field")
    }


def _has_legend(encoding: dict[str, Any]) -> bool:
    colour = encoding.get("color")
    return (
        isinstance(colour, dict)
        and colour.get("field") == "series"
        and colour.get("legend", {}) is not None
    )


def _toggled(opacity: Any) -> dict[str, Any]:
    """Opacity: faint when the legend hides the series, else as it was (a small sample faded)."""
    if isinstance(opacity, dict) and isinstance(opacity.get("condition"), dict):
        kept = opacity["condition"]
        test = kept.get("test")
        return {
            "condition": [
                {"test": {"and": [{"param": "toggle"}, test]}, "value": kept.get("value")},
                {"param": "toggle", "value": opacity.get("value", 1)},
            ],
            "value": HIDDEN_OPACITY,
        }
    shown = opacity.get("value", 1) if isinstance(opacity, dict) else 1
    return {"condition": {"param": "toggle", "value": shown}, "value": HIDDEN_OPACITY}


def _tooltip(unit: dict[str, Any], chart: Chart) -> list[dict[str, Any]]:
    """What a hover shows: the category, the series, the value as printed, and n."""
    fields = _fields(unit)
    if chart.chart_type == "waterfall":
        return [
            {"field": "category", "type": "nominal", "title": "Part"},
            {"field": "label", "type": "nominal", "title": chart.value_label or "Contribution"},
        ]
    if chart.chart_type == "bar":
        category: str | None = "full"  # the segment's whole name (the axis may wrap or cut it)
    else:
        category = next((f for f in ("period", "segment", "category") if f in fields), None)
    tip: list[dict[str, Any]] = []
    if category is not None:
        title = "Segment" if category in ("full", "segment") else "Period"
        tip.append({"field": category, "type": "nominal", "title": title})
    tip.append({"field": "series", "type": "nominal", "title": "Series"})
    tip.append({"field": "shown", "type": "nominal", "title": "Value"})
    tip.append({"field": "n", "type": "nominal", "title": "n"})
    return tip
