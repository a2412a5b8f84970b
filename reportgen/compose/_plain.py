"""Leadership wording for the evidence sections: what a test or a score means, not its statistic.

The analyst edition shows the evidence as analysts read it: robust z, p- and
q-values, test names, Benjamini–Hochberg, LMDI. A leadership reader needs the
verdict in words — "well outside its normal range", "unlikely to be noise",
"could be noise" — and nothing they would have to ask an analyst to decode. The
leadership edition keeps every section (nothing is lost: the numbers stay), but
each is passed through :func:`plain_section`, which

* rewrites tables by their column keys (set in :mod:`reportgen.compose._insights`
  and :mod:`reportgen.compose._core`): drops test names, statistics, p-values
  and effect sizes, turns a robust z into words and a verdict into plain words;
* replaces the captions that explain statistics with a plain one;
* removes the statistics parentheticals from the finding sentences (``(robust z
  +21.6)``, ``, p = 0.23``) and the method names from definitions.

The figures.json of a leadership build keeps every statistic; only the words change.
"""

from __future__ import annotations

import re
from dataclasses import replace

from reportgen.document import (
    Block,
    Cell,
    Column,
    Definition,
    DefinitionList,
    Narrative,
    Section,
    Table,
)

#: Table columns whose content is a statistic a leadership reader does not use.
_DROPPED = {"test", "statistic", "p", "effect"}

#: Statistics parentheticals and clauses the analysis sentences carry.
_STAT_PATTERNS = (
    re.compile(r"\s*\(robust z [^()]*(?:\([^()]*\)[^()]*)*\)"),  # "(robust z +21.6, day-of-week …)"
    re.compile(r",?\s*\b[pq]\s*(?:=|<|>)\s*[0-9.]+"),  # ", p = 0.23", "q < 0.001"
    re.compile(r"\s*\((?:BH|Benjamini[–-]Hochberg)[^()]*\)"),
    re.compile(r"Additive LMDI-I:\s*"),
    re.compile(r"\bLMDI[- ]?I?\b\s*"),
)

_WORDS = (
    (re.compile(r"\bnot significant\b"), "could be noise"),
    (re.compile(r"\bsignificant\b"), "unlikely to be noise"),
    (re.compile(r"\bsignificantly\b"), "beyond noise"),
)


