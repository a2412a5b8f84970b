"""The data-quality gate: one generated dataset per defect, and the exact message it produces.

Each test writes a small, clean, deterministic project (40 decisions a day,
ten weeks, one staffing row per site and day) into ``tmp_path``, plants one
defect, and asserts the gate's verdict: the exact error text (counts and
example ids) for error-level checks, the warning row for warning-level ones.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from reportgen.build import build_report, gated_cube
from reportgen.config.loader import load_report
from reportgen.data.quality import QualityIssue, condition_columns, type_family
from reportgen.errors import DataQualityError

from . import _servers

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 9, 14)  # a Monday; ten weeks and three days to NOW
PER_DAY = 40
SITES = ("DUB-1", "LIS-1")

REPORT = """\
title: Data-quality test report
catalog: ../catalog.yaml
sources: ../sources.yaml
brand: ../brands/default.yaml
period: {grain: week, timezone: UTC}
metrics: [decisions, aht, utilization]
breakdowns: [region]
trailing_periods: 6
sections: [summary, metrics, definitions]
outputs: [pdf]
"""

Mutation = Callable[[pd.DataFrame], pd.DataFrame]


def decisions(days: int = 72) -> pd.DataFrame:
    """PER_DAY decisions a day, ids 1…n in time order, every check satisfied."""
    rng = np.random.default_rng(3)
    n = days * PER_DAY
    day = np.repeat(np.arange(days), PER_DAY)
    second = np.tile(np.linspace(3600, 20 * 3600, PER_DAY).astype(int), days)
    decided = pd.Timestamp(FIRST_DAY, tz="UTC") + pd.to_timedelta(day * 86400 + second, unit="s")
    frame = pd.DataFrame(
        {
            "decision_id": np.arange(1, n + 1, dtype=np.int64),
            "enqueued_at": decided - pd.Timedelta(minutes=30),
            "decided_at": decided,
            "region": rng.choice(["Europe", "Africa"], n),
            "site": rng.choice(SITES, n),
            "team": "T1",
            "queue": rng.choice(["Spam", "Hate Speech"], n),
            "policy": "spam",
            "language": "en",
            "moderator_id": rng.choice(["m1", "m2", "m3"], n),
            "action": rng.choice(["remove", "no_action"], n),
            "automated": rng.random(n) < 0.3,
            "detection": "proactive",
            "handle_seconds": rng.gamma(2.0, 30.0, n),
            "views_before_action": rng.integers(0, 3, n),
            "sla_hours": 24.0,
            "qa_sampled": False,
            "qa_correct": False,
            "appealed": False,
            "overturned": False,
        }
    )
    for column in ("enqueued_at", "decided_at"):
        frame[column] = frame[column].astype("datetime64[us, UTC]")
    return frame


def staffing(days: int = 72) -> pd.DataFrame:
    dates = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    frame = pd.DataFrame(
        [(d, "Europe", s, "T1", "m1", 8.0, 6.5, 0.5, 1.0) for d in dates for s in SITES],
        columns=[
            "day",
            "region",
            "site",
            "team",
            "moderator_id",
            "paid_hours",
            "productive_hours",
            "wellness_hours",
            "high_severity_hours",
        ],
    )
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def project(root: Path, mutate: Mutation | None = None, catalog_edit: str = "") -> Path:
    """A project whose decisions carry one defect; returns the report config's path."""
    configs = root / "configs"
    (configs / "reports").mkdir(parents=True)
    shutil.copytree(ROOT / "configs" / "brands", configs / "brands")
    shutil.copytree(ROOT / "templates", root / "templates")
    catalog = (ROOT / "configs" / "catalog.yaml").read_text(encoding="utf-8")
    (configs / "catalog.yaml").write_text(catalog + catalog_edit, encoding="utf-8")
    data = root / "data"
    data.mkdir()
    frame = decisions()
    (mutate or (lambda f: f))(frame).to_parquet(data / "decisions.parquet", index=False)
    staffing().to_parquet(data / "staffing.parquet", index=False)
    staffing().rename(columns={"paid_hours": "content_views"}).assign(
        content_views=100, violative_views=1, policy="spam"
    )[["day", "region", "policy", "content_views", "violative_views"]].to_parquet(
        data / "views.parquet", index=False
    )
    staffing().assign(queue="Spam", policy="spam", pending_items=5)[
        ["day", "region", "site", "queue", "policy", "pending_items"]
    ].to_parquet(data / "queue_snapshots.parquet", index=False)
    (configs / "sources.yaml").write_text(
        "facts:\n"
        f"  decisions: {{path: {data}/decisions.parquet}}\n"
        f"  staffing: {{path: {data}/staffing.parquet}}\n"
        f"  views: {{path: {data}/views.parquet}}\n"
        f"  queue_snapshots: {{path: {data}/queue_snapshots.parquet}}\n",
        encoding="utf-8",
    )
    report = configs / "reports" / "dq.yaml"
    report.write_text(REPORT, encoding="utf-8")
    return report


