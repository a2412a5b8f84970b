"""A report page carries its whole edition: the HTML edition's document, drawn by the site with
the report's own partials and interactive charts. Checked in the browser (Debian's Chromium)
against figures.json and against the raw demo rows."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from reportgen.formatting import format_full, format_p
from reportgen.render.html.edition import EDITION_ID, read_edition

from ._browser import hover_centre, launched, visit, wait_for_charts

EUROPE = ("europe", "weekly_leadership", "2026-W47")
LEADERSHIP = ("leadership", "weekly_leadership", "2026-W47")
NUMBER = re.compile(r"[+−-]?\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def site(published_site) -> Path:
    return published_site.site


@pytest.fixture(scope="module")
def europe(browser, site):
    """The Europe analyst page, open with every chart drawn."""
    seen = visit(browser, (site.joinpath(*EUROPE) / "index.html").resolve().as_uri())
    wait_for_charts(seen.page)
    yield seen
    seen.page.close()


def figures(site: Path, parts: tuple[str, ...] = EUROPE) -> dict:
    return json.loads((site.joinpath(*parts) / "figures.json").read_text())


def number(text: str) -> float:
    """The first number in a cell as printed ("−0.7%", "+6.3 s", "1,547")."""
    match = NUMBER.search(text)
    assert match is not None, text
    return float(match.group().replace("−", "-").replace(",", ""))


def table_rows(page, section: str, title: str) -> list[list[str]]:
    table = page.locator(f"#section-{section} .table-block", has_text=title).first
    return [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]


def manual_handle_seconds(raw, demo_dir: Path, start: str, region: str) -> list[float]:
    end = (date.fromisoformat(start) + timedelta(days=7)).isoformat()
    rows = raw.execute(
        f"SELECT handle_seconds FROM read_parquet('{demo_dir}/decisions/*.parquet') "
        f"WHERE NOT automated AND region = '{region}' "
        f"AND decided_at >= TIMESTAMPTZ '{start} 00:00:00+00' "
        f"AND decided_at < TIMESTAMPTZ '{end} 00:00:00+00'"
    ).fetchall()
    return [r[0] for r in rows]


# --------------------------------------------------------------------------- the edition


def test_the_html_edition_carries_its_document_without_the_build_machines_paths(built_report):
    html = built_report.artifacts["html"]
    carried = read_edition(html)
    assert carried is not None
    document = built_report.document
    shown = dataclasses.replace(  # what the HTML shows: no speaker notes, no brief slides
        document,
        brief=(),
        sections=tuple(dataclasses.replace(s, notes=()) for s in document.sections),
    )
    assert dataclasses.replace(carried, brand=document.brand) == shown
    assert any(s.notes for s in document.sections)  # the deck's notes were there to leave out
    assert carried.brand.primary == document.brand.primary and carried.brand.logo is None
    block = html.read_text().split(f'id="{EDITION_ID}">', 1)[1].split("</script>", 1)[0]
    assert str(document.brand.assets_dir) not in block
    assert str(built_report.out_dir) not in block


def test_a_report_page_has_every_section_of_its_edition_in_order(site, site_builds):
    (html,) = (site_builds / "weekly_leadership" / "2026-W47" / "europe").glob("*.html")
    edition = read_edition(html)
    assert edition is not None
    text = (site.joinpath(*EUROPE) / "index.html").read_text()
    ids = re.findall(r'<section class="section role-\w+" id="section-([\w-]+)"', text)
    assert ids == [s.id for s in edition.sections]
    for required in ("anomalies", "decomposition", "significance", "definitions"):
        assert required in ids


def test_a_build_without_an_html_edition_shows_what_figures_json_can(site):
    text = (site / "leadership" / "weekly_leadership" / "2026-W46" / "index.html").read_text()
    assert 'id="key-metrics"' in text and 'id="metrics"' in text
    assert 'id="section-anomalies"' not in text


# --------------------------------------------------------------------------- in the browser


def test_the_analyst_page_lists_the_anomalies_of_figures_json(europe, site):
    flagged = {a["id"]: a for a in figures(site)["insights"]["anomalies"]}
    rows = table_rows(europe.page, "anomalies", "Anomalies flagged")
    assert rows
    for cells in rows:
        anomaly = flagged[cells[-1]]
        assert number(cells[-2]) == pytest.approx(anomaly["robust_z"], abs=0.051)
        assert anomaly["segment"] is None or anomaly["segment"] in cells[1]


def test_the_analyst_page_shows_the_change_tests_as_scipy_computes_them(
    europe, site, raw, demo_dir
):
    from scipy import stats

    data = figures(site)
    test = data["insights"]["tests"]["aht"]
    row = next(
        cells
        for cells in table_rows(europe.page, "significance", "Is the change real?")
        if cells[0] == "Average handle time"
    )
    start = data["metrics"]["aht"]["series"][-1]["start"]
    before = (date.fromisoformat(start) - timedelta(days=7)).isoformat()
    now = manual_handle_seconds(raw, demo_dir, start, "Europe")
    then = manual_handle_seconds(raw, demo_dir, before, "Europe")
    welch = stats.ttest_ind(now, then, equal_var=False)
    assert row[2] == test["test"] == "Welch t-test"
    assert number(row[3]) == pytest.approx(welch.statistic, abs=0.006)
    assert row[4] == format_p(welch.pvalue) == format_p(test["p_value"])
    assert row[-1] == ("significant" if test["significant"] else "not significant")


def test_the_analyst_page_decomposes_a_change_into_mix_and_rate_as_the_raw_rows_add_up(
    europe, site, raw, demo_dir
):
    data = figures(site)
    parts = data["insights"]["decompositions"]["aht"]
    start = data["metrics"]["aht"]["series"][-1]["start"]
    before = (date.fromisoformat(start) - timedelta(days=7)).isoformat()
    now = manual_handle_seconds(raw, demo_dir, start, "Europe")
    then = manual_handle_seconds(raw, demo_dir, before, "Europe")
    assert parts["value1"] == pytest.approx(sum(now) / len(now))
    assert parts["value0"] == pytest.approx(sum(then) / len(then))
    assert parts["mix"] + parts["rate"] == pytest.approx(parts["value1"] - parts["value0"])
    rows = table_rows(europe.page, "decomposition", "Average handle time: contributions by queue")
    total = next(cells for cells in rows if cells[0] == "Total")
    mix, rate, contribution = (number(c) for c in total[-3:])
    assert mix == pytest.approx(parts["mix"], abs=0.051)
    assert rate == pytest.approx(parts["rate"], abs=0.051)
    assert contribution == pytest.approx(parts["change"], abs=0.051)


def tooltips(page, marks) -> list[str]:
    """The tooltip of each mark, hovered one after the other."""
    seen = []
    for index in range(marks.count()):
        hover_centre(page, marks.nth(index))
        tip = page.locator("#vg-tooltip-element.visible")
        try:
            tip.wait_for(timeout=1500)
        except Exception:  # a mark without a tooltip (a label, a rule)
            continue
        seen.append(tip.inner_text())
        page.mouse.move(0, 0)
    return seen


def test_a_hover_on_a_decomposition_bar_shows_the_exact_contribution(europe, site):
    parts = figures(site)["insights"]["decompositions"]["aht"]
    harassment = next(t for t in parts["terms"] if t["segment"] == ["Harassment"])
    chart = europe.page.locator("#section-decomposition .vl-chart").first
    texts = tooltips(europe.page, chart.locator("g.mark-rect.role-mark path"))
    shown = next(t for t in texts if "Harassment" in t)
    value = number(shown.split("Harassment", 1)[1])
    assert value == pytest.approx(harassment["mix"] + harassment["rate"], abs=0.051)


def test_a_hover_on_a_weekly_review_chart_shows_the_exact_value_and_n(europe, site, raw, demo_dir):
    aht = figures(site)["metrics"]["aht"]
    last = aht["series"][-1]
    chart = europe.page.locator("#section-aht .vl-chart").first
    texts = tooltips(europe.page, chart.locator("g.mark-symbol.role-mark path"))
    week = next(t for t in texts if "W47" in t and "Average handle time" in t)
    assert format_full(aht["value"], "seconds") in week
    manual = len(manual_handle_seconds(raw, demo_dir, last["start"], "Europe"))
    assert f"{manual:,}" in week and last["n"] == manual


def test_a_legend_entry_toggles_a_breakdowns_series(europe):
    page = europe.page
    chart = page.locator("#section-aht .vl-chart").nth(1)  # the breakdown by queue
    label = chart.locator(".role-legend-label text", has_text="2026-W46")
    hover_centre(page, label)
    page.mouse.down()
    page.mouse.up()
    bars = chart.locator("g.mark-rect.role-mark path")
    page.wait_for_function(
        "els => els.some(e => Number(e.getAttribute('fill-opacity') ?? e.getAttribute('opacity'))"
        " < 0.5)",
        arg=bars.element_handles(),
    )
    page.mouse.dblclick(0, 0)


def test_a_weekly_review_zooms_its_value_axis_on_the_wheel(europe):
    page = europe.page
    chart = page.locator("#section-backlog .vl-chart").first
    labels = chart.locator(".role-axis-label text")
    before = labels.all_inner_texts()
    hover_centre(page, chart.locator("g.mark-symbol.role-mark path").first)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(300)
    assert labels.all_inner_texts() != before


def test_the_leadership_page_opens_with_its_brief_and_tiles(browser, site):
    seen = visit(browser, (site.joinpath(*LEADERSHIP) / "index.html").resolve().as_uri())
    data = figures(site, LEADERSHIP)
    summary = seen.page.locator("#section-summary")
    text = summary.inner_text()
    for story in (s for s in data["stories"] if s["in_brief"]):
        assert story["title"] in text
    tiles = summary.locator(".kpi-grid .tile")
    assert tiles.count() == len(data["metrics"])
    aht = summary.locator(".kpi-grid .tile", has_text="Average handle time")
    assert aht.locator(".tile-value").inner_text() == format_full(
        data["metrics"]["aht"]["value"], "seconds"
    )
    seen.page.close()
