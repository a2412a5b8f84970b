"""`reportgen validate --data` and the config errors a new user meets first, with their fixes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import load_report
from reportgen.errors import ConfigError
from reportgen.project.data_check import check_data

from . import _own_data

CATALOG = """\
facts:
  tickets:
    time_column: resolved_utc
    dimensions: [team, market]
dimensions:
  team: {label: Team}
  market: {label: Market}
measures:
  tickets: {fact: tickets, agg: count}
  handle_seconds: {fact: tickets, agg: sum, column: seconds_spnt}
  qa_sampled: {fact: tickets, agg: count, filter: qa_checked}
  qa_correct: {fact: tickets, agg: count, filter: qa_checked AND NOT qa_pass = 0}
metrics:
  tickets: {label: Tickets, type: total, measure: tickets, format: count, direction: neutral,
            description: Tickets resolved.}
  handle: {label: Handle seconds, type: total, measure: handle_seconds, format: count,
           direction: neutral, description: Seconds spent.}
  qa_accuracy: {label: QA accuracy, type: proportion, numerator: qa_correct,
                denominator: qa_sampled, format: percent, direction: higher_is_better,
                description: QA pass rate.}
"""
REPORT = "title: T\nmetrics: [tickets, handle, qa_accuracy]\nbreakdowns: [market]\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("validate-data")
    _own_data.write_csv_with_offsets(_own_data.tickets(rows=500), root / "tickets.csv")
    (root / "reports").mkdir()
    (root / "sources.yaml").write_text("facts:\n  tickets: {path: tickets.csv}\n")
    (root / "catalog.yaml").write_text(CATALOG)
    (root / "reports" / "weekly.yaml").write_text(REPORT)
    return root


def _findings(project: Path) -> dict[str, str]:
    return {f.column: str(f) for f in check_data(load_report(project / "reports" / "weekly.yaml"))}


def test_a_misspelt_column_gets_a_did_you_mean_and_the_real_columns(project):
    text = _findings(project)["seconds_spnt"]
    assert "did you mean 'seconds_spent'?" in text
    assert "The source has: ticket_id, created_utc, resolved_utc, team, market" in text
    assert "rename 'seconds_spnt' to 'seconds_spent' in the catalog" in text


def test_a_0_1_integer_used_as_a_flag_gets_the_filter_to_write(project):
    text = _findings(project)["qa_checked"]
    assert "0/1 integer is not a condition by itself" in text
    assert "measures.qa_sampled: filter: qa_checked = 1" in text
    # a comparison already written is left alone
    assert "measures.qa_correct: filter: qa_checked = 1 AND NOT qa_pass = 0" in text


def test_a_timestamp_stored_as_text_is_named_with_the_cast(tmp_path):
    database = tmp_path / "ops.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE tickets (ticket_id INTEGER, resolved_utc VARCHAR, team VARCHAR)")
        con.execute("INSERT INTO tickets VALUES (1, '2026-11-16 08:00:00', 'alpha')")
    (tmp_path / "reports").mkdir()
    (tmp_path / "sources.yaml").write_text(
        "engine: duckdb\ndatabase: ops.duckdb\nfacts:\n  tickets: {table: tickets}\n"
    )
    (tmp_path / "catalog.yaml").write_text(
        "facts:\n  tickets: {time_column: resolved_utc, dimensions: [team]}\n"
        "dimensions:\n  team: {label: Team}\n"
        "measures:\n  tickets: {fact: tickets, agg: count}\n"
        "metrics:\n  tickets: {label: Tickets, type: total, measure: tickets, format: count,"
        " direction: neutral, description: x}\n"
    )
    (tmp_path / "reports" / "weekly.yaml").write_text("title: T\nmetrics: [tickets]\n")
    text = _findings(tmp_path)["resolved_utc"]
    assert "a timestamp stored as text" in text
    assert "CAST(resolved_utc AS TIMESTAMP)" in text and "resolved_utc::timestamptz" in text


def test_validate_data_exits_2_and_a_correct_project_passes(project, tmp_path):
    bad = CliRunner().invoke(app, ["validate", "--data", str(project / "reports" / "weekly.yaml")])
    assert bad.exit_code == 2 and "did you mean 'seconds_spent'?" in bad.output
    good = tmp_path / "good"
    good.mkdir()
    for name in ("sources.yaml", "tickets.csv"):
        (good / name).write_bytes((project / name).read_bytes())
    (good / "catalog.yaml").write_text(
        CATALOG.replace("seconds_spnt", "seconds_spent")
        .replace("filter: qa_checked}", "filter: qa_checked = 1}")
        .replace("filter: qa_checked AND", "filter: qa_checked = 1 AND")
    )
    (good / "reports").mkdir()
    (good / "reports" / "weekly.yaml").write_text(REPORT)
    ok = CliRunner().invoke(app, ["validate", "--data", str(good / "reports" / "weekly.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "columns checked against the data" in ok.output


def test_sqlite_is_refused_at_validate_with_the_reason(project, tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "sources.yaml").write_text(
        "engine: sqlalchemy\nurl: sqlite:///ops.sqlite\nfacts:\n  tickets: {table: tickets}\n"
    )
    (tmp_path / "reports" / "weekly.yaml").write_text(REPORT)
    with pytest.raises(ConfigError, match=r"SQLite is not supported: .*AT TIME ZONE") as caught:
        load_report(tmp_path / "reports" / "weekly.yaml")
    assert "sources.yaml:2:" in str(caught.value)


def test_an_unquoted_comma_in_a_flow_mapping_says_how_to_quote(project, tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "sources.yaml").write_text((project / "sources.yaml").read_text())
    (tmp_path / "catalog.yaml").write_text(
        CATALOG.replace(
            "description: Tickets resolved.}", "description: Tickets resolved, by close}"
        )
    )
    (tmp_path / "reports" / "weekly.yaml").write_text(REPORT)
    with pytest.raises(ConfigError) as caught:
        load_report(tmp_path / "reports" / "weekly.yaml")
    text = str(caught.value)
    assert "an unquoted comma ends a value" in text
    assert 'quote the value: description: "Tickets resolved, by close"' in text


def test_nanosecond_parquet_timestamps_are_named_with_the_fix(tmp_path):
    frame = _own_data.tickets(rows=200)
    # naive nanoseconds, as pandas writes a datetime64[ns] column
    frame["resolved_utc"] = frame.resolved_utc.dt.tz_localize(None).astype("datetime64[ns]")
    frame.to_parquet(tmp_path / "tickets.parquet", index=False)
    (tmp_path / "reports").mkdir()
    (tmp_path / "sources.yaml").write_text("facts:\n  tickets: {path: tickets.parquet}\n")
    (tmp_path / "catalog.yaml").write_text(
        "facts:\n  tickets: {time_column: resolved_utc, dimensions: [team]}\n"
        "dimensions:\n  team: {label: Team}\n"
        "measures:\n  tickets: {fact: tickets, agg: count}\n"
        "metrics:\n  tickets: {label: Tickets, type: total, measure: tickets, format: count,"
        " direction: neutral, description: x}\n"
    )
    (tmp_path / "reports" / "weekly.yaml").write_text("title: T\nmetrics: [tickets]\n")
    text = _findings(tmp_path)["resolved_utc"]
    assert "TIMESTAMP_NS" in text and "coerce_timestamps='us'" in text
