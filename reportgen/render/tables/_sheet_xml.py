"""A table's body rows as SpreadsheetML text, written in one pass.

Nearly every cell of the workbook is a body cell (about 550,000 for the demo
week), and building an openpyxl ``Cell`` per value, then serialising each
through lxml, took most of the workbook's time. Here a row is one f-string:
the cell reference, the style id, the type and the value. openpyxl still
builds everything whose size does not grow with the data (the header row,
styles, tables, notes, conditional formats, print setup), and
:mod:`._package` splices these rows into the sheets it saved.

The cells are the ones the workbook held when every cell went through
openpyxl: numbers as the shortest text that reads back as the same double
(openpyxl's own ``%.16g`` would drop a 17th digit), dates as Excel serial
days, booleans as ``t="b"``, text always as an inline string (never a
formula, see :mod:`._safe_cells`), and an empty cell keeps the row's font
and alignment (General format). A NaN or infinity (which Excel cannot hold)
is an empty cell in its column's number format.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from reportgen.render.tables._export import DATE, GENERAL, ExportTable
from reportgen.render.tables._safe_cells import inline_text

#: Excel shows a boolean cell as TRUE/FALSE whatever its format; LibreOffice shows 1/0 without one.
BOOLEAN = '"TRUE";"TRUE";"FALSE"'
TOP = Alignment(vertical="top")  # rows with wrapped text stay aligned on their first line
WRAP = Alignment(wrap_text=True, vertical="top")
LINK_COLOUR = "FF0563C1"  # Office's hyperlink blue
ROWS_PER_CHUNK = 2000  # rows joined into one string before they are written out

#: (number format, wrap, quote prefix, link) → style id
StyleOf = Callable[[str, bool, bool, bool], int]


@dataclass(frozen=True)
class StyleKey:
    """What a body cell's style depends on."""

    number_format: str
    wrap: bool = False
    quote_prefix: bool = False  # text that would read as a formula (see _safe_cells)
    link: bool = False


class CellStyles:
    """Style ids (indexes into the workbook's ``cellXfs``) for body cells, one per distinct key.

    Each style is registered by dressing a probe cell that is never placed on
    a sheet: openpyxl adds its font, alignment and number format to the
    workbook's style tables and hands back the id, which the body text
    references as ``s="…"``.
    """

    def __init__(self, sheet: Worksheet, font: Font) -> None:
        self.sheet = sheet
        self.font = font
        self.link_font = Font(name=font.name, color=LINK_COLOUR, underline="single")
        self.ids: dict[StyleKey, int] = {}

    def id_of(self, key: StyleKey) -> int:
        found = self.ids.get(key)
        if found is None:
            probe = Cell(self.sheet)
            probe.font = self.link_font if key.link else self.font
            probe.alignment = WRAP if key.wrap else TOP
            probe.number_format = key.number_format
            if key.quote_prefix:
                probe.quotePrefix = True
            found = self.ids[key] = probe.style_id
        return found


@dataclass(frozen=True)
class Link:
    """An internal link from a body cell to a place in the workbook (``'Sheet'!A1``)."""

    row: int  # 0-based body row
    column: int  # 0-based column
    location: str
    display: str


@dataclass
class SheetBody:
    """The body rows of one sheet as text, and what the sheet must say about them."""

    chunks: list[str] = field(default_factory=list)
    dimension: str | None = None  # the used range including the header; None: header only
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (cell, location, display)

    def hyperlinks_xml(self) -> str:
        """The sheet's ``<hyperlinks>`` element ('' without links)."""
        if not self.links:
            return ""
        items = "".join(
            f'<hyperlink ref="{ref}" location="{_attribute(location)}" '
            f'display="{_attribute(display)}"/>'
            for ref, location, display in self.links
        )
        return f"<hyperlinks>{items}</hyperlinks>"


