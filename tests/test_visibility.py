"""Small numbers and missing data are visible, not dramatic (issue #17)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

YOUNG_REPORT = {
    "id": "young_monthly",
    "title": "Young data, monthly",
    "catalog": "../catalog.yaml",
    "sources": "../sources.yaml",
    "brand": "../brands/default.yaml",
    "period": {"grain": "month", "timezone": "UTC"},
    "metrics": ["decisions", "qa_accuracy"],
    "breakdowns": ["region"],
    "trailing_periods": 13,
    "sections": ["summary", "metrics"],
    "outputs": ["xlsx"],
}


@pytest.fixture(scope="module")
def young_build(tmp_path_factory, demo_configs: Path):
    """A monthly report over 26 weeks of data: seven of its thirteen months precede the data."""
    from reportgen import build_report
    from reportgen.demo import generate_demo_data

    root = tmp_path_factory.mktemp("young")
    generate_demo_data(root / "data", rows=20_000, weeks=26, seed=3)
    configs = root / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    sources = configs / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    demo = str(Path(yaml.safe_load(text)["targets"]["path"]).parent)
    sources.write_text(text.replace(demo, str(root / "data")), encoding="utf-8")
    path = configs / "reports" / "young.yaml"
    path.write_text(yaml.safe_dump(YOUNG_REPORT, sort_keys=False), encoding="utf-8")
    return build_report(
        path,
        period="2026-10",
        formats=["xlsx"],
        out_dir=root / "out",
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


def test_periods_before_the_data_are_empty_not_zero(young_build) -> None:
    figures = json.loads(young_build.artifacts["figures"].read_text(encoding="utf-8"))
    series = figures["metrics"]["decisions"]["series"]
    before = [p for p in series if p["period"] < "2026-05"]
    assert len(before) >= 6
    assert all(p["value"] is None for p in before)
    assert series[-1]["value"] > 0


def test_workbook_leaves_periods_before_the_data_empty(young_build) -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(young_build.artifacts["xlsx"])["Series"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    rows = [
        dict(zip(header, (c.value for c in r), strict=False)) for r in sheet.iter_rows(min_row=2)
    ]
    early = [r for r in rows if str(r.get("Period", "")) < "2026-05" and r.get("Period")]
    assert early, header
    assert all(r["Value"] is None for r in early)


def test_trend_chart_has_gaps_before_the_data(young_build) -> None:
    from reportgen.document import Chart

    section = next(s for s in young_build.document.sections if s.id == "decisions")
    trend = next(b for b in section.blocks if isinstance(b, Chart) and b.chart_type == "line")
    values = trend.series[0].values
    assert values[0] is None and values[-1] is not None
