"""Text for the PPTX renderer: XML-safe strings, size estimates, styled runs.

PPTX is XML. A label from the data (a queue name, a policy title) may carry a
control character or a lone surrogate; python-pptx then raises, or escapes it
into text such as ``_x001B_``, or writes a file PowerPoint must "repair".
Every string that goes into the deck passes :func:`clean_text` first.

python-pptx cannot measure text, so layout decisions (table column widths,
rows per slide, narrative height) use a deliberately pessimistic estimate of
the rendered width: a table that is estimated a little too tall moves a row
to the next slide; one estimated too short runs off the slide.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.text.text import TextFrame
from pptx.util import Pt

from reportgen.text import no_break

# C0 controls except tab, LF, CR; DEL and C1 controls; lone surrogates; the two
# non-characters XML 1.0 forbids.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")

EMU_PER_PT = 12700
LINE_SPACING = 1.2  # line height as a multiple of the font size
SAFETY = 1.04  # estimated widths are inflated by this much: wrap early, never late


def clean_text(value: object) -> str:
    """Return ``value`` as a string that is safe inside PPTX XML.

    Removes control characters other than tab, newline and carriage return,
    and lone surrogates (which cannot be encoded as UTF-8 at all); carriage
    returns become newlines so that every renderer breaks lines the same way.
    """
    text = "" if value is None else str(value)
    text = _UNSAFE.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def one_line(value: object) -> str:
    """Clean text for a title: one line, single spaces (titles feed the outline view)."""
    return _SPACES.sub(" ", clean_text(value)).strip()


def _char_em(char: str) -> float:
    """Approximate advance width of a character in em, after Inter's metrics."""
    if char in " .,:;'!|ijl":
        return 0.28
    if char in "ftr()[]/-":
        return 0.38
    if char in "mwMW%@":
        return 0.92
    if char.isdigit():
        return 0.62
    if "a" <= char <= "z":
        return 0.58
    if "A" <= char <= "Z":
        return 0.72
    if ord(char) > 0x2E7F:  # CJK and other wide scripts
        return 1.0
    return 0.8


def text_width(text: str, size_pt: float, *, bold: bool = False) -> int:
    """Estimated width in EMU of one line of ``text`` (pessimistic)."""
    em = _text_em(text) * (1.06 if bold else 1.0)
    return math.ceil(em * size_pt * EMU_PER_PT * SAFETY)


@lru_cache(maxsize=65536)
def _text_em(text: str) -> float:
    # layout measures the same labels and candidate lines over and over (~2M characters a deck)
    return sum(_char_em(c) for c in text)


def longest_word_width(text: str, size_pt: float, *, bold: bool = False) -> int:
    """Width of the longest word: the narrowest a column can be without breaking words."""
    words = text.split() or [""]
    return max(text_width(w, size_pt, bold=bold) for w in words)


def wrapped_lines(text: str, width: int, size_pt: float, *, bold: bool = False) -> int:
    """Number of lines ``text`` takes when word-wrapped into ``width`` EMU.

    Measures each candidate line as a whole (as a renderer does), so a text
    measured to fit its natural width is never counted as wrapping.
    """
    total = 0
    for line in text.split("\n"):
        lines, current = 1, ""
        for word in line.split():
            candidate = f"{current} {word}" if current else word
            if current and text_width(candidate, size_pt, bold=bold) > width:
                lines, candidate = lines + 1, word
            overflow = text_width(candidate, size_pt, bold=bold)
            if overflow > width:  # a word longer than the line breaks across lines
                lines += math.ceil(overflow / max(width, 1)) - 1
            current = candidate
        total += lines
    return total


def line_height(size_pt: float) -> int:
    return math.ceil(size_pt * LINE_SPACING * EMU_PER_PT)


def rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def tint(hex_colour: str, amount: float) -> str:
    """Mix a colour towards white (0 → unchanged, 1 → white); returns ``RRGGBB``.

    Light fills (table bands, KPI cards) derive from the brand's primary
    colour, so a new brand needs no extra colour entries.
    """
    rgb_ = [int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb_)


