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

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Emu, Inches

from reportgen.document import Brand, Cell, Table
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import (
    Para,
    Run,
    clean_text,
    line_height,
    longest_word_width,
    one_line,
    paras_height,
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
SHORT_CELL = 16  # characters: cells this short never wrap (numbers with units, segment names)


@dataclass(frozen=True)
class TableFit:
    """How a table is drawn in a given width: font size, column widths, row heights."""

    size: float
    widths: tuple[int, ...]
    header_height: int
    row_heights: tuple[int, ...]
    words_fit: bool = True  # every word fits its column unbroken

    @property
    def width(self) -> int:
        return sum(self.widths)

    @property
    def height(self) -> int:
        return self.header_height + sum(self.row_heights)


def _cells(table: Table) -> list[list[str]]:
    header = [clean_text(column.label) for column in table.columns]
    return [header, *([clean_text(cell.text) for cell in row] for row in table.rows)]


def _unbreakable(text: str, size: float, *, bold: bool = False) -> int:
    """Width a cell needs without a line break inside what must stay together.

    A short cell ("61 s", "+2.1 pp", "Southeast Asia") is one unit — a number
    split from its unit misreads; a longer text may break between words.
    """
    if len(text) <= SHORT_CELL and "\n" not in text:
        return text_width(text, size, bold=bold)
    return longest_word_width(text, size, bold=bold)


def _natural(texts: Sequence[str], size: float) -> tuple[int, int]:
    """(natural width, narrowest width that breaks nothing) of one column.

    ``texts[0]`` is the header: it may wrap onto two lines, so it counts only
    with its longest word — a long header must not make a column of numbers wide.
    """
    header, body = texts[0], texts[1:]
    natural = _two_line_width(header, size)
    for text in body:
        natural = max([natural, *(text_width(line, size) for line in text.split("\n"))])
    minimum = max(
        [longest_word_width(header, size, bold=True), *(_unbreakable(t, size) for t in body)]
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


def _share_widths(natural: list[int], minimum: list[int], available: int) -> list[int]:
    """Give every column its unbroken-word minimum, then share the rest by how much
    more each would like (as browsers lay out tables): long text columns get the
    room, short label and number columns stay close to their natural width.

    If even the minimum widths do not fit, they are scaled down (a long word
    then breaks inside its cell — still visible, never cut).
    """
    if sum(minimum) >= available:
        scale = available / sum(minimum)
        return [int(w * scale) for w in minimum]
    wants = [n - m for n, m in zip(natural, minimum, strict=True)]
    spare = available - sum(minimum)
    widths = [
        m + spare * want // max(sum(wants), 1) for m, want in zip(minimum, wants, strict=True)
    ]
    widths[max(range(len(widths)), key=wants.__getitem__)] += available - sum(widths)
    return widths


def _column_widths(
    cells: list[list[str]], available: int, size: float, min_width: int
) -> list[int]:
    """Column widths in EMU at ``size`` pt: natural, shared out within ``available``.

    A narrow table is stretched proportionally to ``min_width``, so that it does
    not look lost on a slide of its own.
    """
    columns = list(zip(*cells, strict=True))
    measured = [_natural(column, size) for column in columns]
    natural = [n for n, _ in measured]
    minimum = [m for _, m in measured]
    if sum(natural) > available:
        return _share_widths(natural, minimum, available)
    headers = [text_width(column[0], size, bold=True) + 2 * MARGIN_X for column in columns]
    one_line = [max(n, h) for n, h in zip(natural, headers, strict=True)]
    if sum(one_line) <= min(min_width, available):
        natural = one_line  # the table is stretched anyway: headers on one line
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


def _fit_at(table: Table, size: float, available: int, min_width: int) -> TableFit:
    cells = _cells(table)
    widths = _column_widths(cells, available, size, min_width)
    header, *body = cells
    words_fit = all(
        longest_word_width(text, size, bold=True) + 2 * MARGIN_X <= width
        for text, width in zip(header, widths, strict=True)
    ) and all(
        _unbreakable(text, size) + 2 * MARGIN_X <= width
        for row in body
        for text, width in zip(row, widths, strict=True)
    )
    heights = [_row_height(row, widths, size, bold=i == 0) for i, row in enumerate(cells)]
    return TableFit(size, tuple(widths), heights[0], tuple(heights[1:]), words_fit)


def fit_table(
    table: Table, available: int, *, min_width: int = 0, capacity: int | None = None
) -> TableFit:
    """The largest readable font size (11 or 10 pt) for ``table`` in ``available`` EMU.

    Prefers sizes whose words fit their columns unbroken, and among those one
    whose rows fit ``capacity`` (so a table that almost fits is set a point
    smaller rather than leaving one row on a slide of its own).
    """
    fits = [_fit_at(table, size, available, min_width) for size in FONT_SIZES]
    unbroken = [fit for fit in fits if fit.words_fit] or fits[-1:]
    one_page = [fit for fit in unbroken if capacity is None or fit.height <= capacity]
    return (one_page or unbroken)[0]


def _greedy(
    fit: TableFit, start: int, first_capacity: int, capacity: int, max_rows: int
) -> list[range]:
    pages: list[range] = []
    used, room = fit.header_height, first_capacity
    for index in range(start, len(fit.row_heights)):
        height = fit.row_heights[index]
        full = used + height > room or index - start >= max_rows
        if full and index > start:
            pages.append(range(start, index))
            start, used, room = index, fit.header_height, capacity
        used += height
    pages.append(range(start, len(fit.row_heights)))
    return pages


def paginate(fit: TableFit, first_capacity: int, capacity: int, start: int = 0) -> list[range]:
    """Split body rows from ``start`` into pages of at most ``first_capacity`` EMU (first
    page, header included) and ``capacity`` (the others).

    Every page repeats the header and holds at least one row, so a very tall
    row still appears (on a page of its own) rather than vanishing. Pages after
    the first are balanced (16 rows → 8 + 8, not 15 + 1) when that needs no
    extra page.
    """
    pages = _greedy(fit, start, first_capacity, capacity, len(fit.row_heights))
    rest = pages[1:] if first_capacity != capacity else pages
    if len(rest) < 2:
        return pages
    head = pages[:1] if rest is not pages else []
    first_row = rest[0].start
    per_page = math.ceil((len(fit.row_heights) - first_row) / len(rest))
    balanced = _greedy(fit, first_row, capacity, capacity, per_page)
    return head + (balanced if len(balanced) == len(rest) else rest)


def heading_paras(
    table: Table, brand: Brand, continued: str = "", *, caption: bool = True
) -> list[Para]:
    """The table's title (and caption) above it — above, so it can never collide.

    A continuation page may leave the caption out: it was said on the first page.
    """
    paras = [Para.of(table.title + continued, HEADING_SIZE, bold=True, colour=brand.text)]
    if table.caption and caption:
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
    shape.name = one_line(table.title)[:100] or "Table"
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
        for r, (index, cells) in enumerate(zip(rows, body, strict=True), start=1):
            fill = band if r % 2 == 0 else brand.background
            muted = index in table.muted_rows
            _style_cell(
                grid.cell(r, col), cells[col], column.align, fit.size, brand, fill, muted=muted
            )


def _cell_properties(cell, fill: str) -> None:
    """Fill, margins and middle anchor as ``a:tcPr`` attributes, written once per cell.

    What ``cell.fill.solid()``, ``cell.margin_*`` and ``cell.vertical_anchor`` write,
    without their proxies (a deck styles about 2,300 cells).
    """
    properties = cell._tc.get_or_add_tcPr()
    for side, margin in (("L", MARGIN_X), ("R", MARGIN_X), ("T", MARGIN_Y), ("B", MARGIN_Y)):
        properties.set(f"mar{side}", str(margin))
    properties.set("anchor", "ctr")
    solid = properties.get_or_change_to_solidFill()
    solid.clear()
    etree.SubElement(solid, qn("a:srgbClr")).set("val", fill.lstrip("#").upper())


def _style_cell(
    cell,
    value: Cell,
    align: str,
    size: float,
    brand: Brand,
    fill: str,
    *,
    header: bool = False,
    muted: bool = False,
) -> None:
    _cell_properties(cell, fill)
    if header:
        colour, bold = brand.background, True
    elif muted:  # a small sample: greyed, never coloured as news
        colour, bold = brand.muted, False
    elif value.sentiment in ("good", "bad"):
        colour, bold = brand.sentiment_colour(value.sentiment), True
    else:
        colour, bold = brand.text, False
    paras = [Para((Run(line, size, bold, colour),), align) for line in value.text.split("\n")]
    write_paragraphs(cell.text_frame, paras, anchor=None)
