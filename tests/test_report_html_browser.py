"""The standalone HTML report (``--format html``) in a real browser (Debian's Chromium): a
reader who opens it on a phone or a laptop reads every tile whole, every header inside its
column, and never scrolls the page sideways; on a phone a wide table scrolls inside its own
block instead."""

from __future__ import annotations

import pytest

from ._browser import launched, visit

PHONE = 390
LAPTOP = 1280


@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="module", params=[PHONE, LAPTOP], ids=["phone", "laptop"])
def page(request, browser, built_report):
    seen = visit(browser, built_report.artifacts["html"].resolve().as_uri(), width=request.param)
    yield seen.page, request.param
    seen.page.close()


def test_the_page_never_scrolls_sideways(page):
    shown, width = page
    assert shown.evaluate("document.documentElement.scrollWidth") <= width


def test_every_tile_fits_the_screen(page):
    shown, width = page
    rights = shown.evaluate(
        "[...document.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= width


def test_no_table_cell_spills_out_of_its_column(page):
    shown, _ = page
    spilled = shown.evaluate(
        """[...document.querySelectorAll('table.data th, table.data td')]
             .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)"""
    )
    assert spilled == []


def test_on_a_phone_a_wide_table_scrolls_inside_its_block(browser, built_report):
    shown = visit(browser, built_report.artifacts["html"].resolve().as_uri(), width=PHONE).page
    scrollers = shown.evaluate(
        """[...document.querySelectorAll('.table-block')]
             .filter(b => b.scrollWidth > b.clientWidth)
             .map(b => getComputedStyle(b).overflowX)"""
    )
    assert scrollers and set(scrollers) == {"auto"}
    shown.close()