@dataclass(frozen=True)
class Run:
    """A piece of styled text; ``colour`` None inherits the theme's text colour."""

    text: str
    size: float
    bold: bool = False
    colour: str | None = None
    italic: bool = False


@dataclass(frozen=True)
class Para:
    runs: tuple[Run, ...]
    align: str | None = None  # left | right | center; None inherits (placeholders)
    space_before: float = 0.0  # points

    @classmethod
    def of(
        cls,
        text: str,
        size: float,
        *,
        bold: bool = False,
        colour: str | None = None,
        italic: bool = False,
        align: str | None = None,
        space_before: float = 0.0,
    ) -> Para:
        """A paragraph with one run (the common case)."""
        return cls((Run(text, size, bold, colour, italic),), align, space_before)


#: DrawingML's paragraph alignment values
_ALGN = {"left": "l", "right": "r", "center": "ctr"}
_ANCHOR = {"top": "t", "middle": "ctr", "bottom": "b"}


def write_paragraphs(
    frame: TextFrame, paras: Sequence[Para], *, anchor: str | None = "top", wrap: bool = True
) -> None:
    """Replace a text frame's content with styled paragraphs (all text cleaned).

    Written as DrawingML elements directly rather than through python-pptx's
    run and font proxies: a deck writes about 2,500 text frames (most of them
    table cells), and the proxies cost more than the rest of the deck. The
    XML is what the proxies would write: ``a:pPr@algn``, ``a:spcBef``, ``a:r``
    with ``a:rPr@sz/@b/@i`` and an ``a:solidFill``, ``a:br`` for line breaks.
    """
    frame.clear()
    body = frame._txBody
    body_pr = body.bodyPr
    body_pr.set("wrap", "square" if wrap else "none")
    if anchor:
        body_pr.set("anchor", _ANCHOR[anchor])
    first = body.p_lst[0]
    for index, para in enumerate(paras):
        _write_paragraph(first if index == 0 else body.add_p(), para)


def _write_paragraph(p, para: Para) -> None:
    if para.align or para.space_before:
        p_pr = p.get_or_add_pPr()
        if para.align:
            p_pr.set("algn", _ALGN[para.align])
        if para.space_before:
            p_pr.space_before = Pt(para.space_before)
    end = p.find(qn("a:endParaRPr"))
    for run in para.runs:
        for line_index, line in enumerate(clean_text(run.text).split("\n")):
            if line_index:
                _insert(p, etree.Element(qn("a:br")), end)
            if line:
                _insert(p, _run_element(line, run), end)
    # An empty paragraph (an empty table cell) is as tall as its end mark:
    # without a size there (or with an empty run, for LibreOffice) it takes
    # the 18 pt default and stretches the table row.
    if end is None:
        end = etree.SubElement(p, qn("a:endParaRPr"))
    end.set("sz", str(round(para.runs[-1].size * 100)))


def _run_element(text: str, spec: Run) -> etree._Element:
    run = etree.Element(qn("a:r"))
    props = etree.SubElement(run, qn("a:rPr"))
    props.set("sz", str(round(spec.size * 100)))
    props.set("b", "1" if spec.bold else "0")
    if spec.italic:
        props.set("i", "1")
    if spec.colour:
        fill = etree.SubElement(props, qn("a:solidFill"))
        etree.SubElement(fill, qn("a:srgbClr")).set("val", spec.colour.lstrip("#").upper())
    etree.SubElement(run, qn("a:t")).text = text
    return run


def _insert(p, element: etree._Element, before: etree._Element | None) -> None:
    if before is None:
        p.append(element)
    else:
        before.addprevious(element)


