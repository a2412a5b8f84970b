"""Interactive Vega-Lite specs for the site, from a ``figures.json`` metric.

The PDF and deck draw static charts from the document; the site draws the
same series and breakdowns from ``figures.json`` so a page needs nothing but
the files a build wrote. Each spec carries pre-formatted text for its
tooltips (the project's formatting rules: one minus sign, the metric's
precision and unit), so a hover shows the value exactly as the report
prints it, with the sample behind it (n).

Interactions: a trend zooms and pans on its period axis (drag, wheel;
double-click resets), and every legend toggles its series (click; shift-click
for several). No spec names a URL: the data are inline.
"""

from __future__ import annotations

from typing import Any

from reportgen.formatting import d3_format, duration_unit, format_full, in_unit

#: Series colours: the current period dark, the previous and the target light.
CURRENT = "#1f4e79"
PREVIOUS = "#8fa9c4"
TARGET = "#b3541e"
#: Height of a trend chart and of one breakdown bar, in CSS px.
TREND_HEIGHT = 220
BAR_STEP = 14
#: Chart text in the site's font, large enough to read on a phone; no frame around the plot.
CONFIG = {
    "font": "Inter, Noto Sans, DejaVu Sans, sans-serif",
    "axis": {"labelFontSize": 11, "labelColor": "#3b4754", "domainColor": "#8a96a3"},
    "legend": {"labelFontSize": 12, "labelColor": "#1b2430", "symbolSize": 120},
    "view": {"stroke": None},
}


def shown_format(metric: dict[str, Any], values: list[float | None]) -> str:
    """The format the metric is drawn in: an hours metric under an hour reads in minutes."""
    fmt = str(metric["format"])
    return duration_unit(values) if fmt == "hours" else fmt


def value_text(
    value: float | None, metric: dict[str, Any], fmt: str, *, with_unit: bool = True
) -> str:
    """A value as the report prints it; ``with_unit=False`` where a column header names the unit."""
    shown = in_unit(value, str(metric["format"]), fmt)
    return format_full(shown, fmt, metric.get("unit") if with_unit else None)  # type: ignore[arg-type]


def n_text(n: float | None) -> str:
    return "—" if n is None else f"{n:,.0f}"


def _axis_value(value: float | None, metric: dict[str, Any], fmt: str) -> float | None:
    return in_unit(value, str(metric["format"]), fmt)


def trend_spec(metric: dict[str, Any]) -> dict[str, Any]:
    """The metric's trailing periods as a line, with its target; zoomable, legend toggles."""
    series = [p for p in metric.get("series") or [] if p.get("value") is not None]
    fmt = shown_format(metric, [p["value"] for p in series] + [metric.get("target")])
    label = str(metric["label"])
    labels = [_axis_label(p) for p in metric.get("series") or []]
    index = {p["period"]: i for i, p in enumerate(metric.get("series") or [])}
    rows = []
    for point in series:
        row = {
            "series": label,
            "i": index[point["period"]],
            "period": _period_label(point),
            "value": _axis_value(point["value"], metric, fmt),
            "shown": value_text(point["value"], metric, fmt),
            "n": n_text(point.get("n")),
        }
        row["aria"] = f"{row['period']}: {row['shown']}, n {row['n']}"
        if note := _note(point):
            row["note"] = note  # a tooltip leaves out a missing field, not an empty one
        rows.append(row)
    target = metric.get("target")
    if target is not None and series:
        for i in (0, len(labels) - 1):
            rows.append(
                {
                    "series": "Target",
                    "i": i,
                    "period": labels[i],
                    "value": _axis_value(target, metric, fmt),
                    "shown": value_text(target, metric, fmt),
                    "n": "—",
                    "aria": f"Target: {value_text(target, metric, fmt)}",
                }
            )
    domain = [label, "Target"] if target is not None else [label]
    colour = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {"domain": domain, "range": [CURRENT, TARGET][: len(domain)]},
        "legend": {"orient": "top", "direction": "horizontal"},
    }
    x = {
        "field": "i",
        "type": "quantitative",
        "title": None,
        "scale": {"domain": [-0.3, len(labels) - 0.7], "nice": False},
        "axis": {
            "tickMinStep": 1,
            "labelExpr": f"isValid({labels!r}[datum.value]) ? {labels!r}[datum.value] : ''",
            "labelAngle": 0,
            "labelOverlap": True,
            "grid": False,
        },
    }
    y = {
        "field": "value",
        "type": "quantitative",
        "title": None,
        "axis": {"format": d3_format(fmt), "tickCount": 5},  # type: ignore[arg-type]
        "scale": {"zero": False},
    }
    shown = {"condition": {"param": "toggle", "value": 1}, "value": 0.12}
    tooltip = [
        {"field": "period", "title": "Period"},
        {"field": "shown", "title": label},
        {"field": "n", "title": "n"},
        {"field": "note", "title": "Note"},
    ]
    return {
        "description": f"{label}: trend over the last {len(labels)} periods",
        "config": CONFIG,
        "width": "container",
        "height": TREND_HEIGHT,
        "data": {"values": rows},
        # colour per layer: the legend is the points' alone, so it carries the toggle binding
        "encoding": {"x": x, "y": y, "opacity": shown},
        "resolve": {"legend": {"color": "independent"}},
        "layer": [
            {
                "mark": {"type": "line", "strokeWidth": 2.5, "clip": True},
                "encoding": {
                    "color": {**colour, "legend": None},
                    "description": {"field": "series"},
                    "strokeDash": {
                        "condition": {"test": "datum.series === 'Target'", "value": [6, 4]},
                        "value": [1, 0],
                    },
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 70, "clip": True},
                "params": [
                    {
                        "name": "zoom",
                        "select": {"type": "interval", "encodings": ["x"]},
                        "bind": "scales",
                    },
                    {
                        "name": "toggle",
                        "select": {"type": "point", "fields": ["series"]},
                        "bind": "legend",
                    },
                ],
                "encoding": {"color": colour, "tooltip": tooltip, "description": {"field": "aria"}},
            },
        ],
    }


