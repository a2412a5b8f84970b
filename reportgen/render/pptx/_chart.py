"""Native PPTX charts from the document's chart specs.

A presenter must be able to click a chart and edit its data, so charts are
python-pptx chart parts (with their embedded workbook), never pictures. The
colours follow the same rules as the Altair charts of the PDF: the primary
series in the brand's primary colour, comparisons in the secondary colour or
palette, a target as a dashed muted line, the current period in the accent
colour; numbers use the Office twin of the metric's value format.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import replace

from pptx.chart.chart import Chart as PptxChart
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_DATA_LABEL_POSITION,
    XL_LEGEND_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_LABEL_POSITION,
)
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Inches, Pt
from xlsxwriter import Workbook

from reportgen.document import Brand, Chart, ChartSeries
from reportgen.formatting import format_value, office_number_format
from reportgen.render.charts.rules import axis_values, role_colours, starts_at_zero
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import clean_text, one_line, rgb, text_width, tint

TICK_SIZE = Pt(10)
TITLE_SIZE = Pt(13)
GRID_COLOUR = "#D9DDE3"
VALUE_AXIS_ROOM = Inches(0.9)  # the value axis' labels and title take this much of a chart
ZERO_BASED_FORMATS = frozenset({"count", "hours", "minutes"})  # totals: axes start at zero
#: The finest step each value format can show (its Office format's last digit).
_RESOLUTION = {
    "count": 1.0,
    "seconds": 1.0,
    "minutes": 0.1,
    "hours": 0.001,
    "percent": 0.001,
    "rate": 0.1,
    "decimal": 0.01,
}
LONG_CATEGORY = 10  # characters: longer category labels read better on a horizontal bar chart
_PERIOD_NAMES = (
    (re.compile(r"^\d{4}-W\d{2}$"), "Week"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "Day"),
    (re.compile(r"^\d{4}-\d{2}$"), "Month"),
    (re.compile(r"^\d{4}-Q\d$"), "Quarter"),
)


class FormulaFreeWorksheet:
    """Mixin for python-pptx workbook writers: every label is written as a plain string.

    XlsxWriter's ``write()`` turns a string starting with ``=`` into a formula;
    a category or series label from the data would then execute in Excel when
    the presenter clicks "Edit data" (CSV/XLSX injection).
    """

    @contextmanager
    def _open_worksheet(self, xlsx_file):
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        workbook = Workbook(xlsx_file, options)
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class _SafeWorkbookWriter(FormulaFreeWorksheet, CategoryWorkbookWriter):
    """The category chart's embedded workbook, formula-free."""


class SafeChartData(CategoryChartData):
    @property
    def _workbook_writer(self) -> CategoryWorkbookWriter:
        return _SafeWorkbookWriter(self)


def chart_data(chart: Chart) -> CategoryChartData:
    """The chart's values at full precision, labels cleaned, in the Office number format.

    NaN and infinities become gaps: python-pptx would write them as ``nan``,
    which is not a number to PowerPoint (a file it must repair).
    """
    code = data_number_format(chart)
    data = SafeChartData(number_format=code)
    data.categories = [one_line(category) for category in chart.categories]
    for series in chart.series:
        values = [finite_or_none(value) for value in series.values]
        data.add_series(one_line(series.name), values, code)
    return data


def bottom_up(chart: Chart) -> Chart:
    """A horizontal bar chart's data in the order Office draws it: from the bottom up.

    Office draws the first category and the first series at the bottom and
    lists a bar chart's legend in reverse. Reversing the axis instead puts the
    first category on top but leaves the legend upside down against the bars;
    with categories and series written last to first, the first category and
    the current period are on top, as in the table, and the legend reads in
    the same order as each group of bars.
    """
    series = tuple(replace(s, values=tuple(reversed(s.values))) for s in reversed(chart.series))
    return replace(chart, categories=tuple(reversed(chart.categories)), series=series)


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def number_format(chart: Chart) -> str:
    """The Office twin of the chart's value format (percent precision included)."""
    return office_number_format(chart.value_format, chart.value_decimals)