#: A numbered paragraph: a brief's story, "2. Throughput fell …" (compose/_brief.py).
_NUMBERED = re.compile(r"(\d{1,2})\. (?=\S)")
#: What may precede a bullet in ``a:pPr`` (CT_TextParagraphProperties' sequence).
_BEFORE_BULLET = ("lnSpc", "spcBef", "spcAft", "buClrTx", "buClr", "buSzTx", "buSzPct", "buSzPts")
#: Space above a numbered list and above the paragraph after it.
LIST_GAP_PT = 9
_BULLETS = ("buFontTx", "buFont", "buNone", "buAutoNum", "buChar", "buBlip")


def write_plain(frame: TextFrame, paragraphs: Iterable[str], *, size: float | None = None) -> None:
    """Fill a placeholder with unstyled paragraphs, so the layout's styles apply
    (only the size is set when given, so that long text still fits).

    When some paragraphs are numbered ("1. …", a brief's stories), they become the
    placeholder's own numbered list, so PowerPoint renumbers them when a presenter
    deletes or moves one, and the paragraphs around them lose their bullet: a bullet
    beside a number is two marks for one item.
    """
    texts = list(paragraphs)
    numbers = [_NUMBERED.match(text) for text in texts]
    numbered = any(numbers)
    frame.clear()
    for index, (text, number) in enumerate(zip(texts, numbers, strict=True)):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.text = clean_text(no_break(text[number.end() :] if number else text))
        quoted = text.startswith("\u201c")  # commentary: under the story it explains
        if quoted:
            paragraph.level = 1
        # the list stands apart from the lines around it
        if numbered and index and bool(number) != bool(numbers[index - 1]):
            paragraph.space_before = Pt(LIST_GAP_PT)
        if number:
            start = int(number.group(1))
            _set_bullet(paragraph, "buAutoNum", type="arabicPeriod", **_start_at(start))
        elif numbered and not quoted:
            _set_bullet(paragraph, "buNone", marL="0", indent="0")
        for run in paragraph.runs:
            if size is not None:
                run.font.size = Pt(size)
            if quoted:
                run.font.italic = True


def _start_at(number: int) -> dict[str, str]:
    return {"startAt": str(number)} if number != 1 else {}


def _set_bullet(
    paragraph, bullet: str, *, marL: str = "", indent: str = "", **attributes: str
) -> None:
    """Give a paragraph its own bullet element (``a:buNone``, ``a:buAutoNum`` …) in
    place of the layout's, and optionally its own margin and hanging indent."""
    properties = paragraph._p.get_or_add_pPr()
    for name in _BULLETS:
        for old in properties.findall(qn(f"a:{name}")):
            properties.remove(old)
    if marL:
        properties.set("marL", marL)
    if indent:
        properties.set("indent", indent)
    element = etree.SubElement(properties, qn(f"a:{bullet}"), attributes)
    before = [child for child in properties if etree.QName(child).localname in _BEFORE_BULLET]
    if before:
        before[-1].addnext(element)
    else:
        properties.insert(0, element)


def paras_height(paras: Sequence[Para], width: int, *, exact: bool = False) -> int:
    """Estimated height in EMU of paragraphs wrapped into ``width`` (without insets).

    ``exact`` drops the safety margin, for shapes sized to their own text (KPI
    cards): there wrapping later than estimated costs a little padding, while
    wrapping early would make every card a line taller than it needs.

    A paragraph mixing sizes (a bold 13 pt delta and an 11 pt comparison) is
    measured run by run, then wrapped as if set in its largest size within a
    proportionally wider line — close enough for one- or two-line paragraphs.
    """
    total = 0
    width = round(width * SAFETY) if exact else width
    for para in paras:
        size = max(run.size for run in para.runs)
        bold = any(run.bold for run in para.runs)
        text = "".join(run.text for run in para.runs)
        as_largest = text_width(text, size, bold=bold)
        actual = sum(text_width(run.text, run.size, bold=run.bold) for run in para.runs)
        scaled = width if not as_largest else round(width * as_largest / max(actual, 1))
        total += wrapped_lines(text, scaled, size, bold=bold) * line_height(size)
        total += round(para.space_before * EMU_PER_PT)
    return total
