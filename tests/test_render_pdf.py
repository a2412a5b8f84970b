"""PDF renderer: content, page furniture, and what WeasyPrint may (not) fetch."""

from __future__ import annotations

import base64
import logging
import socket
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.document import Brand, DefinitionList, Document, KpiGrid, Table
from reportgen.errors import RenderError
from reportgen.render import get_renderer
from reportgen.render.html._fetcher import RestrictedURLFetcher
from reportgen.render.html.page import html_templates_dir
from reportgen.render.html.pdf import html_to_pdf, render_pdf

from ._sample import sample_document as build_sample
from .test_render_html import IMG, SCRIPT, TEMPLATE_EXPR, hostile_document

LOGGER = "reportgen.render"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sample_pdf(brand: Brand, tmp_path_factory: pytest.TempPathFactory) -> tuple[Document, Path]:
    document = build_sample(brand)
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    render_pdf(document, path)
    return document, path


@pytest.fixture(scope="module")
def pages(sample_pdf: tuple[Document, Path]) -> list[str]:
    return [page.extract_text() for page in PdfReader(sample_pdf[1]).pages]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (and block) any attempt to open a socket connection."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def _blocks(document: Document, kind: type) -> list:
    return [b for s in document.sections for b in s.blocks if isinstance(b, kind)]


