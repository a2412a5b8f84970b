"""Document → HTML, for the PDF (via WeasyPrint) and the self-contained preview.

One set of Jinja2 templates serves both: ``for_pdf`` switches the page
furniture (cover page, running header and footer, page breaks) on; the
preview is a single file with inline CSS, the logo as a ``data:`` URI and the
charts as inline SVG, so it opens anywhere without a single request.

Every string in a :class:`~reportgen.document.Document` can come from data —
a segment label, a queue name, a narrative sentence — so autoescaping is on
for every template, undefined variables are errors, and only markup this
module builds itself (chart SVG re-serialised by :mod:`reportgen.render.charts.svg`, the brand's
validated CSS variables) is marked safe. Templates can be user-supplied, so
they run sandboxed (:mod:`.templating`).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import math
import mimetypes
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from reportgen.document import (
    Block,
    Brand,
    Chart,
    Column,
    Dendrogram,
    Document,
    Graphic,
    Heatmap,
    KpiGrid,
    Narrative,
    Scatter,
    Section,
    Table,
    split_lead,
)
from reportgen.errors import RenderError
from reportgen.render.charts import vega
from reportgen.render.charts.svg import (
    chart_to_svg,
    font_stack,
    graphic_to_svg,
    labels_fit,
    printable_svg,
)
from reportgen.text import keep_whole, no_break

TEMPLATES_ENV_VAR = "REPORTGEN_TEMPLATES"
REPORT_TEMPLATE = "report.html.j2"

#: Content width of an A4 landscape page with the margins in report.css, in CSS px.
PAGE_CONTENT_WIDTH = 1010
#: Gap between two charts side by side, in CSS px (the padding between ``.pair-cell``s).
CHART_GAP = 24
HALF_WIDTH = (PAGE_CONTENT_WIDTH - CHART_GAP) // 2
#: A bar chart with more segments than this gets the full page width.
MAX_SEGMENTS_SIDE_BY_SIDE = 24
#: Two correlation heatmaps sit side by side up to this many metrics.
MAX_HEATMAP_SIDE_BY_SIDE = 6
#: A table beside a chart must fit the page next to it.
MAX_ROWS_BESIDE_CHART = 24
#: Tables up to this many rows never split across pages (a breakdown's 20 segments
#: and its Other row fit one landscape page): such a table moves whole to the next
#: page with its title rather than leave its tail on a page without one. Longer ones
#: keep at least TABLE_KEEP_ROWS rows together at the top and at the bottom of a page.
SHORT_TABLE_ROWS = 22
TABLE_KEEP_ROWS = 3
#: A chart and its table stacked on one page: the table has at most this many rows.
STACKED_TABLE_ROWS = 10
#: A table beside a chart has at most this many columns (a breakdown with its n) and
#: its widest cells, with each cell's padding, fit half the page: right-aligned cells
#: do not wrap, so a wider table at half the page runs one column into the next.
MAX_COLUMNS_BESIDE_CHART = 7
#: A character of table text (9pt; tabular figures are the widest), and a cell's padding
#: left and right (2 × 2.5mm), in CSS px.
TABLE_CHAR_PX = 7.0
TABLE_CELL_PADDING_PX = 19
#: Threads preparing charts: each builds a spec, then waits for a drawing process
#: (render/vega.py); one more than the processes keeps them all busy.
CHART_THREADS = vega.WORKERS + 1

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_FONT_NAME = re.compile(r"^[A-Za-z0-9 _-]+$")
_ARROWS = {"up": "▲", "down": "▼", "flat": "▶"}


# --------------------------------------------------------------------------- locations


def templates_root() -> Path:
    """The ``templates/`` folder: ``$REPORTGEN_TEMPLATES`` or the repository's own."""
    override = os.environ.get(TEMPLATES_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[3] / "templates"


def html_templates_dir() -> Path:
    """Where the HTML templates and report.css live (also WeasyPrint's base URL)."""
    return templates_root() / "html"


@lru_cache(maxsize=8)
def _environment(folder: Path) -> ImmutableSandboxedEnvironment:
    from reportgen.render.html.templating import sandboxed_environment

    env = sandboxed_environment(folder, autoescape=True)
    env.filters["arrow"] = lambda direction: _ARROWS.get(direction, "")
    env.filters["split_lead"] = split_lead
    env.filters["keep_whole"] = keep_whole
    return env


def environment() -> ImmutableSandboxedEnvironment:
    """The sandboxed Jinja2 environment for the current templates folder (autoescape on)."""
    return _environment(html_templates_dir())


# --------------------------------------------------------------------------- brand


def _colour(value: str, name: str) -> str:
    if not _HEX.match(value):
        raise RenderError(f"brand colour {name} must be #RRGGBB, not {value!r}")
    return value


def css_font_stack(family: str) -> str:
    """A CSS ``font-family`` value; names that could break out of CSS are dropped."""
    names = [n.strip() for n in font_stack(family).split(",")]
    quoted = [f'"{n}"' for n in names if n != "sans-serif" and _FONT_NAME.match(n)]
    return ", ".join([*quoted, "sans-serif"])


def brand_css(brand: Brand) -> Markup:
    """CSS custom properties from the brand, validated so they are safe to inline."""
    colours = {
        name: _colour(getattr(brand, name), name)
        for name in (
            "primary", "secondary", "accent", "text", "muted",
            "background", "good", "bad", "neutral",
        )
    }  # fmt: skip
    lines = [f"  --{name}: {value};" for name, value in colours.items()]
    lines.append(f"  --font-body: {css_font_stack(brand.font_family)};")
    lines.append(f"  --font-heading: {css_font_stack(brand.heading_font_family)};")
    return Markup(":root {\n" + "\n".join(lines) + "\n}\n")


def logo_data_uri(logo: Path | None) -> str | None:
    """The brand logo as a ``data:`` URI, so neither the PDF nor the preview fetches it."""
    if logo is None:
        return None
    mime = mimetypes.guess_type(logo.name)[0] or "application/octet-stream"
    if not mime.startswith("image/"):
        raise RenderError(f"brand logo {logo} is not an image ({mime})")
    try:
        payload = base64.b64encode(logo.read_bytes()).decode("ascii")
    except OSError as error:
        raise RenderError(f"cannot read brand logo {logo}: {error}") from error
    return f"data:{mime};base64,{payload}"


# --------------------------------------------------------------------------- view model


class PendingSvg:
    """A chart's SVG being drawn on a worker thread; the template asks for it when it gets there.

    The thread builds the chart's spec and hands it to a drawing process
    (:mod:`reportgen.render.charts.vega`), so the charts are drawn while the view
    model is still being built — or, after :func:`start_drawing`, while
    another format is rendered. Jinja calls ``__html__`` (the markupsafe
    protocol) when it reaches the chart; a drawing error surfaces there as
    the :class:`RenderError` it raised.
    """

    def __init__(
        self,
        draw: Callable[..., str],
        block: Chart | Graphic,
        brand: Brand,
        width: int,
        *,
        as_image: bool = False,
    ) -> None:
        self._future = _drawing(draw, block, brand, width)
        self._alt = chart_alt(block) if as_image else None

    def __html__(self) -> str:
        svg = self._future.result()
        return svg if self._alt is None else svg_image(svg, self._alt)

    def __str__(self) -> str:
        return self.__html__()


#: report.css's rule for inline chart SVG (``.chart svg``), carried by the image itself so a
#: custom template's stylesheet needs no rule of its own for it.
CHART_IMAGE_STYLE = "display: block; max-width: 100%; height: auto; max-height: 165mm"
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="([0-9.]+)"[^>]*?\sheight="([0-9.]+)"')


def svg_image(svg: str, alt: str) -> Markup:
    """A drawn chart as an ``<img>`` of its SVG (a ``data:`` URI), for WeasyPrint.

    WeasyPrint parses an image's SVG with an XML parser, not node by node
    through the HTML5 tokenizer as it does inline SVG (about 6–15 % of a
    PDF's layout CPU in the shipped report), and draws it as vectors all
    the same. The ``alt`` text becomes the tagged PDF's alternative text of
    the chart, which an inline SVG does not get; so the image holds only what
    paints (:func:`~reportgen.render.charts.svg.printable_svg`).
    """
    size = _SVG_SIZE.search(svg)
    dims = f' width="{size.group(1)}" height="{size.group(2)}"' if size else ""
    payload = base64.b64encode(printable_svg(svg).encode("utf-8")).decode("ascii")
    return Markup(
        f'<img class="chart-drawing" src="data:image/svg+xml;base64,{payload}"{dims} '
        f'style="{CHART_IMAGE_STYLE}" alt="{{}}">'
    ).format(alt)


def chart_alt(block: Chart | Graphic) -> str:
    """The chart's text alternative: the same words as the figure's ``aria-label``."""
    if isinstance(block, Chart):
        kind = "weekly business review" if block.chart_type == "wbr" else block.chart_type
        names = ", ".join(dict.fromkeys(s.name for s in block.series))
        text = f"{kind} chart: {block.title}; {names}; {_span_of(block.categories)}"
        if block.panel is not None:
            text += f", then months {_span_of(block.panel.categories)}"
        return text
    return f"{block.kind}: {block.title}"


def _span_of(categories: Sequence[str]) -> str:
    return f"{categories[0]} to {categories[-1]}" if categories else ""


@lru_cache(maxsize=1)
def _chart_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=CHART_THREADS, thread_name_prefix="reportgen-chart")


