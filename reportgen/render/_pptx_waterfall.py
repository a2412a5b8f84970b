"""Waterfall charts as native, editable PPTX charts.

python-pptx cannot write Office 2016's waterfall chart type (nor does
LibreOffice read it), so the deck uses the construction Excel users know: a
stacked column chart whose first series is an invisible base, so that each
step floats on the running total. A line series without line or markers,
laid over the columns at each bar's top, carries the step labels ("+4.2 s",
formatted like the tables) above the bars, where a stacked chart cannot put
them. Everything stays chart data a presenter can edit.

The bars follow the same rules as the PDF's Altair waterfall: the first and
last categories are totals from zero in the primary colour, the others are
signed steps coloured by their sentiment; the value axis zooms to where the
steps happen unless the metric is a total.
"""

from __future__ import annotations

import math

from lxml import etree
from pptx.chart.chart import Chart as PptxChart
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_DATA_LABEL_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_LABEL_POSITION,
)
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Pt

from reportgen.document import Brand, Chart

from ._chart_rules import Step, waterfall_steps
from ._pptx_chart import (
    GRID_COLOUR,
    TICK_SIZE,
    ZERO_BASED_FORMATS,
    SafeChartData,
    axis_title,
    nice_step,
    number_format,
    resolution,
    style_title,
)
from ._pptx_template import Frame
from ._pptx_text import clean_text, one_line, rgb

BASE = "Base (invisible)"
BASE_BELOW_ZERO = "Base below zero (invisible)"
LABELS = "Label position (invisible)"
HIDDEN = (BASE, BASE_BELOW_ZERO, LABELS)


def _series(chart: Chart, steps: list[Step]) -> dict[str, list[float]]:
    """Stacked series drawing each bar: invisible bases, visible parts above and below zero.

    Stacks grow up from zero for positive values and down for negative ones,
    so a bar spanning zero is drawn as two parts; the below-zero series exist
    only when some bar reaches below zero.
    """
    name = one_line(chart.series[0].name) or "Change"
    series = {
        BASE: [max(s.bottom, 0.0) for s in steps],
        name: [max(s.top, 0.0) - max(s.bottom, 0.0) for s in steps],
    }
    if any(s.bottom < 0 for s in steps):
        series[BASE_BELOW_ZERO] = [min(s.top, 0.0) for s in steps]
        series[f"{name} below zero"] = [min(s.bottom, 0.0) - min(s.top, 0.0) for s in steps]
    series[LABELS] = [s.top for s in steps]
    return series


def add_waterfall(slide: Slide, chart: Chart, frame: Frame, brand: Brand) -> PptxChart:
    """Draw a waterfall spec natively into ``frame`` and return the python-pptx chart."""
    steps = waterfall_steps(chart)
    code = number_format(chart)
    data = SafeChartData(number_format=code)
    data.categories = [one_line(s.category) for s in steps]
    for name, values in _series(chart, steps).items():
        data.add_series(name, values, code)
    shape = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_STACKED, *frame.args(), data)
    shape.name = one_line(chart.title)[:100] or "Waterfall"
    native = shape.chart
    native.font.size = TICK_SIZE
    native.font.color.rgb = rgb(brand.text)
    native.has_legend = False
    style_title(native, chart, brand)
    plot = native.plots[0]
    plot.gap_width, plot.overlap = 50, 100
    _labels_as_line(native)
    _colour_bars(native, steps, brand)
    _axes(native, chart, steps, brand)
    _label_steps(native, steps, brand)
    return native


def _labels_as_line(native: PptxChart) -> None:
    """Move the label series out of the stack into an overlaid line chart on the same axes."""
    bar_chart = native._chartSpace.find(f".//{qn('c:barChart')}")
    label_ser = bar_chart.findall(qn("c:ser"))[-1]
    line_chart = etree.SubElement(bar_chart.getparent(), qn("c:lineChart"))
    bar_chart.addnext(line_chart)
    etree.SubElement(line_chart, qn("c:grouping"), val="standard")
    etree.SubElement(line_chart, qn("c:varyColors"), val="0")
    line_chart.append(label_ser)  # moves it
    etree.SubElement(line_chart, qn("c:marker"), val="1")
    for ax_id in bar_chart.findall(qn("c:axId")):
        etree.SubElement(line_chart, qn("c:axId"), val=ax_id.get("val"))
    _strip_bar_only_children(label_ser)


