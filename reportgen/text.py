"""Text that every output format can hold.

Labels come from user-generated-content systems and can contain anything.
XML 1.0 (PPTX, SVG, XLSX) cannot hold C0 control characters other than tab,
newline and carriage return, nor lone surrogates, and vl-convert aborts the
whole process on them. Labels are therefore cleaned once, where they enter
the cube, so every renderer and figures.json see the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup

REPLACEMENT = "\ufffd"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_label(value: str) -> str:
    """Replace characters no document format can hold with U+FFFD (visible, not silently dropped)."""
    return _ILLEGAL.sub(REPLACEMENT, value)


#: Words a line must not end inside, because each half reads as something else:
#: - a hyphenated word with a digit in it, a period ("2026-W46", "2026-11-22") or a code
#:   ("MEX-1"): "in 2026-" over "W46" reads as a year and a stray code (a compound such as
#:   "workforce-management" may still break at its hyphen);
#: - a quantity and its unit ("+4.7 s", "10.4 pp"): a unit alone at a line's start.
KEEP_WHOLE = re.compile(
    r"\w*\d\w*(?:-\w+)+|\w+(?:-\w+)*-\w*\d\w*"
    r"|[+\u2212-]?\d[\d,]*(?:\.\d+)? (?:ms|s|min|h|pp)(?!\w)"
)
NON_BREAKING_HYPHEN = "\u2011"
NO_BREAK_SPACE = "\u00a0"


def no_break(text: str) -> str:
    """``text`` with the hyphens and spaces inside :data:`KEEP_WHOLE` words made
    non-breaking (U+2011, U+00A0), for text without a no-wrap style (a slide's):
    they look the same, and a line may no longer end on them."""
    return KEEP_WHOLE.sub(
        lambda match: match.group(0).replace("-", NON_BREAKING_HYPHEN).replace(" ", NO_BREAK_SPACE),
        text,
    )


def keep_whole(text: object, *, inline: bool = False) -> Markup:
    """Text, escaped, with each :data:`KEEP_WHOLE` word in a span that never breaks, for
    HTML element content (never an attribute value). The report's stylesheet styles
    ``.nobr``; an email, whose clients may drop a stylesheet, gets the style ``inline``.
    """
    if isinstance(text, Markup):
        return text  # already markup: its tags are not this filter's to split
    opening = '<span style="white-space: nowrap">' if inline else '<span class="nobr">'
    plain = str(text)
    pieces: list[str] = []
    start = 0
    for match in KEEP_WHOLE.finditer(plain):
        pieces.append(Markup.escape(plain[start : match.start()]))
        pieces.append(Markup(opening) + Markup.escape(match.group(0)) + Markup("</span>"))
        start = match.end()
    pieces.append(Markup.escape(plain[start:]))
    return Markup("").join(pieces)


def breakable(text: str) -> str:
    """:func:`no_break` undone: plain hyphens and spaces again."""
    return text.replace(NON_BREAKING_HYPHEN, "-").replace(NO_BREAK_SPACE, " ")


#: Speaker notes longer than this are read, not said.
MAX_NOTE_WORDS = 120


def cap_words(lines: Iterable[str], limit: int = MAX_NOTE_WORDS) -> tuple[str, ...]:
    """Whole lines while they fit in ``limit`` words; a first line too long is cut at a sentence."""
    kept: list[str] = []
    used = 0
    for line in lines:
        words = len(line.split())
        if used + words <= limit:
            kept.append(line)
            used += words
        elif not kept:
            kept.append(_first_sentences(line, limit))
            used = len(kept[0].split())
    return tuple(kept)


def _first_sentences(line: str, limit: int) -> str:
    out = ""
    for sentence in re.split(r"(?<=[.;])\s+", line):
        candidate = f"{out} {sentence}".strip()
        if len(candidate.split()) > limit:
            break
        out = candidate
    return out or " ".join(line.split()[: limit - 1]) + " …"