def breakdown_spec(
    metric: dict[str, Any], dimension: str, period: str, previous: str
) -> dict[str, Any]:
    """A breakdown's segments, this period beside the previous one; the legend toggles each."""
    segments = metric["breakdowns"][dimension]
    values = [s.get("value") for s in segments] + [s.get("previous") for s in segments]
    fmt = shown_format(metric, values)
    rows = []
    for seg in segments:
        for name, key, stats in (
            (period, "value", "stats"),
            (previous, "previous", "previous_stats"),
        ):
            if seg.get(key) is None:
                continue
            rows.append(
                {
                    "segment": str(seg["segment"]),
                    "period": name,
                    "value": _axis_value(seg[key], metric, fmt),
                    "shown": value_text(seg[key], metric, fmt),
                    "n": n_text(sample_size(metric, seg.get(stats) or {})),
                }
            )
            rows[-1]["aria"] = f"{seg['segment']}, {name}: {rows[-1]['shown']}, n {rows[-1]['n']}"
    order = [str(s["segment"]) for s in segments]
    shown = {"condition": {"param": "toggle", "value": 1}, "value": 0.15}
    return {
        "description": f"{metric['label']} by {dimension}, {period} and {previous}",
        "config": CONFIG,
        "width": "container",
        "height": BAR_STEP * max(len(rows), 2),  # a number: a step height cannot fit a container
        "data": {"values": rows},
        "mark": {"type": "bar", "cornerRadiusEnd": 2},
        "params": [
            {"name": "toggle", "select": {"type": "point", "fields": ["period"]}, "bind": "legend"}
        ],
        "encoding": {
            "y": {
                "field": "segment",
                "type": "nominal",
                "sort": order,
                "title": None,
                "axis": {"labelLimit": 140},
            },
            "yOffset": {"field": "period", "sort": [period, previous]},
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": None,
                "axis": {"format": d3_format(fmt), "tickCount": 4},  # type: ignore[arg-type]
            },
            "color": {
                "field": "period",
                "type": "nominal",
                "title": None,
                "scale": {"domain": [period, previous], "range": [CURRENT, PREVIOUS]},
                "legend": {"orient": "top", "direction": "horizontal"},
            },
            "opacity": shown,
            "description": {"field": "aria"},
            "tooltip": [
                {"field": "segment", "title": dimension.replace("_", " ").capitalize()},
                {"field": "period", "title": "Period"},
                {"field": "shown", "title": str(metric["label"])},
                {"field": "n", "title": "n"},
            ],
        },
    }


def sample_size(metric: dict[str, Any], stats: dict[str, Any]) -> float | None:
    """n as the report's tables show it (compose's rule, on figures.json's stats)."""
    if metric.get("type") == "proportion":
        return stats.get("denominator")
    if metric.get("type") in ("mean", "quantile"):
        return stats.get("count")
    return None


def _period_label(point: dict[str, Any]) -> str:
    return str(point["period"]) + ("" if point.get("complete", True) else "*")


def _axis_label(point: dict[str, Any]) -> str:
    """A period on an axis: "W47" for a week (the tooltip names the year), else as labelled."""
    label = _period_label(point)
    return label.split("-", 1)[1] if "-W" in label else label


def _note(point: dict[str, Any]) -> str:
    notes = []
    if not point.get("complete", True):
        notes.append("incomplete period")
    if point.get("provisional"):
        notes.append("provisional — late data still arriving")
    return "; ".join(notes)
