"""Deep-dive figures on slides: heatmap, scatter and dendrogram, native and editable.

python-pptx has no heatmap chart type, so a correlation heatmap is a native
table whose cells carry the diverging colour and the value — the same colours
as the PDF's heatmap (:func:`~reportgen.render.charts.rules.heatmap_colour`). A scatter is an
XY chart with two series (the points; the reference line); highlighted points
(residual outliers) are coloured and labelled with their name. A dendrogram is
an XY chart "with straight lines": one series per merge, drawn as the bracket
joining its two branches, plus an invisible series of leaves whose data labels
name the sites. Everything stays data a presenter can click and edit, and
LibreOffice draws it the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pptx.chart.chart import Chart as PptxChart
from pptx.chart.data import XyChartData
from pptx.chart.xlsx import XyWorkbookWriter
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_DATA_LABEL_POSITION,
    XL_LEGEND_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_LABEL_POSITION,
)
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.text import MSO_ANCHOR
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from reportgen.document import Brand, Dendrogram, Heatmap, Scatter
from reportgen.formatting import format_value, office_number_format
from reportgen.render.charts.rules import (
    dendrogram_links,
    heatmap_colour,
    heatmap_stops,
    ink_on,
    scatter_domain,
)
from reportgen.render.pptx._chart import (
    GRID_COLOUR,
    TICK_SIZE,
    FormulaFreeWorksheet,
    axis_title,
    nice_step,
)
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import (
    Para,
    Run,
    line_height,
    longest_word_width,
    one_line,
    paras_height,
    rgb,
    text_width,
    wrapped_lines,
    write_paragraphs,
)

CAPTION_SIZE = 10.0
HEATMAP_TEXT = 12.0
HEATMAP_LABEL = 11.0
MAX_CELL = Inches(1.25)
LEAF_LABEL = 10.0
LEAF_CHARS = 26  # longer leaf names are cut: LibreOffice wraps long data labels onto two lines
MINUS = "\N{MINUS SIGN}"


class _SafeXyWorkbookWriter(FormulaFreeWorksheet, XyWorkbookWriter):
    """The XY chart's embedded workbook with series names as plain strings (no formulas)."""


class SafeXyChartData(XyChartData):
    @property
    def _workbook_writer(self) -> XyWorkbookWriter:
        return _SafeXyWorkbookWriter(self)


def signed(value: float | None, decimals: int) -> str:
    """A cell's text: ``0.43`` / ``−0.16``, or ``—`` where undefined."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{decimals}f}".replace("-", MINUS)


def _caption(slide: Slide, text: str | None, frame: Frame, brand: Brand) -> Frame:
    """The figure's caption at the bottom of ``frame``; returns what is left above it."""
    if not text:
        return frame
    paras = [Para.of(text, CAPTION_SIZE, colour=brand.muted)]
    height = paras_height(paras, frame.width - Inches(0.2)) + Inches(0.1)
    box = slide.shapes.add_textbox(
        Emu(frame.left), Emu(frame.bottom - height), Emu(frame.width), Emu(height)
    )
    box.name = "Caption"
    write_paragraphs(box.text_frame, paras)
    return Frame(frame.left, frame.top, frame.width, frame.height - height - Inches(0.1))


# -- heatmap ------------------------------------------------------------------------------------


CELL_MARGIN_X, CELL_MARGIN_Y = Inches(0.05), Inches(0.03)
HEADER_LINES = 3
ROW_LABEL_LINES = 2


def fit_text(text: str, width: int, size: float, lines: int) -> str:
    """``text`` as it fits ``lines`` lines of ``width`` EMU without breaking a word, else
    cut with an ellipsis (the full name is in the correlation table and the notes)."""
    text = one_line(text)

    def fits(candidate: str) -> bool:
        return (
            wrapped_lines(candidate, width, size) <= lines
            and longest_word_width(candidate, size) <= width
        )

    if fits(text):
        return text
    cut = text
    while len(cut) > 1 and not fits(cut.rstrip() + "…"):
        cut = cut[:-1]
    return cut.rstrip() + "…"


@dataclass(frozen=True)
class HeatmapLayout:
    """Sizes of a heatmap table (EMU and points) and the labels as they fit."""

    label_width: int
    cell: int
    header: int
    header_size: float
    value_size: float
    columns: tuple[str, ...]
    rows: tuple[str, ...]


