"""The standalone HTML report (``--format html``) in a real browser (Debian's Chromium): a
reader who opens it on a phone reads every tile whole and never scrolls the page sideways;
a wide table scrolls inside its own block instead."""

from __future__ import annotations

import pytest

from ._browser import launched, visit

PHONE = 390


@pytest.fixture(scope="module")
def phone_page(built_report):
    with launched() as browser:
        seen = visit(browser, built_report.artifacts["html"].resolve().as_uri(), width=PHONE)
        yield seen.page
        seen.page.close()


def test_the_page_never_scrolls_sideways_on_a_phone(phone_page):
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_every_tile_fits_the_phone_screen(phone_page):
    rights = phone_page.evaluate(
        "[...document.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= PHONE


def test_a_wide_table_scrolls_inside_its_block_and_no_header_spills_over(phone_page):
    spilled = phone_page.evaluate(
        """[...document.querySelectorAll('table.data th')]
             .filter(th => th.scrollWidth > th.clientWidth + 1).map(th => th.textContent)"""
    )
    assert spilled == []
    scrollers = phone_page.evaluate(
        """[...document.querySelectorAll('.table-block')]
             .filter(b => b.scrollWidth > b.clientWidth)
             .map(b => getComputedStyle(b).overflowX)"""
    )
    assert scrollers and set(scrollers) == {"auto"}
