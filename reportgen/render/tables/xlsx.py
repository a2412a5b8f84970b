"""Document → the analyst workbook (XLSX): the numbers behind the deck, ready to pivot.

Every sheet is one tidy table from :mod:`._export` (the same tables as
the CSV folder), written as a real Excel table — structured references,
filter buttons, a frozen header in the brand's colour, widths that fit the
content. Numbers are stored as numbers with the Office twin of the report's
value format (percent, seconds, thousands separators), so a cell shows what
the deck shows while keeping full precision for formulas.

Excel's rules are enforced here rather than trusted to the data: sheet names
≤ 31 characters without ``[]:*?/\\`` and unique (case-insensitively), table
names that are valid, unique identifiers, and no text cell that could run as a
formula (see :mod:`._safe_cells`).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, date
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from reportgen import __version__
from reportgen.document import Brand, Document
from reportgen.errors import RenderError
from reportgen.render.tables._all import export_tables
from reportgen.render.tables._export import (
    BAD_WORDS,
    GENERAL,
    GOOD_WORDS,
    INTEGER,
    ExportColumn,
    ExportRow,
    ExportTable,
    FiguresMissing,
)
from reportgen.render.tables._package import splice_bodies
from reportgen.render.tables._safe_cells import write_text, xlsx_text
from reportgen.render.tables._sheet_xml import CellStyles, Link, SheetBody, body_xml

MAX_SHEET_NAME = 31
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]+")
_RESERVED_SHEET_NAMES = frozenset({"history"})  # Excel keeps it for change tracking
MIN_WIDTH, MAX_WIDTH = 6, 60  # column widths, in characters
FILTER_BUTTON = 3  # characters a header needs for its filter button
DATE_WIDTH = 11  # "yyyy-mm-dd" and a gap: right-aligned dates otherwise touch the next column
TABLE_STYLE = "TableStyleLight1"  # quiet banding; the header colour is the brand's
LINE_HEIGHT = 15.0  # points per line of 11 pt text: wrapped rows get an explicit height


def render_xlsx(document: Document, path: Path) -> None:
    """Write the workbook of ``document`` (which must carry its figures) to ``path``.

    The Index sheet comes first: a link to every other sheet and what it answers.
    openpyxl builds the workbook around the tables (header rows, styles,
    tables, notes, colours, print setup) and saves it in memory; the body
    rows are written as text straight into the file (:mod:`._sheet_xml`,
    :mod:`._package`), which is what makes a 500,000-cell workbook quick.
    """
    try:
        tables = export_tables(document)
    except FiguresMissing as exc:
        raise RenderError(str(exc), fix="render workbooks from build_report()") from None
    workbook = Workbook()
    workbook.remove(workbook.active)
    style = HeaderStyle.of(document.brand)
    names = SheetNames()
    index_name = names.claim("Index")
    claimed = [(names.claim(t.title, t.title_suffix), t) for t in tables]
    index = index_table(claimed, document)
    index_sheet = workbook.create_sheet(index_name)
    cells = CellStyles(index_sheet, style.body_font)
    bodies = {index_name: write_table(index_sheet, index, style, cells, sheet_links(claimed))}
    for name, table in claimed:
        bodies[name] = write_table(workbook.create_sheet(name), table, style, cells)
    _set_properties(workbook, document)
    package = BytesIO()
    workbook.save(package)
    splice_bodies(package.getvalue(), bodies, path)


def index_table(claimed: list[tuple[str, ExportTable]], document: Document) -> ExportTable:
    """One row per sheet: its name (a link), what it holds, its rows."""
    columns = (
        ExportColumn("sheet", "Sheet", "text"),
        ExportColumn("description", "What it answers", "text"),
        ExportColumn("rows", "Rows", "number", INTEGER),
    )
    rows = tuple(ExportRow((name, t.description or t.title, len(t.rows))) for name, t in claimed)
    return ExportTable(
        "index",
        "Index",
        columns,
        rows,
        notes={
            "sheet": f"{xlsx_text(document.title)}, {xlsx_text(document.period_label)}: "
            "click a sheet's name to open it."
        },
    )


def sheet_links(claimed: list[tuple[str, ExportTable]]) -> list[Link]:
    """Each Index row's first cell links to its sheet (an internal link, not a formula)."""
    links = []
    for row, (name, _) in enumerate(claimed):
        quoted = name.replace("'", "''")
        links.append(Link(row, 0, f"'{quoted}'!A1", name))
    return links


