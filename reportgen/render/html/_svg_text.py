"""Chart labels drawn by WeasyPrint as one text run each, not one letter at a time.

WeasyPrint 70 draws an SVG ``<text>`` letter by letter (``weasyprint/svg/
text.py``): SVG lets ``x``, ``y``, ``dx``, ``dy`` and ``rotate`` hold one value
per character, so its ``text()`` lays out and draws every character of every
label on its own, with Pango, whether or not the label places its letters
one by one. vl-convert's labels never do: each is one ``<text>`` placed by a
``transform``. The weekly leadership PDF's 32 charts hold ~970 labels and
~6,700 letters, and those per-letter layouts were about a quarter of the
PDF's writing time.

:func:`install` makes a label that places no letter on its own reach that
loop as one "letter": :attr:`weasyprint.svg.Node.text` returns the label as a
:class:`WholeRun`, a ``str`` that iterates as itself, whole. WeasyPrint then
lays out and draws the run once, through its own code, with the run's own
shaping (kerning included), and its bounding box (which ``text-anchor``
centres by) is the run's. A ``<text>`` with per-letter positions, rotation,
``textLength``, letter spacing or right-to-left direction keeps WeasyPrint's
letter-by-letter drawing.

The hook relies on how WeasyPrint 70's ``text()`` walks a label, so it is
installed on that release only (:data:`RELEASES`); on another, WeasyPrint
draws as it always does, only slower (``tests/test_svg_text.py`` says
which). Upstream's change to the same effect (WeasyPrint PR #2754) was not
merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: WeasyPrint major releases whose ``svg/text.py`` walks ``node.text`` letter by letter.
RELEASES = frozenset({"70"})
#: Attributes that may place each letter on its own: with more than one value, the label
#: is drawn letter by letter.
_PER_LETTER_LISTS = ("x", "y", "dx", "dy")
_TEXT_TAGS = frozenset({"text", "tspan"})

_installed = False


class WholeRun(str):
    """A label that WeasyPrint's letter loop takes as a single letter."""

    __slots__ = ()

    def __iter__(self) -> Iterator[str]:
        yield self


def supported(version: str) -> bool:
    """Whether WeasyPrint ``version`` draws SVG text the way :func:`install` relies on."""
    return version.split(".", 1)[0] in RELEASES


def install() -> bool:
    """Draw one-run SVG labels as one run from now on in this process; False on another release.

    Idempotent: the renderers call it before every PDF.
    """
    global _installed
    if _installed:
        return True
    import weasyprint
    from weasyprint.svg import Node

    if not supported(weasyprint.__version__):
        return False
    letters = Node.text

    def text(node: Any) -> str | None:
        value = letters.fget(node)
        if value and len(value) > 1 and places_no_letter(node):
            return WholeRun(value)
        return value

    Node.text = property(text, doc=letters.__doc__)
    _installed = True
    return True


def places_no_letter(node: Any) -> bool:
    """Whether an SVG text node positions its run as a whole (no per-letter placement)."""
    if node.tag not in _TEXT_TAGS:
        return False  # textPath and <a> keep WeasyPrint's drawing
    attrib = node.attrib
    if "rotate" in attrib or "textLength" in attrib or attrib.get("direction") == "rtl":
        return False
    if attrib.get("letter-spacing", "0").strip() not in ("0", "0px", "normal", ""):
        return False
    return all(
        len(attrib.get(name, "").replace(",", " ").split()) <= 1 for name in _PER_LETTER_LISTS
    )
