"""Shared fixtures: the shipped configs, demo data generated and reports built once per test run.

With pytest-xdist (``-n 2``) the demo data and the session's report builds are
still made once per run, by whichever worker asks first (tests/_shared.py); each
worker keeps its own copy of the configs, since tests write report files there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from reportgen.config.brand import load_brand
from reportgen.document import Brand, Document

from ._sample import sample_document as _sample_document
from ._shared import made_once, result_once, run_folder

ROOT = Path(__file__).resolve().parent.parent

# Property tests replay the same examples on every run (derandomized, no example database), so a
# red run is reproduced by running it again. HYPOTHESIS_PROFILE=explore (or pytest's
# --hypothesis-profile=explore) draws fresh examples each run, to search further by hand.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/golden/ from today's output",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# -- scheduling: with pytest-xdist the longest modules start first ------------------------------

#: Modules that take minutes, longest first (measured 2026-12-05 with `--durations`). Under
#: ``--dist loadfile`` a module runs whole on one worker and pytest-xdist hands modules out in
#: collection order (``--no-loadscope-reorder`` in pyproject.toml; its default puts modules with
#: many tests first, which left the few-test fuzz module last on one worker while the other sat
#: idle for minutes). Longest first, the short modules fill in at the end on both workers. A
#: module missing here only starts later; nothing is skipped.
LONG_MODULES = (
    "tests/test_fuzz.py",
    "tests/test_build.py",
    "tests/test_outlook.py",
    "tests/test_audiences.py",
    "tests/test_engines.py",
    "tests/test_threats.py",
    "tests/test_render_csv.py",
    "tests/delivery/test_smtp_faults.py",
    "tests/test_freshness.py",
    "tests/test_cache.py",
    "tests/test_insights.py",
    "tests/delivery/test_ledger_race.py",
    "tests/test_quality.py",
    "tests/delivery/test_cli_ops.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, put the modules of :data:`LONG_MODULES` first (tests keep their order)."""
    if not hasattr(config, "workerinput"):
        return  # one process: the order does not change the run time
    rank = {module: i for i, module in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


CONFIGS = ROOT / "configs"


@pytest.fixture(scope="session")
def brand() -> Brand:
    return load_brand(CONFIGS / "brands" / "default.yaml")


@pytest.fixture
def sample_document(brand: Brand) -> Document:
    """A hand-built document with every block type (renderer tests)."""
    return _sample_document(brand)


# -- demo data and a built report, once per session -------------------------------------------

DEMO_ROWS = 1_000_000
DEMO_WEEKS = 60


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder shared by every xdist worker of this test run (for data made once per run)."""
    return run_folder(tmp_path_factory, worker_id)


@pytest.fixture(scope="session")
def demo_dir(shared_dir: Path) -> Path:
    """Demo data small enough for tests, large enough for stable figures (tests only read it)."""
    from reportgen.demo import generate_demo_data

    def generate(folder: Path) -> None:
        generate_demo_data(folder / "data", rows=DEMO_ROWS, weeks=DEMO_WEEKS, seed=7)

    return made_once(shared_dir / "demo", generate) / "data"


@pytest.fixture(scope="session")
def demo_configs(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """The shipped configs, with sources pointing at the session's demo data."""
    import shutil

    root = tmp_path_factory.mktemp("project")
    shutil.copytree(CONFIGS, root / "configs")
    shutil.copytree(ROOT / "templates", root / "templates")
    sources = root / "configs" / "sources.yaml"
    sources.write_text(sources.read_text().replace("../data/demo", str(demo_dir)), encoding="utf-8")
    return root / "configs"


@pytest.fixture(scope="session")
def weekly_config(demo_configs: Path) -> Path:
    return demo_configs / "reports" / "weekly_leadership.yaml"


def _w47(weekly_config: Path, folder: Path, formats: list[str], audience: str | None = None):
    """2026-W47 of the weekly report, built into ``folder`` as on its Wednesday morning."""
    from datetime import UTC, datetime

    from reportgen import build_report

    return build_report(
        weekly_config,
        period="2026-W47",
        formats=formats,
        audience=audience,
        out_dir=folder,
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def built_report(weekly_config: Path, shared_dir: Path):
    """The weekly leadership report for 2026-W47 in every format (tests only read it)."""
    formats = ["pdf", "pptx", "html", "xlsx"]
    return result_once(shared_dir / "output", lambda out: _w47(weekly_config, out, formats))


@pytest.fixture(scope="session")
def exports_report(weekly_config: Path, shared_dir: Path):
    """The weekly report for 2026-W47 as workbook and CSV folder (the export tests share it)."""
    return result_once(
        shared_dir / "exports", lambda out: _w47(weekly_config, out, ["xlsx", "csv"])
    )


@pytest.fixture(scope="session")
def analyst_report(weekly_config: Path, shared_dir: Path):
    """The analyst edition (ops-analytics) of 2026-W47 as HTML: the evidence the brief leaves out."""
    return result_once(
        shared_dir / "analyst",
        lambda out: _w47(weekly_config, out, ["html"], audience="ops-analytics"),
    )


@pytest.fixture(scope="session")
def raw():
    """A DuckDB connection for independent checks on the raw demo rows."""
    import duckdb

    con = duckdb.connect()
    yield con
    con.close()


# -- servers, started once per session ---------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A real PostgreSQL server (private, 127.0.0.1) whose URL holds its password as ${VAR}."""
    import shutil
    import tempfile

    from . import _servers

    pytest.importorskip(
        "psycopg", reason="psycopg not installed (pip install 'reportgen[postgres]')"
    )
    work = Path(tempfile.mkdtemp(prefix="reportgen-pg-"))
    with _servers.postgres_url(work) as url:
        yield url
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """Spark in local mode (needs Java 17+)."""
    import shutil

    from . import _servers

    pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'reportgen[spark]')")
    if shutil.which("java") is None:
        _servers.unavailable("Java is not installed; Spark local mode needs Java 17+")
    from reportgen.data.engines.spark import SparkEngine, stop_spark

    engine = SparkEngine(Path("."), "local[2]", {})
    yield engine.session()
    stop_spark()


# -- the report site (tests/test_site*.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def site_builds(built_report, weekly_config: Path, shared_dir: Path) -> Path:
    """An output folder holding the leadership W47 build (copied), leadership W46 (workbook
    only: its page is what figures.json alone can show) and Europe's W47 analyst edition
    (HTML, whose document the site draws): two periods and two audiences."""
    import shutil
    from datetime import UTC, datetime

    from reportgen import build_report

    def build(out: Path) -> None:
        folder = built_report.out_dir
        shutil.copytree(folder, out / built_report.report / built_report.period.label / folder.name)
        now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
        for period, audience, formats in (
            ("2026-W46", "leadership", ["xlsx"]),
            ("2026-W47", "europe", ["html"]),
        ):
            build_report(
                weekly_config,
                period=period,
                audience=audience,
                formats=formats,
                out_dir=out,
                now=now,
            )

    return made_once(shared_dir / "site-output", build)


@pytest.fixture(scope="session")
def published_site(site_builds: Path, weekly_config: Path, shared_dir: Path):
    """The static site of ``site_builds``, as `reportgen publish` writes it."""
    from reportgen.site import publish_site

    def publish(folder: Path):
        return publish_site(
            site_builds,
            folder / "site",
            configs=[weekly_config],
            base_url="https://reports.example.com/",
        )

    return result_once(shared_dir / "site", publish)