def _set_properties(workbook: Workbook, document: Document) -> None:
    props = workbook.properties
    props.title = xlsx_text(document.title)[:255]
    props.subject = xlsx_text(document.period_label)[:255]
    props.creator = f"reportgen {__version__}"
    props.created = document.generated_at.astimezone(UTC).replace(tzinfo=None)


# -- sheet and table names ------------------------------------------------------------------


def _units(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, room: int) -> str:
    """``text`` cut to ``room`` units at a word if one ends late enough (no "…": Excel's
    sheet tabs and formulas name sheets exactly, and an ellipsis is one more thing to type)."""
    if _units(text) <= room:
        return text
    out = ""
    for char in text:
        if _units(out + char) > room:
            break
        out += char
    words = out.rsplit(" ", 1)[0]
    return (words if len(words) >= room * 2 // 3 else out).rstrip()


def _clean_sheet_text(text: str) -> str:
    return re.sub(r"\s+", " ", _INVALID_SHEET_CHARS.sub(" ", text))


class SheetNames:
    """Hands out valid, unique sheet names; a long title keeps its suffix (" by region")."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, title: str, suffix: str = "") -> str:
        title, suffix = _clean_sheet_text(title).strip(), _clean_sheet_text(suffix).rstrip()
        n = 1
        while True:
            name = self._compose(title, suffix, f" ({n})" if n > 1 else "")
            if name.lower() not in self.taken and name.lower() not in _RESERVED_SHEET_NAMES:
                self.taken.add(name.lower())
                return name
            n += 1

    @staticmethod
    def _compose(title: str, suffix: str, counter: str) -> str:
        room = MAX_SHEET_NAME - _units(counter)
        if _units(suffix) > room // 2:  # an odd, long suffix: shorten everything together
            title, suffix = title + suffix, ""
        name = _clip(title, room - _units(suffix)) + suffix
        name = name.strip(" '") or "Sheet"
        return _clip(name, room) + counter


def table_name(name: str) -> str:
    """An Excel table name: starts with a letter, ``[A-Za-z0-9_.]`` only, never a cell reference.

    The ``tbl_`` prefix rules out names Excel would read as a reference
    (``AHT1``, ``R1C1``); export names are already unique slugs.
    """
    return "tbl_" + re.sub(r"[^A-Za-z0-9_]", "_", name)[:240]


# -- writing a table ------------------------------------------------------------------------


class HeaderStyle:
    """The brand's header: fill in the primary colour, text white or dark, whichever reads."""

    def __init__(
        self, fill: str, text: str, font: str, good: str = "1A7F37", bad: str = "C62828"
    ) -> None:
        self.fill = PatternFill("solid", fgColor="FF" + fill)
        self.font = Font(name=font, bold=True, color="FF" + text)
        self.body_font = Font(name=font)
        # the brand's good / bad colours: the text in the colour, the cell in a pale tint
        self.good_fill = PatternFill(
            "solid", bgColor="FF" + _tint(good), fgColor="FF" + _tint(good)
        )
        self.bad_fill = PatternFill("solid", bgColor="FF" + _tint(bad), fgColor="FF" + _tint(bad))
        self.good_font = Font(color="FF" + good)
        self.bad_font = Font(color="FF" + bad)

    @classmethod
    def of(cls, brand: Brand) -> HeaderStyle:
        primary = brand.primary.lstrip("#").upper()
        text = "FFFFFF" if _luminance(primary) < 0.5 else brand.text.lstrip("#").upper()
        font = brand.font_family.split(",")[0].strip().strip("'\"")
        good, bad = (c.lstrip("#").upper()[:6] for c in (brand.good, brand.bad))
        return cls(primary, text, font, good, bad)


def _tint(hex_colour: str, keep: float = 0.15) -> str:
    """A pale version of ``RRGGBB`` (``keep`` of the colour over white): a readable cell fill."""
    channels = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return "".join(f"{round(255 - (255 - c) * keep):02X}" for c in channels)


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of an ``RRGGBB`` colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def write_table(
    sheet: Worksheet,
    table: ExportTable,
    style: HeaderStyle,
    cells: CellStyles,
    links: list[Link] | None = None,
) -> SheetBody:
    """Header, an Excel table over the rows, frozen header, widths and print setup.

    Returns the body rows as text, for :func:`._package.splice_bodies`.
    """
    for col, column in enumerate(table.columns, 1):
        cell = sheet.cell(1, col)
        write_text(cell, column.header)
        cell.fill, cell.font = style.fill, style.font
        cell.alignment = Alignment(vertical="center")
    last_row = max(len(table.rows), 1) + 1  # an empty table keeps one blank row: Excel needs it
    ref = f"A1:{get_column_letter(len(table.columns))}{last_row}"
    # the columns named here, so openpyxl need not read (and create) every cell of the range
    headers = [TableColumn(id=i, name=xlsx_text(c.header)) for i, c in enumerate(table.columns, 1)]
    excel_table = Table(
        displayName=table_name(table.name),
        ref=ref,
        autoFilter=AutoFilter(ref=ref),
        tableColumns=headers,
    )
    excel_table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
    sheet.add_table(excel_table)
    sheet.freeze_panes = f"{get_column_letter(table.label_columns + 1)}2"  # header and label
    _add_notes(sheet, table)
    _add_highlight(sheet, table, last_row, style)
    layout = fit_columns(table)
    for col, width in enumerate(layout.widths, 1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _print_setup(sheet)
    return body_xml(table, cells, layout.wrapped, layout.heights, links or ())


def _add_notes(sheet: Worksheet, table: ExportTable) -> None:
    """Header notes (Excel's comments): how a column is read, e.g. the aggregation rule."""
    for col, column in enumerate(table.columns, 1):
        text = table.notes.get(column.key)
        if text:
            note = Comment(xlsx_text(text), "reportgen", width=320, height=140)
            sheet.cell(1, col).comment = note


def _add_highlight(sheet: Worksheet, table: ExportTable, last_row: int, style: HeaderStyle) -> None:
    """Good / bad colours by a status column, as the PDF colours a target cell.

    Conditional formatting, so the cells keep their plain values (no formula
    in any cell) and a user's filter or sort keeps the colours right.
    """
    rule = table.highlight
    keys = [c.key for c in table.columns]
    if rule is None or rule.column not in keys or not table.rows:
        return
    status = f"${get_column_letter(keys.index(rule.column) + 1)}2"
    for key in rule.cells:
        if key not in keys:
            continue
        letter = get_column_letter(keys.index(key) + 1)
        cells = f"{letter}2:{letter}{last_row}"
        for words, fill, font in (
            (GOOD_WORDS, style.good_fill, style.good_font),
            (BAD_WORDS, style.bad_fill, style.bad_font),
        ):
            test = ",".join(f'{status}="{w}"' for w in words)
            sheet.conditional_formatting.add(
                cells, FormulaRule(formula=[f"OR({test})"], fill=fill, font=font, stopIfTrue=True)
            )


@dataclass(frozen=True)
class ColumnLayout:
    """Column widths (characters), the columns whose text wraps and the rows that need height."""

    widths: list[int]
    wrapped: frozenset[int]  # 0-based columns
    heights: dict[int, float]  # 0-based body row → points


def fit_columns(table: ExportTable) -> ColumnLayout:
    """Widths from the content, capped; long text wraps instead of running off the page.

    Rows holding wrapped text get an explicit height: LibreOffice does not
    re-measure rows of an imported workbook, so wrapped lines would overlap.
    """
    lines = [1] * len(table.rows)
    widths, wrapped = [], set()
    for col, column in enumerate(table.columns):
        width = max(_units(column.header) + FILTER_BUTTON, _content_width(table, column, col)) + 1
        widths.append(min(max(width, MIN_WIDTH), MAX_WIDTH))
        if width <= MAX_WIDTH:
            continue
        wrapped.add(col)
        for i, row in enumerate(table.rows):
            lines[i] = max(lines[i], _wrapped_lines(row.values[col], MAX_WIDTH - 2))
    heights = {i: LINE_HEIGHT * count for i, count in enumerate(lines) if count > 1}
    return ColumnLayout(widths, frozenset(wrapped), heights)


def _wrapped_lines(value: Any, width: int) -> int:
    """How many lines ``value`` wraps to in a column ``width`` characters wide (by words)."""
    if not isinstance(value, str):
        return 1
    total = 0
    for paragraph in value.splitlines() or [""]:
        count, used = 1, 0
        for word in paragraph.split():
            size = _units(word)
            if used and used + 1 + size > width:
                count, used = count + 1, 0
            if size > width:  # a word longer than the column is broken across lines
                count += (size - 1) // width
                used = size % width or width
            else:
                used += size + (1 if used else 0)
        total += count
    return total


def _content_width(table: ExportTable, column: ExportColumn, col: int) -> int:
    """Roughly how many characters the widest cell of ``column`` shows.

    A number's shown width grows with its magnitude, so per format only the
    largest magnitude is measured; each distinct text is measured once.
    """
    token = column.number_format
    plain = None if token.startswith("@") else token
    widest = 0
    largest: dict[str, float] = {}  # number format → the largest magnitude shown in it
    measured: set[str] = set()
    for row in table.rows:
        value = row.values[col]
        kind = type(value)
        if kind is float or kind is int:
            fmt = plain or row.formats.get(token, GENERAL)
            if fmt == GENERAL:  # General shows the digits the number has
                widest = max(widest, _number_width(float(value), fmt))
            elif math.isfinite(value) and abs(value) > largest.get(fmt, -1.0):
                largest[fmt] = abs(value)
        elif kind is str:
            if value not in measured:
                measured.add(value)
                widest = max(widest, _text_width(value))
        elif value is not None:
            widest = max(widest, _other_width(value, row.number_format(column)))
    for fmt, magnitude in largest.items():
        widest = max(widest, _number_width(float(magnitude), fmt))
    return widest


def _text_width(text: str) -> int:
    """The longest line of ``text``, in UTF-16 units as Excel counts characters."""
    if text.isprintable():  # no line breaks: one line
        return len(text) if text.isascii() else _units(text)
    return max(_units(line) for line in text.splitlines() or [""])


def _other_width(value: Any, number_format: str) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        return _number_width(float(value), number_format)
    if isinstance(value, date):
        return DATE_WIDTH
    return _text_width(str(value))


def _number_width(value: float, number_format: str) -> int:
    """Roughly how many characters ``value`` takes in ``number_format``."""
    if not math.isfinite(value):
        return 0
    if number_format == GENERAL:
        return min(len(repr(value)), 11)
    places, scale, literal = _format_parts(number_format)
    if places < 0:  # scientific
        return 9
    return len(f"{abs(value) * scale:,.{places}f}") + literal + 3  # sign, %, a gap


@functools.lru_cache(maxsize=256)
def _format_parts(number_format: str) -> tuple[int, int, int]:
    """(decimal places or −1 for scientific, scale, literal characters) of a format's first section."""
    section = number_format.split(";")[0]
    if "E+" in section:
        return -1, 1, 0
    decimals = re.search(r"\.(0+)", section)
    places = len(decimals.group(1)) if decimals else 0
    literal = "".join(re.findall(r'"([^"]*)"', section))
    return places, (100 if "%" in section else 1), len(literal)


def _print_setup(sheet: Worksheet) -> None:
    """Landscape, one page wide: a printed or PDF-converted sheet stays readable."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