#: Drawings in progress, so a chart that start_drawing() began is not drawn twice by the
#: render that needs it; once drawn, the memo in render/charts.py serves it.
_IN_FLIGHT: dict[tuple[Any, ...], Future[str]] = {}
_IN_FLIGHT_LOCK = threading.Lock()


def _drawing(
    draw: Callable[..., str], block: Chart | Graphic, brand: Brand, width: int
) -> Future[str]:
    key = (draw, block, brand, width)
    with _IN_FLIGHT_LOCK:
        future = _IN_FLIGHT.get(key)
        if future is None:
            future = _IN_FLIGHT[key] = _chart_pool().submit(draw, block, brand, width=width)
    future.add_done_callback(lambda done: _landed(key, done))
    return future


def _landed(key: tuple[Any, ...], future: Future[str]) -> None:
    with _IN_FLIGHT_LOCK:
        if _IN_FLIGHT.get(key) is future:
            del _IN_FLIGHT[key]


def _forget_threads_after_fork() -> None:
    """In a forked child (a renderer's process) the parent's drawing threads do not exist.

    The child starts its own pool when it needs one; a chart the parent drew
    is served from the memo in :mod:`reportgen.render.charts.svg`.
    """
    global _IN_FLIGHT_LOCK
    _chart_pool.cache_clear()
    _IN_FLIGHT.clear()
    _IN_FLIGHT_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_threads_after_fork)