def _normalise(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- content


def test_pdf_has_title_and_period(sample_pdf: tuple[Document, Path], pages: list[str]) -> None:
    document, _ = sample_pdf
    assert document.title in pages[0]
    assert document.period_label in pages[0]


def test_pdf_has_every_kpi_value_and_delta(
    sample_pdf: tuple[Document, Path], pages: list[str]
) -> None:
    document, _ = sample_pdf
    text = _normalise("\n".join(pages))
    for grid in _blocks(document, KpiGrid):
        for tile in grid.tiles:
            assert tile.label in text
            assert tile.value_text in text
            assert tile.delta is not None and tile.delta.text in text


def test_pdf_has_every_table_cell(sample_pdf: tuple[Document, Path], pages: list[str]) -> None:
    document, _ = sample_pdf
    text = _normalise("\n".join(pages))
    for table in _blocks(document, Table):
        assert table.title in text
        for column in table.columns:
            assert column.label in text
        for row in table.rows:
            assert " ".join(cell.text for cell in row) in text


def test_pdf_has_definitions(sample_pdf: tuple[Document, Path], pages: list[str]) -> None:
    document, _ = sample_pdf
    appendix = _normalise(pages[-1])
    for definitions in _blocks(document, DefinitionList):
        for item in definitions.items:
            assert item.term in appendix
            assert item.formula in appendix
            assert item.description in appendix


def test_page_count_is_cover_summary_metric_and_appendix(pages: list[str]) -> None:
    assert 4 <= len(pages) <= 6


def test_content_pages_have_running_header_and_footer(
    sample_pdf: tuple[Document, Path], pages: list[str]
) -> None:
    document, _ = sample_pdf
    total = len(pages)
    for number, text in enumerate(pages[1:], start=2):
        flat = _normalise(text)
        assert f"{document.title} {document.period_label}" in flat
        assert document.brand.footer in flat
        assert document.brand.classification in flat
        assert f"Page {number} of {total}" in flat


def test_cover_has_no_running_header_or_page_number(pages: list[str]) -> None:
    assert "Page 1 of" not in pages[0]


def test_pdf_metadata_names_title_and_author(sample_pdf: tuple[Document, Path]) -> None:
    document, path = sample_pdf
    metadata = PdfReader(path).metadata
    assert metadata is not None
    assert metadata.title is not None and document.title in metadata.title
    assert metadata.author == document.brand.name


def test_registry_renders_a_pdf(sample_document: Document, tmp_path: Path) -> None:
    renderer, suffix = get_renderer("pdf")
    target = tmp_path / f"out{suffix}"
    renderer(sample_document, target)
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_hostile_labels_print_as_literal_text(brand: Brand, tmp_path: Path) -> None:
    path = tmp_path / "hostile.pdf"
    render_pdf(hostile_document(brand), path)
    text = _normalise(" ".join(page.extract_text() for page in PdfReader(path).pages))
    for literal in (IMG, TEMPLATE_EXPR, SCRIPT):
        assert literal in text


def test_failure_raises_render_error_with_context(
    sample_document: Document, tmp_path: Path
) -> None:
    with pytest.raises(RenderError) as caught:
        render_pdf(sample_document, tmp_path / "missing-dir" / "report.pdf")
    assert caught.value.context["report"] == sample_document.report_id
    assert caught.value.context["period"] == sample_document.period_label


# --------------------------------------------------------------------------- fetcher
# What the fetcher refuses (URLs, traversal, symlinks) is in tests/test_threats.py.


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates" / "html"
    folder.mkdir(parents=True)
    (folder / "ok.css").write_text("p { color: red }", encoding="utf-8")
    return folder


def test_fetcher_allows_data_uri(templates: Path) -> None:
    payload = base64.b64encode(b"hello").decode()
    response = RestrictedURLFetcher([templates]).fetch(f"data:text/plain;base64,{payload}")
    assert response.read() == b"hello"


def test_fetcher_allows_a_file_inside_the_allow_list(templates: Path) -> None:
    response = RestrictedURLFetcher([templates]).fetch((templates / "ok.css").as_uri())
    assert response.read() == b"p { color: red }"
    assert response.content_type == "text/css"


# --------------------------------------------------------------------------- crafted HTML

CRAFTED = """<!DOCTYPE html><html><head>
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<link rel="attachment" href="ok.css" title="allowed file">
<link rel="stylesheet" href="http://169.254.169.254/latest/meta-data/style.css">
<style>@import url("http://127.0.0.1:1/x.css"); body { background: url(file:///etc/hostname) }</style>
</head><body>
<p>crafted</p>
<img src="http://169.254.169.254/latest/meta-data/iam">
<img src="file:///etc/passwd">
<a rel="attachment" href="file:///etc/passwd">passwd</a>
</body></html>"""


@pytest.fixture
def crafted_pdf(
    templates: Path, tmp_path: Path, no_network: list[object], caplog: pytest.LogCaptureFixture
) -> tuple[PdfReader, list[str]]:
    path = tmp_path / "crafted.pdf"
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        html_to_pdf(CRAFTED, path, allowed=[templates], base_dir=templates)
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert no_network == []
    return PdfReader(path), messages


def test_crafted_html_embeds_no_attachment(crafted_pdf: tuple[PdfReader, list[str]]) -> None:
    reader, _ = crafted_pdf
    assert reader.attachments == {}
    assert "/Names" not in reader.trailer["/Root"]
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            assert annotation.get_object().get("/Subtype") != "/FileAttachment"


def test_crafted_html_fetches_are_refused_and_logged(
    crafted_pdf: tuple[PdfReader, list[str]],
) -> None:
    reader, messages = crafted_pdf
    assert "crafted" in reader.pages[0].extract_text()
    refused = " ".join(m for m in messages if m.startswith("refused"))
    for url in (
        "http://169.254.169.254/latest/meta-data/style.css",
        "http://169.254.169.254/latest/meta-data/iam",
        "http://127.0.0.1:1/x.css",
        "file:///etc/passwd",
        "file:///etc/hostname",
    ):
        assert url in refused
    assert any(m.startswith("dropped") and "attachment" in m for m in messages)


def test_every_weasyprint_entry_point_gets_the_restrictive_fetcher(
    sample_document: Document, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint

    seen: list[object] = []
    original = weasyprint.HTML.__init__

    def spy(self: object, *args: object, **kwargs: object) -> None:
        seen.append(kwargs.get("url_fetcher"))
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(weasyprint.HTML, "__init__", spy)
    render_pdf(sample_document, tmp_path / "r.pdf")
    assert seen and all(isinstance(f, RestrictedURLFetcher) for f in seen)
    assert html_templates_dir() in seen[0].allowed_dirs  # type: ignore[union-attr]


def test_pdf_is_tagged_with_language_and_title(sample_document, tmp_path):
    from pypdf import PdfReader

    from reportgen.render.html.pdf import render_pdf

    path = tmp_path / "tagged.pdf"
    render_pdf(sample_document, path)
    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    assert (
        reader.metadata.title == sample_document.title
        or sample_document.title in reader.metadata.title
    )
