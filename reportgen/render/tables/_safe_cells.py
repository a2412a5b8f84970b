"""Spreadsheet text that can never run as a formula (OWASP "CSV injection").

Segment labels, queue names and anomaly details come from data. A label such as
``=HYPERLINK("http://evil", "click")`` or ``@SUM(1+1)*cmd|' /C calc'!A0`` is a
formula to Excel and LibreOffice as soon as a sheet or a CSV is opened (or a
cell is edited), so every text cell the exports write goes through here:

* CSV: a text value that a spreadsheet would read as a formula gets a leading
  apostrophe, OWASP's recommended neutraliser (spreadsheets hide it; a
  pipeline sees it and can strip it).
* XLSX: the cell is typed as a string (``t="inlineStr"``, never ``<f>``) and
  carries the ``quotePrefix`` style, so the value round-trips unchanged *and*
  editing the cell in Excel or LibreOffice keeps it text.

Only text is touched: numbers stay numbers (a negative number is not a risk).
"""

from __future__ import annotations

import re

from openpyxl.cell.cell import Cell

#: Leading characters that make a spreadsheet treat text as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Leading whitespace and control characters that spreadsheets may skip before a trigger.
_SKIPPABLE = " \t\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f" + "".join(
    chr(c) for c in range(0x10, 0x20)
)
#: Characters XML 1.0 cannot carry: openpyxl refuses them, so a workbook could not be written.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Excel's limit for one cell's text.
MAX_CELL_TEXT = 32_767


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula.

    Stricter than the bare OWASP list on purpose: a trigger hidden behind
    leading spaces or control characters counts too, since some importers
    strip those before deciding.
    """
    if text.startswith(FORMULA_TRIGGERS):
        return True
    return text.lstrip(_SKIPPABLE).startswith(FORMULA_TRIGGERS[:4])


def csv_text(text: str) -> str:
    """The CSV field for a text value: prefixed with ``'`` when it looks like a formula."""
    return "'" + text if is_formula_like(text) else text


def xlsx_text(text: str) -> str:
    """Text an XLSX file can hold: XML-illegal control characters dropped, Excel's length limit."""
    return _ILLEGAL_XML.sub("", text)[:MAX_CELL_TEXT]


def write_text(cell: Cell, text: str) -> None:
    """Put ``text`` into ``cell`` as a string, never a formula, whatever it starts with.

    openpyxl types any value starting with ``=`` as a formula, so the type is
    forced back to string after assignment; ``quotePrefix`` keeps Excel and
    LibreOffice from turning it into one when a user edits the cell.
    """
    clean = xlsx_text(text)
    cell.value = clean
    cell.data_type = "s"
    if is_formula_like(clean):
        cell.quotePrefix = True


def inline_text(text: str) -> tuple[str, bool]:
    """``text`` as an XLSX string cell holds it, and whether it needs the ``quotePrefix`` style.

    For cells written as SpreadsheetML text (:mod:`._sheet_xml`): the caller
    types the cell ``t="inlineStr"`` (never ``<f>``) and, when the second
    value is True, gives it a style with ``quotePrefix`` set.
    """
    clean = xlsx_text(text)
    return clean, is_formula_like(clean)