def data_number_format(chart: Chart) -> str:
    """The format of the chart's cached values and workbook cells: no ``[>=1]`` conditions.

    python-pptx writes this one into the chart XML as raw text, where ``<`` and
    ``>`` would break the file; labels and axes (set through lxml, escaped) keep
    the conditional format. The default section of a conditional format is used.
    """
    code = number_format(chart)
    return code.rsplit(";", 1)[-1] if code.startswith("[") else code


def resolution(chart: Chart) -> float:
    """The finest step the chart's number format can show (its last digit)."""
    if chart.value_format == "percent" and chart.value_decimals is not None:
        return 10.0 ** -(chart.value_decimals + 2)
    return _RESOLUTION[chart.value_format]


def chart_type(chart: Chart) -> XL_CHART_TYPE:
    """Line for trends; bars horizontal when labels are long (they stay readable)."""
    if chart.chart_type == "line":
        return XL_CHART_TYPE.LINE_MARKERS
    longest = max((len(c) for c in chart.categories), default=0)
    return (
        XL_CHART_TYPE.BAR_CLUSTERED if longest > LONG_CATEGORY else XL_CHART_TYPE.COLUMN_CLUSTERED
    )


def category_axis_title(chart: Chart, fallback: str | None) -> str | None:
    """Category axis title: Week, Day, Month or Quarter for periods, else ``fallback``.

    The chart spec has no category-axis label; periods name themselves, and
    for segments the caller passes the matching table column's label.
    """
    for pattern, name in _PERIOD_NAMES:
        if chart.categories and all(pattern.match(c) for c in chart.categories):
            return name
    return fallback


def add_chart(
    slide: Slide, chart: Chart, frame: Frame, brand: Brand, category_title: str | None = None
) -> PptxChart:
    """Draw ``chart`` natively into ``frame`` and return the python-pptx chart."""
    kind = chart_type(chart)
    if kind == XL_CHART_TYPE.BAR_CLUSTERED:
        chart = bottom_up(chart)
    shape = slide.shapes.add_chart(kind, *frame.args(), chart_data(chart))
    shape.name = one_line(chart.title)[:100] or "Chart"
    native = shape.chart
    native.font.size = TICK_SIZE
    native.font.color.rgb = rgb(brand.text)
    style_title(native, chart, brand)
    _axes(native, chart, brand, kind, category_axis_title(chart, category_title), frame.width)
    _legend(native, chart)
    colours = role_colours(chart, brand)
    code = number_format(chart)
    for spec, series, colour in zip(chart.series, native.plots[0].series, colours, strict=True):
        if chart.chart_type == "line":
            _style_line(series, spec, colour)
        else:
            _style_bar(series, spec, colour, code)
            _fade_small_samples(series, chart, colour)
    if chart.chart_type == "bar":
        native.plots[0].gap_width = 60
        native.plots[0].overlap = -10
    _highlight(native, chart, brand)
    return native


def style_title(native: PptxChart, chart: Chart, brand: Brand) -> None:
    native.has_title = True
    frame = native.chart_title.text_frame
    frame.text = one_line(chart.title)
    font = frame.paragraphs[0].runs[0].font
    font.size, font.bold = TITLE_SIZE, True
    font.color.rgb = rgb(brand.text)


def _axes(
    native: PptxChart, chart: Chart, brand: Brand, kind, category_title: str | None, width: int
) -> None:
    value_axis, category_axis = native.value_axis, native.category_axis
    value_axis.tick_labels.number_format = number_format(chart)
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = rgb(GRID_COLOUR)
    value_axis.format.line.fill.background()
    for axis in (value_axis, category_axis):
        axis.tick_labels.font.size = TICK_SIZE
        axis.tick_labels.font.color.rgb = rgb(brand.muted)
    category_axis.format.line.color.rgb = rgb(GRID_COLOUR)
    category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    if kind != XL_CHART_TYPE.BAR_CLUSTERED and _crowded(chart, width):
        _rotate_labels(category_axis, -45)
    bounds = value_axis_bounds(chart)
    if bounds is not None:
        value_axis.minimum_scale, value_axis.maximum_scale, value_axis.major_unit = bounds
    axis_title(value_axis, clean_text(chart.value_label), brand)
    if category_title:
        axis_title(category_axis, category_title, brand)


