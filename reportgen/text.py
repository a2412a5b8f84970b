"""Text that every output format can hold.

Labels come from user-generated-content systems and can contain anything.
XML 1.0 (PPTX, SVG, XLSX) cannot hold C0 control characters other than tab,
newline and carriage return, nor lone surrogates, and vl-convert aborts the
whole process on them. Labels are therefore cleaned once, where they enter
the cube, so every renderer and figures.json see the same text.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_label(value: str) -> str:
    """Replace characters no document format can hold with U+FFFD (visible, not silently dropped)."""
    return _ILLEGAL.sub(REPLACEMENT, value)
