"""Native PPTX tables that fit: column widths from content, rows paginated.

PowerPoint and LibreOffice grow a table row to fit its wrapped text but never
move rows to another slide, so a long table silently runs off the bottom.
This module therefore sizes columns from their content (numbers keep their
natural width, long text columns share what is left and wrap), estimates each
row's wrapped height, and splits the rows into pages that each fit — the
header row repeated on every page. Nothing is truncated: text that does not
fit a column wraps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pptx.enum.text import MSO_ANCHOR
from pptx.slide import Slide
from pptx.util import Emu, Inches

from reportgen.document import Brand, Cell, Table

from ._pptx_template import Frame
from ._pptx_text import (
    Para,
    Run,
    clean_text,
    line_height,
    longest_word_width,
    paras_height,
    rgb,
    text_width,
    tint,
    wrapped_lines,
    write_paragraphs,
)

FONT_SIZES = (11.0, 10.0)  # preferred first; 10 pt is the smallest a room can read
HEADING_SIZE = 12.0
CAPTION_SIZE = 10.0
MARGIN_X = Inches(0.08)
MARGIN_Y = Inches(0.045)


@dataclass(frozen=True)
class TableFit:
    """How a table is drawn in a given width: font size, column widths, row heights."""

    size: float
    widths: tuple[int, ...]
    header_height: int
    row_heights: tuple[int, ...]

    @property
    def width(self) -> int:
        return sum(self.widths)


def _cells(table: Table) -> list[list[str]]:
    header = [clean_text(column.label) for column in table.columns]
    return [header, *([clean_text(cell.text) for cell in row] for row in table.rows)]


def _natural(texts: Sequence[str], size: float) -> tuple[int, int]:
    """(natural width, narrowest width without breaking a word) of one column.

    ``texts[0]`` is the header: it may wrap onto two lines, so it counts only
    with its longest word — a long header must not make a column of numbers wide.
    """
    header, body = texts[0], texts[1:]
    natural = _two_line_width(header, size)
    for text in body:
        natural = max([natural, *(text_width(line, size) for line in text.split("\n"))])
    minimum = max(
        [longest_word_width(header, size, bold=True), *(longest_word_width(t, size) for t in body)]
    )
    return natural + 2 * MARGIN_X, minimum + 2 * MARGIN_X


def _two_line_width(text: str, size: float) -> int:
    """Narrowest width that holds ``text`` (bold) on at most two lines."""
    words = text.split()
    if len(words) < 2:
        return text_width(text, size, bold=True)
    return min(
        max(
            text_width(" ".join(words[:cut]), size, bold=True),
            text_width(" ".join(words[cut:]), size, bold=True),
        )
        for cut in range(1, len(words))
    )


def _cap_widths(natural: list[int], minimum: list[int], available: int) -> list[int]:
    """Shrink only the widest columns to a common cap, so short columns never wrap.

    Finds the largest cap ``c`` with ``Σ min(natural, max(c, minimum)) ≤ available``
    by bisection; if even the minimum widths do not fit, scales those down
    (words then break inside a cell — still visible, never cut).
    """
    if sum(minimum) > available:
        scale = available / sum(minimum)
        return [int(w * scale) for w in minimum]
    low, high = 0, max(natural)
    while high - low > 1:
        cap = (low + high) // 2
        total = sum(min(n, max(cap, m)) for n, m in zip(natural, minimum, strict=True))
        low, high = (cap, high) if total <= available else (low, cap)
    return [min(n, max(low, m)) for n, m in zip(natural, minimum, strict=True)]


def column_widths(table: Table, available: int, size: float, *, min_width: int = 0) -> list[int]:
    """Column widths in EMU for ``table`` at ``size`` pt: natural, capped to ``available``,
    stretched proportionally to ``min_width`` when the table would look lost on its slide."""
    cells = _cells(table)
    columns = list(zip(*cells, strict=True))
    measured = [_natural(column, size) for column in columns]
    natural = [n for n, _ in measured]
    minimum = [m for _, m in measured]
    if sum(natural) > available:
        return _cap_widths(natural, minimum, available)
    target = min(min_width, available)
    if sum(natural) >= target:
        return natural
    extra = target - sum(natural)
    widths = [n + extra * n // sum(natural) for n in natural]
    widths[-1] += target - sum(widths)
    return widths


def _row_height(texts: Sequence[str], widths: Sequence[int], size: float, bold: bool) -> int:
    lines = max(
        wrapped_lines(text, max(width - 2 * MARGIN_X, 1), size, bold=bold)
        for text, width in zip(texts, widths, strict=True)
    )
    return lines * line_height(size) + 2 * MARGIN_Y + Inches(0.02)


def fit_table(table: Table, available: int, *, min_width: int = 0) -> TableFit:
    """Choose the largest readable font whose word-unbroken columns fit ``available``."""
    cells = _cells(table)
    for size in FONT_SIZES:
        widths = column_widths(table, available, size, min_width=min_width)
        fits = all(
            longest_word_width(text, size, bold=index == 0) + 2 * MARGIN_X <= width
            for index, row in enumerate(cells)
            for text, width in zip(row, widths, strict=True)
        )
        if fits or size == FONT_SIZES[-1]:
            heights = [_row_height(row, widths, size, bold=i == 0) for i, row in enumerate(cells)]
            return TableFit(size, tuple(widths), heights[0], tuple(heights[1:]))
    raise AssertionError("unreachable: the last font size always returns")


def paginate(fit: TableFit, first_capacity: int, capacity: int, start: int = 0) -> list[range]:
    """Split body rows from ``start`` into pages: the first holds ``first_capacity`` EMU of
    rows and header, the others ``capacity``.

    Every page repeats the header and holds at least one row, so a single
    very tall row still appears (on a page of its own) rather than vanishing.
    """
    pages: list[range] = []
    used, room = fit.header_height, first_capacity
    for index in range(start, len(fit.row_heights)):
        height = fit.row_heights[index]
        if used + height > room and index > start:
            pages.append(range(start, index))
            start, used, room = index, fit.header_height, capacity
        used += height
    pages.append(range(start, len(fit.row_heights)))
    return pages


def heading_paras(table: Table, brand: Brand, continued: str = "") -> list[Para]:
    """The table's title (and caption) above it — above, so it can never collide."""
    paras = [Para.of(table.title + continued, HEADING_SIZE, bold=True, colour=brand.text)]
    if table.caption:
        paras.append(Para.of(table.caption, CAPTION_SIZE, italic=True, colour=brand.muted))
    return paras


