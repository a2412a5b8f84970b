"""`reportgen serve`: the author's live preview, in a real browser."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from reportgen.config.loader import load_report
from reportgen.errors import ConfigError
from reportgen.site.serve import serve

from ._browser import launched, visit


@pytest.fixture(scope="module")
def project(demo_configs: Path, tmp_path_factory) -> Path:
    """A copy of the demo project (configs and templates) the tests may edit; its sources
    point at the session's demo data."""
    root = tmp_path_factory.mktemp("serve-project")
    shutil.copytree(demo_configs, root / "configs")
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    return root / "configs"


@pytest.fixture(scope="module")
def preview(project: Path, tmp_path_factory):
    """`reportgen serve` on 127.0.0.1 (any free port) until the module's tests are done."""
    found: list[str] = []
    ready = threading.Event()
    stop = threading.Event()

    def started(url: str) -> None:
        found.append(url)
        ready.set()

    thread = threading.Thread(
        target=serve,
        args=(project / "reports" / "weekly_leadership.yaml", tmp_path_factory.mktemp("serve")),
        kwargs={
            "period": "2026-W47",
            "port": 0,
            "say": lambda _m: None,
            "ready": started,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    assert ready.wait(300), "the preview did not start"
    yield found[0]
    stop.set()
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


def test_serve_listens_on_the_loopback_interface_only(preview):
    assert preview.startswith("http://127.0.0.1:")


def test_a_label_edit_shows_in_the_open_page_without_a_reload(preview, project, browser):
    seen = visit(browser, preview)
    page = seen.page
    assert page.locator("#section-title-aht").inner_text() == "Average handle time"
    catalog = project / "catalog.yaml"
    text = catalog.read_text()
    catalog.write_text(
        text.replace("label: Average handle time", "label: Handling time per item", 1)
    )
    page.wait_for_function(
        "() => { const h = document.getElementById('section-title-aht');"
        " return h && h.textContent === 'Handling time per item'; }",
        timeout=8000,  # the watcher polls every 0.4 s, the page every 0.7 s, the re-wording < 2 s
    )
    assert seen.errors == []
    page.close()


def test_a_broken_config_shows_the_cli_error_above_the_last_good_render(preview, project, browser):
    seen = visit(browser, preview)
    page = seen.page
    config = project / "reports" / "weekly_leadership.yaml"
    good = config.read_text()
    config.write_text(good.replace("trailing_periods: 13", "trailing_periods: [13", 1))
    with pytest.raises(ConfigError) as caught:
        load_report(config)
    status = page.locator("#live-status.error")
    status.wait_for(timeout=15000)
    assert f"error: {caught.value}" in status.inner_text()
    assert "weekly_leadership.yaml:" in status.inner_text()
    assert page.locator("#section-summary .tile").count() > 0  # the previous render stays
    config.write_text(good)
    page.locator("#live-status").wait_for(state="hidden", timeout=15000)
    page.close()
