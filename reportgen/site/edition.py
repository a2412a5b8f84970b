"""A report page's full content: its edition's sections, drawn with the HTML report's partials.

The build's HTML edition carries its document (:mod:`reportgen.render.html.edition`);
this module turns its sections into the items the templates draw. Tables, KPI
tiles, narrative and definitions go through the very partials of the HTML report
(``templates/html/_table.html.j2`` …: one copy of each); charts and graphics become
interactive Vega-Lite views (``templates/site/_vl_chart.html.j2``), built from the
PDF's own specs (:mod:`reportgen.site.edition_charts`).

A build without the HTML format has no edition to read: its page falls back to
what ``figures.json`` alone can show (tiles, stories, trends and breakdowns).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup

from reportgen.document import Block, Chart, Document, KpiGrid, Section, Table
from reportgen.render.html.edition import read_edition
from reportgen.render.html.page import GridView, Row, grid_columns
from reportgen.site.edition_charts import NARROW, WIDE, interactive_graphic, interactive_specs


def find_edition(folder: Path) -> tuple[Document, Path] | None:
    """The document of the HTML edition a build left in ``folder`` and its file, if any."""
    for html in sorted(Path(folder).glob("*.html")):
        if html.name.startswith("."):
            continue
        if (document := read_edition(html)) is not None:
            return document, html
    return None


#: What a page's edition HTML is made by, besides its edition and figures: a change to any of
#: these redraws every page (the templates, the chart specs and this module).
_MAKERS = ("site/*.py", "render/charts/*.py", "render/html/edition.py", "render/html/page.py")


def edition_key(*inputs: Path) -> str:
    """A digest of everything a page's edition HTML depends on: the build's files
    (``inputs``), the templates and the code that draws them.

    ``publish`` keeps the drawn edition in the page under this key and reuses it when the
    key is unchanged: drawing an edition's charts takes seconds, and a new period must
    not redraw every earlier page (their "next" links change, their editions do not).
    """
    from reportgen import __version__
    from reportgen.render.html.page import templates_root

    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]
    root = templates_root()
    files = [*inputs, *(p for pattern in _MAKERS for p in sorted(package.glob(pattern)))]
    files += sorted((root / "site").glob("*")) + sorted((root / "html").glob("*.j2"))
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


_KEPT = re.compile(
    r"<!-- reportgen-edition (?P<key>[0-9a-f]{64}) -->\n(?P<html>.*?)\n<!-- /reportgen-edition -->",
    re.S,
)


def kept_edition(page: Path, key: str) -> Markup | None:
    """The edition HTML an earlier publish drew into ``page``, if it was drawn under ``key``."""
    try:
        match = _KEPT.search(page.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if match is None or match.group("key") != key:
        return None
    return Markup(match.group("html"))


@dataclass(frozen=True)
class VlChartView:
    """A chart or graphic drawn in the browser: its spec at two widths (desktop, phone)."""

    title: str
    description: str
    spec_id: str
    wide: dict[str, Any]
    narrow: dict[str, Any]
    caption: str | None = None
    kind: Literal["vl_chart"] = "vl_chart"


@dataclass(frozen=True)
class SiteTable:
    """A table as ``_table.html.j2`` draws it: the browser sizes its columns (no inline
    widths, which the page's Content-Security-Policy forbids), one row group."""

    table: Table
    widths: tuple[float, ...]
    groups: tuple[tuple[int, ...], ...]
    kind: Literal["table"] = "table"
    short: bool = True


@dataclass(frozen=True)
class SiteSection:
    section: Section
    items: tuple[Any, ...]


def edition_sections(document: Document, figures: dict[str, Any]) -> list[SiteSection]:
    """Every section of the edition, in its order, as the site's templates draw them."""
    metrics = figures.get("metrics") or {}
    out = []
    for section in document.sections:
        metric = metrics.get(section.id)
        views = [
            _view(block, document, metric, f"spec-{section.id}-{index}")
            for index, block in enumerate(section.blocks)
        ]
        out.append(SiteSection(section, tuple(_paired(section.blocks, views))))
    return out


def _view(block: Block, document: Document, metric: dict[str, Any] | None, spec_id: str) -> Any:
    if isinstance(block, Chart):
        kind = "weekly business review" if block.chart_type == "wbr" else block.chart_type
        names = ", ".join(dict.fromkeys(s.name for s in block.series))
        wide, narrow = interactive_specs(block, document.brand, metric)
        return VlChartView(
            title=block.title,
            description=(
                f"{kind} chart: {block.title}; {names}; "
                f"{block.categories[0]} to {block.categories[-1]}"
            ),
            spec_id=spec_id,
            wide=wide,
            narrow=narrow,
        )
    if block.kind in ("heatmap", "scatter", "dendrogram"):
        return VlChartView(
            title=block.title,
            description=f"{block.kind}: {block.title}",
            spec_id=spec_id,
            wide=interactive_graphic(block, document.brand, WIDE),
            narrow=interactive_graphic(block, document.brand, NARROW),
            caption=getattr(block, "caption", None),
        )
    if isinstance(block, Table):
        return SiteTable(block, (), (tuple(range(len(block.rows))),))
    if isinstance(block, KpiGrid):
        return GridView(block, grid_columns(len(block.tiles)))
    return block  # narrative and definitions: drawn from the block itself


def _paired(blocks: tuple[Block, ...], views: list[Any]) -> list[Any]:
    """A breakdown's chart and table of the same title side by side, chart first."""
    items: list[Any] = []
    index = 0
    while index < len(views):
        here, following = blocks[index], blocks[index + 1] if index + 1 < len(blocks) else None
        if (
            following is not None
            and {type(here), type(following)} == {Chart, Table}
            and getattr(here, "title", None) == getattr(following, "title", None)
        ):
            first, second = views[index], views[index + 1]
            if isinstance(here, Table):
                first, second = second, first
            items.append(Row((first, second)))  # one column on a phone
            index += 2
        else:
            items.append(views[index])
            index += 1
    return items
