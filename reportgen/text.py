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

REPLACEMENT = "\ufffd"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_label(value: str) -> str:
    """Replace characters no document format can hold with U+FFFD (visible, not silently dropped)."""
    return _ILLEGAL.sub(REPLACEMENT, value)


#: A hyphenated word with a digit in it: a period ("2026-W46", "2026-11-22") or a code
#: ("MEX-1"). Read across a line end ("2026-" / "W46") it is a different word, so the
#: renderers keep it on one line; a compound such as "workforce-management" may break.
HYPHENATED_IDENTIFIER = re.compile(r"\w*\d\w*(?:-\w+)+|\w+(?:-\w+)*-\w*\d\w*")
NON_BREAKING_HYPHEN = "\u2011"


def unbreakable_hyphens(text: str) -> str:
    """``text`` with each hyphenated identifier's hyphens made non-breaking (U+2011).

    For formats without a no-wrap style (a slide's text): the hyphen looks the same
    and a line may no longer end on it.
    """
    return HYPHENATED_IDENTIFIER.sub(
        lambda match: match.group(0).replace("-", NON_BREAKING_HYPHEN), text
    )


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
