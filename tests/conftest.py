"""Shared fixtures: the shipped configs, demo data generated once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reportgen.config.brand import load_brand
from reportgen.document import Brand, Document

from ._sample import sample_document as _sample_document

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/golden/ from today's output",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


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
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data small enough for tests, large enough for stable figures."""
    from reportgen.demo import generate_demo_data

    out = tmp_path_factory.mktemp("demo") / "data"
    generate_demo_data(out, rows=DEMO_ROWS, weeks=DEMO_WEEKS, seed=7)
    return out


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


@pytest.fixture(scope="session")
def built_report(weekly_config: Path, tmp_path_factory: pytest.TempPathFactory):
    """The weekly leadership report for 2026-W47 in every format."""
    from datetime import UTC, datetime

    from reportgen import build_report

    out = tmp_path_factory.mktemp("output")
    return build_report(
        weekly_config,
        period="2026-W47",
        formats=["pdf", "pptx", "html", "xlsx"],
        out_dir=out,
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def exports_report(weekly_config: Path, tmp_path_factory: pytest.TempPathFactory):
    """The weekly report for 2026-W47 as workbook and CSV folder (the export tests share it)."""
    from datetime import UTC, datetime

    from reportgen import build_report

    return build_report(
        weekly_config,
        period="2026-W47",
        formats=["xlsx", "csv"],
        out_dir=tmp_path_factory.mktemp("exports"),
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def analyst_report(weekly_config: Path, tmp_path_factory: pytest.TempPathFactory):
    """The analyst edition (ops-analytics) of 2026-W47 as HTML: the evidence the brief leaves out."""
    from datetime import UTC, datetime

    from reportgen import build_report

    return build_report(
        weekly_config,
        period="2026-W47",
        formats=["html"],
        audience="ops-analytics",
        out_dir=tmp_path_factory.mktemp("analyst"),
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
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
def site_builds(
    built_report, weekly_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """An output folder holding the leadership W47 build (copied), leadership W46 (workbook
    only: its page is what figures.json alone can show) and Europe's W47 analyst edition
    (HTML, whose document the site draws): two periods and two audiences."""
    import shutil
    from datetime import UTC, datetime

    from reportgen import build_report

    out = tmp_path_factory.mktemp("site-output")
    folder = built_report.out_dir
    shutil.copytree(folder, out / built_report.report / built_report.period.label / folder.name)
    now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    for period, audience, formats in (
        ("2026-W46", "leadership", ["xlsx"]),
        ("2026-W47", "europe", ["html"]),
    ):
        build_report(
            weekly_config, period=period, audience=audience, formats=formats, out_dir=out, now=now
        )
    return out


@pytest.fixture(scope="session")
def published_site(
    site_builds: Path, weekly_config: Path, tmp_path_factory: pytest.TempPathFactory
):
    """The static site of ``site_builds``, as `reportgen publish` writes it."""
    from reportgen.site import publish_site

    site = tmp_path_factory.mktemp("site") / "site"
    return publish_site(
        site_builds, site, configs=[weekly_config], base_url="https://reports.example.com/"
    )
