"""The leadership brief's people layer: owners, commentary, actions & asks, notes, plain words.

Most tests read the session's leadership build of 2026-W47 (``built_report``,
no ledger: nothing recorded). ``commented`` builds the same week once more into
a folder whose ledger holds one root-cause item (the Latin America backlog,
recorded with the rca library) and two comments (added with the CLI): one on
the Misinformation surge's segment, one on a metric no story is about.
"""

from __future__ import annotations

import collections
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from pptx import Presentation
from pypdf import PdfReader
from typer.testing import CliRunner

from reportgen.cli import app

from ._deck import as_read, shape_texts, slide_text

runner = CliRunner()

#: Statistics words no leadership output may hold (the analyst edition keeps them).
JARGON = re.compile(
    r"p-value|q-value|\bp\s*[=<>]\s*0?\.\d|\bq\s*[=<>]\s*0?\.\d|robust z|z-score|\bLMDI\b|"
    r"Benjamini|Hochberg|\bBH\b|\bA-[0-9a-f]{10}\b|significant at",
    re.I,
)

SURGE_COMMENT = (
    "Coordinated election misinformation campaign since 17 Nov; new classifier ships 2 Dec"
)
QA_COMMENT = "New vendor cohort at MNL-2 since 16 Nov; calibration sessions this week"
TILE_COMMENT = "Utilization held while 40 moderators moved to Misinformation"


# -- reading outputs ------------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    """Every page's text without the running header and footer (they repeat by design)."""
    pages = []
    for page in PdfReader(path).pages:
        lines = page.extract_text().splitlines()
        pages.append(
            "\n".join(
                line
                for line in lines
                if not re.search(r"Page \d+ of \d+|^Weekly T&S Operations Review", line)
            )
        )
    return " ".join("\n".join(pages).split())


def notes_of(slide) -> str:
    return slide.notes_slide.notes_text_frame.text


def brief_slides(path: Path) -> list:
    """The slides of the deck's Brief section (the main deck, before the Appendix)."""
    import zipfile
    from xml.etree import ElementTree as ET

    p14 = "{http://schemas.microsoft.com/office/powerpoint/2010/main}"
    root = ET.fromstring(zipfile.ZipFile(path).read("ppt/presentation.xml"))
    (brief,) = [s for s in root.iter(f"{p14}section") if s.get("name") == "Brief"]
    ids = {int(i.get("id")) for i in brief.iter(f"{p14}sldId")}
    return [s for s in Presentation(path).slides if s.slide_id in ids]


