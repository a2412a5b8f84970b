"""The PDF gets each chart as an image of its SVG: still vector, still tagged, now with alt text.

WeasyPrint reads an ``<img>``'s SVG with an XML parser instead of tokenizing
inline SVG node by node; the preview keeps inline SVG (one self-contained
file that styles and scales it).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from reportgen.document import Chart, Graphic
from reportgen.render.html.page import chart_alt, render_html
from reportgen.render.html.pdf import render_pdf

_IMAGE = re.compile(r'<img class="chart-drawing" src="data:image/svg\+xml;base64,([^"]+)"[^>]*>')


def _charts(document) -> list:
    return [b for s in document.sections for b in s.blocks if isinstance(b, Chart | Graphic)]


def test_the_pdf_html_carries_every_chart_as_an_svg_image(sample_document):
    html = render_html(sample_document, for_pdf=True)

    images = _IMAGE.findall(html)
    assert len(images) == len(_charts(sample_document))
    assert all(base64.b64decode(i).decode("utf-8").startswith("<svg") for i in images)
    assert "<svg" not in html  # nothing inline for the HTML5 parser to tokenize


def test_each_chart_image_has_the_figures_text_alternative(sample_document):
    html = render_html(sample_document, for_pdf=True)

    for block in _charts(sample_document):
        assert f'alt="{chart_alt(block)}"'.replace("&", "&amp;") in html
    assert 'aria-label="line chart:' in html  # the same words as the figure's label


def test_the_preview_keeps_inline_svg(sample_document):
    html = render_html(sample_document, for_pdf=False)

    assert "chart-drawing" not in html
    assert html.count("<svg") >= len(_charts(sample_document))


def test_the_pdf_charts_stay_vector_and_tagged_with_alt_text(sample_document, tmp_path: Path):
    target = tmp_path / "report.pdf"
    render_pdf(sample_document, target)

    reader = PdfReader(target)
    assert not _raster_images(reader)
    alts = _figure_alts(reader.trailer["/Root"]["/StructTreeRoot"]["/K"])
    assert {chart_alt(b) for b in _charts(sample_document)} <= set(alts)


def _raster_images(reader: PdfReader) -> list:
    found = []
    for page in reader.pages:
        pending = [page.get("/Resources")]
        while pending:
            resources = pending.pop()
            if resources is None:
                continue
            for obj in resources.get_object().get("/XObject", {}).values():
                obj = obj.get_object()
                if obj.get("/Subtype") == "/Image":
                    found.append(obj)
                elif "/Resources" in obj:
                    pending.append(obj["/Resources"])
    return found


def _figure_alts(node) -> list[str]:
    if isinstance(node, IndirectObject):
        node = node.get_object()
    if isinstance(node, ArrayObject):
        return [alt for child in node for alt in _figure_alts(child)]
    if not isinstance(node, DictionaryObject):
        return []
    found = [str(node["/Alt"])] if "/Alt" in node else []
    return found + (_figure_alts(node["/K"]) if "/K" in node else [])


def _svg(body: str) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{body}</svg>'


def test_a_printable_svg_drops_what_paints_nothing():
    from reportgen.render.charts.svg import printable_svg

    svg = _svg(
        '<g fill="none"><g class="mark-group" role="graphics-object" aria-label="axis">'
        '<path class="background" d="M0,0h5v5h-5Z"/><path class="foreground" d="" '
        'display="none"/><line x2="5" stroke="#000"/><g><g class="empty"/></g></g></g>'
    )
    assert printable_svg(svg) == _svg('<g fill="none"><line x2="5" stroke="#000" /></g>')


def test_a_printable_svg_keeps_a_background_that_paints():
    from reportgen.render.charts.svg import printable_svg

    inherited = _svg('<g fill="#fff"><path class="background" d="M0,0h5v5h-5Z"/></g>')
    stroked = _svg('<g fill="none"><path class="background" d="M0" stroke="#ccc"/></g>')
    assert printable_svg(inherited) == inherited.replace('"/>', '" />')
    assert printable_svg(stroked) == stroked.replace('"/>', '" />')


def test_a_printable_svg_keeps_groups_that_place_or_clip():
    from reportgen.render.charts.svg import printable_svg

    svg = _svg('<g transform="translate(2,2)" clip-path="url(#c)"><rect width="1"/></g>')
    assert printable_svg(svg) == svg.replace('"/>', '" />')


def _pixels(pdf: Path, folder: Path) -> list[bytes]:
    import subprocess

    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "page")], check=True)
    return [Image.open(p).convert("RGB").tobytes() for p in sorted(folder.glob("page-*.png"))]


def test_the_pdf_pages_look_the_same_with_printable_charts(built_report, tmp_path, monkeypatch):
    import reportgen.render.html.page as page

    (tmp_path / "printable").mkdir()
    (tmp_path / "whole").mkdir()
    document = built_report.document
    render_pdf(document, tmp_path / "printable.pdf")
    monkeypatch.setattr(page, "printable_svg", lambda svg: svg)
    render_pdf(document, tmp_path / "whole.pdf")

    printable = _pixels(tmp_path / "printable.pdf", tmp_path / "printable")
    assert len(printable) > 10
    assert printable == _pixels(tmp_path / "whole.pdf", tmp_path / "whole")
