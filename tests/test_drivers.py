"""Drivers (issue #17): every part points the right way and the parts shown add up.

The unit tests build decompositions by hand; the rest reuse the session's
built demo report (``built_report``) and read what a reader gets: figures.json,
the document's tables, the deck's native chart and table XML, the workbook.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest

from reportgen.analysis.drivers import (
    OTHER,
    Decomposition,
    driver_parts,
    driver_sentence,
    segment_label,
    waterfall_steps,
)
from reportgen.analysis.lmdi import lmdi_ratio
from reportgen.document import Table

MEASURES = ("num0", "den0", "num1", "den1")


def decomposition(rows: dict[str, tuple[float, float, float, float]], floor: float = 30.0):
    frame = pd.DataFrame(
        [{"queue": k, **dict(zip(MEASURES, v, strict=True))} for k, v in rows.items()]
    )
    return Decomposition("m", ("queue",), lmdi_ratio(frame, ["queue"], *MEASURES), floor)


# 70 % automated overall; Misinformation (30 %) doubles its share; "Tiny" is a small sample
ROWS = {
    "Misinformation": (150, 500, 300, 1000),
    "Spam": (3600, 4000, 3420, 3600),
    "Hate": (700, 1000, 720, 1000),
    "Fraud": (1800, 2500, 1750, 2500),
    "Tiny": (2, 20, 25, 25),
    "Scams": (1000, 2000, 950, 1900),
}


def test_small_samples_are_never_named_and_go_into_other():
    d = decomposition(ROWS)
    parts = driver_parts(d, top=5)
    assert "Tiny" not in {segment_label(t) for t in parts.shown}
    assert parts.other is not None and parts.small_count == 1
    assert math.fsum(t.total for t in parts.shown) + parts.other.total == pytest.approx(
        d.result.change, abs=1e-12
    )
    assert driver_parts(decomposition(ROWS, floor=0.0), top=6).other is None  # all shown


def test_largest_mix_and_rate_segments_are_always_shown():
    d = decomposition(ROWS)
    eligible = [t for t in d.result.terms if segment_label(t) != "Tiny"]
    shown = driver_parts(d, top=2).shown
    assert max(eligible, key=lambda t: abs(t.mix)) in shown
    assert max(eligible, key=lambda t: abs(t.rate)) in shown


def test_bridge_steps_are_the_table_parts_and_add_up():
    d = decomposition(ROWS)
    steps = waterfall_steps(d, top=3)
    parts = driver_parts(d, top=3)
    assert [s.label for s in steps] == [*(segment_label(t) for t in parts.shown), OTHER]
    assert math.fsum(s.value for s in steps) == pytest.approx(d.result.change, abs=1e-15)


def test_sentence_says_a_growing_below_average_queue_pulls_down():
    d = decomposition(ROWS)
    text = driver_sentence(None, d, "Queue", lambda v: f"{v * 100:+.1f} pp", top=5)
    assert "(largest: toward Misinformation, −" in text.replace("-", "−")


def test_sentence_names_nobody_for_a_part_that_reads_zero():
    rows = {"a": (100, 100, 101, 100), "b": (200, 100, 200, 100)}  # shares fixed: no mix at all
    text = driver_sentence(None, decomposition(rows, 0.0), "Queue", lambda v: f"{v:+.3f}", 5)
    assert text == (
        "Of the +0.005: mix shift between queues +0.000; "  # no "(largest: toward …, +0.000)"
        "change within queues +0.005 (largest: a, +0.005)."
    )


# -- the built demo report ------------------------------------------------------------------------


def _number(text: str) -> tuple[float, float]:
    """A displayed change ("−2.5 pp", "+12 s", "±0.0") and half its last digit."""
    match = re.search(r"[0-9][0-9,]*(?:\.([0-9]+))?", text)
    assert match, text
    value = float(match.group(0).replace(",", ""))
    if "−" in text or text.lstrip().startswith("-"):
        value = -value
    decimals = len(match.group(1) or "")
    return value, 0.5 * 10.0**-decimals


def _adds_up(parts: list[str], total: str) -> None:
    """Displayed parts sum to the displayed total within their rounding."""
    values = [_number(p) for p in parts]
    want, slack = _number(total)
    tolerance = math.fsum(h for _, h in values) + slack + 1e-9
    assert abs(math.fsum(v for v, _ in values) - want) <= tolerance, (parts, total)


@pytest.fixture(scope="module")
def figures(built_report):
    return json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))


def _contribution_tables(document) -> list[Table]:
    return [
        b
        for s in document.sections
        for b in s.blocks
        if isinstance(b, Table) and ": contributions by " in b.title
    ]


def test_misinformation_pulls_automation_down(figures):
    d = figures["insights"]["decompositions"]["automation_rate"]
    misinformation = next(t for t in d["terms"] if t["segment"] == ["Misinformation"])
    assert misinformation["share1"] > misinformation["share0"]  # it grew …
    assert misinformation["rate1"] < d["value1"]  # … while far below average
    assert misinformation["mix"] < 0  # so its mix term pulls automation down
    assert misinformation["mix_lmdi"] > 0  # (the textbook term has the share's sign)
    assert d["mix"] + d["rate"] + d["activity"] == pytest.approx(d["change"], abs=1e-12)


def test_the_floor_applies_to_counted_denominators_only(figures):
    decompositions = figures["insights"]["decompositions"]
    assert decompositions["automation_rate"]["small_sample"] == 30.0  # decisions
    assert decompositions["throughput"]["small_sample"] == 0.0  # productive hours: not a sample


def test_small_samples_are_not_named(figures):
    for d in figures["insights"]["decompositions"].values():
        named = {tuple(s) for s in d["shown"]}
        for t in d["terms"]:
            if tuple(t["segment"]) in named:
                assert max(t["volume0"], t["volume1"]) >= d["small_sample"]


def test_document_tables_have_other_and_a_total_equal_to_the_headline(built_report, figures):
    tables = _contribution_tables(built_report.document)
    assert tables
    by_label = {m["label"]: name for name, m in figures["metrics"].items()}
    for table in tables:
        name = by_label[table.title.split(": contributions by ")[0]]
        column = [c.key for c in table.columns].index("total")
        *parts, total = table.rows
        assert total[0].value == "__total__"
        assert total[column].value == pytest.approx(figures["metrics"][name]["delta"], rel=1e-9)
        exact = math.fsum(r[column].value for r in parts)
        assert exact == pytest.approx(total[column].value, abs=1e-12)
        _adds_up([r[column].text for r in parts], total[column].text)
        shown = figures["insights"]["decompositions"][name]["shown"]
        named = [r[0].text for r in parts if r[0].value != OTHER]
        assert named == [" · ".join(s) for s in shown]


def _deck_charts(prs):
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_chart and shape.name.startswith("What moved "):
                yield shape.chart


def test_deck_bridges_are_the_table_parts_signed_and_adding_up(built_report, figures):
    from pptx import Presentation
    from pptx.oxml.ns import qn

    prs = Presentation(str(built_report.artifacts["pptx"]))
    charts = list(_deck_charts(prs))
    assert charts
    decompositions = figures["insights"]["decompositions"]
    by_title = {
        f"What moved {m['label'][0].lower()}{m['label'][1:]}": n
        for n, m in figures["metrics"].items()
    }
    by_title.update({f"What moved {m['label']}": n for n, m in figures["metrics"].items()})
    seen = set()
    for chart in charts:
        name = by_title[chart.chart_title.text_frame.text]
        seen.add(name)
        d = decompositions[name]
        scale = 100.0 if figures["metrics"][name]["format"] == "percent" else 1.0
        series = chart.plots[0].series
        assert len(series) == 1  # one signed series, no invisible helpers
        *parts, total = series[0].values
        assert total == pytest.approx(d["change"] * scale, rel=1e-9)
        assert math.fsum(parts) == pytest.approx(total, abs=1e-9)
        categories = list(chart.plots[0].categories)
        assert categories[: len(d["shown"])] == [" · ".join(s) for s in d["shown"]]
        assert categories[len(d["shown"]) : -1] == (
            [OTHER] if len(d["terms"]) > len(d["shown"]) else []
        )
        labels = series[0]._element.find(qn("c:dLbls"))
        assert labels.find(qn("c:showVal")).get("val") == "1"  # labels come from the data
        if name == "automation_rate":
            assert parts[categories.index("Misinformation")] < 0
    assert "automation_rate" in seen


def test_every_bridge_ends_on_a_whole_change_label_in_the_pdf(built_report):
    """The last bar reads "Change 55.4 → 49.0" whole, however long the metric's unit
    ("decisions / productive hour" is the axis title, not said twice to be cut)."""
    import subprocess

    pdf = built_report.artifacts["pdf"]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    words = " ".join(text.split())
    assert words.count("What moved ") >= 4  # the bridges of the brief's stories
    assert "→ …" not in words  # old: "Change 55.4 decisions / productive hour → …"


def test_deck_contribution_tables_add_up(built_report):
    from pptx import Presentation

    prs = Presentation(str(built_report.artifacts["pptx"]))
    found = 0
    for slide in prs.slides:
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            rows = [[c.text for c in r.cells] for r in shape.table.rows]
            header = [h.replace("\n", " ") for h in rows[0]]
            if "Contribution" not in header or rows[-1][0] != "Total":
                continue
            found += 1
            column = header.index("Contribution")
            assert any(r[0].startswith(f"{OTHER} (") for r in rows[1:-1])
            _adds_up([r[column] for r in rows[1:-1]], rows[-1][column])
    assert found


def test_workbook_terms_add_up_to_each_change(built_report):
    from openpyxl import load_workbook

    book = load_workbook(built_report.artifacts["xlsx"], read_only=True)

    def records(sheet):
        rows = list(sheet.iter_rows(values_only=True))
        return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]

    totals = {r["Metric"]: r for r in records(book["Decomposition"])}
    terms = records(book["Decomposition terms"])
    for name, row in totals.items():
        if row["Change"] is None or row["Mix effect"] is None:
            continue
        mine = [t for t in terms if t["Metric"] == name]
        parts = [
            t[k] or 0.0 for t in mine for k in ("Mix effect", "Rate effect", "Activity effect")
        ]
        assert math.fsum(parts) == pytest.approx(row["Change"], abs=1e-9)
