"""The published site in a real browser (Debian's Chromium via Playwright): what a reader sees,
what the page loads, and whether everyone can use it."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reportgen.formatting import format_full

from ._browser import axe_violations, hover_centre, launched, visit, wait_for_charts


@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def site(published_site) -> Path:
    return published_site.site


def url(site: Path, *parts: str) -> str:
    return site.joinpath(*parts).resolve().as_uri()


W47 = ("leadership", "weekly_leadership", "2026-W47", "index.html")
#: A build without the HTML edition: its page shows what figures.json alone can.
W46 = ("leadership", "weekly_leadership", "2026-W46", "index.html")
EUROPE = ("europe", "weekly_leadership", "2026-W47", "index.html")


def figures(site: Path, audience: str = "leadership", period: str = "2026-W47") -> dict:
    return json.loads((site / audience / "weekly_leadership" / period / "figures.json").read_text())


def test_the_index_lists_the_built_periods_newest_first(browser, site):
    seen = visit(browser, url(site, "leadership", "index.html"))
    periods = seen.page.locator(".period-title a").all_inner_texts()
    assert periods == ["2026-W47", "2026-W46"]
    first = seen.page.locator(".period-entry").first
    aht = figures(site)["metrics"]["decisions"]
    assert first.locator(".tile-value").first.inner_text() == format_full(aht["value"], "count")
    seen.page.close()


def test_a_page_without_an_edition_shows_the_stories_and_tiles_of_figures_json(browser, site):
    seen = visit(browser, url(site, *W46))
    data = figures(site, period="2026-W46")
    brief = [s["title"] for s in data["stories"] if s["in_brief"]]
    assert seen.page.locator("#brief .story-title").all_inner_texts() == brief
    tiles = seen.page.locator("#key-metrics .tile")
    assert tiles.count() == len(data["metrics"])
    aht = seen.page.locator("#key-metrics .tile", has_text="Average handle time")
    assert aht.locator(".tile-value").inner_text() == format_full(
        data["metrics"]["aht"]["value"], "seconds"
    )
    seen.page.close()


def test_charts_render_and_a_hover_shows_the_exact_value_and_n(browser, site):
    seen = visit(browser, url(site, *W46))
    page = seen.page
    wait_for_charts(page)
    holders = page.locator("[data-spec]")
    for index in range(holders.count()):
        assert holders.nth(index).locator("svg .role-mark path").count() > 0
    aht = figures(site, period="2026-W46")["metrics"]["aht"]
    last = (
        page.locator("#metric-aht .vl-chart")
        .first.locator("g.mark-symbol.role-mark path[fill='#1f4e79']")
        .last
    )
    hover_centre(page, last)
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for(timeout=5000)
    text = tooltip.inner_text()
    assert "2026-W46" in text
    assert format_full(aht["value"], "seconds") in text
    assert f"{aht['series'][-1]['n']:,.0f}" in text
    page.close()


def test_a_legend_entry_toggles_its_series(browser, site):
    seen = visit(browser, url(site, *W46))
    page = seen.page
    wait_for_charts(page)
    chart = page.locator("#metric-aht .vl-chart").first
    target = chart.locator(".role-legend-label text", has_text="Target")
    hover_centre(page, target)
    page.mouse.down()
    page.mouse.up()
    dimmed = chart.locator("g.mark-symbol.role-mark path[fill='#1f4e79']").first
    page.wait_for_function("el => el.getAttribute('opacity') < 0.5", arg=dimmed.element_handle())
    page.close()


def test_a_trend_zooms_on_the_wheel(browser, site):
    seen = visit(browser, url(site, *W46))
    page = seen.page
    wait_for_charts(page)
    chart = page.locator("#metric-aht .vl-chart").first
    labels = chart.locator(".role-axis-label text")
    before = labels.all_inner_texts()
    hover_centre(page, chart.locator("svg"))
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(300)
    assert labels.all_inner_texts() != before
    page.close()


@pytest.mark.parametrize(
    "parts",
    [
        ("index.html",),
        ("leadership", "index.html"),
        W47,
        W46,
        ("leadership", "weekly_leadership", "2026-W47", "changes.html"),
        EUROPE,
    ],
    ids=["front", "audience-index", "report", "figures-only-report", "changes", "europe-report"],
)
def test_pages_request_nothing_outside_the_site_and_log_no_error(browser, site, parts):
    seen = visit(browser, url(site, *parts))
    if parts[-1] == "index.html" and len(parts) == 4:
        wait_for_charts(seen.page)
    seen.page.wait_for_timeout(300)
    root = site.resolve().as_uri()
    assert [r for r in seen.requests if not r.startswith(root + "/")] == []
    assert seen.errors == []
    seen.page.close()


def test_the_site_works_from_a_static_web_server(browser, site):
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        seen = visit(browser, f"{base}/{'/'.join(W47)}")
        wait_for_charts(seen.page)
        assert [r for r in seen.requests if not r.startswith(base + "/")] == []
        assert seen.errors == []
        seen.page.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("parts", [W47, EUROPE], ids=["leadership", "analyst"])
def test_keyboard_tab_reaches_every_link(browser, site, parts):
    seen = visit(browser, url(site, *parts))
    page = seen.page
    wait_for_charts(page)
    links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    reached = set()
    for _ in range(len(links) + 60):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement && document.activeElement.href || null")
        if href:
            reached.add(href)
    assert set(links) - reached == set()
    page.close()


@pytest.mark.parametrize(
    "parts",
    [
        ("leadership", "index.html"),
        W47,
        W46,
        EUROPE,
        ("leadership", "weekly_leadership", "2026-W47", "changes.html"),
    ],
    ids=["audience-index", "report", "figures-only-report", "analyst-report", "changes"],
)
def test_axe_finds_no_serious_or_critical_violation(browser, site, parts):
    seen = visit(browser, url(site, *parts))
    if parts[-1] == "index.html" and len(parts) == 4:
        wait_for_charts(seen.page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
        for v in axe_violations(seen.page)
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []
    seen.page.close()


def test_europe_pages_show_no_other_region_in_the_browser(browser, site, demo_dir):
    org = json.loads((demo_dir / "manifest.json").read_text())["org"]
    foreign = [r for r in org["regions"] if r != "Europe"]
    foreign += [s["code"] for s in org["sites"] if s["region"] != "Europe"]
    for page_file in sorted((site / "europe").rglob("*.html")):
        seen = visit(browser, page_file.resolve().as_uri())
        if page_file.name == "index.html" and page_file.parent.name.startswith("20"):
            wait_for_charts(seen.page)
        # everything drawn: the DOM's text, SVG labels and the tooltip-bearing aria labels
        shown = seen.page.evaluate(
            "document.body.innerText + [...document.querySelectorAll('svg text, [aria-label]')]"
            ".map(e => e.textContent + ' ' + (e.getAttribute('aria-label') || '')).join(' ')"
        )
        assert [label for label in foreign if label in shown] == [], page_file
        seen.page.close()


@pytest.mark.parametrize("parts", [W47, EUROPE], ids=["leadership", "analyst"])
@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_runs_off_the_screen(browser, site, width, parts):
    seen = visit(browser, url(site, *parts), width=width)
    wait_for_charts(seen.page)
    overflow = seen.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width
    seen.page.close()