def heading_height(table: Table, brand: Brand, width: int) -> int:
    return paras_height(heading_paras(table, brand, " (continued)"), width) + Inches(0.1)


def draw_table(
    slide: Slide, table: Table, rows: range, fit: TableFit, frame: Frame, brand: Brand
) -> None:
    """Draw rows ``rows`` of ``table`` as a native table at the top-left of ``frame``."""
    body = [table.rows[i] for i in rows]
    height = fit.header_height + sum(fit.row_heights[i] for i in rows)
    shape = slide.shapes.add_table(
        len(body) + 1,
        len(table.columns),
        Emu(frame.left),
        Emu(frame.top),
        Emu(fit.width),
        Emu(height),
    )
    shape.name = clean_text(table.title)[:100] or "Table"
    grid = shape.table
    grid.first_row = True
    grid.horz_banding = False
    for column, width in zip(grid.columns, fit.widths, strict=True):
        column.width = Emu(width)
    grid.rows[0].height = Emu(fit.header_height)
    for row, index in zip(list(grid.rows)[1:], rows, strict=True):
        row.height = Emu(fit.row_heights[index])
    band = "#" + tint(brand.primary, 0.93)
    for col, column in enumerate(table.columns):
        _style_cell(
            grid.cell(0, col),
            Cell(column.label),
            column.align,
            fit.size,
            brand,
            brand.primary,
            header=True,
        )
        for r, cells in enumerate(body, start=1):
            fill = band if r % 2 == 0 else brand.background
            _style_cell(grid.cell(r, col), cells[col], column.align, fit.size, brand, fill)


def _style_cell(
    cell, value: Cell, align: str, size: float, brand: Brand, fill: str, *, header: bool = False
) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = rgb(fill)
    cell.margin_left = cell.margin_right = Emu(MARGIN_X)
    cell.margin_top = cell.margin_bottom = Emu(MARGIN_Y)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    if header:
        colour, bold = brand.background, True
    elif value.sentiment in ("good", "bad"):
        colour, bold = brand.sentiment_colour(value.sentiment), True
    else:
        colour, bold = brand.text, False
    paras = [Para((Run(line, size, bold, colour),), align) for line in value.text.split("\n")]
    write_paragraphs(cell.text_frame, paras, anchor=None)