def body_xml(
    table: ExportTable,
    styles: CellStyles,
    wrapped: frozenset[int] = frozenset(),
    heights: Mapping[int, float] | None = None,
    links: Sequence[Link] = (),
) -> SheetBody:
    """The ``<row>`` elements of ``table`` below its header (sheet rows 2…).

    ``wrapped`` holds the 0-based columns whose text wraps, ``heights`` the
    explicit heights (points) of 0-based body rows that hold wrapped text.
    """
    heights = heights or {}
    columns = table.columns
    letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
    wraps = [i in wrapped for i in range(len(columns))]
    linked = {(link.row, link.column): link for link in links}
    style_ids: dict[tuple[str, bool, bool, bool], int] = {}

    def style(number_format: str, wrap: bool, quote: bool, link: bool) -> int:
        key = (number_format, wrap, quote, link)
        found = style_ids.get(key)
        if found is None:
            found = style_ids[key] = styles.id_of(StyleKey(number_format, wrap, quote, link))
        return found

    # a column's format, or None when each row resolves it (ExportRow.number_format)
    plain = [None if c.number_format.startswith("@") else c.number_format for c in columns]
    tokens = [c.number_format for c in columns]
    repeated: dict[tuple[object, str, bool, bool], str] = {}  # text and empty cells recur a lot
    body = SheetBody()
    rows: list[str] = []
    for i, row in enumerate(table.rows):
        number = i + 2
        formats = row.formats
        cells = []
        for c, value in enumerate(row.values):
            fmt = plain[c] or formats.get(tokens[c], GENERAL)
            link = False
            if linked and (i, c) in linked:
                found = linked[i, c]
                body.links.append((f"{letters[c]}{number}", found.location, found.display))
                link = True
            kind = type(value)
            if kind is float and math.isfinite(value):  # most cells: inlined for speed
                s = style(fmt, wraps[c], False, link)
                tail = f' s="{s}"><v>{float.__repr__(value)}</v></c>'
            elif kind is str or value is None:
                key = (value, fmt, wraps[c], link)
                known = repeated.get(key)
                if known is None:
                    known = repeated[key] = _cell_tail(value, fmt, wraps[c], link, style)
                tail = known
            else:
                tail = _cell_tail(value, fmt, wraps[c], link, style)
            cells.append(f'<c r="{letters[c]}{number}"{tail}')
        height = heights.get(i)
        attributes = f' ht="{height:g}" customHeight="1"' if height else ""
        rows.append(f'<row r="{number}"{attributes}>{"".join(cells)}</row>')
        if len(rows) == ROWS_PER_CHUNK:
            body.chunks.append("".join(rows))
            rows = []
    if rows:
        body.chunks.append("".join(rows))
    if table.rows:
        body.dimension = f"A1:{letters[-1]}{len(table.rows) + 1}"
    return body


def _cell_tail(value: object, number_format: str, wrap: bool, link: bool, style: StyleOf) -> str:
    """A ``<c>`` element after its reference: the value typed as what it is, with its style."""
    if value is None:
        return f' s="{style(GENERAL, wrap, False, link)}"/>'
    if isinstance(value, bool):
        return f' s="{style(BOOLEAN, wrap, False, link)}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, float):
        s = style(number_format, wrap, False, link)
        if not math.isfinite(value):  # figures.json never holds NaN/inf; Excel cannot
            return f' s="{s}"/>'
        # the shortest text that reads back as the same double (openpyxl's %.16g loses a digit)
        return f' s="{s}"><v>{float.__repr__(value)}</v></c>'
    if isinstance(value, int):
        return f' s="{style(number_format, wrap, False, link)}"><v>{int(value)}</v></c>'
    if isinstance(value, date):
        serial = to_excel(value)
        text = str(int(serial)) if float(serial).is_integer() else repr(float(serial))
        return f' s="{style(DATE, wrap, False, link)}"><v>{text}</v></c>'
    text, quote = inline_text(str(value))
    s = style(GENERAL, wrap, quote, link)
    if not text:  # no text: an empty cell, as openpyxl reads it back (None)
        return f' s="{s}"/>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f' s="{s}" t="inlineStr"><is><t{space}>{_text(text)}</t></is></c>'


def _text(text: str) -> str:
    """``text`` as XML character data; a carriage return survives as ``&#13;``."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _attribute(text: str) -> str:
    """``text`` as an XML attribute value (in double quotes); whitespace survives as references."""
    return _text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
