"""Drawing the slide kinds of the deck: title, KPI tiles, chart + table, text.

Each function draws one planned slide onto a new slide of the template's
layout. Positions come from the layout's content area (:class:`Frame`), so a
differently proportioned master still gets a tidy slide. Titles always go
into the title placeholder and body text into a body placeholder where the
layout has one, so "Reset slide" and a theme change keep working.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Inches, Pt

from reportgen.document import Brand, Chart, Document, KpiTile, Table, split_lead
from reportgen.render.pptx._logo import place_logo
from reportgen.render.pptx._table import (
    TableFit,
    draw_table,
    fit_table,
    heading_height,
    heading_paras,
)
from reportgen.render.pptx._template import Frame, set_title
from reportgen.render.pptx._text import (
    Para,
    Run,
    one_line,
    paras_height,
    rgb,
    text_width,
    tint,
    write_paragraphs,
    write_plain,
)
from reportgen.text import no_break

NARRATIVE_SIZE = 14.0
KPI_NARRATIVE_SIZE = 16.0
TILE_MARGIN_X = Inches(0.12)
TILE_MARGIN_TOP, TILE_MARGIN_BOTTOM = Inches(0.18), Inches(0.12)
INSET_X, INSET_Y = Inches(0.1), Inches(0.05)  # python-pptx's default text box insets
MAX_TILES_PER_ROW = 5
MAX_TILE_ROWS = 2
MIN_TILE_WIDTH = Inches(2.1)  # a 30 pt value and "▲ +14 s vs 2026-W46" need this much
TILE_GAP = Inches(0.2)
NARRATIVE_GAP = Inches(0.35)
CONTENT_NARRATIVE_SIZES = (14.0, 13.0, 12.0)
NARRATIVE_MAX_SHARE = 0.33  # of a content slide's height; a longer narrative gets its own slide
TEXT_SIZES = (20.0, 18.0, 16.0, 14.0, 12.0)
ARROWS = {"up": "▲", "down": "▼", "flat": "◆"}


# -- shared pieces -----------------------------------------------------------


def text_box(slide: Slide, frame: Frame, paras: Sequence[Para], name: str):
    """A word-wrapped text box that never resizes itself (the layout is ours)."""
    box = slide.shapes.add_textbox(*frame.args())
    box.name = name
    box.text_frame.auto_size = MSO_AUTO_SIZE.NONE
    write_paragraphs(box.text_frame, paras)
    return box


def plain_shape(slide_shapes, frame: Frame, fill: str, shape=MSO_SHAPE.RECTANGLE):
    """An autoshape with one flat fill and no outline or theme shadow."""
    box = slide_shapes.add_shape(shape, *frame.args())
    box.fill.solid()
    box.fill.fore_color.rgb = rgb(fill)
    box.line.fill.background()
    style = box._element.find(qn("p:style"))
    if style is not None:  # the default style adds the theme's shadow and white text
        box._element.remove(style)
    return box


def narrative_paras(
    paragraphs: Sequence[str], brand: Brand, size: float = NARRATIVE_SIZE
) -> list[Para]:
    paras = []
    for i, text in enumerate(paragraphs):
        lead, rest = (no_break(part) for part in split_lead(text))
        runs = (Run(lead + " ", size, True, brand.text),) if lead else ()
        runs += (Run(rest, size, False, brand.text),)
        paras.append(Para(runs, space_before=0 if i == 0 else 4))
    return paras


def narrative_height(
    paragraphs: Sequence[str], brand: Brand, width: int, size: float = NARRATIVE_SIZE
) -> int:
    if not paragraphs:
        return 0
    paras = narrative_paras(paragraphs, brand, size)
    return paras_height(paras, width - 2 * INSET_X) + 2 * INSET_Y


# -- title slide -------------------------------------------------------------


def generated_label(document: Document) -> str:
    """The build time in the report's own timezone, e.g. ``25 Nov 2026, 07:00 UTC``."""
    moment: datetime = document.generated_at
    try:
        zone = ZoneInfo(document.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is not None:
        moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    label = document.timezone if zone is not None else (moment.tzname() or document.timezone)
    offset = moment.strftime("%z")
    if zone is not None and label.upper() not in ("UTC", "ETC/UTC") and offset:
        label += f" (UTC{offset[:3]}:{offset[3:]})"
    return f"{moment:%d %b %Y, %H:%M} {label}"


def draw_title_slide(slide: Slide, document: Document, title: str, width: int) -> None:
    """Title and subtitle in their placeholders; classification and status as labels."""
    brand = document.brand
    set_title(slide, title)
    subtitle = _first_placeholder(slide, PP_PLACEHOLDER.SUBTITLE, PP_PLACEHOLDER.BODY)
    meta = f"Audience: {document.audience} · Generated {generated_label(document)}"
    if subtitle is not None:
        paras = [
            Para.of(document.subtitle, 20),
            Para.of(document.period_label, 20, bold=True),
            Para.of(meta, 13, colour=brand.muted, space_before=10),
        ]
        write_paragraphs(subtitle.text_frame, [p for p in paras if p.runs[0].text], anchor=None)
    top = Inches(0.3)
    status_top = top
    if brand.logo is not None:
        status_top += place_logo(slide, brand.logo, Inches(0.5), top) + Inches(0.12)
    if brand.classification:
        _pill(
            slide,
            brand.classification,
            width - Inches(0.5),
            top,
            brand.text,
            brand.background,
            brand.muted,
            right=True,
        )
    if not document.complete:
        _pill(
            slide,
            document.status_note or "Incomplete period",
            Inches(0.5),
            status_top,
            "#FFFFFF",
            brand.bad,
            None,
        )


def _first_placeholder(slide: Slide, *types: PP_PLACEHOLDER):
    for shape in slide.placeholders:
        if shape.placeholder_format.type in types:
            return shape
    return None


def _pill(slide, text, x, y, colour, fill, line, *, right: bool = False) -> None:
    """A small label shape (classification, incomplete period) readable on any background."""
    width = text_width(text, 11, bold=True) + Inches(0.3)
    left = x - width if right else x
    box = plain_shape(
        slide.shapes, Frame(left, y, width, Inches(0.36)), fill, MSO_SHAPE.ROUNDED_RECTANGLE
    )
    box.name = "Classification" if right else "Status"
    if line:
        box.line.color.rgb = rgb(line)
        box.line.width = Pt(0.75)
    frame = box.text_frame
    frame.margin_left = frame.margin_right = Inches(0.12)
    frame.margin_top = frame.margin_bottom = Inches(0.02)
    write_paragraphs(
        frame,
        [Para.of(text, 11, bold=True, colour=colour, align="center")],
        anchor="middle",
        wrap=False,
    )


# -- KPI tiles ---------------------------------------------------------------


def tiles_per_row(frame: Frame) -> int:
    """Up to five tiles side by side, fewer on a narrow (4:3) master."""
    fit = (frame.width + TILE_GAP) // (MIN_TILE_WIDTH + TILE_GAP)
    return max(1, min(MAX_TILES_PER_ROW, fit))


def tile_grid(count: int, frame: Frame, height: int) -> list[Frame]:
    """Tile positions: rows as balanced as possible (6 tiles → 3 + 3, not 5 + 1)."""
    rows = math.ceil(count / tiles_per_row(frame))
    cols = math.ceil(count / rows)
    width = (frame.width - (cols - 1) * TILE_GAP) // cols
    return [
        Frame(
            frame.left + (i % cols) * (width + TILE_GAP),
            frame.top + (i // cols) * (height + TILE_GAP),
            width,
            height,
        )
        for i in range(count)
    ]


def tile_height(tiles: Sequence[KpiTile], frame: Frame, brand: Brand) -> int:
    """One height for all tiles: the tallest tile's text, wrapped in a tile's width."""
    width = tile_grid(len(tiles), frame, 0)[0].width - 2 * TILE_MARGIN_X
    text = max(paras_height(tile_paras(tile, brand), width, exact=True) for tile in tiles)
    return text + TILE_MARGIN_TOP + TILE_MARGIN_BOTTOM


def kpi_pages(
    tiles: Sequence[KpiTile], narrative: Sequence[str], frame: Frame, brand: Brand
) -> tuple[list[tuple[KpiTile, ...]], bool]:
    """Tiles per slide (a scorecard stays together if it fits, else is split into
    pages of equal size), and whether the narrative fits below the first slide's
    tiles (at 12 pt or more)."""
    if not tiles:
        return [], False
    per_row = tiles_per_row(frame)
    row_height = tile_height(tiles[: per_row * MAX_TILE_ROWS], frame, brand) + TILE_GAP
    rows = max(1, min(MAX_TILE_ROWS, (frame.height + TILE_GAP) // row_height))
    count = per_row * rows
    # balanced pages (11 tiles → 6 + 5), never a full slide and one tile left alone
    count = math.ceil(len(tiles) / math.ceil(len(tiles) / count))
    pages = [tuple(tiles[i : i + count]) for i in range(0, len(tiles), count)]
    used = math.ceil(len(pages[0]) / per_row) * row_height - TILE_GAP + NARRATIVE_GAP
    room = frame.height - used
    fits = bool(narrative) and narrative_height(narrative, brand, frame.width, 12) <= room
    return pages, fits


def narrative_size(narrative: Sequence[str], frame: Frame, brand: Brand) -> float | None:
    """Font size for a narrative above a chart/table: 14 pt, down to 12 pt if it is long;
    None if even then it would take more than a third of the slide (it gets its own)."""
    for size in CONTENT_NARRATIVE_SIZES:
        if (
            narrative_height(narrative, brand, frame.width, size)
            <= frame.height * NARRATIVE_MAX_SHARE
        ):
            return size
    return None


def tile_paras(tile: KpiTile, brand: Brand) -> list[Para]:
    """Label, big value, coloured delta with arrow, previous, target status, note.

    A period or quantity in them is kept on one line (:func:`reportgen.text.no_break`):
    a tile is narrow, and "vs 2026-" over "W46" is what it would show otherwise.
    """
    paras = [
        Para.of(tile.label, 12, bold=True, colour=brand.muted),
        Para.of(tile.value_text, 30, bold=True, colour=brand.text, space_before=2),
    ]
    if tile.unit:
        paras.append(Para.of(tile.unit, 11, colour=brand.muted))
    if tile.delta is not None:
        colour = brand.sentiment_colour(tile.delta.sentiment)
        arrow = ARROWS[tile.delta.direction]
        paras.append(
            Para(
                (
                    Run(f"{arrow} {no_break(tile.delta.text)}", 13, True, colour),
                    Run(f"  {no_break(tile.delta.comparison)}", 11, False, brand.muted),
                ),
                space_before=4,
            )
        )
        if tile.delta.significance:
            paras.append(Para.of(tile.delta.significance, 10, italic=True, colour=brand.muted))
    previous = f"Previous {no_break(tile.previous_text)}"
    paras.append(Para.of(previous, 11, colour=brand.muted, space_before=2))
    if tile.target_status == "none" or not tile.target_text:
        paras.append(Para.of("No target", 11, colour=brand.muted))
    else:
        colour = brand.good if tile.target_status == "met" else brand.bad
        mark = "✓" if tile.target_status == "met" else "✗"
        target = no_break(tile.target_text[:1].upper() + tile.target_text[1:])
        paras.append(
            Para.of(f"{mark} {target} — {tile.target_status}", 11, bold=True, colour=colour)
        )
    if tile.note:
        paras.append(Para.of(no_break(tile.note), 10, italic=True, colour=brand.muted))
    if tile.comment:
        paras.append(Para.of(no_break(tile.comment), 10, colour=brand.text, space_before=2))
    if tile.owner:
        paras.append(Para.of(f"Owner: {tile.owner}", 10, colour=brand.muted, space_before=2))
    return paras


def draw_tile(slide: Slide, tile: KpiTile, frame: Frame, brand: Brand) -> None:
    """One tile as a group (card + status strip), so it moves as a unit."""
    group = slide.shapes.add_group_shape()
    group.name = one_line(f"KPI {tile.label}")
    card = plain_shape(group.shapes, frame, "#" + tint(brand.primary, 0.94))
    card.name = one_line(f"KPI card {tile.metric}")
    text = card.text_frame
    text.margin_left = text.margin_right = TILE_MARGIN_X
    text.margin_top, text.margin_bottom = TILE_MARGIN_TOP, TILE_MARGIN_BOTTOM
    paras = [replace(p, align="left") for p in tile_paras(tile, brand)]  # autoshapes centre
    write_paragraphs(text, paras, anchor="top")
    status = {"met": brand.good, "missed": brand.bad}.get(tile.target_status, brand.secondary)
    strip = plain_shape(
        group.shapes, Frame(frame.left, frame.top, frame.width, Inches(0.07)), status
    )
    strip.name = one_line(f"KPI status {tile.metric}")


def draw_kpi_slide(
    slide: Slide, tiles: Sequence[KpiTile], narrative: Sequence[str], frame: Frame, brand: Brand
) -> None:
    cells = tile_grid(len(tiles), frame, tile_height(tiles, frame, brand))
    for tile, cell in zip(tiles, cells, strict=True):
        draw_tile(slide, tile, cell, brand)
    if narrative:
        below = frame.below(max(c.bottom for c in cells) - frame.top, NARRATIVE_GAP)
        size = KPI_NARRATIVE_SIZE
        while size > 11 and narrative_height(narrative, brand, below.width, size) > below.height:
            size -= 1
        text_box(slide, below, narrative_paras(narrative, brand, size), "Narrative")


# -- chart and table slides --------------------------------------------------


@dataclass(frozen=True)
class Arrangement:
    """Where a content slide's pieces go; computed the same way for planning and drawing."""

    narrative: Frame | None
    chart: Frame | None
    table: Frame | None
    fit: TableFit | None
    capacity: int = 0  # height left for the table's rows (header included)
    narrative_size: float = NARRATIVE_SIZE


STANDALONE_TABLE_SHARE = 0.6  # a table alone on a slide is at least this share of its width
SIDE_TABLE_SHARE = 0.6  # a table beside a chart gets at most this share (a breakdown with its n)


def arrange(
    frame: Frame,
    brand: Brand,
    narrative: Sequence[str],
    chart: Chart | None,
    table: Table | None,
    *,
    heading: bool = True,
) -> Arrangement:
    """Narrative on top; chart left and table right, or either alone (table ≥ 60 % wide)."""
    size = (
        (narrative_size(narrative, frame, brand) or CONTENT_NARRATIVE_SIZES[-1]) if narrative else 0
    )
    narrative_h = narrative_height(narrative, brand, frame.width, size) if narrative else 0
    narrative_frame = frame.top_part(narrative_h) if narrative else None
    body = frame.below(narrative_h, Inches(0.2)) if narrative else frame
    if table is None:
        chart_frame = body if chart is not None else None
        return Arrangement(narrative_frame, chart_frame, None, None, 0, size)

    def rows_height(width: int) -> int:
        return body.height - (heading_height(table, brand, width) if heading else 0)

    if chart is None:
        minimum = int(body.width * STANDALONE_TABLE_SHARE)
        fit = fit_table(table, body.width, min_width=minimum, capacity=rows_height(body.width))
        return Arrangement(narrative_frame, None, body, fit, rows_height(body.width), size)
    most = int(body.width * SIDE_TABLE_SHARE)
    fit = fit_table(table, most, capacity=rows_height(most))
    # The heading wraps in the table's own width: measure the room for rows again there.
    fit = fit_table(table, most, capacity=rows_height(fit.width))
    chart_frame, table_frame = body.columns(body.width - fit.width - Inches(0.3))
    return Arrangement(narrative_frame, chart_frame, table_frame, fit, rows_height(fit.width), size)


def draw_table_block(
    slide: Slide,
    table: Table,
    rows: range,
    fit: TableFit,
    frame: Frame,
    brand: Brand,
    continued: str | None,
) -> None:
    """The table's heading (unless ``continued`` is None) and the table below it."""
    if continued is not None:
        height = heading_height(table, brand, frame.width)
        text_box(
            slide,
            frame.top_part(height),
            heading_paras(table, brand, continued, caption=not continued),
            "Table heading",
        )
        frame = frame.below(height, 0)
    draw_table(slide, table, rows, fit, frame, brand)


def draw_text_slide(slide: Slide, paragraphs: Sequence[str], frame: Frame, brand: Brand) -> None:
    """Narrative on its own slide: in the body placeholder if the layout has one, at the
    largest size (20 → 12 pt) that fits, so nothing runs off the slide."""
    body = _first_placeholder(slide, PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT)
    if body is None:
        size = _fitting_size(paragraphs, brand, frame.width, frame.height)
        text_box(slide, frame, narrative_paras(paragraphs, brand, size), "Narrative")
        return
    indent = Inches(0.4)  # the master's bullet indent
    size = _fitting_size(paragraphs, brand, body.width - indent, body.height)
    write_plain(body.text_frame, paragraphs, size=size)


def _fitting_size(paragraphs: Sequence[str], brand: Brand, width: int, height: int) -> float:
    for size in TEXT_SIZES:
        if narrative_height(paragraphs, brand, width, size) * 1.05 <= height:  # + bullet spacing
            return size
    return TEXT_SIZES[-1]
