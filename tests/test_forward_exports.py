"""The exports keep the forward look's numbers, and their crossings are a per-report option.

``exports.crossings`` picks which dimensions are crossed with the first one (region × queue
answers "is Harassment AHT up in every region?"); ``exports.max_crossing_rows`` leaves out a
crossing that would hold more rows, whole, and the About table says so.
"""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reportgen.errors import ConfigError


def config_with(demo_configs: Path, tmp_path: Path, exports: str) -> Path:
    """A copy of the shipped configs whose weekly report has the given ``exports:`` block."""
    configs = tmp_path / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", tmp_path / "templates")
    report = configs / "reports" / "weekly_leadership.yaml"
    report.write_text(report.read_text(encoding="utf-8") + "\n" + exports, encoding="utf-8")
    return report


def groupings(path: Path) -> tuple:
    from reportgen.config.loader import load_report
    from reportgen.export_figures import export_groupings

    return export_groupings(load_report(path))


def test_every_crossing_by_default(weekly_config):
    assert groupings(weekly_config)[-2:] == (("region", "queue"), ("region", "site"))


def test_a_report_names_the_crossings_it_needs(demo_configs, tmp_path):
    path = config_with(demo_configs, tmp_path, "exports: {crossings: [queue]}\n")
    assert groupings(path) == (("region",), ("queue",), ("site",), ("region", "queue"))


def test_a_report_can_leave_every_crossing_out(demo_configs, tmp_path):
    path = config_with(demo_configs, tmp_path, "exports:\n  crossings: none\n")
    assert all(len(g) == 1 for g in groupings(path))


def test_an_unknown_crossing_names_the_file_line_and_fix(demo_configs, tmp_path):
    from reportgen.config.loader import load_report

    path = config_with(demo_configs, tmp_path, "exports:\n  crossings: [queu]\n")
    with pytest.raises(ConfigError) as raised:
        load_report(path)
    text = str(raised.value)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert str(path) in text and "queu" in text and "did you mean 'queue'" in text
    assert raised.value.context["line"] == len(lines)  # the list item's line
    assert "crossings: none" in text


@pytest.fixture(scope="module")
def limited(demo_configs, tmp_path_factory):
    """The weekly report's CSV folder with a 5,000-row limit: region × queue is over it."""
    from reportgen import build_report

    root = tmp_path_factory.mktemp("limited")
    path = config_with(demo_configs, root, "exports: {max_crossing_rows: 5000}\n")
    return build_report(
        path,
        period="2026-W47",
        formats=["csv"],
        out_dir=root / "out",
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


def read_csv(folder: Path, name: str) -> list[dict]:
    with (folder / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def csv_folder(result) -> Path:
    return result.artifacts["csv"]


def test_a_crossing_over_the_limit_is_left_out_whole(limited):
    folder = csv_folder(limited)
    names = {p.stem for p in folder.iterdir()}
    assert "series_by_region_site" in names and "series_by_region_queue" not in names
    dims = {r["dimension"] for r in read_csv(folder, "breakdowns")}
    assert dims == {"region", "queue", "site", "region × site"}


def test_the_about_table_says_what_was_left_out_and_how_to_get_it(limited, exports_report):
    about = {r["field"]: r["value"] for r in read_csv(csv_folder(limited), "about")}
    full = read_csv(csv_folder(exports_report), "breakdowns")
    rows = sum(r["dimension"] == "region × queue" for r in full)
    assert about["Left out: region × queue"].startswith(f"{rows:,} rows, over the")
    assert "exports.crossings" in about["Left out: region × queue"]


# -- the forward look in the workbook -------------------------------------------------------------


def sheet_rows(path: Path, title: str) -> list[dict]:
    sheet = load_workbook(path, read_only=True)[title]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_workbook_keeps_every_forecast_number(built_report):
    rows = sheet_rows(built_report.artifacts["xlsx"], "Forecasts")
    forecasts = built_report.insights.outlook.forecasts
    assert len(rows) == sum(len(f.periods) for f in forecasts)
    for f in forecasts:
        mine = [r for r in rows if r["Metric id"] == f.metric]
        assert [r["Period"] for r in mine] == list(f.periods)
        assert [r["Forecast"] for r in mine] == pytest.approx(f.mean, rel=1e-12)
        assert [r["Likely from"] for r in mine] == pytest.approx(f.lower, rel=1e-12)
        assert [r["Likely to"] for r in mine] == pytest.approx(f.upper, rel=1e-12)
        assert [r["Target"] for r in mine] == list(f.targets)


def test_the_workbook_keeps_the_pace_to_target(built_report):
    rows = sheet_rows(built_report.artifacts["xlsx"], "Pace to target")
    pace = built_report.insights.outlook.pace
    assert [(r["Metric id"], r["Period"], r["Status"]) for r in rows] == [
        (p.metric, p.period, p.status) for p in pace
    ]
    assert [r["Projected"] for r in rows] == pytest.approx([p.projected for p in pace])