def _crowded(chart: Chart, width: int) -> bool:
    """Would the category labels, side by side, overfill the plot's width?"""
    labels = sum(text_width(one_line(c) + " ", TICK_SIZE.pt) for c in chart.categories)
    return labels > width - VALUE_AXIS_ROOM


def _rotate_labels(axis, degrees: int) -> None:
    """Slant the tick labels (python-pptx has no API for it): they stay whole and legible."""
    body = axis._element.find(f"{qn('c:txPr')}/{qn('a:bodyPr')}")
    if body is not None:
        body.set("rot", str(degrees * 60000))
        body.set("vert", "horz")


def value_axis_bounds(chart: Chart) -> tuple[float, float, float] | None:
    """(minimum, maximum, major unit) of the value axis, set explicitly.

    Left to itself PowerPoint starts a line of 46-61 s at 40 s and LibreOffice
    at 0 s, so the same deck looks different per viewer. Bars and totals start
    at zero (length must stay proportional); rates and means get a padded
    range so that a 2 pp drop is visible, as in the PDF's charts. Steps are
    1, 2, 2.5 or 5 × 10ⁿ and never finer than the number format shows, so
    tick labels never repeat.
    """
    values = axis_values(chart)  # small samples never set the range (clipped at its edge)
    if not values:
        return None
    low, high = min(values), max(values)
    zero_based = starts_at_zero(chart)
    if zero_based:
        low, high = min(low, 0.0), max(high, 0.0)
    span = (high - low) or abs(high) or 1.0
    step = nice_step(span / 7, resolution(chart))
    # Room for the highlighted value's label, above or below its point.
    pad = (0.04 if chart.chart_type == "bar" else 0.1) * span
    axis_low = low if zero_based and low == 0 else math.floor((low - pad) / step) * step
    if min(values) >= 0:
        axis_low = max(axis_low, 0.0)
    axis_high = math.ceil((high + pad) / step) * step
    return round(axis_low, 12), round(axis_high, 12), step


