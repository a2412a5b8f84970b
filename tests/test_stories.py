"""The week's stories: related findings grouped and ranked, told in plain words on page one.

Everything reads the session's leadership build of 2026-W47 (``built_report``):
the demo plants a Misinformation volume surge, a Latin America backlog
incident, a Southeast Asia QA drop and an SLA incident in the week before.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from pptx import Presentation

from reportgen.analysis.stories import MAX_STORIES, find_stories
from reportgen.document import LEAD_MARK

from ._deck import as_read, slide_text

JARGON = re.compile(
    r"\bp\s*[=<]|\bq[- ]value|robust z|\bLMDI\b|Benjamini|Hochberg|\bA-[0-9a-f]{10}\b|"
    r"z-score|\bMAD\b",
    re.I,
)


@pytest.fixture(scope="module")
def figures(built_report) -> dict:
    return json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def brief(figures) -> list[dict]:
    return [s for s in figures["stories"] if s["in_brief"]]


@pytest.fixture(scope="module")
def first_page(built_report) -> str:
    """The PDF's first page: the leadership edition has no cover, it opens with the brief."""
    pdf = built_report.artifacts["pdf"]
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(text.split())


def test_page_one_is_the_bottom_line_stories_tiles_and_data_confidence(
    built_report, brief, first_page
):
    assert "The week in brief" in first_page
    assert "This week:" in first_page  # the bottom-line sentence
    for story in brief:
        assert " ".join(story["title"].split()) in first_page, story["title"]
    for tile in built_report.document.sections[0].blocks[-1].tiles:  # every KPI, compact or not
        assert tile.label in first_page and tile.value_text in first_page, tile.label
    assert "Data complete through" in first_page
    assert "MISSED" in first_page


def test_the_leadership_pdf_keeps_its_evidence_after_an_appendix_divider(built_report):
    pdf = built_report.artifacts["pdf"]
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    divider = flat.index("Appendix: the evidence behind the brief")
    assert flat.index("Actions & asks") < divider
    for evidence in ("Anomalies", "Metric definitions"):
        assert flat.index(evidence, divider) > divider


def test_the_brief_holds_at_most_five_ranked_stories(figures, brief):
    assert 3 <= len(brief) <= MAX_STORIES
    assert [s["rank"] for s in brief] == list(range(1, len(brief) + 1))
    scores = [s["score"] for s in figures["stories"]]
    assert scores == sorted(scores, reverse=True)


def test_the_planted_incidents_are_stories_on_the_first_page(brief, first_page):
    subjects = {(s["kind"], s["segment"]) for s in brief}
    assert ("surge", "Misinformation") in subjects
    assert ("concentration", "Latin America") in subjects
    assert any(s["segment"] == "Southeast Asia" and s["metric"] == "qa_accuracy" for s in brief)
    for story in brief:
        assert story["title"] in first_page


def test_a_surge_names_what_its_mix_did_to_the_headline_metrics(brief):
    (surge,) = [s for s in brief if s["kind"] == "surge"]
    effects = {c["metric"]: c for c in surge["consequences"]}
    # Misinformation is far less automated than average: its growth pulls automation down
    assert effects["automation_rate"]["amount"] < 0 and effects["automation_rate"]["via"] == "mix"
    assert effects["aht"]["amount"] > 0  # and it is slower than average
    assert "automation rate down" in surge["title"]


def test_a_story_groups_the_findings_it_explains_and_they_exist(figures):
    ids = {a["id"] for a in figures["insights"]["anomalies"]}
    grouped = [i for s in figures["stories"] for i in s["anomaly_ids"]]
    assert set(grouped) <= ids
    assert len(grouped) == len(set(grouped))  # one finding, one story
    backlog = next(s for s in figures["stories"] if s["kind"] == "concentration")
    assert len(backlog["anomaly_ids"]) >= 3  # region, its sites and its share: one incident


def test_a_segment_story_states_the_segments_own_value_not_its_share(figures):
    """The value a segment story tells is the metric's value for that segment, as its
    breakdown shows it: never a share of volume from a mix-shift finding."""
    checked = 0
    for story in figures["stories"]:
        if story["kind"] not in ("segment", "concentration") or story["observed"] is None:
            continue
        rows = figures["metrics"][story["metric"]]["breakdowns"].get(story["dimension"], [])
        row = next((r for r in rows if r["segment"] == story["segment"]), None)
        if row is None:
            continue
        assert story["observed"] == pytest.approx(row["value"], rel=1e-9), story["id"]
        checked += 1
    assert checked >= 3


