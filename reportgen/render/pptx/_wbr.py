"""The weekly business review chart as native, editable PPTX charts.

Two chart parts side by side — the trailing weeks and the trailing months —
on the same value-axis range (a flow total's months get their own: a month
sums four weeks). The weeks' normal range is a stacked area behind the lines:
a transparent series up to the band's low edge, then the band's width
(high − low) in a pale tint, so a presenter who clicks "Edit data" sees the
band as two honest columns and PowerPoint draws it without any picture. The
lines are the usual native line series; python-pptx cannot make a combined
chart, so the two band series are moved from the line plot into an
``c:areaChart`` on the same axes.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from lxml import etree
from pptx.chart.chart import Chart as PptxChart
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_LEGEND_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_LABEL_POSITION,
)
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Inches, Pt

from reportgen.document import Brand, Chart, ChartSeries
from reportgen.formatting import format_value
from reportgen.render.charts.rules import band_colour, forecast_band_colour
from reportgen.render.pptx._chart import (
    TICK_SIZE,
    _away_from_line,
    _style_line,
    add_chart,
    chart_data,
    label_number_format,
    number_format,
    style_title,
    value_axis_bounds,
)
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import one_line, rgb

WEEKS_SHARE = 0.38  # of the frame's width (the value axis' labels sit in the weeks' part)
MAX_WEEKS_SHARE = 0.5  # with the forecast's weeks after them; the twelve months keep half
BAND_BASE = "Normal range (low edge)"
BAND_WIDTH = "Normal range"
FORECAST_GAP = "Likely range (gap below)"


def band_series(chart: Chart) -> tuple[ChartSeries, ...] | None:
    """The bands as stacked-area data: (low edge, normal range's width) and, with a forecast,
    (gap up to the likely range, likely range's width); None without a band.

    Weeks the model does not judge have no normal range: its values are gaps there. One
    stacked area holds both bands (a second area group would need axes of its own, drawn
    over the lines): where one band is, the other's width is zero, so each week stacks
    the transparent low edge, then whichever band it has.
    """
    normal = _edges(chart, "band_low", "band_high")
    ahead = _edges(chart, "forecast_low", "forecast_high")
    if normal is None and ahead is None:
        return None
    count = len(chart.categories)
    low, high = normal or ((None,) * count, (None,) * count)
    f_low, f_high = ahead[0] if ahead else (None,) * count, ahead[1] if ahead else (None,) * count
    base, width, gap, f_width = [], [], [], []
    for lo, hi, flo, fhi in zip(low, high, f_low, f_high, strict=True):
        judged = lo is not None and hi is not None
        drawn = flo is not None and fhi is not None
        base.append(lo if judged else flo if drawn else None)
        width.append(hi - lo if judged else None)
        # the week the forecast starts has both: its range (zero wide, at the last actual
        # value) sits on the normal range's top, or above it by a transparent gap
        gap.append(max(flo - hi, 0.0) if judged and drawn else None)
        f_width.append(fhi - flo if drawn else None)
    series = [
        ChartSeries(BAND_BASE, tuple(base), "band_low"),
        ChartSeries(BAND_WIDTH, tuple(width), "band_high"),
    ]
    if ahead is not None:
        name = next(s.name for s in chart.series if s.role == "forecast_high")
        series += [
            ChartSeries(FORECAST_GAP, tuple(gap), "forecast_low"),
            ChartSeries(name, tuple(f_width), "forecast_high"),
        ]
    return tuple(series)


def _edges(
    chart: Chart, low_role: str, high_role: str
) -> tuple[tuple[float | None, ...], tuple[float | None, ...]] | None:
    low = next((s for s in chart.series if s.role == low_role), None)
    high = next((s for s in chart.series if s.role == high_role), None)
    return None if low is None or high is None else (low.values, high.values)


def _lines(chart: Chart) -> tuple[ChartSeries, ...]:
    return tuple(s for s in chart.series if s.role in ("primary", "target", "forecast"))


def add_wbr_chart(slide: Slide, chart: Chart, frame: Frame, brand: Brand) -> list[PptxChart]:
    """Draw both panels into ``frame``; returns the native charts (weeks first)."""
    panel = chart.panel
    shared = chart.shared_axis or panel is None
    weeks_frame, months_frame = frame, None
    if panel is not None:
        weeks_frame, months_frame = frame.columns(
            int(frame.width * _weeks_share(chart)), Inches(0.2)
        )
    every = chart.series + (panel.series if panel is not None and shared else ())
    bounds = value_axis_bounds(replace(chart, chart_type="line", series=every))
    drawn = [_weeks(slide, chart, weeks_frame, brand, bounds)]
    if panel is not None and months_frame is not None:
        months = replace(panel, title=chart.panel_titles[1], value_label="")
        native = add_chart(slide, months, months_frame, brand)
        native.has_legend = False  # the weeks' legend names the same lines
        if shared and bounds is not None:  # the weeks' axis, its labels on the left only
            axis = native.value_axis
            axis.minimum_scale, axis.maximum_scale, axis.major_unit = bounds
            axis.tick_label_position = XL_TICK_LABEL_POSITION.NONE
        drawn.append(native)
    return drawn


def _weeks_share(chart: Chart) -> float:
    """A week as wide with the forecast's weeks after it as without, up to half the frame."""
    if not chart.forecast_from:
        return WEEKS_SHARE
    return min(WEEKS_SHARE * len(chart.categories) / chart.forecast_from, MAX_WEEKS_SHARE)


def _weeks(
    slide: Slide,
    chart: Chart,
    frame: Frame,
    brand: Brand,
    bounds: tuple[float, float, float] | None,
) -> PptxChart:
    band = band_series(chart)
    lines = replace(chart, chart_type="line", title=chart.panel_titles[0], series=_lines(chart))
    if band is None:
        native = add_chart(slide, lines, frame, brand)
        _ring_flagged(native, chart, 0, brand)
        return native
    # the bands' series first (drawn underneath), then the lines; one workbook for all
    data_spec = replace(lines, series=(*band, *lines.series))
    shape = slide.shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, *frame.args(), chart_data(data_spec))
    shape.name = one_line(chart.title)[:100] or "Chart"
    native = shape.chart
    _band_to_area(native, len(band))
    native.font.size = TICK_SIZE
    native.font.color.rgb = rgb(brand.text)
    style_title(native, lines, brand)
    _style_axes(native, lines, brand, bounds)
    area, line = native.plots[0], native.plots[1]
    fills = {BAND_WIDTH: band_colour(brand)}
    for spec, series in zip(band, area.series, strict=True):
        fill = fills.get(spec.name) if spec.role == "band_high" else None
        if spec.role == "forecast_high":
            fill = forecast_band_colour(brand)
        series.format.line.fill.background()
        if fill is None:  # a transparent base under a band
            series.format.fill.background()
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = rgb(fill)
    for spec, series in zip(lines.series, line.series, strict=True):
        colour = brand.muted if spec.role == "target" else brand.primary
        _style_line(series, spec, colour)
        if spec.role == "forecast":  # the metric's line, continued in short dashes
            series.format.line.width = Pt(2)
            series.format.line.dash_style = MSO_LINE_DASH_STYLE.SQUARE_DOT
            series.marker.style = XL_MARKER_STYLE.NONE
    if all(v is None for v in band[1].values):  # a forecast without a normal range
        _legend_without(native, 0, 1, *(2,) * (len(band) > 2))
    else:
        _legend_without(native, 0, *(2,) * (len(band) > 2))
    _highlight(native, lines, brand)
    _ring_flagged(native, chart, 1, brand)
    return native


def _band_to_area(native: PptxChart, count: int = 2) -> None:
    """Move the first ``count`` series of the line plot into a stacked area plot on its axes."""
    plot_area = native._chartSpace.chart.plotArea
    line_chart = plot_area.find(qn("c:lineChart"))
    area = etree.SubElement(plot_area, qn("c:areaChart"))
    line_chart.addprevious(area)  # drawn first: underneath the lines
    etree.SubElement(area, qn("c:grouping")).set("val", "stacked")
    etree.SubElement(area, qn("c:varyColors")).set("val", "0")
    for ser in line_chart.findall(qn("c:ser"))[:count]:
        for tag in ("c:marker", "c:smooth"):  # line-only children: invalid in an area series
            for child in ser.findall(qn(tag)):
                ser.remove(child)
        area.append(ser)
    for ax_id in line_chart.findall(qn("c:axId")):
        area.append(copy.deepcopy(ax_id))


def _style_axes(
    native: PptxChart, chart: Chart, brand: Brand, bounds: tuple[float, float, float] | None
) -> None:
    value_axis, category_axis = native.value_axis, native.category_axis
    value_axis.tick_labels.number_format = number_format(chart)
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = rgb("#D9DDE3")
    value_axis.format.line.fill.background()
    for axis in (value_axis, category_axis):
        axis.tick_labels.font.size = TICK_SIZE
        axis.tick_labels.font.color.rgb = rgb(brand.muted)
    category_axis.format.line.color.rgb = rgb("#D9DDE3")
    if bounds is not None:
        value_axis.minimum_scale, value_axis.maximum_scale, value_axis.major_unit = bounds


def _legend_without(native: PptxChart, *indexes: int) -> None:
    """A legend at the bottom without the bands' transparent series."""
    native.has_legend = True
    native.legend.position = XL_LEGEND_POSITION.BOTTOM
    native.legend.include_in_layout = False
    native.legend.font.size = TICK_SIZE
    legend = native._chartSpace.chart.find(qn("c:legend"))
    anchor = legend.find(qn("c:legendPos"))
    for index in sorted(set(indexes)):
        entry = etree.Element(qn("c:legendEntry"))
        etree.SubElement(entry, qn("c:idx")).set("val", str(index))
        etree.SubElement(entry, qn("c:delete")).set("val", "1")
        anchor.addnext(entry)
        anchor = entry


def _highlight(native: PptxChart, lines: Chart, brand: Brand) -> None:
    """The current week in the accent colour with its value, as on every trend slide."""
    if lines.highlight not in lines.categories:
        return
    index = lines.categories.index(lines.highlight)
    values = lines.series[0].values
    if values[index] is None:
        return
    point = native.plots[1].series[0].points[index]
    point.marker.style = XL_MARKER_STYLE.CIRCLE
    point.marker.size = 9
    point.marker.format.fill.solid()
    point.marker.format.fill.fore_color.rgb = rgb(brand.accent)
    point.marker.format.line.color.rgb = rgb(brand.accent)
    point.data_label.position = _away_from_line(values, index)
    label = point.data_label
    label.font.size, label.font.bold = Pt(11), True
    label.font.color.rgb = rgb(brand.accent)
    label_number_format(label, number_format(lines))


def _ring_flagged(native: PptxChart, chart: Chart, plot: int, brand: Brand) -> None:
    """Weeks outside their normal range get a dark ring around their marker (the current
    week keeps its accent marker: its label and the band already say it)."""
    for category in chart.flagged:
        if category not in chart.categories or category == chart.highlight:
            continue
        point = native.plots[plot].series[0].points[chart.categories.index(category)]
        point.marker.style = XL_MARKER_STYLE.CIRCLE
        point.marker.size = max(point.marker.size or 0, 10)
        point.marker.format.fill.solid()
        point.marker.format.fill.fore_color.rgb = rgb(brand.primary)
        point.marker.format.line.color.rgb = rgb(brand.text)
        point.marker.format.line.width = Pt(1.75)


def wbr_key_numbers(chart: Chart) -> list[str]:
    """Speaker-note lines: this week against its normal range, and the last closed month."""
    primary = next(s for s in chart.series if s.role == "primary")
    fmt = chart.value_format
    lines = []
    index = chart.categories.index(chart.highlight) if chart.highlight in chart.categories else -1
    value = primary.values[index]
    if value is not None:
        text = f"{primary.name}: {chart.categories[index]} {format_value(value, fmt, chart.value_decimals)}"
        low = next((s for s in chart.series if s.role == "band_low"), None)
        high = next((s for s in chart.series if s.role == "band_high"), None)
        if low is not None and high is not None and low.values[index] is not None:
            edges = (low.values[index], high.values[index])
            span = "–".join(format_value(v, fmt, chart.value_decimals) for v in edges)
            verdict = "outside it" if chart.categories[index] in chart.flagged else "inside it"
            text += f"; normal range {span} ({verdict})"
        lines.append(text)
    ahead = next((s for s in chart.series if s.role == "forecast"), None)
    low = next((s for s in chart.series if s.role == "forecast_low"), None)
    high = next((s for s in chart.series if s.role == "forecast_high"), None)
    if ahead is not None and low is not None and high is not None and chart.forecast_from:
        k = chart.forecast_from
        if k < len(chart.categories) and ahead.values[k] is not None:
            shown = [format_value(v, fmt, chart.value_decimals) for v in (ahead.values[k],)]
            edges = "–".join(
                format_value(v, fmt, chart.value_decimals) for v in (low.values[k], high.values[k])
            )
            lines.append(
                f"Forecast {chart.categories[k]}: {shown[0]} ({high.name.lower()} {edges})"
            )
    panel = chart.panel
    if panel is not None:
        months = [(c, v) for c, v in zip(panel.categories, panel.series[0].values, strict=True)]
        known = [(c, v) for c, v in months if v is not None]
        if known:
            c, v = known[-1]
            lines.append(f"Last closed month {c}: {format_value(v, fmt, chart.value_decimals)}")
    return lines
