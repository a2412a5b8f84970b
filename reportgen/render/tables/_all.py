"""Every table of a report's workbook and CSV export, in sheet order.

:mod:`._export` builds the figures' tables and :mod:`._insights` the analysis'
tables; this module orders them and gives each a unique slug.
"""

from __future__ import annotations

from dataclasses import replace

from reportgen.document import Document
from reportgen.render.tables._export import (
    ExportTable,
    breakdowns_table,
    daily_table,
    export_data,
    segment_changes_table,
    segment_series_tables,
    series_table,
    summary_table,
)
from reportgen.render.tables._insights import insight_tables, provenance_tables, restatements_table
from reportgen.render.tables._outlook import outlook_tables


def export_tables(document: Document) -> list[ExportTable]:
    """Every table of the exports, in sheet order; names are unique slugs."""
    data = export_data(document)
    sections = {s.id for s in document.sections}
    tables = [
        summary_table(data, document),
        series_table(data),
        breakdowns_table(data),
        *segment_series_tables(data),
        segment_changes_table(data),
        daily_table(data),
    ]
    if data.restatements:
        tables.append(restatements_table(data))
    tables += insight_tables(data, sections)
    tables += outlook_tables(data)
    tables += provenance_tables(data, document)
    return _unique_names(tables)


def _unique_names(tables: list[ExportTable]) -> list[ExportTable]:
    """Make every table name unique (metric ids that slug alike must not overwrite a CSV)."""
    seen: set[str] = set()
    out = []
    for table in tables:
        name, n = table.name, 1
        while name in seen:
            n += 1
            name = f"{table.name[:56]}_{n}"
        seen.add(name)
        out.append(table if name == table.name else replace(table, name=name))
    return out
