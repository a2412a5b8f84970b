"""The weekly business review chart as native, editable PPTX charts.

Two chart parts side by side — the trailing weeks and the trailing months —
on the same value-axis range (a flow total's months get their own: a month
sums four weeks). The weeks' normal range is a band of stacked columns behind
the lines, one column a week with no gap between them: a transparent column up
to the band's low edge, then the band's width (high − low) in a pale tint, so a
presenter who clicks "Edit data" sees the band as two honest columns and
PowerPoint draws it without any picture. The forecast's likely range follows
the same way from the first forecast week. The lines are the usual native line
series; python-pptx cannot make a combined chart, so the band series are moved
from the line plot into a stacked ``c:barChart`` on the same axes.
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
FORECAST_BASE = "Likely range (low edge)"
# The two panels' plot areas, where they share a value axis (EMU): room for the title above,
# the week labels and a legend of up to three rows below, the value labels left of the weeks
# and the months' first slanted label left of the months.
PLOT_TOP = Inches(0.6)
PLOT_BOTTOM = Inches(0.95)
PLOT_AXIS_LEFT = Inches(0.7)
PLOT_SLANT_LEFT = Inches(0.45)
PLOT_RIGHT = Inches(0.15)
BAND_BELOW_ZERO = "Normal range (below zero)"
FORECAST_BELOW_ZERO = "Likely range (below zero)"


def band_series(chart: Chart) -> tuple[ChartSeries, ...] | None:
    """The bands as stacked-column data: (low edge, normal range's width) and, with a
    forecast, (low edge, likely range's width); None without a band.

    Each week is one column of the stack, as wide as its slot (no gap between columns), so
    a band is a run of blocks that ends where its last week ends: the normal range with the
    last judged week, the likely range from the first forecast week on. A stacked *area*
    cannot end a band: it draws a straight edge from one week to the next, and a blank week
    is plotted as zero, so the band tapered to a point between the last actual week and the
    first forecast one (PowerPoint and LibreOffice alike, whatever ``c:dispBlanksAs`` says).
    A blank is a gap in a column chart. A week with both ranges (the forecast starts at the
    last actual value, zero wide) keeps its normal range. Below zero, Office stacks negative
    values downward from zero on their own, so a band below zero is stacked from its high
    edge down and a band across zero adds a second, downward part of the same colour.
    """
    normal = _edges(chart, "band_low", "band_high")
    ahead = _edges(chart, "forecast_low", "forecast_high")
    if normal is None and ahead is None:
        return None
    count = len(chart.categories)
    nothing: tuple[float | None, ...] = (None,) * count
    low, high = normal or (nothing, nothing)
    f_low, f_high = ahead or (nothing, nothing)
    judged = [lo is not None and hi is not None for lo, hi in zip(low, high, strict=True)]
    likely = [
        not j and lo is not None and hi is not None
        for j, lo, hi in zip(judged, f_low, f_high, strict=True)
    ]
    base, width, below = _stacked(low, high, judged)
    series = [
        ChartSeries(BAND_BASE, base, "band_low"),
        ChartSeries(BAND_WIDTH, width, "band_high"),
    ]
    if ahead is not None:
        name = next(s.name for s in chart.series if s.role == "forecast_high")
        f_base, f_width, f_below = _stacked(f_low, f_high, likely)
        series += [
            ChartSeries(FORECAST_BASE, f_base, "forecast_low"),
            ChartSeries(name, f_width, "forecast_high"),
        ]
    else:
        f_below = nothing
    if any(v is not None for v in below + f_below):  # a band across zero: rare, kept honest
        series += [
            ChartSeries(BAND_BELOW_ZERO, below, "band_high"),
            ChartSeries(FORECAST_BELOW_ZERO, f_below, "forecast_high"),
        ]
    return tuple(series)


def _stacked(
    low: tuple[float | None, ...], high: tuple[float | None, ...], drawn: list[bool]
) -> tuple[tuple[float | None, ...], tuple[float | None, ...], tuple[float | None, ...]]:
    """(transparent base, band above it, band's part below zero) for the weeks ``drawn``."""
    parts = [
        _split(lo, hi) if draw else (None, None, None)
        for lo, hi, draw in zip(low, high, drawn, strict=True)
    ]
    base, width, below = zip(*parts, strict=True) if parts else ((), (), ())
    return tuple(base), tuple(width), tuple(below)


def _split(lo: float | None, hi: float | None) -> tuple[float | None, float | None, float | None]:
    if lo is None or hi is None:
        return None, None, None
    if lo >= 0:  # up from zero: transparent to the low edge, then the band
        return lo, hi - lo, None
    if hi <= 0:  # down from zero: transparent to the high edge, then the band
        return hi, lo - hi, None
    return None, hi, lo  # across zero: the band up to its high edge and down to its low one


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
            _same_plot_height(drawn[0], weeks_frame, native, months_frame)
        drawn.append(native)
    return drawn


def _same_plot_height(
    weeks: PptxChart, weeks_frame: Frame, months: PptxChart, frame: Frame
) -> None:
    """One value axis for both panels means one height for both plot areas: left to itself
    each viewer sizes a plot area around its own labels, and the months' slanted labels made
    theirs shorter, so a level sat lower on the months' gridlines than on the weeks'. Both plot
    areas get the same manual top and height (the frames are side by side, equally tall)."""
    top, bottom = PLOT_TOP / frame.height, PLOT_BOTTOM / frame.height
    height = max(1.0 - top - bottom, 0.3)
    for native, box, left in (
        (weeks, weeks_frame, PLOT_AXIS_LEFT),
        (months, frame, PLOT_SLANT_LEFT),
    ):
        width = max(1.0 - (left + PLOT_RIGHT) / box.width, 0.3)
        _inner_layout(native, left / box.width, top, width, height)


def _inner_layout(native: PptxChart, left: float, top: float, width: float, height: float) -> None:
    """The plot area's inner rectangle (axes, without tick labels) as fractions of the chart."""
    plot_area = native._chartSpace.chart.plotArea
    for old in plot_area.findall(qn("c:layout")):
        plot_area.remove(old)
    layout = etree.Element(qn("c:layout"))
    plot_area.insert(0, layout)
    manual = etree.SubElement(layout, qn("c:manualLayout"))
    etree.SubElement(manual, qn("c:layoutTarget")).set("val", "inner")
    etree.SubElement(manual, qn("c:xMode")).set("val", "edge")
    etree.SubElement(manual, qn("c:yMode")).set("val", "edge")
    for tag, value in (("c:x", left), ("c:y", top), ("c:w", width), ("c:h", height)):
        etree.SubElement(manual, qn(tag)).set("val", f"{value:.4f}")


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
    _band_to_columns(native, len(band))
    native.font.size = TICK_SIZE
    native.font.color.rgb = rgb(brand.text)
    style_title(native, lines, brand)
    _style_axes(native, lines, brand, bounds)
    columns, line = native.plots[0], native.plots[1]
    for spec, series in zip(band, columns.series, strict=True):
        series.format.line.fill.background()
        if spec.role in ("band_low", "forecast_low"):  # a transparent base under a band
            series.format.fill.background()
            continue
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = rgb(
            band_colour(brand) if spec.role == "band_high" else forecast_band_colour(brand)
        )
    for spec, series in zip(lines.series, line.series, strict=True):
        colour = brand.muted if spec.role == "target" else brand.primary
        _style_line(series, spec, colour)
        if spec.role == "forecast":  # the metric's line, continued in short dashes
            series.format.line.width = Pt(2)
            series.format.line.dash_style = MSO_LINE_DASH_STYLE.SQUARE_DOT
            series.marker.style = XL_MARKER_STYLE.NONE
    _legend_without(native, *_unnamed(band))
    _highlight(native, lines, brand)
    _ring_flagged(native, chart, 1, brand)
    return native


def _unnamed(band: tuple[ChartSeries, ...]) -> list[int]:
    """The band series the legend leaves out: the transparent bases, a band with no week
    drawn, and a band's part below zero (its colour already has its entry)."""
    return [
        index
        for index, spec in enumerate(band)
        if spec.role in ("band_low", "forecast_low")
        or spec.name in (BAND_BELOW_ZERO, FORECAST_BELOW_ZERO)
        or all(v is None for v in spec.values)
    ]


def _band_to_columns(native: PptxChart, count: int) -> None:
    """Move the first ``count`` series of the line plot into stacked columns on its axes,
    one column a week with no gap between weeks (a band of blocks)."""
    plot_area = native._chartSpace.chart.plotArea
    line_chart = plot_area.find(qn("c:lineChart"))
    bars = etree.Element(qn("c:barChart"))
    line_chart.addprevious(bars)  # drawn first: underneath the lines
    etree.SubElement(bars, qn("c:barDir")).set("val", "col")
    etree.SubElement(bars, qn("c:grouping")).set("val", "stacked")
    etree.SubElement(bars, qn("c:varyColors")).set("val", "0")
    for ser in line_chart.findall(qn("c:ser"))[:count]:
        for tag in ("c:marker", "c:smooth"):  # line-only children: invalid in a bar series
            for child in ser.findall(qn(tag)):
                ser.remove(child)
        # a negative value keeps its fill (the default inverts it to white in some viewers)
        invert = etree.Element(qn("c:invertIfNegative"))
        invert.set("val", "0")
        anchor = ser.find(qn("c:spPr"))
        (anchor if anchor is not None else ser.find(qn("c:tx"))).addnext(invert)
        bars.append(ser)
    etree.SubElement(bars, qn("c:gapWidth")).set("val", "0")
    etree.SubElement(bars, qn("c:overlap")).set("val", "100")
    for ax_id in line_chart.findall(qn("c:axId")):
        bars.append(copy.deepcopy(ax_id))
    # columns sit between the tick marks: each week's point in the middle of its column
    value_axis = plot_area.find(qn("c:valAx"))
    between = value_axis.find(qn("c:crossBetween"))
    if between is None:
        between = etree.Element(qn("c:crossBetween"))
        crossing = value_axis.find(qn("c:crosses"))
        if crossing is None:
            crossing = value_axis.find(qn("c:crossesAt"))
        crossing.addnext(between)
    between.set("val", "between")


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
