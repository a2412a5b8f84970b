"""Every number in a report agrees with every other (issue #17), read from the outputs.

One session-built report (the ``built_report`` fixture: PDF, PPTX, HTML, XLSX and
figures.json) is read back the way a reader meets it — PDF text, the deck's
XML including chart parts, the workbook's cells, the HTML, figures.json — and
the rules of :mod:`reportgen.formatting` are checked across all of them.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from reportgen.text import breakable

#: An ASCII hyphen-minus used as a sign: before a digit (or ".5"), not inside a date
#: (2026-11-23), an ISO week (2026-W47), an id (A-910e…) or a range written with words.
ASCII_SIGN = re.compile(r"(?<![\w\-/.:#&;=<>\[])-(?=\.?\d)")
#: A signed zero: "−0.0", "-0.0", "+0.0", "+0", "−0 pp" — a sign, zeros, and no other digit.
SIGNED_ZERO = re.compile(r"(?<!\w)[−+-]0(?:\.0+)?(?![\w.,])")
ABSOLUTE_PATHS = ("/tmp/", "/home/", "/work/")


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _xml_text(xml: str) -> str:
    """The text a reader sees in a DrawingML part: runs, field text and chart labels/titles."""
    parts = re.findall(r"<a:t>([^<]*)</a:t>", xml) + re.findall(r"<c:v>([^<]*)</c:v>", xml)
    return breakable(html_lib.unescape("\n".join(parts)))  # "+4.7 s" kept on a line reads as typed


def _format_codes(xml: str) -> list[str]:
    codes = re.findall(r'formatCode="([^"]*)"', xml) + re.findall(
        r"<c:formatCode>([^<]*)</c:formatCode>", xml
    )
    return [html_lib.unescape(c) for c in codes]


def _html_text(markup: str) -> str:
    markup = re.sub(r"<(style|script)\b[^>]*>.*?</\1>", " ", markup, flags=re.S)
    markup = _unwrap_kept_words(markup)
    return html_lib.unescape("\n".join(re.findall(r">([^<]+)<", markup)))


@pytest.fixture(scope="module")
def outputs(built_report) -> dict[str, str]:
    """Shown text of every output, by name ("pdf", "pptx:ppt/slides/slide3.xml", "xlsx:About"…)."""
    from openpyxl import load_workbook

    art = built_report.artifacts
    texts = {"pdf": _pdf_text(art["pdf"]), "html": _html_text(art["html"].read_text())}
    with zipfile.ZipFile(art["pptx"]) as deck:
        for name in deck.namelist():
            if name.endswith(".xml") and ("/slides/" in name or "/charts/" in name):
                texts[f"pptx:{name}"] = _xml_text(deck.read(name).decode("utf-8"))
    workbook = load_workbook(art["xlsx"])
    for sheet in workbook.worksheets:
        cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        texts[f"xlsx:{sheet.title}"] = "\n".join(cells)
    figures = json.loads(Path(art["figures"]).read_text())
    texts["figures.json"] = "\n".join(_strings(figures))
    return texts


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _number_formats(built_report) -> dict[str, set[str]]:
    from openpyxl import load_workbook

    found: dict[str, set[str]] = {"pptx": set(), "xlsx": set()}
    with zipfile.ZipFile(built_report.artifacts["pptx"]) as deck:
        for name in deck.namelist():
            if name.startswith("ppt/charts/") and name.endswith(".xml"):
                found["pptx"].update(_format_codes(deck.read(name).decode("utf-8")))
    for sheet in load_workbook(built_report.artifacts["xlsx"]).worksheets:
        found["xlsx"].update(c.number_format for row in sheet.iter_rows() for c in row)
    return found


def _context(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 50) : match.end() + 20].replace("\n", " ⏎ ")


def test_no_output_shows_a_signed_zero(outputs) -> None:
    found = [
        (where, _context(text, m))
        for where, text in outputs.items()
        if where != "figures.json"
        for m in SIGNED_ZERO.finditer(text)
    ]
    assert not found, found[:10]


def test_every_shown_minus_is_u2212(outputs) -> None:
    found = [
        (where, _context(text, m))
        for where, text in outputs.items()
        if not where.startswith("pptx:ppt/charts/")  # chart caches hold numbers, not text
        for m in ASCII_SIGN.finditer(text)
    ]
    assert not found, found[:10]


def test_number_formats_draw_u2212_for_negatives(built_report) -> None:
    """Native chart axes/labels and workbook cells: numbers stay numbers, the format signs them."""
    for where, codes in _number_formats(built_report).items():
        for code in codes:
            sections = code.split(";")
            negative = [s for s in sections[1:2] if not s.startswith("[")]
            assert not any(s.lstrip('"').startswith("-") for s in negative), (where, code)


def test_no_output_carries_an_absolute_path(outputs, built_report) -> None:
    for where, text in outputs.items():
        for path in ABSOLUTE_PATHS:
            assert path not in text, (where, text[text.index(path) - 60 : text.index(path) + 60])
    raw = Path(built_report.artifacts["figures"]).read_text()
    assert not any(path in raw for path in ABSOLUTE_PATHS)
    # every part of the Office files (document properties too) and the PDF's metadata
    for fmt in ("pptx", "xlsx"):
        with zipfile.ZipFile(built_report.artifacts[fmt]) as package:
            for name in package.namelist():
                data = package.read(name)
                assert not any(p.encode() in data for p in ABSOLUTE_PATHS), (fmt, name)
    from pypdf import PdfReader

    metadata = " ".join(
        str(v) for v in (PdfReader(built_report.artifacts["pdf"]).metadata or {}).values()
    )
    assert not any(path in metadata for path in ABSOLUTE_PATHS)


def _tiles(built_report) -> dict[str, tuple[str, str]]:
    """Each metric's KPI tile: label → (change text, comparison)."""
    from reportgen.document import KpiGrid

    tiles = {}
    for section in built_report.document.sections:
        for block in section.blocks:
            if isinstance(block, KpiGrid):
                for t in block.tiles:
                    if t.delta is not None:
                        tiles[t.label] = (t.delta.text, t.delta.comparison)
    return tiles