def test_a_concentration_story_is_a_segment_holding_more_than_usual(figures):
    anomalies = {a["id"]: a for a in figures["insights"]["anomalies"]}
    concentrations = [s for s in figures["stories"] if s["kind"] == "concentration"]
    assert concentrations
    for story in concentrations:
        own_shares = [
            anomalies[i]
            for i in story["anomaly_ids"]
            if anomalies[i]["method"] == "share" and anomalies[i]["segment"] == story["segment"]
        ]
        assert all(a["direction"] == "up" for a in own_shares), story["title"]


def test_a_recovery_is_from_a_period_the_charts_band_shows_as_unusual(figures):
    """The recovery line and the shaded normal range are one verdict: each recovered
    metric's previous point lies outside its band, and the SLA incident of W46 is one."""
    recovered = [m for s in figures["stories"] if s["kind"] == "recovery" for m in s["tests"]]
    assert "sla_attainment" in recovered
    for name in recovered:
        before = figures["metrics"][name]["series"][-2]
        band = before["expected_band"]
        assert band["unusual"], name
        assert not band["low"] < before["value"] < band["high"], name


def test_every_story_title_is_a_sentence_with_a_number(brief):
    for story in brief:
        assert re.search(r"\d", story["title"]), story["title"]


def test_the_leadership_brief_has_no_statistics_jargon(first_page, built_report):
    assert not JARGON.search(first_page), JARGON.search(first_page)
    slide = Presentation(built_report.artifacts["pptx"]).slides[1]
    text = slide_text(slide)
    assert not JARGON.search(text)


def test_no_sentence_is_said_twice_on_the_brief(first_page):
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", first_page) if len(s) > 30]
    assert len(sentences) == len(set(sentences))


def test_slide_two_is_the_brief_with_the_story_titles(built_report, brief):
    slide = Presentation(built_report.artifacts["pptx"]).slides[1]
    text = slide_text(slide)
    assert "This week:" in text
    for story in brief:
        assert story["title"] in text
    notes = slide.notes_slide.notes_text_frame.text
    assert len(notes.split()) <= 120 and LEAD_MARK not in notes


def test_slide_two_numbers_the_stories_as_a_list_and_marks_nothing_else(built_report, brief):
    """A presenter who deletes story 2 sees 3 become 2; no paragraph has a bullet and a number."""
    from pptx.oxml.ns import qn

    slide = Presentation(built_report.artifacts["pptx"]).slides[1]
    body = next(s for s in slide.placeholders if "This week:" in s.text_frame.text)
    marks = []
    for paragraph in body.text_frame.paragraphs:
        properties = paragraph._p.pPr
        numbering = properties.find(qn("a:buAutoNum"))
        if numbering is not None:
            start = int(numbering.get("startAt", "1"))
            marks.append((start, as_read(paragraph.text)))
        else:
            assert properties.find(qn("a:buNone")) is not None, paragraph.text
    assert marks == [(s["rank"], f"{s['title']}.") for s in brief]


def test_a_recovery_is_said_as_a_recovery_not_a_win(figures, first_page):
    recovered = [s for s in figures["stories"] if s["kind"] == "recovery"]
    assert recovered and "sla_attainment" in recovered[0]["tests"]
    assert "recovering from an unusual 2026-W46" in first_page


def test_each_story_says_who_owns_it_and_whether_a_cause_is_recorded(brief):
    for story in brief:
        assert story["follow_up"].startswith("Owner:")
        assert "no cause recorded yet" in story["follow_up"] or story["rca"]


def test_stories_are_deterministic(built_report):
    insights = built_report.insights
    assert insights.stories, "stories are found during the build"
    first = [s.id for s in insights.stories]
    assert len(set(first)) == len(first)
    assert all(re.fullmatch(r"S-[0-9a-f]{8}", i) for i in first)


