"""A chart label reaches the PDF as one text run, where WeasyPrint alone draws it letter by
letter, and still lies where the chart put it; a label that places its letters one by one
keeps WeasyPrint's own drawing. Checked on the PDF's content streams (pypdf) and on the
words' boxes as poppler extracts them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import weasyprint
from pypdf import PdfReader
from pypdf.generic import ContentStream

from reportgen.render.html import _svg_text
from reportgen.render.html.pdf import html_to_pdf

from .test_pdf_layout import words

#: 200 px of SVG shown 150 pt wide at the page's top left corner
PAGE = """<!doctype html><html lang="en"><head><title>t</title><style>
@page {{ size: 300pt 100pt; margin: 0 }} body {{ margin: 0 }} img {{ width: 150pt; display: block }}
</style></head><body><img alt="chart" src="data:image/svg+xml;base64,{svg}"></body></html>"""
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
    '<g font-family="Inter, DejaVu Sans, sans-serif" font-size="11px">{labels}</g></svg>'
)
CENTRED = '<text text-anchor="middle" transform="translate(100,40)">Misinformation</text>'
PER_LETTER = '<text x="10 30 50" y="80">abc</text>'


def pdf_of(labels: str, folder: Path) -> Path:
    svg = base64.b64encode(SVG.format(labels=labels).encode()).decode()
    path = folder / "labels.pdf"
    html_to_pdf(PAGE.format(svg=svg), path, allowed=[folder], base_dir=folder)
    return path


def text_runs(pdf: Path) -> int:
    """Text-showing operators on the page and in every form it draws, however nested."""
    reader = PdfReader(pdf)
    seen: set[int] = set()

    def runs(content: object, resources: object) -> int:
        operations = ContentStream(content, reader).operations
        count = sum(operator in (b"TJ", b"Tj", b"'", b'"') for _, operator in operations)
        forms = resources.get("/XObject", {}) if resources else {}
        for reference in forms.values() if hasattr(forms, "values") else ():
            form = reference.get_object()
            if form.get("/Subtype") != "/Form" or id(form) in seen:
                continue
            seen.add(id(form))
            count += runs(form, form.get("/Resources"))
        return count

    page = reader.pages[0]
    return runs(page.get_contents(), page.get("/Resources"))


def test_the_installed_weasyprint_is_a_release_the_hook_is_written_for() -> None:
    assert _svg_text.supported(weasyprint.__version__), (
        f"WeasyPrint {weasyprint.__version__}: check its svg/text.py still walks node.text "
        "letter by letter, then add the release to _svg_text.RELEASES"
    )


def test_a_label_placed_by_a_transform_is_one_text_run(tmp_path: Path) -> None:
    assert text_runs(pdf_of(CENTRED, tmp_path)) == 1  # WeasyPrint alone: 14, one a letter


def test_a_label_with_a_position_per_letter_is_drawn_letter_by_letter(tmp_path: Path) -> None:
    assert text_runs(pdf_of(PER_LETTER, tmp_path)) == 3


def test_a_centred_label_is_centred_on_its_anchor(tmp_path: Path) -> None:
    found, _ = words(pdf_of(CENTRED, tmp_path))
    (label,) = [w for w in found if w.text == "Misinformation"]
    # the anchor: 100 of the SVG's 200 px, drawn 150 pt wide
    assert (label.left + label.right) / 2 == pytest.approx(75.0, abs=0.75)
    assert label.right - label.left > 50  # the whole word's width, not one letter's


def test_letters_placed_one_by_one_land_where_they_were_placed(tmp_path: Path) -> None:
    found, _ = words(pdf_of(PER_LETTER, tmp_path))
    letters = sorted((w for w in found if w.text in {"a", "b", "c"}), key=lambda w: w.left)
    assert [w.text for w in letters] == ["a", "b", "c"]
    # x = 10, 30, 50 px at 0.75 pt a px
    assert [w.left for w in letters] == pytest.approx([7.5, 22.5, 37.5], abs=0.75)


@pytest.mark.parametrize(
    ("attributes", "whole"),
    [
        ('transform="translate(3,4)"', True),
        ('x="3" y="4"', True),
        ('x="3 9" y="4"', False),
        ('dx="1,2"', False),
        ('rotate="30"', False),
        ('textLength="40"', False),
        ('letter-spacing="2"', False),
        ('direction="rtl"', False),
    ],
)
def test_which_labels_are_drawn_whole(attributes: str, whole: bool) -> None:
    from xml.etree import ElementTree

    class Node:  # the two attributes of weasyprint.svg.Node the rule reads
        def __init__(self, element: ElementTree.Element) -> None:
            self.tag = element.tag
            self.attrib = dict(element.attrib)

    node = Node(ElementTree.fromstring(f"<text {attributes}>label</text>"))
    assert _svg_text.places_no_letter(node) is whole