def _strip_bar_only_children(ser: etree._Element) -> None:
    """``c:invertIfNegative`` belongs to bar series only; a line series must not carry it."""
    for child in ser.findall(qn("c:invertIfNegative")):
        ser.remove(child)


def _colour_bars(native: PptxChart, steps: list[Step], brand: Brand) -> None:
    colours = {"total": brand.primary, "good": brand.good, "bad": brand.bad}
    bars, line = native.plots[0].series, native.plots[1].series[0]
    for series in bars:
        if series.name in HIDDEN:
            series.format.fill.background()
            series.format.line.fill.background()
            continue
        for index, step in enumerate(steps):
            point = series.points[index]
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = rgb(colours.get(step.kind, brand.neutral))
            point.format.line.fill.background()
    line.format.line.fill.background()
    line.marker.style = XL_MARKER_STYLE.NONE
    line.smooth = False


def _label_steps(native: PptxChart, steps: list[Step], brand: Brand) -> None:
    """Each bar's label, as custom text above its top: steps signed like the tables."""
    line = native.plots[1].series[0]
    for index, step in enumerate(steps):
        label = line.points[index].data_label
        label.position = XL_DATA_LABEL_POSITION.ABOVE
        frame = label.text_frame
        frame.text = clean_text(step.label)
        font = frame.paragraphs[0].runs[0].font
        font.size, font.bold = Pt(10), step.kind == "total"
        font.color.rgb = rgb(brand.text)


def waterfall_bounds(chart: Chart, steps: list[Step]) -> tuple[float, float, float]:
    """Value axis range: zoomed to the steps (a 7 s change on 60 s is invisible from zero),
    from zero for totals such as counts; the same rule as the PDF."""
    ends = [s.high for s in steps] + [s.low for s in steps if s.kind != "total"]
    low, high = min(ends), max(ends)
    if chart.value_format in ZERO_BASED_FORMATS:
        low, high, pad = min(low, 0.0), max(high, 0.0), 0.0
    else:
        pad = max((high - low) * 0.25, abs(high) * 0.01, 1e-9)
    step = nice_step(((high - low) + 2 * pad) / 7, resolution(chart))
    floor = math.floor((low - pad) / step) * step
    if chart.value_format == "percent" or (low >= 0 and chart.value_format in ZERO_BASED_FORMATS):
        floor = max(0.0, floor)
    ceiling = math.ceil((high + pad + 0.06 * (high - low)) / step) * step  # room for labels
    return round(floor, 12), round(ceiling, 12), step


def _axes(native: PptxChart, chart: Chart, steps: list[Step], brand: Brand) -> None:
    value_axis, category_axis = native.value_axis, native.category_axis
    value_axis.tick_labels.number_format = number_format(chart)
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.minimum_scale, value_axis.maximum_scale, value_axis.major_unit = waterfall_bounds(
        chart, steps
    )
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = rgb(GRID_COLOUR)
    value_axis.format.line.fill.background()
    category_axis.format.line.color.rgb = rgb(GRID_COLOUR)
    category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW  # below bars under zero
    for axis in (value_axis, category_axis):
        axis.tick_labels.font.size = TICK_SIZE
        axis.tick_labels.font.color.rgb = rgb(brand.muted)
    axis_title(value_axis, clean_text(chart.value_label), brand)


def waterfall_key_numbers(chart: Chart) -> list[str]:
    """Speaker-note line: start, each step, end — in the table's wording."""
    steps = waterfall_steps(chart)
    return [f"{chart.title}: " + "; ".join(f"{s.category} {s.label}" for s in steps)]
