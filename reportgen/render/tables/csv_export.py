"""Document → a folder of tidy CSV files, one per table of the workbook, for pipelines.

Same tables as the workbook (:mod:`._export`), written so any reader
gets the exact numbers back: UTF-8 without a BOM, a header row of
``snake_case`` keys, RFC 4180 quoting and CRLF line ends, ``.`` as the decimal mark, floats in Python's shortest
round-trip form (``repr``: ``float(text) == value`` exactly), ISO dates,
booleans as ``true``/``false``, missing values empty, no index column.
Text that a spreadsheet could run as a formula gets a leading ``'`` (OWASP) —
someone will open these in Excel too.

The artifact is a directory (``<report>_<period>_csv/``); the delivery layer
moves a staged directory into place like a file.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import Any

from reportgen.document import Document
from reportgen.errors import RenderError
from reportgen.render.tables._all import export_tables
from reportgen.render.tables._export import ExportTable, FiguresMissing
from reportgen.render.tables._safe_cells import csv_text


def render_csv(document: Document, path: Path) -> None:
    """Write one ``<table>.csv`` per export table into the new directory ``path``."""
    try:
        tables = export_tables(document)
    except FiguresMissing as exc:
        raise RenderError(str(exc), fix="render CSV exports from build_report()") from None
    path.mkdir()
    for table in tables:
        write_table_csv(table, path / f"{table.name}.csv")


def write_table_csv(table: ExportTable, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        # RFC 4180 line ends: the csv module quotes a field only if it holds a character
        # of the terminator, so "\r\n" is what keeps a label with a bare CR in one field
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([csv_text(c.key) for c in table.columns])
        for row in table.rows:
            writer.writerow([csv_field(v) for v in row.values])


def csv_field(value: Any) -> str:
    """The text of one field: exact numbers, ISO dates, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, date):
        return value.isoformat()
    return csv_text(str(value))
