"""The README's "Your own data" examples build as written, with correct figures (the guide cannot rot)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportgen import build_report
from reportgen.config import load_report
from reportgen.config.loader import load_catalog, load_sources

from . import _own_data
from .conftest import ROOT

BLOCK = re.compile(r"<!-- guide: (\S+) -->\n```\w*\n(.*?)```", re.S)


def _guide_blocks() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Your own data") :]
    return dict(BLOCK.findall(section[: section.index("\n## ", 5)]))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's files written where it says, beside the ticket export and staffing file."""
    root = tmp_path_factory.mktemp("guide")
    (root / "data").mkdir()
    _own_data.write_csv_with_offsets(_own_data.tickets(), root / "data" / "tickets.csv")
    _own_data.staffing().to_csv(root / "data" / "staffing.csv", index=False)
    for name, text in _guide_blocks().items():
        if "/" in name:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root


def test_the_guide_names_every_file_a_project_needs():
    assert {
        "configs/sources.yaml",
        "configs/catalog.yaml",
        "configs/reports/weekly.yaml",
        "data/targets.csv",
        "configs-pg/sources.yaml",
        "schedule",
    } <= set(_guide_blocks())


def test_the_guide_project_builds_with_correct_figures(project, tmp_path):
    result = build_report(
        project / "configs" / "reports" / "weekly.yaml",
        period="2026-W47",
        formats=["html"],
        out_dir=tmp_path,
    )
    figures = json.loads(Path(result.artifacts["figures"]).read_text())
    want = _own_data.expected_figures(
        _own_data.tickets(), _own_data.staffing(), "Europe/Berlin", "2026-11-16", "2026-11-22"
    )
    for name in ("tickets", "aht", "qa_accuracy", "overturn_rate", "throughput"):
        assert figures["metrics"][name]["value"] == pytest.approx(want[name], rel=1e-9), name
    assert figures["metrics"]["aht"]["target"] == 60  # from the guide's targets.csv
    html = Path(result.artifacts["html"]).read_text()
    assert "Throughput is not broken down by market: staffing has no market." in html


def test_the_guide_audience_builds(project, tmp_path):
    result = build_report(
        project / "configs" / "reports" / "weekly.yaml",
        period="2026-W47",
        formats=["html"],
        out_dir=tmp_path,
        audience="germany",
    )
    figures = json.loads(Path(result.artifacts["figures"]).read_text())
    frame = _own_data.tickets()
    resolved = frame.resolved_utc.dt.tz_convert("Europe/Berlin")
    week = frame[
        (resolved >= "2026-11-16 00:00+01:00")
        & (resolved < "2026-11-23 00:00+01:00")
        & (frame.market == "DE")
    ]
    assert figures["metrics"]["tickets"]["value"] == len(week)
    assert "throughput" not in figures["metrics"]
    html = Path(result.artifacts["html"]).read_text()
    assert "Throughput is not available in this edition: staffing has no market." in html


def test_the_guide_database_source_and_schedule_validate(project):
    catalog = load_catalog(project / "configs" / "catalog.yaml")
    sources = load_sources(project / "configs-pg" / "sources.yaml", catalog)
    assert sources.engine == "sqlalchemy" and sources.facts["tickets"].table == "ops.tickets"
    report = project / "configs" / "reports" / "scheduled.yaml"
    report.write_text(
        (project / "configs" / "reports" / "weekly.yaml").read_text() + _guide_blocks()["schedule"]
    )
    assert load_report(report).config.schedule is not None


def test_the_guide_schedule_without_delivery_builds_into_the_output_folder(
    project, tmp_path, monkeypatch
):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from reportgen.ops import schedule

    report = project / "configs" / "reports" / "refresh.yaml"
    report.write_text(
        (project / "configs" / "reports" / "weekly.yaml")
        .read_text()
        .replace("[pdf, html]", "[html]")
        + _guide_blocks()["schedule"]
    )
    previews = schedule.preview_jobs([report], now=datetime(2026, 11, 25, tzinfo=UTC))
    assert [p.id for p in previews] == ["build:refresh:leadership", "build:refresh:germany"]
    assert previews[0].next_runs[0] == datetime(2026, 11, 30, 6, tzinfo=UTC)  # 07:00 Berlin
    clock = datetime(2026, 11, 30, 6, tzinfo=UTC)
    service = SimpleNamespace(settings=SimpleNamespace(out_dir=tmp_path, clock=lambda: clock))
    monkeypatch.setattr(schedule, "_ACTIVE", service)
    schedule.build_job(str(report), "leadership")
    figures = tmp_path / "refresh" / "2026-W48" / "leadership" / "figures.json"
    assert json.loads(figures.read_text())["period"]["label"] == "2026-W48"


def test_validate_warns_about_what_the_guide_report_leaves_out(project):
    from typer.testing import CliRunner

    from reportgen.cli import app

    result = CliRunner().invoke(
        app, ["validate", "--data", str(project / "configs" / "reports" / "weekly.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output
    assert "Throughput is not broken down by market: staffing has no market." in result.output
    assert (
        "audience 'germany': Throughput is not available in this edition: staffing has no market."
        in result.output
    )