def edit_catalog(report_path: Path, old: str, new: str) -> None:
    """Replace text in the project's catalog; the text must be there (no silent no-op)."""
    catalog = report_path.parent.parent / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert old in text, old
    catalog.write_text(text.replace(old, new), encoding="utf-8")


def gate(report_path: Path, period: str = "2026-W47") -> tuple[QualityIssue, ...]:
    report = load_report(report_path)
    return gated_cube(report, period, False, NOW, lambda _m: None).quality


def gate_error(report_path: Path) -> str:
    with pytest.raises(DataQualityError) as info:
        gate(report_path)
    return str(info.value)


def in_week(frame: pd.DataFrame, day: date) -> np.ndarray:
    return (frame["decided_at"].dt.date == day).to_numpy()


FIX = (
    "Fix: correct the source data; if a rule is wrong, change it or its severity "
    "(facts.decisions.checks or facts.decisions.quality.severity in the catalog: "
    "error | warning | off). The report is not built so that no wrong number is shown."
)


def gate_message(*lines: str) -> str:
    return f"data-quality gate failed for fact 'decisions': {'; '.join(lines)}. {FIX}"


# -- the clean dataset passes ---------------------------------------------------------------------


def test_clean_data_passes_every_check(tmp_path):
    assert gate(project(tmp_path)) == ()


# -- 1. required columns and types ------------------------------------------------------------------


def test_missing_column_names_fact_source_column_and_fix(tmp_path):
    path = project(tmp_path, lambda f: f.drop(columns=["handle_seconds"]))
    data = tmp_path / "data" / "decisions.parquet"
    assert gate_error(path) == (
        "the source does not have the columns the catalog needs — fact 'decisions' "
        f"(path {data}): column 'handle_seconds' is missing (measure handle_seconds sums it). "
        "Fix: rename or cast the column in the source (or a view over it), or correct the "
        "catalog's facts.decisions entry; if the type is right but not recognised, declare it "
        "under facts.decisions.quality.columns."
    )