def finish_drawing() -> None:
    """Wait for every chart still being drawn; a failed render must leave none running.

    One chart failing stops the render, but the others were already handed
    to the drawing threads; left alone they would finish during the next
    build, or be joined by it.
    """
    with _IN_FLIGHT_LOCK:
        pending = list(_IN_FLIGHT.values())
    concurrent.futures.wait(pending)


def start_drawing(document: Document) -> None:
    """Start drawing the document's charts in the background; the PDF or HTML picks them up.

    The build calls this before rendering a chart-free format (the PPTX has
    native charts), so the drawing process works on another core meanwhile.
    """
    template_context(document, for_pdf=True)


@dataclass(frozen=True)
class ChartView:
    chart: Chart
    svg: PendingSvg | Markup
    kind: Literal["chart"] = "chart"


@dataclass(frozen=True)
class GraphicView:
    """A heatmap, scatter or dendrogram: title, SVG and caption."""

    graphic: Graphic
    svg: PendingSvg | Markup
    kind: Literal["graphic"] = "graphic"


@dataclass(frozen=True)
class TableView:
    table: Table
    widths: tuple[float, ...]  # percentages of the table width, one per column
    groups: tuple[tuple[int, ...], ...]  # row indexes per <tbody>; see row_groups()
    kind: Literal["table"] = "table"

    @property
    def short(self) -> bool:
        return len(self.table.rows) <= SHORT_TABLE_ROWS


@dataclass(frozen=True)
class GridView:
    grid: KpiGrid
    columns: int
    kind: Literal["kpi_grid"] = "kpi_grid"


@dataclass(frozen=True)
class Row:
    """Two items side by side, each half the page wide."""

    cells: tuple[Any, Any]
    kind: Literal["row"] = "row"


