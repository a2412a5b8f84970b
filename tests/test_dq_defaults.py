"""The default data-quality checks a new dataset gets with no configuration.

NULL in a breakdown dimension, a negative value in a summed column, a duplicate key: each is a
warning with its count and share per period, checked here against pandas on the raw rows, on
DuckDB and on a real PostgreSQL server; each can be turned off in the catalog. Example ids come
from the built period first.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from reportgen.build import build_report
from reportgen.cli import app
from reportgen.data.quality import MAX_EXAMPLE_QUERIES, QualityIssue, count_summary

from . import _servers
from .test_quality import NOW, decisions, edit_catalog, gate, project

BUILT = "2026-W47"
TRAILING = ("2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47")
NEGATIVE_CHECK = (
    "      - name: negative_handle_time\n        when: handle_seconds < 0\n"
    "        severity: error\n        description: negative handle time\n"
)


def defects(frame: pd.DataFrame) -> pd.DataFrame:
    """NULL actions (~5 % of rows), NULL languages in two weeks, negative handle times."""
    rng = np.random.default_rng(5)
    frame.loc[rng.random(len(frame)) < 0.05, "action"] = None
    week = frame["decided_at"].dt.strftime("%G-W%V")
    frame.loc[week.isin(["2026-W44", BUILT]) & (frame["decision_id"] % 17 == 0), "language"] = None
    frame.loc[frame["decision_id"] % 53 == 0, "handle_seconds"] = -12.5
    return frame


def defect_project(root: Path, catalog_edit: str = "") -> Path:
    """The quality tests' project with :func:`defects`, broken down by region, action and language;
    the catalog's own negative-handle-time check removed so that the default one speaks."""
    report = project(root, defects, catalog_edit)
    edit_catalog(report, NEGATIVE_CHECK, "")
    text = report.read_text(encoding="utf-8")
    report.write_text(
        text.replace("breakdowns: [region]", "breakdowns: [region, action, language]"),
        encoding="utf-8",
    )
    return report


def expected(mask: pd.Series) -> dict[str, tuple[int, int]]:
    """``period → (rows flagged, rows in the period)`` from the raw rows (pandas)."""
    frame = defects(decisions())
    week = frame["decided_at"].dt.strftime("%G-W%V")
    flagged = mask(frame) if callable(mask) else mask
    out = {}
    for label in TRAILING:
        rows = int((flagged & (week == label)).sum())
        if rows:
            out[label] = (rows, int((week == label).sum()))
    return out


def found(issues: tuple[QualityIssue, ...], check: str) -> dict[str, tuple[int, int | None]]:
    return {i.period: (i.rows, i.period_rows) for i in issues if i.check == check}


@pytest.fixture(scope="module")
def duckdb_issues(tmp_path_factory: pytest.TempPathFactory) -> tuple[QualityIssue, ...]:
    return gate(defect_project(tmp_path_factory.mktemp("dq-defaults")))


# -- what is counted ----------------------------------------------------------------------------


def test_null_in_a_breakdown_dimension_is_a_warning_counted_per_period(duckdb_issues):
    nulls = found(duckdb_issues, "null_action")
    assert nulls == expected(lambda f: f["action"].isna())
    assert len(nulls) == len(TRAILING)  # every shown period, each with its own count
    assert {i.severity for i in duckdb_issues if i.check == "null_action"} == {"warning"}


def test_null_counts_only_where_there_are_nulls(duckdb_issues):
    assert found(duckdb_issues, "null_language") == expected(lambda f: f["language"].isna())
    assert set(found(duckdb_issues, "null_language")) == {"2026-W44", BUILT}


def test_a_negative_summed_value_is_a_warning_counted_per_period(duckdb_issues):
    negatives = found(duckdb_issues, "negative_handle_seconds")
    assert negatives == expected(lambda f: f["handle_seconds"] < 0)
    (issue,) = [
        i for i in duckdb_issues if i.check == "negative_handle_seconds" and i.period == BUILT
    ]
    assert issue.severity == "warning"
    assert issue.description == "handle_seconds is negative (measure handle_seconds sums it)"