def test_wrong_types_are_named_with_expected_and_found(tmp_path):
    def retype(frame: pd.DataFrame) -> pd.DataFrame:
        frame["handle_seconds"] = frame["handle_seconds"].round(1).astype(str)
        frame["automated"] = frame["automated"].astype(int)
        frame["decided_at"] = frame["decided_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
        return frame

    message = gate_error(project(tmp_path, retype))
    assert "column 'decided_at' is VARCHAR (text), expected a timestamp (the time column)" in (
        message
    )
    assert (
        "column 'handle_seconds' is VARCHAR (text), expected a number (measure handle_seconds sums it)"
        in (message)
    )
    assert (
        "column 'automated' is BIGINT (number), expected a boolean (measure manual_decisions's filter)"
        in message
    )


def test_schema_type_mismatch_can_be_a_warning(tmp_path):
    """0/1 integers where the catalog expects a boolean: DuckDB still reads them as truth values."""
    edit = "      severity: {schema: warn, partial_days: off}\n"
    path = project(tmp_path, lambda f: f.assign(automated=f["automated"].astype(int)))
    edit_catalog(path, "      partial_days: {below: 0.5, weeks: 4}\n", edit)
    (issue,) = gate(path)
    assert (issue.check, issue.severity, issue.rows, issue.unit) == (
        "schema",
        "warning",
        1,
        "columns",
    )
    assert issue.description.startswith("column 'automated' is BIGINT (number), expected a boolean")


def test_a_warned_type_that_breaks_the_scan_stops_the_build_with_the_schema_message(tmp_path):
    edit = "      severity: {schema: warn, partial_days: off}\n"
    path = project(
        tmp_path, lambda f: f.assign(views_before_action=f["views_before_action"].astype(str))
    )
    edit_catalog(path, "      partial_days: {below: 0.5, weeks: 4}\n", edit)
    edit_catalog(path, "views_before_action = 0", "views_before_action < 1")  # no implicit cast
    config = path.read_text(encoding="utf-8")  # a report that reads the column
    path.write_text(
        config.replace("[decisions, aht, utilization]", "[decisions, removed_before_views]")
    )
    assert gate_error(path).startswith(
        "the cube query failed on a column whose type the schema check had flagged: column "
        "'views_before_action' is VARCHAR (text), expected a number (measure "
        "zero_view_enforcements's filter). Fix: cast the column"
    )


def test_types_are_read_per_dialect():
    assert type_family("TIMESTAMP WITH TIME ZONE", "duckdb") == "timestamp"
    assert type_family("DOUBLE PRECISION", "postgres") == "number"
    assert type_family("timestamp_ntz", "spark") == "timestamp"
    assert type_family("string", "spark") == "text"
    assert type_family("DATE", "postgres") == "date"
    assert type_family("BOOLEAN", "postgres") == "boolean"
    assert dict(condition_columns("qa_correct AND NOT qa_sampled")) == {
        "qa_correct": "boolean",
        "qa_sampled": "boolean",
    }
    assert dict(condition_columns("decided_at <= enqueued_at + sla_hours * INTERVAL '1 hour'")) == {
        "decided_at": "any",
        "enqueued_at": "any",
        "sla_hours": "number",
    }


# -- 2. duplicate ids, 5. example ids ----------------------------------------------------------------


def duplicate_some(frame: pd.DataFrame) -> pd.DataFrame:
    """Decisions 2601…2607 (Wed 18 Nov) delivered twice, one of them three times."""
    copies = frame[frame["decision_id"].between(2601, 2607)]
    return pd.concat([frame, copies, copies.head(1)], ignore_index=True)


def test_duplicate_decision_ids_stop_the_build_with_examples(tmp_path):
    assert gate_error(project(tmp_path, duplicate_some)) == gate_message(
        "decisions.duplicate_keys — decision_id occurs more than once (rows beyond the first): "
        "8 rows in 2026-W47 (e.g. decision_id 2601, 2602, 2603, 2604, 2605)"
    )


# -- 3. nulls in key columns, future and outside-the-period timestamps ------------------------------


def test_null_key_and_required_dimension(tmp_path):
    def nulls(frame: pd.DataFrame) -> pd.DataFrame:
        frame["decision_id"] = frame["decision_id"].astype("Int64")
        frame.loc[in_week(frame, date(2026, 11, 17)), "decision_id"] = pd.NA
        frame.loc[frame["decision_id"].isin([2610, 2611]), "queue"] = None
        return frame

    assert gate_error(project(tmp_path, nulls)) == gate_message(
        "decisions.null_decision_id — decision_id is NULL: 40 rows in 2026-W47 (e.g. day 2026-11-17)",
        "decisions.null_queue — queue is NULL: 2 rows in 2026-W47 (e.g. decision_id 2610, 2611)",
    )


def test_null_time_column(tmp_path):
    def undated(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["decision_id"].isin([7, 8, 9]), "decided_at"] = pd.NaT
        return frame

    assert gate_error(project(tmp_path, undated)) == gate_message(
        "decisions.null_decided_at — decided_at is NULL (the row is in no period): "
        "3 rows (e.g. decision_id 7, 8, 9)"
    )


def test_future_timestamps(tmp_path):
    def future(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame["decision_id"].isin([100, 101])
        frame.loc[rows, "decided_at"] = pd.Timestamp("2027-01-01 09:00", tz="UTC")
        return frame

    assert gate_error(project(tmp_path, future)) == gate_message(
        "decisions.future_timestamps — decided_at dated after today (2026-11-25): "
        "2 rows (e.g. decision_id 100, 101)"
    )


def test_future_timestamps_as_warning_are_dropped_from_the_figures(tmp_path):
    def future(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["decision_id"] == 100, "decided_at"] = pd.Timestamp(
            "2027-01-01 09:00", tz="UTC"
        )
        return frame

    path = project(tmp_path, future)
    edit_catalog(
        path,
        "      partial_days: {below: 0.5, weeks: 4}\n",
        "      severity: {future_timestamps: warn}\n",
    )
    report = load_report(path)
    gated = gated_cube(report, None, False, NOW, lambda _m: None)
    assert gated.period.label == "2026-W47"  # not a week in 2027
    (issue,) = gated.quality
    assert issue.line() == (
        "decisions.future_timestamps — decided_at dated after today (2026-11-25): "
        "1 row (e.g. decision_id 100)"
    )


def test_sentinel_dates_outside_the_period(tmp_path):
    def epoch(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["decision_id"] == 42, "decided_at"] = pd.Timestamp("1970-01-01", tz="UTC")
        return frame

    assert gate_error(project(tmp_path, epoch)) == gate_message(
        "decisions.outside_period — decided_at dated before 2000-01-01 (not_before): "
        "1 row (e.g. decision_id 42)"
    )


# -- negative or absurd handle times (catalog checks) ------------------------------------------------


def test_negative_and_absurd_handle_times(tmp_path):
    def handle(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["decision_id"].isin([2610, 2611]), "handle_seconds"] = -5.0
        frame.loc[frame["decision_id"] == 2612, "handle_seconds"] = 86_400.0
        return frame

    assert gate_error(project(tmp_path, handle)) == gate_message(
        "decisions.negative_handle_time — negative handle time: 2 rows in 2026-W47 "
        "(e.g. decision_id 2610, 2611)",
        "decisions.absurd_handle_time — handle time over 4 hours (a timer left running): "
        "1 row in 2026-W47 (e.g. decision_id 2612)",
    )


# -- 4. partial and missing days -------------------------------------------------------------------


def partial_wednesday(frame: pd.DataFrame) -> pd.DataFrame:
    """Wed 18 Nov keeps 10 of its 40 rows; Fri 20 Nov is missing entirely."""
    wednesday = np.flatnonzero(in_week(frame, date(2026, 11, 18)))[10:]
    friday = np.flatnonzero(in_week(frame, date(2026, 11, 20)))
    return frame.drop(index=[*wednesday, *friday]).reset_index(drop=True)


def test_partial_and_missing_days_are_a_warning(tmp_path):
    (issue,) = gate(project(tmp_path, partial_wednesday))
    assert (issue.fact, issue.check, issue.severity, issue.rows, issue.unit, issue.period) == (
        "decisions",
        "partial_days",
        "warning",
        2,
        "days",
        "2026-W47",
    )
    assert issue.description == (
        "days below 50% of their weekday norm (median of the previous 4 same weekdays) or missing"
    )
    assert issue.examples == ("Wed 18 Nov: 10 rows vs norm 40", "Fri 20 Nov: missing vs norm 40")


def test_partial_days_threshold_and_severity_come_from_the_catalog(tmp_path):
    path = project(tmp_path, partial_wednesday)
    edit_catalog(
        path,
        "      partial_days: {below: 0.5, weeks: 4}\n",
        "      partial_days: {below: 0.2, weeks: 3}\n      severity: {partial_days: error}\n",
    )
    assert gate_error(path) == gate_message(
        "decisions.partial_days — days below 20% of their weekday norm (median of the previous "
        "3 same weekdays) or missing: 1 day in 2026-W47 (e.g. day Fri 20 Nov: missing vs norm 40)"
    )


# -- 6. a warning reaches the report and figures.json ---------------------------------------------


def pdf_text(path: Path) -> str:
    """The PDF's text in reading order (a leadership page 1 has two columns: stories, tiles)."""
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    return done.stdout


def test_warnings_become_a_data_quality_section_and_figures_entry(tmp_path):
    result = build_report(
        project(tmp_path, partial_wednesday),
        period="2026-W47",
        formats=["pdf", "html", "xlsx"],
        out_dir=tmp_path / "out",
        now=NOW,
    )
    data = json.loads(result.artifacts["figures"].read_text(encoding="utf-8"))
    about = {row[0].value: row[1].value for row in load_workbook(result.artifacts["xlsx"])["About"]}
    assert about["Data quality 1"] == (
        "decisions · partial_days (warning): days below 50% of their weekday norm (median of the "
        "previous 4 same weekdays) or missing (2 days, 2026-W47; e.g. day Wed 18 Nov: 10 rows vs "
        "norm 40, Fri 20 Nov: missing vs norm 40)"
    )
    assert data["data_quality"] == [
        {
            "fact": "decisions",
            "check": "partial_days",
            "severity": "warning",
            "description": "days below 50% of their weekday norm (median of the previous 4 "
            "same weekdays) or missing",
            "rows": 2,
            "period": "2026-W47",
            "unit": "days",
            "examples": ["Wed 18 Nov: 10 rows vs norm 40", "Fri 20 Nov: missing vs norm 40"],
            "example_of": "day",
            "start": "2026-11-16",
            "end": "2026-11-22",
            "period_rows": None,
        }
    ]
    text = re.sub(r"\s+", " ", pdf_text(result.artifacts["pdf"]))
    assert "Data quality" in text
    assert "Data-quality warnings" in text
    assert "decisions · partial_days" in text
    assert "Wed 18 Nov: 10 rows vs norm 40;" in text  # the cell wraps after this
    assert "days below 50% of their weekday norm" in text
    # the brief's data-confidence line
    assert (
        "1 data-quality check raised a warning (partial_days): see the Data quality section" in text
    )
    html = result.artifacts["html"].read_text(encoding="utf-8")
    assert "Data-quality warnings" in html


def test_an_error_writes_no_artifact(tmp_path):
    with pytest.raises(DataQualityError):
        build_report(
            project(tmp_path, duplicate_some),
            period="2026-W47",
            formats=["pdf"],
            out_dir=tmp_path / "out",
            now=NOW,
        )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.*"))


# -- 8. the same queries on PostgreSQL ------------------------------------------------------------
# (`pg_url`: the run's PostgreSQL server from conftest; a second private server here overwrote
# and then removed its password variable, breaking later PostgreSQL tests on the same worker)


def on_postgres(url: str, path: Path, schema: str) -> Path:
    """The project's facts copied into PostgreSQL tables; its sources pointed at them."""
    data = path.parent.parent.parent / "data"
    facts = ("decisions", "staffing", "views", "queue_snapshots")
    tables = {f: str(data / f"{f}.parquet") for f in facts}
    _servers.load_parquet_into_postgres(url, schema, tables, data)
    (path.parent.parent / "sources.yaml").write_text(
        f"engine: sqlalchemy\nurl: {url}\nfacts:\n"
        + "".join(f"  {f}: {{table: {schema}.{f}}}\n" for f in tables),
        encoding="utf-8",
    )
    return path


def test_postgres_duplicates_and_examples(pg_url, tmp_path):
    path = on_postgres(pg_url, project(tmp_path, duplicate_some), "dq_dup")
    try:
        assert gate_error(path) == gate_message(
            "decisions.duplicate_keys — decision_id occurs more than once (rows beyond the "
            "first): 8 rows in 2026-W47 (e.g. decision_id 2601, 2602, 2603, 2604, 2605)"
        )
    finally:
        _servers.drop_schema(pg_url, "dq_dup")


def test_postgres_schema_and_row_checks(pg_url, tmp_path):
    def defects(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["decision_id"].isin([2610, 2611]), "handle_seconds"] = -5.0
        return frame

    path = on_postgres(pg_url, project(tmp_path, defects), "dq_rows")
    try:
        assert gate_error(path) == gate_message(
            "decisions.negative_handle_time — negative handle time: 2 rows in 2026-W47 "
            "(e.g. decision_id 2610, 2611)"
        )
        import psycopg

        from reportgen.data.engines import expand_env

        dsn = expand_env(pg_url, what="url").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("ALTER TABLE dq_rows.decisions DROP COLUMN handle_seconds")
            pg.execute(
                "ALTER TABLE dq_rows.decisions ALTER COLUMN appealed TYPE text USING appealed::text"
            )
        message = gate_error(path)
        assert message.startswith(
            "the source does not have the columns the catalog needs — fact 'decisions' "
            "(table dq_rows.decisions): column 'handle_seconds' is missing (measure "
            "handle_seconds sums it); column 'appealed' is TEXT (text), expected a boolean "
            "(check overturned_without_appeal)"
        ), message
    finally:
        _servers.drop_schema(pg_url, "dq_rows")


# -- … and on Spark SQL (local mode) ----------------------------------------------------------------


@pytest.fixture(scope="module")
def spark(spark_session) -> None:
    """Spark in local mode: the run's session, which stays up for the modules after this one."""


def on_spark(path: Path) -> Path:
    sources = path.parent.parent / "sources.yaml"
    sources.write_text("engine: spark\nurl: local[2]\n" + sources.read_text(), encoding="utf-8")
    return path


def test_spark_schema_duplicates_and_examples(spark, tmp_path):
    path = on_spark(project(tmp_path / "dup", duplicate_some))
    assert gate_error(path) == gate_message(
        "decisions.duplicate_keys — decision_id occurs more than once (rows beyond the "
        "first): 8 rows in 2026-W47 (e.g. decision_id 2601, 2602, 2603, 2604, 2605)"
    )
    path = on_spark(
        project(tmp_path / "types", lambda f: f.assign(appealed=f["appealed"].astype(int)))
    )
    assert "column 'appealed' is bigint (number), expected a boolean" in gate_error(path)


# -- configuration errors ------------------------------------------------------------------------


def catalog_with(tmp_path: Path, old: str, new: str) -> Path:
    path = project(tmp_path)
    edit_catalog(path, old, new)
    return path


def test_unknown_builtin_check_in_severity_is_a_config_error(tmp_path):
    from reportgen.errors import ConfigError

    path = catalog_with(
        tmp_path,
        "      partial_days: {below",
        "      severity: {duplicates: warn}\n      partial_days: {below",
    )
    with pytest.raises(
        ConfigError, match="unknown built-in check\\(s\\) duplicates; known: schema"
    ):
        load_report(path)


def test_required_must_be_a_dimension_of_the_fact(tmp_path):
    from reportgen.errors import ConfigError

    path = catalog_with(tmp_path, "required: [site, queue]", "required: [site, queues]")
    with pytest.raises(ConfigError) as info:
        load_report(path)
    assert (
        "fact 'decisions' requires 'queues', which is not one of its dimensions — did you mean 'queue'?"
        in str(info.value)
    )


def test_duplicates_in_earlier_periods_only_with_duplicates_in_trailing(tmp_path):
    def earlier(frame: pd.DataFrame) -> pd.DataFrame:  # decision 2401 is on Fri 13 Nov (W46)
        return pd.concat([frame, frame[frame["decision_id"] == 2401]], ignore_index=True)

    assert gate(project(tmp_path / "period", earlier)) == ()
    path = catalog_with(
        tmp_path / "trailing",
        "      partial_days: {below",
        "      duplicates_in: trailing\n      partial_days: {below",
    )
    data = tmp_path / "trailing" / "data" / "decisions.parquet"
    earlier(pd.read_parquet(data)).to_parquet(data, index=False)
    assert gate_error(path) == gate_message(
        "decisions.duplicate_keys — decision_id occurs more than once (rows beyond the first): "
        "1 row in 2026-W46 (e.g. decision_id 2401)"
    )


def test_the_demo_build_is_clean(built_report):
    """The shipped demo data plants no data-quality defect: no warning, no section."""
    assert built_report.figures.quality == ()
    assert "data_quality" not in [s.id for s in built_report.document.sections]


def test_the_section_groups_a_check_over_periods():
    from types import SimpleNamespace

    from reportgen.compose._core import data_quality_section

    def issue(period: str, rows: int, examples: tuple[str, ...]) -> QualityIssue:
        return QualityIssue(
            "decisions",
            "missing_region",
            "warning",
            "no region",
            rows,
            period,
            examples=examples,
            example_of="decision_id",
        )

    figures = SimpleNamespace(
        quality=(
            issue("2026-W45", 3, ("1", "2")),
            issue("2026-W46", 2, ("3",)),
            issue("2026-W47", 1, ("4",)),
        ),
        period=SimpleNamespace(label="2026-W47", grain="week"),
    )
    section = data_quality_section(figures)  # type: ignore[arg-type]
    assert section is not None and section.title == "Data quality"
    table = section.blocks[1]
    assert [c.text for c in table.rows[0]] == [
        "decisions · missing_region",
        "no region",
        "6 rows",
        "2026-W45 … W47",
        "4; 3; 1; 2",
    ]
    assert data_quality_section(SimpleNamespace(quality=())) is None  # type: ignore[arg-type]


def test_a_row_filtered_audience_sees_only_checks_on_its_own_rows(tmp_path):
    """Whole-source results (probe, example ids) never reach a deck restricted to some rows."""
    from reportgen.build import build_audiences

    def defects(frame: pd.DataFrame) -> pd.DataFrame:
        frame = duplicate_some(frame)
        frame.loc[frame["decision_id"] == 2620, "handle_seconds"] = 86_400.0
        frame.loc[frame["decision_id"] == 2620, "region"] = "Europe"
        return frame

    path = project(tmp_path, defects)
    edit_catalog(
        path,
        "      partial_days: {below",
        "      severity: {duplicate_keys: warn}\n      partial_days: {below",
    )
    edit_catalog(
        path,
        "        when: handle_seconds > 4 * 3600\n        severity: error",
        "        when: handle_seconds > 4 * 3600\n        severity: warning",
    )
    path.write_text(
        REPORT
        + "audiences:\n  - name: everyone\n  - name: one-region\n    filter: {region: Europe}\n"
    )
    result = build_audiences(
        path, period="2026-W47", formats=["html"], out_dir=tmp_path / "out", workers=1, now=NOW
    )
    assert result.ok, result.failures
    everyone = {q.check: q for q in result.results["everyone"].figures.quality}
    restricted = {q.check: q for q in result.results["one-region"].figures.quality}
    assert set(everyone) == {"duplicate_keys", "absurd_handle_time"}
    assert everyone["absurd_handle_time"].examples == ("2620",)
    assert set(restricted) == {"absurd_handle_time"}  # counted from its own cube rows
    assert restricted["absurd_handle_time"].examples == ()


def test_a_column_only_other_reports_need_may_be_missing(tmp_path):
    """views_before_action feeds zero_view_enforcements, which this report does not use."""
    path = project(tmp_path, lambda f: f.drop(columns=["views_before_action"]))
    assert gate(path) == ()


def test_a_column_this_report_needs_is_still_required(tmp_path):
    path = project(tmp_path, lambda f: f.drop(columns=["views_before_action"]))
    config = path.read_text(encoding="utf-8")
    path.write_text(
        config.replace("[decisions, aht, utilization]", "[decisions, removed_before_views]")
    )
    assert "column 'views_before_action' is missing" in gate_error(path)