@dataclass(frozen=True)
class Stack:
    """A chart above the table of the same breakdown, kept together on one page."""

    cells: tuple[Any, ...]
    kind: Literal["stack"] = "stack"


@dataclass(frozen=True)
class SectionView:
    section: Section
    items: tuple[Any, ...] = field(default_factory=tuple)


def fits_half_width(block: Block) -> bool:
    """Whether a block stays readable at half the page width.

    Line charts always do; a bar chart does while no label has to be cut; a
    waterfall never (its step labels need the width); a table while it is
    short enough to sit beside a chart on one page.
    """
    if isinstance(block, Chart):
        if block.chart_type in ("waterfall", "wbr"):  # step labels / two panels need the width
            return False
        if block.chart_type != "bar":
            return True
        return len(block.categories) <= MAX_SEGMENTS_SIDE_BY_SIDE and labels_fit(block, HALF_WIDTH)
    if isinstance(block, Table):
        return (
            len(block.rows) <= MAX_ROWS_BESIDE_CHART
            and len(block.columns) <= MAX_COLUMNS_BESIDE_CHART
            and table_width(block) <= HALF_WIDTH
        )
    if isinstance(block, Heatmap):
        return len(block.labels) <= MAX_HEATMAP_SIDE_BY_SIDE
    if isinstance(block, Scatter):
        return True
    return isinstance(block, Narrative)


def table_width(table: Table) -> float:
    """The narrowest the table can be, in CSS px: each column's longest cell (or header
    word, headers wrap) and its padding."""
    total = 0.0
    for index, column in enumerate(table.columns):
        words = max((len(w) for w in column.label.split()), default=0)
        cells = [len(r[index].text) for r in table.rows if index < len(r)]
        total += max([words, *cells]) * TABLE_CHAR_PX + TABLE_CELL_PADDING_PX
    return total


def _pairs(block: Block, following: Block | None) -> bool:
    """Whether two adjacent blocks belong side by side.

    Three pairings, the ones a reader expects on a metric page: the narrative
    beside the trend it describes, a bar chart beside the table of the same
    breakdown (same title), and two charts together. Anything else — above
    all a chart next to an unrelated table — stays on its own row.
    """
    if following is None or not (fits_half_width(block) and fits_half_width(following)):
        return False
    kinds = {type(block), type(following)}
    if kinds == {Heatmap}:  # Pearson beside Spearman
        return True
    if isinstance(block, Scatter) and isinstance(following, Table):  # the fit beside its table
        return True
    if kinds == {Narrative, Chart}:
        return isinstance(block, Narrative)
    if kinds == {Chart, Table}:
        return getattr(block, "title", None) == getattr(following, "title", None)
    return kinds == {Chart}


def _view(block: Block, brand: Brand, width: int, images: bool = False) -> Any:
    """``images``: charts as ``<img>`` of their SVG (the PDF), else inline SVG (the preview)."""
    if isinstance(block, Chart):
        return ChartView(block, PendingSvg(chart_to_svg, block, brand, width, as_image=images))
    if isinstance(block, Heatmap | Scatter | Dendrogram):
        drawing = PendingSvg(graphic_to_svg, block, brand, width, as_image=images)
        return GraphicView(block, drawing)
    if isinstance(block, Table):
        return TableView(block, column_widths(block, width), row_groups(len(block.rows)))
    if isinstance(block, KpiGrid):
        return GridView(block, grid_columns(len(block.tiles)))
    return block


def _row(block: Block, following: Block, brand: Brand, images: bool = False) -> Row:
    """A side-by-side row; a chart goes on the left so rows read alike."""
    first, second = (
        (following, block)
        if isinstance(following, Chart) and isinstance(block, Table)
        else (block, following)
    )
    return Row((_view(first, brand, HALF_WIDTH, images), _view(second, brand, HALF_WIDTH, images)))


