"""A tagged PDF's page references are built once per page count (pydyf builds them at
every read), and the PDF written with them is the same, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pydyf
import pytest
import weasyprint

from reportgen.render.html import _page_references
from reportgen.render.html.pdf import html_to_pdf

#: Three pages of tagged text, a heading and a link on each: every one is named by its page.
PAGES = """<!doctype html><html lang="en"><head><title>t</title><style>
@page { size: 300pt 200pt; margin: 10pt } section { break-after: page }
</style></head><body>
<section><h1 id="a">One</h1><p>First <a href="#c">to three</a></p></section>
<section><h1 id="b">Two</h1><p>Second <a href="#a">to one</a></p></section>
<section><h1 id="c">Three</h1><p>Third <a href="#b">to two</a></p></section>
</body></html>"""


def pdf_with_pages(count: int) -> pydyf.PDF:
    pdf = pydyf.PDF()
    for _ in range(count):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    return pdf


def test_the_references_are_built_once_while_the_pages_stay_the_same() -> None:
    assert _page_references.install()
    pdf = pdf_with_pages(3)
    first = pdf.page_references
    assert pdf.page_references is first  # pydyf's own property builds a new tuple each read


def test_a_page_added_is_referenced() -> None:
    assert _page_references.install()
    pdf = pdf_with_pages(2)
    before = pdf.page_references
    pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    assert len(before) == 2 and len(pdf.page_references) == 3
    assert pdf.page_references == pdf_with_pages(3).page_references


def test_the_references_are_pydyfs_own(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _page_references.install() and _page_references.original is not None
    kept = pdf_with_pages(4).page_references
    monkeypatch.setattr(pydyf.PDF, "page_references", _page_references.original)
    assert (
        pdf_with_pages(4).page_references
        == kept
        == tuple(f"{number} 0 R".encode() for number in pdf_with_pages(4).pages["Kids"][::3])
    )


def test_the_tagged_pdf_is_the_same_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PdfReader

    html_to_pdf(PAGES, tmp_path / "kept.pdf", allowed=[tmp_path], base_dir=tmp_path)
    assert pydyf.PDF.__dict__["page_references"] is not _page_references.original  # hooked
    monkeypatch.setattr(pydyf.PDF, "page_references", _page_references.original)
    html_to_pdf(PAGES, tmp_path / "pydyf.pdf", allowed=[tmp_path], base_dir=tmp_path)
    kept, plain = (tmp_path / "kept.pdf").read_bytes(), (tmp_path / "pydyf.pdf").read_bytes()
    reader = PdfReader(tmp_path / "kept.pdf")
    assert len(reader.pages) == 3 and "/StructTreeRoot" in reader.trailer["/Root"]
    assert kept == plain


def test_weasyprint_still_names_pages_through_pydyfs_property() -> None:
    """If WeasyPrint stops reading ``page_references``, this hook is dead code: say so."""
    source = Path(weasyprint.__file__).parent / "pdf" / "tags.py"
    assert "pdf.page_references[" in source.read_text(encoding="utf-8")
