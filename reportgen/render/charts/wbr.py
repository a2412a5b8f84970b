"""The weekly business review chart in Altair (PDF and HTML): weeks beside months.

Left, the trailing weeks: the value line, the target (dashed), the anomaly
model's normal range as a pale band behind them, a ring around each week
outside it and the current week in the accent colour with its value. Right,
the trailing closed months: value and target. Both panels share one value
axis, so a level reads the same on either side. The band is quiet on purpose
(a light tint of the primary colour, no edge): it is context for the line,
not a second line.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import altair as alt

from reportgen.document import Brand, Chart
from reportgen.formatting import d3_format
from reportgen.render.charts._layers import (
    finite,
    highlight_layers,
    js_string,
    layer_of,
    value_domain,
)
from reportgen.render.charts.rules import FORECAST_DASH, band_colour, forecast_band_colour

#: Share of the plotting width the weeks take: six weeks beside twelve months.
WEEKS_SHARE = 0.36
MAX_WEEKS_SHARE = 0.45  # the twelve months' labels need the rest
AXIS_ROOM = 70  # px for the value axis' labels and title, left of the weeks
PANEL_GAP = 28
BAND_NAME = "Normal range"
FLAG_NAME = "Outside normal range"
PANEL_TITLE_SIZE = 11


def _rows(chart: Chart) -> list[dict[str, Any]]:
    """Value, target and forecast rows (the bands are drawn from their own rows)."""
    return [
        {"period": category, "series": s.name, "role": s.role, "value": finite(v)}
        for s in chart.series
        if s.role in ("primary", "target", "forecast")
        for category, v in zip(chart.categories, s.values, strict=False)
    ]


def band_rows(chart: Chart, edges: tuple[str, str] = ("band_low", "band_high")) -> list[dict]:
    """One row per week with both band edges; weeks the model does not judge have none.

    ``edges=("forecast_low", "forecast_high")``: the forecast's likely range instead.
    """
    low = next((s for s in chart.series if s.role == edges[0]), None)
    high = next((s for s in chart.series if s.role == edges[1]), None)
    if low is None or high is None:
        return []
    name = BAND_NAME if edges[0] == "band_low" else high.name
    return [
        {"period": c, "series": name, "low": finite(lo), "high": finite(hi)}
        for c, lo, hi in zip(chart.categories, low.values, high.values, strict=False)
        if finite(lo) is not None and finite(hi) is not None
    ]


FORECAST_EDGES = ("forecast_low", "forecast_high")


def forecast_rows(chart: Chart) -> list[dict[str, Any]]:
    """The forecast's likely range, one row per week from the last actual one."""
    return band_rows(chart, FORECAST_EDGES)


def shared_domain(chart: Chart, *, months: bool = True) -> tuple[float, float] | None:
    """One value range for both panels (``months=False``: the weeks' alone): every value,
    target and band edge sets it."""
    series = chart.series + (chart.panel.series if chart.panel is not None and months else ())
    merged = dataclasses.replace(chart, chart_type="line", series=series, muted_categories=())
    return value_domain(merged)


def _scale(chart: Chart, months: bool) -> alt.Scale:
    domain = shared_domain(chart, months=months)
    if domain is None:
        return alt.Scale(zero=True, nice=True)
    return alt.Scale(domain=list(domain), zero=False, nice=True)


def legend_names(chart: Chart) -> list[tuple[str, str]]:
    """(name, role) of each legend entry, only for what the chart draws."""
    roles = {s.role: s.name for s in chart.series}
    entries = [(roles["primary"], "primary")]
    if "target" in roles or (chart.panel and any(s.role == "target" for s in chart.panel.series)):
        entries.append(("Target", "target"))
    if band_rows(chart):
        entries.append((BAND_NAME, "band"))
    if "forecast" in roles:
        entries.append((roles["forecast"], "forecast"))
    if forecast := forecast_rows(chart):
        entries.append((forecast[0]["series"], "forecast_band"))
    return entries


def wbr_to_altair(chart: Chart, brand: Brand, width: int, height: int) -> alt.HConcatChart:
    """The two panels side by side (no rendering); ``width`` is the whole chart's."""
    fmt = d3_format(chart.value_format, chart.value_decimals)
    shared = chart.shared_axis or chart.panel is None
    fills = {
        "primary": brand.primary,
        "target": brand.muted,
        "band": band_colour(brand),
        "forecast": brand.primary,
        "forecast_band": forecast_band_colour(brand),
    }
    entries = legend_names(chart)
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=[n for n, _ in entries], range=[fills[r] for _, r in entries]),
        legend=alt.Legend(
            title=None,
            orient="top",
            direction="horizontal",
            symbolType=alt.ExprRef(_symbols(entries)),
            symbolDash=alt.ExprRef(_dashes(entries)),
            symbolSize=220,
        ),
    )
    axis_room = AXIS_ROOM if shared else 2 * AXIS_ROOM
    plot = max(240, width - axis_room - PANEL_GAP - 8)
    weeks_width = int(plot * (weeks_share(chart) if chart.panel is not None else 1.0))
    y_weeks = _scale(chart, months=shared)
    weeks = _weeks(chart, brand, weeks_width, height, y_weeks, colour, fmt)
    if chart.panel is None:
        return alt.hconcat(weeks)
    y_months = y_weeks if shared else _scale(chart.panel, months=False)
    months = _months(chart, brand, plot - weeks_width, height, y_months, colour, fmt, shared)
    both = alt.hconcat(weeks, months, spacing=PANEL_GAP)
    return both.resolve_scale(y="shared" if shared else "independent")