def nice_step(raw: float, resolution: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ ≥ ``raw`` that is a whole number of ``resolution``."""
    exponent = math.floor(math.log10(raw)) if raw > 0 else 0
    for multiple in (1, 2, 2.5, 5, 10):
        step = round(multiple * 10**exponent, 12)
        whole = abs(step / resolution - round(step / resolution)) < 1e-9
        if step >= raw and whole:
            return max(step, resolution)
    return max(round(10 ** (exponent + 1), 12), resolution)


def axis_title(axis, text: str, brand: Brand) -> None:
    if not text:
        return
    axis.has_title = True
    frame = axis.axis_title.text_frame
    frame.text = one_line(text)
    font = frame.paragraphs[0].runs[0].font
    font.size, font.bold = TICK_SIZE, False
    font.color.rgb = rgb(brand.muted)


def _legend(native: PptxChart, chart: Chart) -> None:
    native.has_legend = len(chart.series) > 1
    if native.has_legend:
        native.legend.position = XL_LEGEND_POSITION.BOTTOM
        native.legend.include_in_layout = False
        native.legend.font.size = TICK_SIZE


def _style_line(series, spec: ChartSeries, colour: str) -> None:
    series.smooth = False
    line = series.format.line
    line.color.rgb = rgb(colour)
    if spec.role == "target":
        line.width = Pt(1.5)
        line.dash_style = MSO_LINE_DASH_STYLE.DASH
        series.marker.style = XL_MARKER_STYLE.NONE
        return
    line.width = Pt(2.5 if spec.role == "primary" else 1.75)
    series.marker.style = XL_MARKER_STYLE.CIRCLE
    series.marker.size = 5
    series.marker.format.fill.solid()
    series.marker.format.fill.fore_color.rgb = rgb(colour)
    series.marker.format.line.color.rgb = rgb(colour)


def _style_bar(series, spec: ChartSeries, colour: str, code: str) -> None:
    series.format.fill.solid()
    series.format.fill.fore_color.rgb = rgb(colour)
    if spec.role == "target":
        series.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
    if spec.role == "primary":
        labels = series.data_labels
        labels.number_format = code
        labels.number_format_is_linked = False
        labels.show_value = True
        labels.position = XL_DATA_LABEL_POSITION.OUTSIDE_END
        labels.font.size = Pt(9)


def _fade_small_samples(series, chart: Chart, colour: str) -> None:
    """A small sample's bars in a pale tint of their colour: there, but not to be read into."""
    muted = set(chart.muted_categories)
    for index, category in enumerate(chart.categories):
        if category in muted:
            fill = series.points[index].format.fill
            fill.solid()
            fill.fore_color.rgb = rgb("#" + tint(colour, 0.65))


def highlight_index(chart: Chart) -> int | None:
    """Index of the category to emphasise: the spec's highlight, else none."""
    if chart.highlight is None:
        return None
    try:
        return list(chart.categories).index(chart.highlight)
    except ValueError:
        return None


def _highlight(native: PptxChart, chart: Chart, brand: Brand) -> None:
    """The current period in the accent colour, with its value labelled."""
    index = highlight_index(chart)
    primary = next((i for i, s in enumerate(chart.series) if s.role == "primary"), None)
    if index is None or primary is None or chart.series[primary].values[index] is None:
        return
    point = native.plots[0].series[primary].points[index]
    if chart.chart_type == "line":
        point.marker.style = XL_MARKER_STYLE.CIRCLE
        point.marker.size = 9
        point.marker.format.fill.solid()
        point.marker.format.fill.fore_color.rgb = rgb(brand.accent)
        point.marker.format.line.color.rgb = rgb(brand.accent)
        point.data_label.position = _away_from_line(chart.series[primary].values, index)
    else:
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = rgb(brand.accent)
        point.data_label.position = XL_DATA_LABEL_POSITION.OUTSIDE_END
    label = point.data_label
    label.font.size, label.font.bold = Pt(11), True
    label.font.color.rgb = rgb(brand.accent)
    label_number_format(label, number_format(chart))


def _away_from_line(values: tuple[float | None, ...], index: int) -> XL_DATA_LABEL_POSITION:
    """Below a point the line falls to, above one it rises to: the label never sits on the line."""
    previous = next((v for v in reversed(values[:index]) if v is not None), None)
    if previous is not None and values[index] is not None and values[index] < previous:
        return XL_DATA_LABEL_POSITION.BELOW
    return XL_DATA_LABEL_POSITION.ABOVE


def label_number_format(label, code: str) -> None:
    """python-pptx has no per-point number format; add ``c:numFmt`` where the schema wants it."""
    d_lbl = label._get_or_add_dLbl()
    for old in d_lbl.findall(qn("c:numFmt")):
        d_lbl.remove(old)
    num_fmt = d_lbl.makeelement(qn("c:numFmt"), {"formatCode": code, "sourceLinked": "0"})
    d_lbl.find(qn("c:idx")).addnext(num_fmt)


def key_numbers(chart: Chart) -> list[str]:
    """Speaker-note lines: the highlighted (or latest) value of each series, bars in full."""
    lines = []
    for series in chart.series:
        points = [
            (c, v) for c, v in zip(chart.categories, series.values, strict=True) if v is not None
        ]
        if not points:
            continue
        if chart.chart_type == "bar" and len(points) <= 12:
            shown = points
        else:
            index = highlight_index(chart)
            value = series.values[index] if index is not None else None
            shown = [(chart.categories[index], value)] if value is not None else [points[-1]]
        text = "; ".join(
            f"{c} {format_value(v, chart.value_format, chart.value_decimals)}" for c, v in shown
        )
        lines.append(f"{series.name}: {text}")
    return lines
