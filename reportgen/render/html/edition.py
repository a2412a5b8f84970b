"""The edition's document model, carried inside its HTML file, for the report site.

``reportgen publish`` draws each report page from what a build wrote and re-runs
no analysis. ``figures.json`` holds every number but not the edition itself: its
sections, narrative, tables and chart specs are composed per audience (the
analyst edition's anomalies, change tests and drivers; the leadership brief).
So the HTML edition carries its :class:`~reportgen.document.Document` as an inert
JSON data block, and the site renders the same sections with the same partials,
its charts made interactive.

What is carried is what the HTML page shows, nothing more: the data exports
(``figures``, ``exports``) and the deck's speaker notes (``brief``, each section's
``notes``) are left out, and so are the brand's file paths (the build machine's
folders); the site draws with the brand's colours and fonts only.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reportgen import document as model
from reportgen.document import Document

#: The data block's element id; one per HTML edition.
EDITION_ID = "reportgen-edition"
#: Bumped when a change to the document model makes older editions unreadable.
EDITION_VERSION = 1
_BLOCK = re.compile(
    r'<script type="application/json" id="' + EDITION_ID + r'">(?P<json>.*?)</script>', re.S
)
#: Document fields not carried: the data exports (every number is in figures.json anyway) and
#: the deck's brief slides (its speaker notes are the presenter's, not the page's).
_LEFT_OUT = frozenset({"figures", "exports", "brief"})
#: Block classes by their ``kind`` tag (the document's Block union).
_BLOCKS: dict[str, type] = {
    cls.kind: cls
    for cls in (
        model.KpiGrid,
        model.Table,
        model.Chart,
        model.Heatmap,
        model.Scatter,
        model.Dendrogram,
        model.Narrative,
        model.DefinitionList,
    )
}


def edition_to_dict(document: Document) -> dict[str, Any]:
    """The document as JSON-ready data: dataclasses as objects, tuples as lists."""
    data = {
        f.name: _plain(getattr(document, f.name))
        for f in dataclasses.fields(document)
        if f.name not in _LEFT_OUT
    }
    brand = data["brand"]
    brand.update(logo=None, pptx_template="", assets_dir="")  # no path of the build machine
    for section in data["sections"]:
        section["notes"] = []  # the deck's speaker notes
    return {"edition_version": EDITION_VERSION, "document": data}


def edition_from_dict(data: dict[str, Any]) -> Document | None:
    """The document back, or None for an edition written by an incompatible version."""
    if not isinstance(data, dict) or data.get("edition_version") != EDITION_VERSION:
        return None
    return typing.cast(Document, _build(Document, data["document"]))


def embed_edition(html: str, document: Document) -> str:
    """The HTML page with its document as a data block before ``</body>`` (never executed)."""
    text = json.dumps(edition_to_dict(document), ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    block = f'<script type="application/json" id="{EDITION_ID}">{text}</script>\n'
    head, end, tail = html.rpartition("</body>")
    return head + block + end + tail if end else html + block


def read_edition(html_file: Path) -> Document | None:
    """The document an HTML edition carries; None if it has none (an older build) or
    cannot be read."""
    try:
        match = _BLOCK.search(Path(html_file).read_text(encoding="utf-8"))
        if match is None:
            return None
        return edition_from_dict(json.loads(match.group("json")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


# --------------------------------------------------------------------------- conversion


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, {**vars(model), "ExportFigures": Any})


def _build(hint: Any, value: Any) -> Any:
    """``value`` as the type ``hint`` names (dataclasses, tuples, unions, dates, paths)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if isinstance(value, dict) and "kind" in value and value["kind"] in _BLOCKS:
            return _build(_BLOCKS[value["kind"]], value)
        for option in options:
            if dataclasses.is_dataclass(option) and isinstance(value, dict):
                return _build(option, value)
        return _build(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        return tuple(_build(a, v) for a, v in zip(args, value, strict=True))
    if origin is typing.Literal:
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = _hints(hint)
        known = {f.name for f in dataclasses.fields(hint) if f.init}
        return hint(**{k: _build(hints[k], v) for k, v in value.items() if k in known})
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is Path:
        return Path(value)
    return value