def heatmap_layout(heatmap: Heatmap, frame: Frame) -> HeatmapLayout:
    """Square cells as large as the frame allows (≤ 1.25 in), labels sized to fit them.

    The value text shrinks with the cells (12 → 8 pt) so ``−0.45`` stays one line;
    column labels take the largest size (11 → 8 pt) at which their words fit a cell,
    then wrap onto up to three lines and are cut beyond; row labels wrap onto two.
    Nothing is left to the viewer's autofit, so no row grows off the slide.
    """
    n = max(1, len(heatmap.labels))
    widest = max(text_width(one_line(x), HEATMAP_LABEL) for x in heatmap.labels)
    label_width = min(int(frame.width * 0.3), widest + 2 * CELL_MARGIN_X + Inches(0.1))
    legend = Inches(1.4)
    most_header = HEADER_LINES * line_height(HEATMAP_LABEL) + 2 * CELL_MARGIN_Y
    cell = int(
        min(MAX_CELL, (frame.width - label_width - legend) // n, (frame.height - most_header) // n)
    )
    inner = cell - 2 * CELL_MARGIN_X
    sizes = (12.0, 11.0, 10.0, 9.0, 8.0)
    value_size = next(
        (z for z in sizes if text_width(signed(-0.88, heatmap.decimals), z, bold=True) <= inner),
        sizes[-1],
    )
    header_size = next(
        (
            z
            for z in sizes[1:]
            if all(longest_word_width(one_line(x), z) <= inner for x in heatmap.labels)
        ),
        sizes[-1],
    )
    columns = tuple(fit_text(x, inner, header_size, HEADER_LINES) for x in heatmap.labels)
    rows = tuple(
        fit_text(x, label_width - 2 * CELL_MARGIN_X, HEATMAP_LABEL, ROW_LABEL_LINES)
        for x in heatmap.labels
    )
    used = max(wrapped_lines(x, inner, header_size) for x in columns)
    header = used * line_height(header_size) + 2 * CELL_MARGIN_Y + Inches(0.04)
    return HeatmapLayout(label_width, cell, header, header_size, value_size, columns, rows)


def add_heatmap(slide: Slide, heatmap: Heatmap, frame: Frame, brand: Brand):
    """A native table: a header row and column of labels, cells filled by value."""
    body = _caption(slide, heatmap.caption, frame, brand)
    layout = heatmap_layout(heatmap, body)
    label_width, cell, header = layout.label_width, layout.cell, layout.header
    n = len(heatmap.labels)
    shape = slide.shapes.add_table(
        n + 1,
        n + 1,
        Emu(body.left),
        Emu(body.top),
        Emu(label_width + cell * n),
        Emu(header + cell * n),
    )
    shape.name = one_line(heatmap.title)[:100] or "Heatmap"
    grid = shape.table
    grid.first_row = grid.first_col = False
    grid.horz_banding = False
    grid.columns[0].width = Emu(label_width)
    for column in list(grid.columns)[1:]:
        column.width = Emu(cell)
    grid.rows[0].height = Emu(header)
    for row in list(grid.rows)[1:]:
        row.height = Emu(cell)
    background, ink = brand.background, brand.text
    size = layout.header_size
    _cell(grid.cell(0, 0), heatmap.value_label, background, brand.muted, size, bottom=True)
    for i, (column, row_label) in enumerate(zip(layout.columns, layout.rows, strict=True), 1):
        _cell(grid.cell(0, i), column, background, ink, size, "center", bottom=True)
        _cell(grid.cell(i, 0), row_label, background, ink, HEATMAP_LABEL, "right")
    for i, row in enumerate(heatmap.values, start=1):
        for j, value in enumerate(row, start=1):
            fill = heatmap_colour(value, brand, heatmap.domain)
            _cell(
                grid.cell(i, j),
                signed(value, heatmap.decimals),
                fill or brand.background,
                ink_on(fill, brand),
                layout.value_size,
                "center",
                bold=True,
            )
    legend = Frame(
        body.left + label_width + cell * n + Inches(0.3), body.top + header, Inches(1.3), cell * n
    )
    _heatmap_legend(slide, heatmap, legend, brand)
    return shape


def _cell(cell, text, fill, colour, size, align="left", *, bold=False, bottom=False) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = rgb(fill)
    cell.margin_left = cell.margin_right = CELL_MARGIN_X
    cell.margin_top = cell.margin_bottom = CELL_MARGIN_Y
    cell.vertical_anchor = MSO_ANCHOR.BOTTOM if bottom else MSO_ANCHOR.MIDDLE
    write_paragraphs(cell.text_frame, [Para((Run(text, size, bold, colour),), align)], anchor=None)


def _heatmap_legend(slide: Slide, heatmap: Heatmap, frame: Frame, brand: Brand) -> None:
    """Five swatches from the top of the scale to the bottom, as coloured squares in text."""
    low, high = heatmap.domain
    paras = [Para.of(heatmap.value_label, CAPTION_SIZE, colour=brand.muted)]
    for step in range(5):
        value = high - (high - low) * step / 4
        colour = heatmap_colour(value, brand, heatmap.domain) or heatmap_stops(brand)[1]
        swatch = Run("■ ", 16, False, colour)
        paras.append(Para((swatch, Run(signed(value, 1), CAPTION_SIZE, False, brand.text)), "left"))
    box = slide.shapes.add_textbox(*frame.args())
    box.name = "Heatmap legend"
    write_paragraphs(box.text_frame, paras)


# -- scatter ------------------------------------------------------------------------------------


def scatter_data(scatter: Scatter) -> XyChartData:
    """Series 1: the points (x, y) in order; series 2: the line's two ends."""
    code = office_number_format(scatter.value_format, scatter.value_decimals)
    data = SafeXyChartData(number_format=code)
    points = data.add_series(one_line(scatter.points_name) or "Points", number_format=code)
    for p in scatter.points:
        points.add_data_point(p.x, p.y)
    if scatter.line is not None:
        line = data.add_series(one_line(scatter.line_name) or "Line", number_format=code)
        for x, y in scatter.line:
            line.add_data_point(x, y)
    return data


def add_scatter(slide: Slide, scatter: Scatter, frame: Frame, brand: Brand) -> PptxChart:
    body = _caption(slide, scatter.caption, frame, brand)
    side = min(body.width, int(body.height * 1.45))  # a near-square plot: y = x reads as 45°
    left = body.left + (body.width - side) // 2
    shape = slide.shapes.add_chart(
        XL_CHART_TYPE.XY_SCATTER, left, body.top, side, body.height, scatter_data(scatter)
    )
    shape.name = one_line(scatter.title)[:100] or "Scatter"
    chart = shape.chart
    chart.has_title = False  # the slide title says it
    chart.font.size = TICK_SIZE
    chart.font.color.rgb = rgb(brand.text)
    code = office_number_format(scatter.value_format, scatter.value_decimals)
    low, high = scatter_domain(scatter)
    resolution = 0.001 if scatter.value_format == "percent" else 0.01
    step = nice_step((high - low) / 6, resolution)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    for axis, title in (
        (chart.category_axis, scatter.x_label),
        (chart.value_axis, scatter.y_label),
    ):
        axis.minimum_scale, axis.maximum_scale, axis.major_unit = low, high, step
        axis.tick_labels.number_format = code
        axis.tick_labels.number_format_is_linked = False
        axis.tick_labels.font.size = TICK_SIZE
        axis.tick_labels.font.color.rgb = rgb(brand.muted)
        axis.has_major_gridlines = True
        axis.major_gridlines.format.line.color.rgb = rgb(GRID_COLOUR)
        axis.format.line.color.rgb = rgb(GRID_COLOUR)
        axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
        axis_title(axis, title, brand)
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.TOP
    chart.legend.include_in_layout = False
    chart.legend.font.size = TICK_SIZE
    points = chart.plots[0].series[0]
    points.format.line.fill.background()
    _marker(points.marker, brand.primary, 7)
    for index, p in enumerate(scatter.points):
        if not p.highlight:
            continue
        point = points.points[index]
        _marker(point.marker, brand.accent, 9)
        custom_label(
            point.data_label, p.label, 11.0, brand.text, XL_DATA_LABEL_POSITION.RIGHT, True
        )
    if scatter.line is not None:
        line = chart.plots[0].series[1]
        line.marker.style = XL_MARKER_STYLE.NONE
        line.format.line.color.rgb = rgb(brand.muted)
        line.format.line.width = Pt(1.5)
        line.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        line.smooth = False
    return chart


def _marker(marker, colour: str, size: int) -> None:
    marker.style = XL_MARKER_STYLE.CIRCLE
    marker.size = size
    marker.format.fill.solid()
    marker.format.fill.fore_color.rgb = rgb(colour)
    marker.format.line.color.rgb = rgb(colour)


# -- dendrogram ---------------------------------------------------------------------------------


def dendrogram_data(dendrogram: Dendrogram) -> XyChartData:
    """One series per merge: its bracket's four corners, x = height, y = leaf position
    counted from the bottom (the first leaf drawn is at the top)."""
    n = len(dendrogram.leaves)
    data = SafeXyChartData(number_format="0.00")
    for link in dendrogram_links(dendrogram):
        series = data.add_series(f"Merge {link.merge + 1}", number_format="0.00")
        for position, height in link.path:
            series.add_data_point(height, n - 1 - position)
    return data


def leaf_text(name: str) -> str:
    """A leaf's label on the slide: the name, cut at LEAF_CHARS (in full in the notes)."""
    name = one_line(name)
    return name if len(name) <= LEAF_CHARS else name[: LEAF_CHARS - 1].rstrip() + "…"


def leaf_size(dendrogram: Dendrogram, plot_height: int) -> float:
    """Leaf-label size in points: 10 pt, smaller when many leaves share the height."""
    per_leaf = plot_height / max(1, len(dendrogram.leaves)) / 12700  # EMU per point
    return max(6.0, min(LEAF_LABEL, round(per_leaf * 0.8 * 2) / 2))


def dendrogram_axis(
    dendrogram: Dendrogram, plot_width: int, size: float = LEAF_LABEL
) -> tuple[float, float, float]:
    """(x minimum, x maximum, step): whole steps left of 0 make room for the leaf labels."""
    top = max((m.height for m in dendrogram.merges), default=1.0) or 1.0
    step = nice_step(top / 6, 0.1)
    high = math.ceil(top / step) * step
    label = max(text_width(leaf_text(x), size) for x in dendrogram.leaves) + Inches(0.15)
    share = min(0.45, label / max(plot_width, 1))
    room = high * share / (1 - share)
    return -math.ceil(room / step) * step, high, step


def add_dendrogram(slide: Slide, dendrogram: Dendrogram, frame: Frame, brand: Brand) -> PptxChart:
    body = _caption(slide, dendrogram.caption, frame, brand)
    shape = slide.shapes.add_chart(
        XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS,
        body.left,
        body.top,
        body.width,
        body.height,
        dendrogram_data(dendrogram),
    )
    shape.name = one_line(dendrogram.title)[:100] or "Dendrogram"
    chart = shape.chart
    chart.has_title = False
    chart.has_legend = False
    chart.font.size = TICK_SIZE
    chart.font.color.rgb = rgb(brand.text)
    n = len(dendrogram.leaves)
    x_axis, y_axis = chart.category_axis, chart.value_axis
    size = leaf_size(dendrogram, body.height - Inches(0.8))  # less the axis and its title
    low, high, step = dendrogram_axis(dendrogram, body.width - Inches(0.6), size)
    x_axis.minimum_scale, x_axis.maximum_scale, x_axis.major_unit = low, high, step
    x_axis.tick_labels.number_format = "0.0;;0"  # no tick labels under the leaf names
    x_axis.tick_labels.number_format_is_linked = False
    x_axis.has_major_gridlines = True
    x_axis.major_gridlines.format.line.color.rgb = rgb(GRID_COLOUR)
    x_axis.format.line.color.rgb = rgb(GRID_COLOUR)
    x_axis.tick_labels.font.size = TICK_SIZE
    x_axis.tick_labels.font.color.rgb = rgb(brand.muted)
    axis_title(x_axis, dendrogram.height_label, brand)
    y_axis.minimum_scale, y_axis.maximum_scale = -0.5, n - 0.5
    y_axis.has_major_gridlines = False
    y_axis.tick_label_position = XL_TICK_LABEL_POSITION.NONE
    y_axis.format.line.fill.background()
    # Leaf names are data labels on the brackets' ends at height 0: a separate series of
    # leaves would need an invisible line, and LibreOffice then hides every line.
    for series, merge in zip(chart.plots[0].series, dendrogram.merges, strict=True):
        series.smooth = False
        series.marker.style = XL_MARKER_STYLE.NONE
        series.format.line.color.rgb = rgb(brand.primary)
        series.format.line.width = Pt(1.75)
        for point, child in ((0, merge.left), (3, merge.right)):
            if child < n:
                label = series.points[point].data_label
                text = leaf_text(dendrogram.leaves[child])
                custom_label(label, text, size, brand.text, XL_DATA_LABEL_POSITION.LEFT)
    return chart


def custom_label(label, text: str, size: float, colour: str, position, bold: bool = False) -> None:
    """A data label showing ``text`` instead of the value, styled on its run (PowerPoint
    and LibreOffice style custom label text by its runs, not by the label's defaults)."""
    label.has_text_frame = True
    frame = label.text_frame
    frame.text = one_line(text)
    font = frame.paragraphs[0].runs[0].font
    font.size, font.bold = Pt(size), bold
    font.color.rgb = rgb(colour)
    label.position = position


def _value_text(value: float, scatter: Scatter) -> str:
    return format_value(value, scatter.value_format, scatter.value_decimals)


def graphic_key_numbers(block: Heatmap | Scatter | Dendrogram) -> list[str]:
    """Speaker-note lines: every pair's value, the highlighted points, the last merges."""
    if isinstance(block, Heatmap):
        return [
            f"{block.labels[i]} × {block.labels[j]}: {block.value_label} "
            f"{signed(block.values[i][j], block.decimals)}"
            for i in range(len(block.labels))
            for j in range(i + 1, len(block.labels))
        ]
    if isinstance(block, Scatter):
        return [
            f"{p.label}: {block.y_label} {_value_text(p.y, block)}, "
            f"{block.x_label} {_value_text(p.x, block)}"
            for p in block.points
            if p.highlight
        ]
    order = ", ".join(block.leaves[i] for i in block.order)
    last = [f"{m.height:.2f} ({m.size} joined)" for m in reversed(block.merges[-3:])]
    return [f"Leaves top to bottom: {order}", f"Last merges at height: {'; '.join(last)}"]