def _items(blocks: Sequence[Block], brand: Brand, images: bool = False) -> Iterator[Any]:
    """Blocks as the templates draw them, paired into rows where they belong together.

    Pairing keeps a metric to one or two landscape pages instead of a page
    per block.
    """
    index = 0
    while index < len(blocks):
        block = blocks[index]
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if following is not None and _pairs(block, following):
            yield _row(block, following, brand, images)
            index += 2
        elif following is not None and _stacks(block, following):
            chart, table = (block, following) if isinstance(block, Chart) else (following, block)
            yield Stack(
                (
                    _view(chart, brand, PAGE_CONTENT_WIDTH, images),
                    _view(table, brand, PAGE_CONTENT_WIDTH),
                )
            )
            index += 2
        elif isinstance(block, Table) and len(block.rows) > SHORT_TABLE_ROWS:
            yield from (_view(part, brand, PAGE_CONTENT_WIDTH) for part in continued_parts(block))
            index += 1
        else:
            yield _view(block, brand, PAGE_CONTENT_WIDTH, images)
            index += 1


def _stacks(block: Block, following: Block) -> bool:
    """A breakdown table and its chart that cannot sit side by side: chart above table,
    on one page (never the table on one page and its chart on the next)."""
    pair = {type(block), type(following)}
    if pair != {Chart, Table} or getattr(block, "title", None) != following.title:
        return False
    table = block if isinstance(block, Table) else following
    return len(table.rows) <= STACKED_TABLE_ROWS