def weeks_share(chart: Chart) -> float:
    """The weeks' share of the width: more weeks (a forecast after them), more room, so a
    week is as wide with a forecast as without; the months keep at least 40 %."""
    if chart.forecast_from is None or chart.forecast_from <= 0:
        return WEEKS_SHARE
    return min(WEEKS_SHARE * len(chart.categories) / chart.forecast_from, MAX_WEEKS_SHARE)


def _symbols(entries: list[tuple[str, str]]) -> str:
    """Legend symbols that look like their marks: a swatch for a band, strokes for lines."""
    bands = ", ".join(js_string(n) for n, role in entries if role in ("band", "forecast_band"))
    return f"indexof([{bands}], datum.label) >= 0 ? 'square' : 'stroke'"


def _dashes(entries: list[tuple[str, str]]) -> str:
    """The target's dashes and the forecast's shorter ones, as drawn."""
    forecast = next((n for n, role in entries if role == "forecast"), None)
    dashes = "[1, 0]"
    if forecast is not None:
        dashes = f"datum.label === {js_string(forecast)} ? {list(FORECAST_DASH)} : [1, 0]"
    return f"datum.label === 'Target' ? [6, 4] : {dashes}"


def _x(chart: Chart, bold: str | None, brand: Brand | None = None) -> alt.X:
    weight: Any = "normal"
    if bold is not None:
        weight = alt.ExprRef(f"datum.value === {js_string(bold)} ? 'bold' : 'normal'")
    colour: Any = None
    if brand is not None and chart.forecast_from is not None:  # weeks to come: muted labels
        ahead = ", ".join(js_string(c) for c in chart.categories[chart.forecast_from :])
        colour = alt.ExprRef(
            f"indexof([{ahead}], datum.value) >= 0 ? {js_string(brand.muted)} : "
            f"{js_string(brand.text)}"
        )
    return alt.X(
        "period:O",
        sort=list(chart.categories),
        title=None,
        axis=alt.Axis(
            labelAngle=0,
            labelLimit=120,
            labelOverlap=False,
            labelPadding=6,
            labelFontWeight=weight,
            ticks=False,
            **({"labelColor": colour} if colour is not None else {}),
        ),
        scale=alt.Scale(paddingOuter=0.25),
    )


def _title(text: str, brand: Brand) -> alt.TitleParams:
    return alt.TitleParams(
        text, anchor="start", fontSize=PANEL_TITLE_SIZE, color=brand.muted, fontWeight="normal"
    )


def _lines(base: alt.Chart, colour: alt.Color) -> list[alt.Chart]:
    target = base.transform_filter("datum.role === 'target'")
    value = base.transform_filter("datum.role === 'primary'")
    return [
        # a target holds until the next one takes over: a step, never a slope between them
        target.mark_line(strokeWidth=1.5, strokeDash=[6, 4], interpolate="step").encode(
            color=colour
        ),
        value.mark_line(strokeWidth=2.5).encode(color=colour),
        value.mark_point(filled=True, size=36, opacity=1).encode(color=colour),
    ]


def _weeks(
    chart: Chart, brand: Brand, width: int, height: int, y_scale, colour, fmt: str
) -> alt.LayerChart:
    x = _x(chart, chart.highlight, brand)
    y = alt.Y(
        "value:Q",
        title=chart.value_label or None,
        scale=y_scale,
        axis=alt.Axis(format=fmt, tickCount=5, grid=True),
    )
    base = layer_of(_rows(chart)).encode(x=x, y=y)
    layers: list[alt.Chart] = []
    ahead = forecast_rows(chart)
    # the normal range, then the likely range behind the forecast's dashed line
    for rows in (band_rows(chart), ahead):
        if rows:
            layers.append(
                layer_of(rows)
                .mark_area(opacity=1, interpolate="linear")
                .encode(
                    x=x,
                    y=alt.Y("low:Q", scale=y_scale, title=chart.value_label or None),
                    y2="high:Q",
                    color=colour,
                )
            )
    layers += _lines(base, colour)
    if ahead:
        layers.append(
            base.transform_filter("datum.role === 'forecast'")
            .mark_line(strokeWidth=2, strokeDash=list(FORECAST_DASH))
            .encode(color=colour)
        )
    if chart.flagged:
        listed = ", ".join(js_string(c) for c in chart.flagged)
        layers.append(
            base.transform_filter(
                f"datum.role === 'primary' && indexof([{listed}], datum.period) >= 0"
            )
            .transform_calculate(flag=js_string(FLAG_NAME))
            .mark_point(filled=False, size=300, strokeWidth=1.75, opacity=1, color=brand.text)
            .encode(  # a legend of its own: a hollow ring, as drawn
                shape=alt.Shape(
                    "flag:N",
                    scale=alt.Scale(domain=[FLAG_NAME], range=["circle"]),
                    legend=alt.Legend(title=None, orient="top", symbolSize=220),
                )
            )
        )
    if chart.highlight is not None:
        layers.extend(highlight_layers(base, chart, brand, fmt))
    return alt.layer(*layers).properties(
        width=width, height=height, title=_title(chart.panel_titles[0], brand)
    )


def _months(
    chart: Chart,
    brand: Brand,
    width: int,
    height: int,
    y_scale,
    colour,
    fmt: str,
    shared: bool,
) -> alt.LayerChart:
    """The months: on the weeks' axis (no labels of their own), or their own for a total."""
    panel = chart.panel
    assert panel is not None
    axis = alt.Axis(format=fmt, tickCount=5, grid=True)
    if shared:
        axis = alt.Axis(format=fmt, tickCount=5, grid=True, labels=False, domain=False, ticks=False)
    y = alt.Y("value:Q", title=None, scale=y_scale, axis=axis)
    base = layer_of(_rows(panel)).encode(x=_x(panel, None), y=y)
    return alt.layer(*_lines(base, colour)).properties(
        width=width, height=height, title=_title(chart.panel_titles[1], brand)
    )