def test_the_count_line_gives_rows_and_share_of_the_period(duckdb_issues):
    rows, total = expected(lambda f: f["action"].isna())[BUILT]
    (issue,) = [i for i in duckdb_issues if i.check == "null_action" and i.period == BUILT]
    share = f"{rows / total * 100:.1f}"
    assert issue.count_line(BUILT) == f"this week: {rows} rows, {share}\u00a0%"
    older = [i for i in duckdb_issues if i.check == "null_action" and i.period == "2026-W46"]
    rows46, total46 = expected(lambda f: f["action"].isna())["2026-W46"]
    assert (
        older[0].count_line(BUILT)
        == f"2026-W46: {rows46} rows, {rows46 / total46 * 100:.1f}\u00a0%"
    )


def test_the_summary_lists_the_built_period_first_then_sums_the_oldest():
    def issue(period: str, rows: int, start: date) -> QualityIssue:
        return QualityIssue(
            "f", "null_x", "warning", "x is NULL", rows, period, start=start, period_rows=1000
        )

    weeks = [
        issue(f"2026-W4{k}", k, date(2026, 10, 12) + timedelta(weeks=k - 2)) for k in range(2, 8)
    ]
    assert count_summary(weeks, "2026-W47") == (
        "this week: 7 rows, 0.7\u00a0%; 2026-W46: 6 rows, 0.6\u00a0%; 2026-W45: 5 rows, "
        "0.5\u00a0%; 2026-W44: 4 rows, 0.4\u00a0%; 2 earlier weeks: 5 rows, 0.2\u00a0%"
    )


# -- example ids: the built period first ------------------------------------------------------------


def test_examples_come_from_the_built_period_first(duckdb_issues):
    """18 failing (check, period) pairs and 12 example look-ups: the newest periods get them."""
    row_checks = [i for i in duckdb_issues if i.unit == "rows"]
    assert len(row_checks) > MAX_EXAMPLE_QUERIES
    with_examples = [i for i in row_checks if i.examples]
    assert len(with_examples) == MAX_EXAMPLE_QUERIES
    newest_without = max((i.end for i in row_checks if not i.examples), default=None)
    oldest_with = min(i.end for i in with_examples if i.end)
    assert newest_without is not None and newest_without <= oldest_with
    assert all(i.examples for i in row_checks if i.period == BUILT)
    frame = defects(decisions())
    in_week = frame[frame["decided_at"].dt.strftime("%G-W%V") == BUILT]
    (issue,) = [i for i in row_checks if i.check == "null_action" and i.period == BUILT]
    ids = in_week.loc[in_week["action"].isna(), "decision_id"].astype(str).tolist()
    assert list(issue.examples) == ids[:5] and issue.example_of == "decision_id"


# -- where they are reported ------------------------------------------------------------------------


def test_warnings_reach_figures_json_the_section_and_the_build_log(tmp_path):
    report = defect_project(tmp_path)
    result = build_report(report, period=BUILT, formats=["html"], out_dir=tmp_path / "out", now=NOW)
    data = json.loads(result.artifacts["figures"].read_text(encoding="utf-8"))
    rows, total = expected(lambda f: f["action"].isna())[BUILT]
    entry = next(
        q for q in data["data_quality"] if q["check"] == "null_action" and q["period"] == BUILT
    )
    assert (entry["rows"], entry["period_rows"], entry["severity"]) == (rows, total, "warning")
    section = next(s for s in result.document.sections if s.id == "data_quality")
    text = " ".join(section.blocks[0].paragraphs)
    assert f"decisions · null_action — this week: {rows} rows, " in text
    runner = CliRunner()
    done = runner.invoke(
        app, ["build", str(report), "--period", BUILT, "--format", "html", "--out", str(tmp_path)]
    )
    assert done.exit_code == 0, done.output
    log = re.sub(r"[ \n]+", " ", done.stderr)
    assert (
        "data-quality warning: decisions.null_action — action is NULL (counted in totals, " in log
    )
    assert f"this week: {rows} rows, {rows / total * 100:.1f}\u00a0%" in log