def plain_text(text: str) -> str:
    """A sentence without statistics jargon: parentheticals removed, verdicts in words."""
    original = text
    for pattern in _STAT_PATTERNS:
        text = pattern.sub("", text)
    for pattern, words in _WORDS:
        text = pattern.sub(words, text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text[:1].upper() + text[1:] if original[:1].isupper() else text


def how_unusual(z: float | None) -> str:
    """A robust z in words: how far outside its normal range a value is."""
    if z is None:
        return "—"
    size = abs(z)
    if size >= 10:
        return "extremely far outside its normal range"
    if size >= 6:
        return "far outside its normal range"
    return "outside its normal range"


def plain_section(section: Section) -> Section:
    """The section in leadership wording (see the module docstring)."""
    blocks = tuple(_plain_block(block) for block in section.blocks)
    notes = tuple(plain_text(n) for n in section.notes)
    return replace(section, blocks=blocks, notes=notes)


def _plain_block(block: Block) -> Block:
    if isinstance(block, Narrative):
        return replace(block, paragraphs=tuple(plain_text(p) for p in block.paragraphs))
    if isinstance(block, Table):
        return plain_table(block)
    if isinstance(block, DefinitionList):
        return replace(block, items=tuple(_plain_definition(d) for d in block.items))
    return block


def _plain_definition(item: Definition) -> Definition:
    return replace(
        item,
        term=plain_text(item.term),
        description=plain_text(item.description),
        extra=tuple((label, plain_text(text)) for label, text in item.extra),
    )


_CAPTIONS = {
    "Anomalies flagged": (
        "Baseline: the median of the metric's previous periods (own history, share), or of its "
        "peers this period. A value is flagged when it lies well outside the range those periods "
        "normally span, allowing for the usual week-to-week noise."
    ),
    "Is the change real?": (
        "Whether each change is larger than the usual week-to-week noise: \u201cunlikely to be "
        "noise\u201d means a real move; \u201ccould be noise\u201d means the change is within "
        "what chance alone produces. The likely range is where the true change lies, 19 times "
        "in 20."
    ),
    "Differences across segments": (
        "Whether the segments differ from each other this period by more than noise, and which "
        "segments changed beyond noise since the previous period (allowing for the number of "
        "segments checked)."
    ),
}


def plain_table(table: Table) -> Table:
    """A table without statistics columns; a robust z and a verdict in words."""
    keep = [i for i, c in enumerate(table.columns) if c.key not in _DROPPED]
    columns = []
    for i in keep:
        column = table.columns[i]
        if column.key == "z":
            column = Column("unusual", "How unusual", "left")
        elif column.key == "significance":
            column = replace(column, label="Beyond noise?")
        columns.append(
            replace(column, label=plain_text(column.label).replace("CI", "likely range"))
        )
    rows = tuple(
        tuple(_plain_cell(table.columns[i].key, row[i]) for i in keep) for row in table.rows
    )
    caption = _CAPTIONS.get(table.title)
    if caption is None and table.caption is not None:
        caption = plain_text(_without_method_sentences(table.caption))
    return replace(
        table,
        title=plain_text(table.title),
        columns=tuple(columns),
        rows=rows,
        caption=caption,
    )


def _plain_cell(key: str, cell: Cell) -> Cell:
    if key == "z":
        z = cell.value if isinstance(cell.value, int | float) else None
        return Cell(how_unusual(z), cell.value)
    if key == "significance":  # "yes, q < 0.001" → "yes"
        return replace(cell, text=cell.text.split(",")[0])
    return replace(cell, text=plain_text(cell.text))


def _without_method_sentences(caption: str) -> str:
    """Drop the caption sentences that only name a statistical method."""
    sentences = re.split(r"(?<=\.)\s+", caption)
    method = re.compile(r"Benjamini|Hochberg|q-value|p-value|robust z|LMDI|MAD\b", re.I)
    return " ".join(s for s in sentences if not method.search(s))


#: Sentences shorter than this ("Sorted by share.") may repeat: they label, they do not tell.
MIN_REPEAT_WORDS = 6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u201c\"(])")


def without_repeats(sections: list[Section]) -> list[Section]:
    """Each sentence once per document: a later narrative or caption drops what was said before.

    The same driver sentence is computed for a metric's section and for the
    drivers section, and a caption ("Greyed: small samples …") for every table;
    a reader meets it the first time and is not told again.
    """
    seen: set[str] = set()
    out = []
    for section in sections:
        blocks = [_block_without(b, seen) for b in section.blocks]
        kept = [b for b in blocks if not (isinstance(b, Narrative) and not b.paragraphs)]
        out.append(replace(section, blocks=tuple(kept or blocks)))
    return out


def _block_without(block: Block, seen: set[str]) -> Block:
    if isinstance(block, Narrative):
        kept = tuple(p for p in (_new_sentences(p, seen) for p in block.paragraphs) if p)
        return replace(block, paragraphs=kept)
    if isinstance(block, Table) and block.caption:
        return replace(block, caption=_new_sentences(block.caption, seen) or None)
    return block


def _new_sentences(paragraph: str, seen: set[str]) -> str:
    from reportgen.document import LEAD_MARK

    if LEAD_MARK in paragraph:  # a story: its lead and body are said once, together
        key = " ".join(paragraph.split())
        if key in seen:
            return ""
        seen.add(key)
        return paragraph
    kept = []
    for sentence in _SENTENCE_END.split(paragraph):
        key = " ".join(sentence.split())
        if len(key.split()) >= MIN_REPEAT_WORDS:
            if key in seen:
                continue
            seen.add(key)
        kept.append(sentence)
    return " ".join(kept)
