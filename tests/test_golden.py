"""Outputs pinned as golden files: figures.json and the HTML report of the demo week, and the
SQL each engine dialect runs. A refactor must leave them unchanged; ``pytest --update-golden``
rewrites them when a change to the output is intended (and the diff is then reviewed)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reportgen.build import explain

from ._golden import assert_golden, normalise, rounded_edition, rounded_json, without_svg

# the demo facts as tables of a warehouse schema, with the targets CSV read in place
TABLE_FACTS = """facts:
  decisions: {table: ops.decisions}
  staffing: {table: ops.staffing}
  views: {table: ops.views}
  queue_snapshots: {table: ops.queue_snapshots}
targets: {path: ../data/targets.csv}
"""
ENGINES = {
    "duckdb": None,  # the shipped sources: Parquet read in place by embedded DuckDB
    "postgres": "engine: sqlalchemy\nurl: postgresql+psycopg://reporter:${PGPASSWORD}@db/ops\n",
    "spark": "engine: spark\nurl: local[2]\n",
    "snowflake": "engine: sqlalchemy\nurl: snowflake://reporter:${SNOWFLAKE_PASSWORD}@acct/ops\n",
}


def test_figures_json_of_the_demo_week_is_unchanged(built_report, update_golden: bool) -> None:
    text = built_report.artifacts["figures"].read_text(encoding="utf-8")
    # the config hash covers the sources file, which names this session's data folder
    text = re.sub(r'"config_hash": "[0-9a-f]+"', '"config_hash": "<hash>"', text)
    actual = rounded_json(normalise(text, built_report.artifacts["figures"].parent))
    assert_golden("figures-2026-W47.json", actual, update=update_golden)


def test_html_report_of_the_demo_week_is_unchanged(built_report, update_golden: bool) -> None:
    html = built_report.artifacts["html"].read_text(encoding="utf-8")
    actual = rounded_edition(without_svg(normalise(html, built_report.artifacts["html"].parent)))
    assert_golden("report-2026-W47.html", actual, update=update_golden)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_explained_sql_per_engine_dialect_is_unchanged(
    engine: str, demo_configs: Path, demo_dir: Path, tmp_path: Path, update_golden: bool
) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", tmp_path / "templates")
    if ENGINES[engine] is not None:
        (configs / "sources.yaml").write_text(ENGINES[engine] + TABLE_FACTS, encoding="utf-8")
    sections = explain(configs / "reports" / "weekly_leadership.yaml", "2026-W47")
    text = "".join(f"-- {title}\n{sql}\n\n" for title, sql in sections)
    actual = normalise(text, configs.parent, demo_configs.parent, demo_dir)
    assert_golden(f"explain-{engine}.sql", actual, update=update_golden)