def continued_parts(table: Table) -> list[Table]:
    """A table longer than a page as page-sized parts, each whole on its page with its
    title ("… (continued)") and header: no page carries a tail of rows without a title.

    Parts are balanced (30 rows → 15 + 15) and never longer than SHORT_TABLE_ROWS.
    """
    count = len(table.rows)
    parts = -(-count // SHORT_TABLE_ROWS)
    size = -(-count // parts)
    out = []
    for start in range(0, count, size):
        stop = min(start + size, count)
        out.append(
            replace(
                table,
                title=table.title if start == 0 else f"{table.title} (continued)",
                caption=table.caption if start == 0 else None,
                rows=table.rows[start:stop],
                muted_rows=tuple(i - start for i in table.muted_rows if start <= i < stop),
            )
        )
    return out


def column_widths(table: Table, width: int = PAGE_CONTENT_WIDTH) -> tuple[float, ...]:
    """Column widths (percent) from content length, so labels get room and numbers don't.

    Text columns may grow to 40 characters' worth, right-aligned ones to 24
    (their cells do not wrap, so they get the width of their longest cell:
    "−0.122 (log rate ratio)" must not run into the next column); a table
    therefore never runs off the page (``table-layout: fixed``) and a long
    segment label wraps inside its column instead. A header wraps at its
    spaces onto at most about three lines, so it asks for its longest word
    or a third of its length, whichever is more: "Change vs 2026-W46
    (decisions / productive hour)" must not take the width its values need.

    When the table is ``width`` px wide and the columns' wishes do not fit,
    every column first gets what it cannot do without — its unbreakable cells
    and header words — and the rest is shared in proportion to what each
    wished for beyond that, so a "100.0%" never spills out of a narrow Share
    column beside three long headers.
    """
    wished = [_column_px(table, i, column, soft=True) for i, column in enumerate(table.columns)]
    if sum(wished) > width:
        needed = [_column_px(table, i, c, soft=False) for i, c in enumerate(table.columns)]
        spare, extra = width - sum(needed), [w - n for w, n in zip(wished, needed, strict=True)]
        if spare > 0 and sum(extra) > 0:
            wished = [n + spare * e / sum(extra) for n, e in zip(needed, extra, strict=True)]
        else:
            wished = needed
    total = sum(wished) or 1
    return tuple(round(100 * w / total, 2) for w in wished)


def _column_px(table: Table, index: int, column: Column, *, soft: bool) -> float:
    """A column's width in px: what it wishes for (``soft``) or cannot do without.

    A header is bold (≈15 % wider): "Observed" must not run into "Baseline".
    """
    cells = [r[index].text for r in table.rows if index < len(r)]
    if soft:
        header = math.ceil(1.15 * header_length(column.label))
        cap = 40 if column.align == "left" else 24
        chars = min(max(header, *map(len, cells), 6), cap)
    else:
        header = math.ceil(1.15 * max((len(w) for w in column.label.split()), default=0))
        if column.align == "left":  # a label wraps at its spaces
            cells = [w for text in cells for w in _unbreakable_words(text)]
        chars = max(header, *map(len, cells), 1)
    return chars * TABLE_CHAR_PX + TABLE_CELL_PADDING_PX


def _unbreakable_words(text: str) -> list[str]:
    """The pieces a cell may wrap between: words, with "+4.7 s" one piece (keep_whole)."""
    return [word for word in re.split(r"[ \t\r\n]+", no_break(text)) if word]


def header_length(label: str) -> int:
    """The characters a header needs on one line when it may wrap onto three."""
    words = label.split()
    return max([math.ceil(len(label) / 3), *(len(w) for w in words)])


def row_groups(count: int) -> tuple[tuple[int, ...], ...]:
    """Split rows into <tbody> groups whose first and last are kept together.

    Page-break orphan control for tables: CSS ``orphans``/``widows`` apply to
    lines, not rows, so a long table could leave a header and one row at the
    foot of a page or push one lone row onto the next. Keeping the first and
    last few rows in unbreakable groups prevents both.
    """
    if count <= SHORT_TABLE_ROWS:
        return (tuple(range(count)),)
    keep = TABLE_KEEP_ROWS
    return (tuple(range(keep)), tuple(range(keep, count - keep)), tuple(range(count - keep, count)))


def grid_columns(count: int) -> int:
    """Tiles per row: one row up to five tiles, then balanced rows."""
    if count <= 5:
        return max(count, 1)
    return math.ceil(count / math.ceil(count / 5))


def generated_at_text(document: Document) -> str:
    """When the report was built, in the report's own timezone, with the zone named."""
    moment = document.generated_at
    # An unknown zone name keeps the stamp's own zone rather than failing the build.
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        moment = moment.astimezone(ZoneInfo(document.timezone))
    return _format_moment(moment)


def _format_moment(moment: datetime) -> str:
    zone = moment.tzname() or "local time"
    return f"{moment.day} {moment:%b %Y, %H:%M} {zone}"


def template_context(document: Document, *, for_pdf: bool) -> dict[str, Any]:
    """Everything the templates see: the document plus precomputed, safe extras."""
    return {
        "document": document,
        "brand": document.brand,
        "for_pdf": for_pdf,
        "brand_css": brand_css(document.brand),
        "logo_uri": logo_data_uri(document.brand.logo),
        "generated_at": generated_at_text(document),
        "sections": tuple(
            SectionView(s, tuple(_items(s.blocks, document.brand, images=for_pdf)))
            for s in document.sections
        ),
        "appendix_from": document.appendix_from,
        "appendix_titles": _appendix_titles(document),
    }


def _appendix_titles(document: Document) -> str:
    """What a leadership edition's appendix holds, as a reader scans for it."""
    start = document.appendix_from
    if start is None:
        return ""
    titles = [s.title for s in document.sections[start:] if s.role != "metric"]
    metrics = sum(1 for s in document.sections[start:] if s.role == "metric")
    if metrics:
        titles.insert(min(2, len(titles)), f"each of the {metrics} metrics with its breakdowns")
    listed = [t[:1].lower() + t[1:] if not t[:2].isupper() else t for t in titles]
    return ", ".join(listed[:-1]) + f" and {listed[-1]}" if len(listed) > 1 else listed[0]


# --------------------------------------------------------------------------- entry points


def render_html(document: Document, *, for_pdf: bool) -> str:
    """Render the report as one HTML string (PDF input or standalone preview)."""
    context = template_context(document, for_pdf=for_pdf)
    try:
        return environment().get_template(REPORT_TEMPLATE).render(context)
    except TemplateError as error:  # a sandbox violation (SecurityError) included
        from reportgen.render.html.templating import render_error

        finish_drawing()
        raise render_error(
            error,
            REPORT_TEMPLATE,
            report=document.report_id,
            period=document.period_label,
            templates=str(html_templates_dir()),
        ) from error
    except BaseException:  # a chart that could not be drawn
        finish_drawing()
        raise


def render_html_file(document: Document, path: Path) -> None:
    """Write the self-contained HTML preview to ``path``, carrying its document for the site."""
    from reportgen.render.html.edition import embed_edition

    html = embed_edition(render_html(document, for_pdf=False), document)
    try:
        Path(path).write_text(html, encoding="utf-8")
    except OSError as error:
        raise RenderError(
            f"cannot write HTML to {path}: {error}", report=document.report_id
        ) from error