def _html_tile_changes(markup: str) -> dict[str, str]:
    pattern = re.compile(
        r'<h3 class="tile-label">([^<]+)</h3>.*?<span class="delta-text">([^<]+)</span>', re.S
    )
    return {html_lib.unescape(a): html_lib.unescape(b) for a, b in pattern.findall(markup)}


def _unwrap_kept_words(markup: str) -> str:
    """The HTML without the spans that keep "2026-W46" or "+4.7 s" on one line."""
    return re.sub(r'<span class="nobr">([^<]*)</span>', r"\1", markup)


def _html_table_rows(markup: str, title: str) -> list[list[str]]:
    markup = _unwrap_kept_words(markup)
    start = markup.index(f'<h3 class="block-title">{title}</h3>')
    end = markup.index("</table>", start)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", markup[start:end], flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in rows]
    return [[html_lib.unescape(c.strip()) for c in row] for row in cells if row]


def _pptx_tables(path: Path) -> list[list[list[str]]]:
    from pptx import Presentation

    tables = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_table:
                tables.append(
                    [[cell.text for cell in row.cells] for row in shape.table.rows]  # type: ignore[attr-defined]
                )
    return tables


def test_each_metric_change_reads_the_same_everywhere(built_report, outputs) -> None:
    """Tile, summary sentence, significance table — in the HTML, the deck and the PDF."""
    tiles = _tiles(built_report)
    assert tiles
    markup = built_report.artifacts["html"].read_text()
    assert _html_tile_changes(markup) == {k: v[0] for k, v in tiles.items()}
    rows = _html_table_rows(markup, "Is the change real?")
    significance = {r[0].split(" (")[0]: r[1] for r in rows}
    deck_rows = {
        r[0].split(" (")[0]: r[1]
        for table in _pptx_tables(built_report.artifacts["pptx"])
        for r in table[1:]
        if table[0][1].startswith("Change vs ")
    }
    deck = "\n".join(t for k, t in outputs.items() if k.startswith("pptx:ppt/slides/"))
    pdf = outputs["pdf"]
    for label, (change, comparison) in tiles.items():
        assert comparison.startswith("vs "), (label, comparison)
        assert significance.get(label, change) == change, (label, significance.get(label))
        assert deck_rows.get(label, change) == change, (label, deck_rows.get(label))
        assert change in deck, (label, change)
        assert change in pdf, (label, change)
    # the summary sentence states the same size ("up 7.1 s", "down 2.58 pp")
    summary = next(s for s in built_report.document.sections if s.id == "summary")
    for label, (change, _) in tiles.items():
        sentence = next((n for n in summary.notes if n.startswith(label + " ")), None)
        if sentence and " unchanged " not in sentence and change != "—":
            assert change.lstrip("+−±") in sentence, (label, change, sentence)