# -- turning them off, and checks the catalog already writes ------------------------------------------


def test_each_default_can_be_turned_off(tmp_path):
    severity = "      severity: {null_dimensions: off, negative_values: off}\n"
    report = defect_project(tmp_path)
    edit_catalog(report, "      partial_days: {below: 0.5, weeks: 4}\n", severity)
    checks = {i.check for i in gate(report)}
    assert not {"null_action", "null_language", "negative_handle_seconds"} & checks
    from reportgen.build import explain

    sql = "\n".join(text for _title, text in explain(report, BUILT))
    assert "check__negative_handle_seconds" not in sql  # off: not even counted


def test_signed_columns_have_no_negative_check(tmp_path):
    report = defect_project(tmp_path)
    edit_catalog(
        report, "      partial_days: {below: 0.5, weeks: 4}\n", "      signed: [handle_seconds]\n"
    )
    assert "negative_handle_seconds" not in {i.check for i in gate(report)}


def test_a_catalog_check_on_the_same_condition_replaces_the_default(tmp_path):
    """The demo catalog checks `region IS NULL` and `handle_seconds < 0` itself: no second row."""
    report = project(tmp_path, defects)
    edit_catalog(
        report,
        "        severity: error\n        description: negative handle time",
        "        severity: warning\n        description: negative handle time",
    )
    text = report.read_text(encoding="utf-8").replace(
        "breakdowns: [region]", "breakdowns: [action]"
    )
    report.write_text(text, encoding="utf-8")
    checks = {i.check for i in gate(report)}
    assert "negative_handle_time" in checks and "negative_handle_seconds" not in checks
    assert "null_action" in checks and "null_region" not in checks


def test_a_duplicate_key_as_warning_has_its_count_and_share(tmp_path):
    def twice(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([frame, frame[frame["decision_id"].between(2601, 2604)]])

    report = project(tmp_path, twice, "")
    edit_catalog(
        report,
        "      partial_days: {below: 0.5, weeks: 4}\n",
        "      severity: {duplicate_keys: warning}\n",
    )
    (issue,) = [i for i in gate(report) if i.check == "duplicate_keys"]
    frame = twice(decisions())
    week = frame[frame["decided_at"].dt.strftime("%G-W%V") == BUILT]
    assert (issue.rows, issue.period_rows) == (int(week.duplicated("decision_id").sum()), len(week))
    assert issue.examples == ("2601", "2602", "2603", "2604")


# -- the same on PostgreSQL ----------------------------------------------------------------------------


def test_postgres_counts_the_same_defects(pg_url, tmp_path, duckdb_issues):
    report = defect_project(tmp_path)
    data = tmp_path / "data"
    facts = ("decisions", "staffing", "views", "queue_snapshots")
    _servers.load_parquet_into_postgres(
        pg_url, "dq_defaults", {f: str(data / f"{f}.parquet") for f in facts}, data
    )
    (tmp_path / "configs" / "sources.yaml").write_text(
        f"engine: sqlalchemy\nurl: {pg_url}\nfacts:\n"
        + "".join(f"  {f}: {{table: dq_defaults.{f}}}\n" for f in facts),
        encoding="utf-8",
    )
    try:
        on_postgres = gate(report)
    finally:
        _servers.drop_schema(pg_url, "dq_defaults")
    for check in ("null_action", "null_language", "negative_handle_seconds"):
        assert found(on_postgres, check) == found(duckdb_issues, check), check
    assert found(on_postgres, "null_action") == expected(lambda f: f["action"].isna())
    built = [(i.check, i.examples) for i in on_postgres if i.period == BUILT]
    assert built == [(i.check, i.examples) for i in duckdb_issues if i.period == BUILT]