def sentences(text: str) -> list[str]:
    """Sentences of six words or more ("Sorted by share." may label every table)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\u201c\"(])", " ".join(text.split()))
    return [p for p in parts if len(p.split()) >= 6]


def repeated(text: str) -> dict[str, int]:
    counts = collections.Counter(sentences(text))
    return {s: n for s, n in counts.items() if n > 1}


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def figures(built_report) -> dict:
    return json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalog(weekly_config) -> dict:
    return yaml.safe_load((weekly_config.parent.parent / "catalog.yaml").read_text())


@pytest.fixture(scope="module")
def leadership_pdf(built_report) -> str:
    return pdf_text(built_report.artifacts["pdf"])


@pytest.fixture(scope="module")
def email_html(built_report, weekly_config) -> str:
    from email import message_from_bytes, policy

    from reportgen.config.loader import load_report
    from reportgen.ops.channels.email import prepare
    from reportgen.ops.manifest import content_from_build

    delivery = load_report(weekly_config).config.delivery
    content = content_from_build(built_report, None)
    payload = prepare(delivery.channels[0], content, delivery).payload
    message = message_from_bytes(payload, policy=policy.default)
    return message.get_body(("html",)).get_content()


@pytest.fixture(scope="module")
def commented(built_report, weekly_config, figures, tmp_path_factory):
    """The week rebuilt with one recorded root cause and two comments in its ledger."""
    from reportgen import build_report
    from reportgen.ops.rca import RcaStore

    out = tmp_path_factory.mktemp("commented")
    backlog = next(
        a
        for a in figures["insights"]["anomalies"]
        if a["metric"] == "backlog" and a["segment"] == "Latin America" and a["method"] == "history"
    )
    store = RcaStore.for_output(out)
    store.add(
        {**backlog, "report": figures["report"], "audience": "leadership"},
        cause="Routing outage in São Paulo left items unassigned",
        owner="M. Rivera",
        action="Weekend overtime at MEX-1 and SAO-1 until the queue is back to normal",
        due=date(2026, 12, 4),
        now=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    store.dispose()
    for args in (
        ["--metric", "decisions", "--segment", "queue=Misinformation", SURGE_COMMENT],
        ["--metric", "utilization", TILE_COMMENT],
        ["--metric", "qa_accuracy", "--segment", "region=Southeast Asia", QA_COMMENT],
    ):
        cli = ["comment", str(weekly_config), "--period", "2026-W47", "--author", "A. Analyst"]
        result = runner.invoke(app, [*cli, *args, "--out", str(out)])
        assert result.exit_code == 0, result.output
    build = build_report(
        weekly_config,
        period="2026-W47",
        formats=["pdf", "pptx", "html"],
        out_dir=out,
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )
    return build, out


@pytest.fixture(scope="module")
def commented_figures(commented) -> dict:
    build, _out = commented
    return json.loads(build.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def attribution(commented) -> str:
    """ "— A. Analyst, Sat 5 Dec": the comments were added today."""
    from reportgen.ops.commentary import CommentaryStore

    _build, out = commented
    store = CommentaryStore.for_output(out)
    first, *_others = store.items()
    store.dispose()
    day = first.created_at
    assert first.author == "A. Analyst"
    return f"\u2014 A. Analyst, {day:%a} {day.day} {day:%b}"


# -- owners -------------------------------------------------------------------------------------


def test_each_metric_in_figures_json_carries_its_catalog_owner(figures, catalog):
    for name, metric in figures["metrics"].items():
        assert metric["owner"] == catalog["metrics"][name]["owner"]


def test_each_story_names_the_owner_of_its_metric(figures, catalog):
    for story in figures["stories"]:
        owner = catalog["metrics"][story["metric"]]["owner"]
        assert story["owner"] == owner
        assert f"Owner: {owner}" in story["follow_up"]


def test_each_kpi_tile_names_its_owner_in_the_pdf_and_the_deck(built_report, catalog):
    summary = built_report.document.sections[0]
    tiles = next(b for b in summary.blocks if b.kind == "kpi_grid").tiles
    assert {t.metric: t.owner for t in tiles} == {
        t.metric: catalog["metrics"][t.metric]["owner"] for t in tiles
    }
    html = built_report.artifacts["html"].read_text(encoding="utf-8")
    assert html.count('class="tile-owner"') == len(tiles)
    scorecard = next(
        s for s in brief_slides(built_report.artifacts["pptx"]) if "Key metrics" in slide_text(s)
    )
    for group in (s for s in scorecard.shapes if s.shape_type == 6):
        text = slide_text_of_group(group)
        label = group.name.removeprefix("KPI ")
        metric = next(t.metric for t in tiles if t.label == label)
        assert f"Owner: {catalog['metrics'][metric]['owner']}" in text


def slide_text_of_group(group) -> str:
    return as_read(" ".join(shape_texts(group.shapes)))


# -- the previous period --------------------------------------------------------------------------


def test_a_tile_says_when_the_previous_period_was_itself_unusual(built_report, leadership_pdf):
    tiles = next(b for b in built_report.document.sections[0].blocks if b.kind == "kpi_grid").tiles
    sla = next(t for t in tiles if t.metric == "sla_attainment")
    assert "2026-W46 was itself unusual" in (sla.note or "")
    assert sla.delta.sentiment == "neutral"  # a return toward normal is not a win
    steady = next(t for t in tiles if t.metric == "decisions")
    assert "unusual" not in (steady.note or "")
    assert "2026-W46 was itself unusual" in leadership_pdf


# -- commentary ---------------------------------------------------------------------------------


def test_a_comment_sits_attributed_under_its_story_in_the_pdf(commented, attribution):
    build, _out = commented
    text = pdf_text(build.artifacts["pdf"])
    quoted = f"\u201c{SURGE_COMMENT}.\u201d {attribution}"
    assert quoted in text
    surge = text.index("Misinformation volume doubled, pulling")
    assert surge < text.index(quoted) < text.index("2. ")  # under story 1, before story 2


def test_a_comment_sits_attributed_on_its_storys_chart_slide_and_not_again(commented, attribution):
    """The surge's chart slide has room for its comment: it is said there, beside the
    highlighted bar, and the brief slide does not repeat it."""
    build, _out = commented
    main = brief_slides(build.artifacts["pptx"])
    quoted = f"\u201c{SURGE_COMMENT}.\u201d {attribution}"
    story = next(s for s in main if s.shapes.title.text.startswith("Misinformation volume"))
    assert quoted in slide_text(story)
    assert quoted not in slide_text(main[1])


def test_a_comment_sits_above_its_story_slide_when_it_fits_there_and_is_said_once(
    commented, attribution
):
    build, _out = commented
    main = brief_slides(build.artifacts["pptx"])
    quoted = f"\u201c{QA_COMMENT}.\u201d {attribution}"
    story = next(s for s in main if s.shapes.title.text.startswith("Southeast Asia QA accuracy"))
    assert quoted in slide_text(story)  # above the region chart and table
    deck = " ".join(slide_text(s) for s in Presentation(build.artifacts["pptx"]).slides)
    assert deck.count(QA_COMMENT) == 1  # not repeated on the brief slide
    assert deck.count(SURGE_COMMENT) == 1  # wherever it fits: its story slide or the brief


def test_a_comment_on_a_metric_without_a_story_is_on_its_tile(commented, attribution):
    build, _out = commented
    tiles = next(b for b in build.document.sections[0].blocks if b.kind == "kpi_grid").tiles
    tile = next(t for t in tiles if t.metric == "utilization")
    assert tile.comment == f"\u201c{TILE_COMMENT}.\u201d {attribution}"
    assert tile.comment in pdf_text(build.artifacts["pdf"])
    deck = " ".join(slide_text(s) for s in Presentation(build.artifacts["pptx"]).slides)
    assert tile.comment in deck


def test_figures_json_lists_each_comment_with_where_it_is_shown(commented_figures):
    by_metric = {c["metric"]: c for c in commented_figures["commentary"]}
    surge = next(s for s in commented_figures["stories"] if s["kind"] == "surge")
    assert by_metric["decisions"]["shown_with"] == {"story": surge["id"]}
    assert by_metric["decisions"]["segment"] == "Misinformation"
    assert by_metric["decisions"]["author"] == "A. Analyst"
    assert by_metric["utilization"]["shown_with"] == {"tile": "utilization"}


def test_each_comment_is_shown_once(commented):
    build, _out = commented
    text = pdf_text(build.artifacts["pdf"])
    for comment in (SURGE_COMMENT, TILE_COMMENT, QA_COMMENT):
        assert text.count(comment) == 1


def test_comment_list_shows_and_remove_deletes(weekly_config, tmp_path, monkeypatch):
    from reportgen.cli._console import out as console

    # a wide table whatever COLUMNS was when the console was made (xdist workers set 80)
    monkeypatch.setattr(console, "width", 200)
    out = tmp_path / "out"
    base = ["comment", str(weekly_config), "--period", "2026-W47", "--out", str(out)]
    added = runner.invoke(app, [*base, "--metric", "aht", "--author", "B. Owner", "Harassment"])
    assert added.exit_code == 0, added.output
    assert re.match(r"#1 added to aht \(overall\) for 2026-W47 \u2014 B\. Owner, ", added.output)
    listed = runner.invoke(app, ["comment", "list", "--out", str(out)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "B. Owner" in listed.output and "Harassment" in listed.output
    removed = runner.invoke(app, ["comment", "remove", "1", "--out", str(out)])
    assert removed.exit_code == 0 and "#1 removed" in removed.output
    again = runner.invoke(app, ["comment", "list", "--out", str(out)], env={"COLUMNS": "200"})
    assert "B. Owner" not in again.output
    gone = runner.invoke(app, ["comment", "remove", "1", "--out", str(out)])
    assert gone.exit_code == 2 and "no comment #1" in gone.output


def test_the_author_defaults_to_the_login_name(weekly_config, tmp_path, monkeypatch):
    from reportgen.ops import commentary

    monkeypatch.setattr(commentary.shutil, "which", lambda _name: None)  # no git
    monkeypatch.setenv("USER", "aanalyst")
    found = commentary.add_comment(
        weekly_config, period="2026-W47", metric="aht", text="x", out_dir=tmp_path
    )
    assert found.author == "aanalyst"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "aht2"], "did you mean 'aht'?"),
        (["--metric", "aht", "--segment", "Latin America"], "is not DIMENSION=VALUE"),
        (["--metric", "aht", "--segment", "continent=Europe"], "'continent' is not a dimension"),
        (["--metric", "aht", "--story", "S-12"], "is not a story id"),
        (["--metric", "aht", "--audience", "nobody"], "is not an audience"),
    ],
)
def test_a_bad_comment_is_refused_with_the_fix(weekly_config, tmp_path, args, message):
    cli = ["comment", str(weekly_config), "--period", "2026-W47", "--out", str(tmp_path)]
    result = runner.invoke(app, [*cli, *args, "some text"])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()) and "Fix:" in result.output


def test_a_comment_for_a_period_of_another_grain_is_refused(weekly_config, tmp_path):
    cli = ["comment", str(weekly_config), "--period", "2026-11", "--metric", "aht"]
    result = runner.invoke(app, [*cli, "text", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "built per week" in " ".join(result.output.split())


# -- actions & asks -------------------------------------------------------------------------------


def _adverse(figures: dict) -> list[dict]:
    """Adverse findings the report names (small samples are in figures.json only)."""
    return [
        a
        for a in figures["insights"]["anomalies"]
        if a["sentiment"] == "bad" and not a.get("small_sample")
    ]


def test_with_nothing_recorded_the_actions_block_says_so_in_the_pdf_and_deck(
    built_report, figures, leadership_pdf
):
    line = f"{len(_adverse(figures))} adverse findings in 2026-W47, 0 with a recorded cause."
    assert line in leadership_pdf
    main = brief_slides(built_report.artifacts["pptx"])
    actions = [s for s in main if s.shapes.title.text == "Actions & asks"]
    assert actions and line in slide_text(actions[0])


def test_the_asks_name_the_owners_of_stories_without_a_cause(built_report, figures):
    main = brief_slides(built_report.artifacts["pptx"])
    text = slide_text(next(s for s in main if s.shapes.title.text == "Actions & asks"))
    brief = [s for s in figures["stories"] if s["in_brief"] and s["kind"] != "recovery"]
    for story in brief:
        assert f"Ask: {story['owner']} to record a cause" in text
        assert story["headline"][1:] in text


def test_recorded_actions_appear_with_owner_due_date_and_status(commented, commented_figures):
    build, _out = commented
    adverse = _adverse(commented_figures)
    recorded = {f["item"]["anomaly_id"] for f in commented_figures["insights"]["follow_up"]}
    explained = sum(1 for a in adverse if a["id"] in recorded)
    assert explained == 1
    line = f"{len(adverse)} adverse findings in 2026-W47, 1 with a recorded cause."
    text = pdf_text(build.artifacts["pdf"])
    assert line in text
    actions = text[text.index("Actions & asks") :][:3000]
    for part in ("M. Rivera, due Fri 04 Dec 2026", "Weekend overtime at MEX-1", "open"):
        assert all(word in actions for word in part.split())  # table cells wrap lines
    html = build.artifacts["html"].read_text(encoding="utf-8")
    cells = re.sub(r'<span class="nobr">([^<]*)</span>', r"\1", html)  # a code kept on one line
    for part in ("M. Rivera, due Fri 04 Dec 2026", "Weekend overtime at MEX-1"):
        assert re.search(rf"<td[^>]*>\s*{re.escape(part)}", cells), part
    main = brief_slides(build.artifacts["pptx"])
    slide = slide_text(next(s for s in main if s.shapes.title.text == "Actions & asks"))
    for part in (line, "M. Rivera", "Fri 04 Dec 2026", "open, recovery not measured yet"):
        assert part in slide
    # the backlog story is no longer asked for a cause
    assert "\u201cLatin America's backlog" not in slide


def test_the_main_deck_stays_within_ten_slides_with_the_actions_last(built_report):
    main = brief_slides(built_report.artifacts["pptx"])
    assert len(main) <= 10
    assert main[-1].shapes.title.text == "Actions & asks"
    scorecards = [s for s in main if s.shapes.title.text.startswith("Key metrics")]
    assert len(scorecards) == 1 and "(1 of" not in scorecards[0].shapes.title.text


# -- speaker notes --------------------------------------------------------------------------------


def test_every_leadership_slide_has_notes_of_at_most_120_words(built_report):
    for slide in Presentation(built_report.artifacts["pptx"]).slides:
        notes = notes_of(slide)
        assert notes.strip(), slide.shapes.title.text
        assert len(notes.split()) <= 120, (slide.shapes.title.text, len(notes.split()))
        assert "Key numbers:" not in notes  # no data dump: the numbers are on the slide


def test_story_slides_carry_talking_points_and_answered_questions(built_report, figures):
    brief = [s for s in figures["stories"] if s["in_brief"]]
    slides = {s.shapes.title.text: s for s in brief_slides(built_report.artifacts["pptx"])}
    for story in brief:
        lines = [line for line in notes_of(slides[story["title"]]).splitlines() if line]
        assert 3 <= len(lines) <= 5
        assert lines[0] == story["sentence"]
        questions = [line for line in lines if line.startswith("Q:")]
        assert questions and all(" A: " in q for q in questions)
        assert any(story["follow_up"] in q for q in questions)  # who owns it, what is done


def test_notes_never_repeat_a_sentence_on_one_slide(built_report):
    for slide in Presentation(built_report.artifacts["pptx"]).slides:
        assert not repeated(notes_of(slide)), slide.shapes.title.text


def test_a_comment_is_a_talking_point_of_its_story_slide(commented):
    build, _out = commented
    slide = next(
        s
        for s in brief_slides(build.artifacts["pptx"])
        if s.shapes.title.text.startswith("Misinformation volume doubled")
    )
    assert SURGE_COMMENT in notes_of(slide)


# -- leadership wording -----------------------------------------------------------------------------


def test_the_leadership_pdf_has_no_statistics_jargon_appendix_included(leadership_pdf):
    assert "Significance of changes" in leadership_pdf  # the evidence is there, in words
    assert "could be noise" in leadership_pdf and "How unusual" in leadership_pdf
    found = JARGON.findall(leadership_pdf)
    assert not found, found


def test_the_leadership_deck_has_no_statistics_jargon_in_slides_or_notes(built_report):
    for slide in Presentation(built_report.artifacts["pptx"]).slides:
        text = slide_text(slide) + " " + notes_of(slide)
        found = JARGON.findall(text)
        assert not found, (slide.shapes.title.text, found)


def test_the_leadership_email_has_no_statistics_jargon(email_html):
    assert "The bottom line" in email_html
    found = JARGON.findall(email_html)
    assert not found, found


def test_the_analyst_edition_keeps_the_evidence(weekly_config, built_report):
    from reportgen.compose import compose_document
    from reportgen.config.loader import load_report
    from reportgen.data.audiences import scope_report

    report = load_report(weekly_config)
    analyst = next(a for a in report.config.audiences if a.name == "ops-analytics")
    document = compose_document(
        scope_report(report, analyst),
        built_report.figures,
        datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
        built_report.insights,
    )
    tables = [b for s in document.sections for b in s.blocks if b.kind == "table"]
    columns = {c.label for t in tables for c in t.columns}
    assert {"Robust z", "p-value", "Test"} <= columns
    assert any("Benjamini" in (t.caption or "") for t in tables)
    assert not any(s.id == "actions" for s in document.sections)


# -- each sentence once -----------------------------------------------------------------------------


def test_no_sentence_appears_twice_in_the_leadership_pdf(leadership_pdf):
    assert not repeated(leadership_pdf)


def test_no_sentence_appears_twice_on_the_leadership_slides(built_report):
    prs = Presentation(built_report.artifacts["pptx"])
    body = " ".join(slide_text(s, title=False) for s in prs.slides)
    assert not repeated(body)


def test_no_sentence_appears_twice_in_the_leadership_email(email_html):
    text = re.sub(r"<[^>]+>", " ", email_html)
    assert not repeated(text)


def test_no_sentence_appears_twice_with_commentary_and_actions(commented):
    build, _out = commented
    assert not repeated(pdf_text(build.artifacts["pdf"]))
    prs = Presentation(build.artifacts["pptx"])
    assert not repeated(" ".join(slide_text(s, title=False) for s in prs.slides))