def test_anomaly_changes_are_labelled_as_against_the_baseline(built_report) -> None:
    """An anomaly's change is against its baseline, not the previous period: the column says so."""
    markup = built_report.artifacts["html"].read_text()
    header = markup[markup.index('<h3 class="block-title">Anomalies flagged</h3>') :]
    header = header[: header.index("</thead>")]
    assert "Change vs baseline" in header
    for table in _pptx_tables(built_report.artifacts["pptx"]):
        if "Robust z" in table[0] or "How unusual" in table[0]:
            assert "Change vs baseline" in table[0]


def test_throughput_carries_its_unit(built_report, outputs) -> None:
    unit = "decisions / productive hour"
    markup = built_report.artifacts["html"].read_text()
    tile = markup[markup.index('<h3 class="tile-label">Throughput</h3>') :]
    assert unit in tile[: tile.index("</article>")]
    sentence = " ".join(outputs["pdf"].split())
    assert re.search(r"Throughput was \d+\.\d decisions / productive hour", sentence)
    deck = "\n".join(t for k, t in outputs.items() if k.startswith("pptx:ppt/slides/"))
    assert unit in deck
    charts = "\n".join(t for k, t in outputs.items() if k.startswith("pptx:ppt/charts/"))
    assert unit in charts  # the value axis of throughput's charts is titled with its unit


def test_leadership_edition_has_no_analyst_pointers(built_report, outputs) -> None:
    assert built_report.out_dir.name == "leadership"
    for where in ("pdf", "html"):
        text = outputs[where]
        assert "figures.json" not in text, where
        assert not re.search(r"\bA-[0-9a-f]{10}\b", text), where
    deck = "\n".join(t for k, t in outputs.items() if k.startswith("pptx:ppt/slides/"))
    assert "figures.json" not in deck
    assert not re.search(r"\bA-[0-9a-f]{10}\b", deck)


def test_definitions_state_the_target_in_force(built_report, outputs) -> None:
    figures = json.loads(Path(built_report.artifacts["figures"]).read_text())
    target = figures["metrics"]["high_severity_exposure"]["target"]
    text = " ".join(outputs["html"].split())
    assert "cap 50%" not in text
    assert f"Target {target * 100:.1f}% in 2026-W47" in text


def test_an_operational_edition_keeps_the_analyst_pointers(weekly_config, built_report) -> None:
    """The same anomalies composed for the analysts' edition: ids and the figures.json pointer."""
    from reportgen.compose._insights import anomalies_section, anomaly_table
    from reportgen.config.loader import load_report
    from reportgen.data.audiences import scope_report

    report = load_report(weekly_config)
    audience = next(a for a in report.config.audience_list() if a.name == "ops-analytics")
    analysts = scope_report(report, audience)
    leadership = scope_report(report, report.config.audience_list()[0])
    anomalies = built_report.insights.anomalies[:3]
    table = anomaly_table(analysts, built_report.figures, anomalies)
    assert table.columns[-1].label == "ID"
    assert [row[-1].value for row in table.rows] == [a.id for a in anomalies]
    assert "ID" not in [
        c.label for c in anomaly_table(leadership, built_report.figures, anomalies).columns
    ]
    lead = anomalies_section(analysts, built_report.figures, built_report.insights).blocks[0]
    if len(built_report.insights.anomalies) > analysts.config.insights.anomalies.max_shown:
        assert "figures.json" in lead.paragraphs[0]
