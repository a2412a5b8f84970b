"""Bridges (waterfall specs) as native, editable PPTX charts.

A bridge shows the signed parts of a change and their total. It is drawn as a
clustered column chart with one series whose values *are* the signed parts
(percentages in percentage points, like the tables), every bar from zero: the
axis is never truncated, and the chart data a presenter opens in PowerPoint is
the table's numbers. The labels are data labels showing each bar's value in a
signed number format (``+2.0 pp``, ``−1.3 s``), so editing a value in the
chart's sheet updates its bar and its label together. (python-pptx cannot
write Office 2016's waterfall type, nor does LibreOffice read it; a stacked
"invisible base" bridge needs unsigned magnitudes and custom label text, which
go stale when a value is edited.)

Colours follow the PDF's Altair bridge (:mod:`reportgen.render.charts.rules`): parts by their
sentiment, the total in the primary colour.
"""

from __future__ import annotations

import math

from pptx.chart.chart import Chart as PptxChart
from pptx.enum.chart import XL_CHART_TYPE, XL_DATA_LABEL_POSITION, XL_TICK_LABEL_POSITION
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Pt

from reportgen.document import Brand, Chart
from reportgen.render.charts.rules import (
    ChangeUnits,
    Step,
    change_units,
    signed_office_format,
    waterfall_steps,
)
from reportgen.render.pptx._chart import (
    GRID_COLOUR,
    TICK_SIZE,
    SafeChartData,
    axis_title,
    nice_step,
    style_title,
)
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import clean_text, one_line, rgb


def bridge_values(chart: Chart) -> list[float]:
    """The chart data: each bar's signed value in the bridge's units (pp for percentages)."""
    scale = change_units(chart).scale
    return [s.value * scale for s in waterfall_steps(chart)]


def add_waterfall(slide: Slide, chart: Chart, frame: Frame, brand: Brand) -> PptxChart:
    """Draw a bridge spec natively into ``frame`` and return the python-pptx chart."""
    steps = waterfall_steps(chart)
    units = change_units(chart)
    code = signed_office_format(units)
    data = SafeChartData(number_format=code)
    data.categories = [one_line(s.category) for s in steps]
    data.add_series(one_line(chart.series[0].name) or "Change", bridge_values(chart), code)
    shape = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, *frame.args(), data)
    shape.name = one_line(chart.title)[:100] or "Waterfall"
    native = shape.chart
    native.font.size = TICK_SIZE
    native.font.color.rgb = rgb(brand.text)
    native.has_legend = False
    style_title(native, chart, brand)
    native.plots[0].gap_width = 60
    _colour_bars(native, steps, brand)
    _label_bars(native, steps, code, brand)
    _axes(native, chart, steps, units, code, brand)
    return native


def _colour_bars(native: PptxChart, steps: list[Step], brand: Brand) -> None:
    colours = {"total": brand.primary, "good": brand.good, "bad": brand.bad}
    series = native.plots[0].series[0]
    series.invert_if_negative = False  # a negative bar keeps its colour
    for index, step in enumerate(steps):
        point = series.points[index]
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = rgb(colours.get(step.kind, brand.neutral))
        point.format.line.fill.background()


def _label_bars(native: PptxChart, steps: list[Step], code: str, brand: Brand) -> None:
    """Data labels showing each bar's value (not custom text): they follow edited data."""
    series = native.plots[0].series[0]
    labels = series.data_labels  # on the series: a point's own label must not hide the others
    labels.number_format = code
    labels.number_format_is_linked = False
    labels.show_value = True
    labels.position = XL_DATA_LABEL_POSITION.OUTSIDE_END
    labels.font.size = Pt(10)
    labels.font.color.rgb = rgb(brand.text)
    total = series.points[len(steps) - 1].data_label
    total.font.bold = True
    total.font.size = Pt(10)
    total.position = XL_DATA_LABEL_POSITION.OUTSIDE_END
    d_lbl = total._dLbl
    if d_lbl is not None:  # the point's own label keeps showing the value, in the same format
        fmt = d_lbl.find(qn("c:numFmt"))
        if fmt is None:
            fmt = d_lbl.makeelement(qn("c:numFmt"), {})
            d_lbl.insert(1, fmt)
        fmt.set("formatCode", code)
        fmt.set("sourceLinked", "0")


def waterfall_bounds(chart: Chart, steps: list[Step]) -> tuple[float, float, float]:
    """Value axis range in the bridge's units: always through zero, room for the labels."""
    scale = change_units(chart).scale
    values = [s.value * scale for s in steps] or [0.0]
    low, high = min(0.0, *values), max(0.0, *values)
    span = (high - low) or 1.0
    resolution = 10.0 ** -change_units(chart).decimals
    step = nice_step(span * 1.3 / 6, resolution)
    floor = math.floor((low - (0.15 * span if low < 0 else 0.0)) / step) * step
    ceiling = math.ceil((high + (0.15 * span if high > 0 else 0.0)) / step) * step
    return round(floor, 12), round(ceiling, 12), step


def _axes(
    native: PptxChart,
    chart: Chart,
    steps: list[Step],
    units: ChangeUnits,
    code: str,
    brand: Brand,
) -> None:
    value_axis, category_axis = native.value_axis, native.category_axis
    value_axis.tick_labels.number_format = code
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
    title = clean_text(chart.value_label)
    if units.suffix.strip() == "pp":
        title = f"{title} (pp)"
    axis_title(value_axis, title, brand)


def waterfall_key_numbers(chart: Chart) -> list[str]:
    """Speaker-note line: each part and the total, in the table's wording."""
    steps = waterfall_steps(chart)
    return [f"{chart.title}: " + "; ".join(f"{s.category} {s.label}" for s in steps)]
