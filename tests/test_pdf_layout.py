"""What a reader of the PDF sees on every page: no word printed over another and nothing
outside the page's margins. Checked on the words' boxes as poppler extracts them, so a
table header running into its neighbour or a column pushed past the margin fails here
whichever template, CSS rule or column-width rule caused it."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

#: report.css: ``@page { size: A4 landscape; margin: 17mm 14mm 15mm 14mm }`` (in pt)
SIDE_MARGIN = 14 * 72 / 25.4
TOLERANCE = 0.5  # pt: poppler's boxes of two touching glyphs may share an edge
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    left: float
    top: float
    right: float
    bottom: float


def words(pdf: Path) -> tuple[list[Word], dict[int, float]]:
    """Every word of the PDF with its box, and each page's width."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils' pdftotext is not installed (scripts/setup.sh --test)")
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    found: list[Word] = []
    widths: dict[int, float] = {}
    for number, page in enumerate(xhtml.split("<page ")[1:], start=1):
        widths[number] = float(re.search(r'width="([\d.]+)"', page).group(1))
        for left, top, right, bottom, text in WORD.findall(page):
            found.append(Word(number, text, float(left), float(top), float(right), float(bottom)))
    return found, widths


def overlapping(page_words: list[Word]) -> list[tuple[str, str]]:
    ordered = sorted(page_words, key=lambda w: w.left)
    pairs = []
    for i, word in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.left >= word.right - TOLERANCE:
                break
            across = min(word.right, other.right) - max(word.left, other.left)
            down = min(word.bottom, other.bottom) - max(word.top, other.top)
            if across > TOLERANCE and down > TOLERANCE:
                pairs.append((word.text, other.text))
    return pairs


@pytest.fixture(scope="module")
def leadership_words(built_report) -> tuple[list[Word], dict[int, float]]:
    return words(built_report.artifacts["pdf"])


def test_no_word_is_printed_over_another(leadership_words) -> None:
    found, widths = leadership_words
    collisions = {
        page: pairs
        for page in widths
        if (pairs := overlapping([w for w in found if w.page == page]))
    }
    assert collisions == {}


def test_nothing_is_printed_in_the_side_margins(leadership_words) -> None:
    found, widths = leadership_words
    outside = [
        (w.page, w.text)
        for w in found
        if w.left < SIDE_MARGIN - TOLERANCE or w.right > widths[w.page] - SIDE_MARGIN + TOLERANCE
    ]
    assert outside == []


def test_the_checks_see_every_page(leadership_words, built_report) -> None:
    from pypdf import PdfReader

    found, widths = leadership_words
    pages = len(PdfReader(built_report.artifacts["pdf"]).pages)
    assert len(widths) == pages and {w.page for w in found} == set(range(1, pages + 1))


def test_a_period_in_a_table_header_is_never_broken_at_its_hyphen(leadership_words) -> None:
    found, _ = leadership_words
    periods = [
        third.text
        for first, second, third in zip(found, found[1:], found[2:], strict=False)
        if (first.text, second.text) == ("Change", "vs") and third.text[:1].isdigit()
    ]
    assert periods, "no 'Change vs <period>' header found"
    assert all(re.fullmatch(r"\d{4}-W\d{2}", text) for text in periods), periods  # not "2026-"


def test_no_period_or_code_is_broken_at_its_hyphen_at_a_line_end(leadership_words) -> None:
    """ "… in 2026-" over "W46" reads as a year and a stray code, in prose as in tables."""
    found, _ = leadership_words
    broken = [
        (word.page, word.text, after.text)
        for word, after in pairwise(found)
        if word.text.endswith("-") and (re.search(r"\d", word.text) or after.text[:1].isdigit())
    ]
    assert broken == []


def test_no_unit_starts_a_line_away_from_its_number(leadership_words) -> None:
    """ "+4.7" at a line end and "s" below it: a quantity is kept on one line, in prose,
    tables and chart labels alike."""
    found, _ = leadership_words
    units = {"s", "ms", "min", "h", "pp"}
    parted = [
        (word.page, number.text, word.text)
        for number, word in pairwise(found)
        if word.text.rstrip(".,;:)") in units
        and re.fullmatch(r"[+\u2212-]?\d[\d,]*(\.\d+)?", number.text)
        and abs(word.top - number.top) > TOLERANCE
    ]
    assert parted == []
