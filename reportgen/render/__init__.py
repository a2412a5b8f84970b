"""Renderers, looked up by output format name.

A renderer is a function ``render(document, path)`` that writes one artifact
to ``path`` — a file, or for CSV a directory of files (its "suffix" then names
the folder, ``<stem>_csv``). The delivery layer passes a temporary path and renames it into
place, so a renderer never needs to worry about half-written files. Each
renderer module imports its heavy library (WeasyPrint, python-pptx, openpyxl) lazily,
so listing formats or running ``reportgen --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from reportgen.document import Document
from reportgen.errors import ConfigError

Renderer = Callable[[Document, Path], None]

#: format name → (module, function, file suffix)
RENDERERS: dict[str, tuple[str, str, str]] = {
    "pdf": ("reportgen.render.html.pdf", "render_pdf", ".pdf"),
    "pptx": ("reportgen.render.pptx.deck", "render_pptx", ".pptx"),
    "html": ("reportgen.render.html.page", "render_html_file", ".html"),
    "xlsx": ("reportgen.render.tables.xlsx", "render_xlsx", ".xlsx"),
    "csv": ("reportgen.render.tables.csv_export", "render_csv", "_csv"),
}


def get_renderer(fmt: str) -> tuple[Renderer, str]:
    """Return the renderer function and file suffix for an output format."""
    try:
        module_name, func_name, suffix = RENDERERS[fmt]
    except KeyError:
        raise ConfigError(
            f"unknown output format '{fmt}'",
            fix=f"use one of: {', '.join(sorted(RENDERERS))}",
        ) from None
    module = importlib.import_module(module_name)
    return getattr(module, func_name), suffix