def test_find_stories_needs_only_the_cube_figures_and_insights(weekly_config, built_report):
    from dataclasses import replace

    from reportgen.build import cached_cube
    from reportgen.config.loader import load_report

    report = load_report(weekly_config)
    cube = cached_cube(report, True, lambda _m: None)
    again = find_stories(report, cube, built_report.figures, replace(built_report.insights))
    assert [s.id for s in again] == [s.id for s in built_report.insights.stories]


def _sections(pptx_path) -> dict[str, list[str]]:
    import zipfile
    from xml.etree import ElementTree as ET

    p14 = "{http://schemas.microsoft.com/office/powerpoint/2010/main}"
    xml = zipfile.ZipFile(pptx_path).read("ppt/presentation.xml")
    root = ET.fromstring(xml)
    return {
        s.get("name"): [i.get("id") for i in s.iter(f"{p14}sldId")]
        for s in root.iter(f"{p14}section")
    }


def test_the_leadership_deck_is_a_short_brief_with_the_rest_in_an_appendix(built_report):
    path = built_report.artifacts["pptx"]
    sections = _sections(path)
    assert list(sections) == ["Brief", "Appendix"]
    prs = Presentation(path)
    ids = [s.slide_id for s in prs.slides]
    brief = [int(i) for i in sections["Brief"]]
    assert 4 <= len(brief) <= 10
    assert brief == ids[: len(brief)]  # the brief comes first, then the appendix
    assert sorted(brief + [int(i) for i in sections["Appendix"]]) == sorted(ids)


def test_each_story_has_a_main_slide_titled_with_its_message(built_report, brief):
    prs = Presentation(built_report.artifacts["pptx"])
    main = len(_sections(built_report.artifacts["pptx"])["Brief"])
    titles = [s.shapes.title.text for s in list(prs.slides)[:main] if s.shapes.title is not None]
    for story in brief:
        assert story["title"] in titles
        assert re.search(r"\d", story["title"])


def test_a_segment_storys_slide_is_its_breakdown_chart_with_the_subject_highlighted(
    built_report, brief
):
    """A presenter points at one bar among its peers: the story's segment is drawn in the
    accent colour, the others in the primary one; the long table stays in the appendix."""
    prs = Presentation(built_report.artifacts["pptx"])
    main = len(_sections(built_report.artifacts["pptx"])["Brief"])
    slides = {s.shapes.title.text: s for s in list(prs.slides)[:main] if s.shapes.title}
    accent = built_report.document.brand.accent.lstrip("#").upper()
    told = [s for s in brief if s["segment"] and s["dimension"]]
    assert {s["segment"] for s in told} >= {"Misinformation", "Latin America"}
    for story in told:
        slide = slides[story["title"]]
        charts = [shape.chart for shape in slide.shapes if shape.has_chart]
        assert len(charts) == 1 and not any(shape.has_table for shape in slide.shapes)
        plot = charts[0].plots[0]
        index = list(plot.categories).index(story["segment"])  # bars are listed bottom-up
        this_week = next(s for s in plot.series if s.name == "2026-W47")
        for position, point in enumerate(this_week.points):
            highlighted = point.format.fill.type is not None and (
                str(point.format.fill.fore_color.rgb) == accent
            )
            assert highlighted is (position == index), (story["title"], position)


def test_the_brief_slides_carry_no_statistics_jargon(built_report):
    prs = Presentation(built_report.artifacts["pptx"])
    main = len(_sections(built_report.artifacts["pptx"])["Brief"])
    for slide in list(prs.slides)[:main]:
        text = " ".join(
            cell.text
            for shape in slide.shapes
            if shape.has_table
            for row in shape.table.rows
            for cell in row.cells
        )
        text += " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        assert not JARGON.search(text), (slide.shapes.title.text, JARGON.search(text))


def test_a_configured_follow_up_section_says_when_no_cause_is_recorded(built_report):
    # the leadership edition tells the follow-up as "Actions & asks", right after the brief
    ids = [s.id for s in built_report.document.sections]
    assert "follow_up" not in ids and ids[ids.index("summary") + 1] == "actions"
    section = built_report.document.sections[ids.index("actions")]
    text, *asks = section.blocks[0].paragraphs
    assert re.fullmatch(r"\d+ adverse findings in 2026-W47, 0 with a recorded cause\.", text)
    assert asks and all(a.startswith("Ask: ") for a in asks)
    assert "reportgen rca add" not in " ".join(section.blocks[0].paragraphs)
