"""Document → PDF with WeasyPrint, reading nothing outside the allow-list.

The HTML comes from :func:`reportgen.render.html.page.render_html`; WeasyPrint
gets a :class:`~reportgen.render.html._fetcher.RestrictedURLFetcher` (``data:``
plus files under the templates folder and the brand's asset folders), and
file attachments are dropped before the PDF is written: a
``<link rel="attachment">`` or ``<a rel="attachment">`` would otherwise copy
the bytes of whatever it names into the PDF, and nothing in a leadership
report is meant to be an attachment.

WeasyPrint is imported inside the functions: it is slow to import and the
CLI, the scheduler and the other renderers must not pay for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reportgen.document import Document
from reportgen.errors import RenderError
from reportgen.render.charts import vega
from reportgen.render.html import _page_references, _svg_text
from reportgen.render.html._fetcher import RestrictedURLFetcher, allowed_dirs_for
from reportgen.render.html.page import html_templates_dir, render_html

logger = logging.getLogger("reportgen.render")


def allowed_dirs(document: Document, templates_dir: Path | None = None) -> list[Path]:
    """Folders WeasyPrint may read from for this document."""
    brand = document.brand
    logo_dir = brand.logo.parent if brand.logo is not None else None
    return allowed_dirs_for((brand.assets_dir, logo_dir), templates_dir or html_templates_dir())


def render_pdf(document: Document, path: Path) -> None:
    """Write the report as a PDF to ``path``."""
    html = render_html(document, for_pdf=True)
    vega.shut_down()  # the charts are drawn: their JavaScript engines' memory goes before layout
    templates_dir = html_templates_dir()
    html_to_pdf(
        html,
        Path(path),
        allowed=allowed_dirs(document, templates_dir),
        base_dir=templates_dir,
        title=f"{document.title} — {document.period_label}",
        author=document.brand.name,
        context={"report": document.report_id, "period": document.period_label},
    )


def html_to_pdf(
    html: str,
    path: Path,
    *,
    allowed: Iterable[Path],
    base_dir: Path,
    title: str | None = None,
    author: str | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Lay out ``html`` and write a PDF, fetching only through the restrictive fetcher.

    Separate from :func:`render_pdf` so the fetch and attachment rules can be
    tested with hand-crafted hostile HTML.
    """
    import weasyprint

    _svg_text.install()  # chart labels laid out and drawn as runs, not letter by letter
    _page_references.install()  # the tags' page references built once, not at every tag
    fetcher = RestrictedURLFetcher(allowed)
    try:
        source = weasyprint.HTML(
            string=html, base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher
        )
        rendered = source.render(pdf_tags=True)
        _drop_attachments(rendered)
        if title:
            rendered.metadata.title = title
        if author:
            rendered.metadata.authors = [author]
        # tagged PDF/UA-1: structure tree, language and title, for screen readers
        rendered.write_pdf(target=str(path), pdf_variant="pdf/ua-1", pdf_tags=True)
    except Exception as error:  # WeasyPrint raises many unrelated types
        raise RenderError(
            f"PDF rendering failed: {type(error).__name__}: {error}",
            path=str(path),
            fix="see the weasyprint and reportgen.render log messages for the failing element",
            **(context or {}),
        ) from error


def _drop_attachments(rendered: Any) -> None:
    """Remove every file attachment WeasyPrint collected from the HTML."""
    dropped = [a for a in rendered.metadata.attachments]
    rendered.metadata.attachments = []
    for page in rendered.pages:
        kept = [link for link in page.links if link[0] != "attachment"]
        dropped.extend(link for link in page.links if link[0] == "attachment")
        page.links = kept
    if dropped:
        logger.warning(
            "dropped %d attachment(s) from the PDF: attachments are not allowed", len(dropped)
        )
