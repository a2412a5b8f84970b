"""Reading a deck's slides as their reader does (text of shapes, tiles and tables)."""

from __future__ import annotations

from reportgen.text import breakable


def shape_texts(shapes) -> list[str]:
    found = []
    for shape in shapes:
        if shape.shape_type == 6:  # a group: a KPI tile
            found += shape_texts(shape.shapes)
        elif shape.has_text_frame:
            found.append(shape.text_frame.text)
        elif getattr(shape, "has_table", False) and shape.has_table:
            found += [cell.text for row in shape.table.rows for cell in row.cells]
    return found


def slide_text(slide, *, title: bool = True) -> str:
    shapes = [s for s in slide.shapes if title or s != slide.shapes.title]
    return as_read(" ".join(shape_texts(shapes)))


def as_read(text: str) -> str:
    """Slide text as a reader reads it: one space between words, and the non-breaking
    hyphens and spaces that keep "2026-W46" or "+4.7 s" on one line as plain ones."""
    return " ".join(breakable(text).split())
