"""A real Chromium (the Debian package) driven by Playwright, for the site tests.

Playwright's own browser download is never used: the tests launch
``/usr/bin/chromium`` (installed by ``scripts/setup.sh --test``). Where it or the
Playwright package is missing the tests skip locally and fail in CI
(``REPORTGEN_REQUIRE_ENGINES``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._servers import unavailable

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"


def chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path is None:
        unavailable("Debian's chromium is not installed (scripts/setup.sh --test installs it)")
    return str(path)


@contextmanager
def launched() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install 'reportgen[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A page with every request it made and everything it logged."""

    page: Any
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "pageerror")]


def visit(browser: Any, url: str, width: int = 1280, height: int = 900) -> Visit:
    page = browser.new_page(viewport={"width": width, "height": height})
    seen = Visit(page)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("console", lambda m: seen.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: seen.console.append(("pageerror", str(e))))
    page.goto(url)
    return seen


def wait_for_charts(page: Any, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "document.querySelectorAll('[data-spec]').length > 0 && "
        "document.querySelectorAll('[data-drawn]').length === "
        "document.querySelectorAll('[data-spec]').length",
        timeout=timeout,
    )


def hover_centre(page: Any, locator: Any) -> None:
    """Move the mouse onto a chart mark (Vega listens on its SVG, so Playwright's
    actionability check — 'another element receives the events' — does not apply)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    # evaluated over the DevTools protocol: the page's CSP (rightly) refuses an injected <script>
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]
