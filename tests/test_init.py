"""`reportgen init` on data it has never seen: the generated configs build as written, correctly.

Each source holds the same ticket export with foreign column names (tests/_own_data.py) in a
different form — CSV with UTC offsets, Parquet, a DuckDB file, a PostgreSQL table — plus a
staffing CSV added with ``--add``. The built figures are checked against pandas on the raw rows,
with days cut in the report's time zone.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reportgen import build_report
from reportgen.cli import app
from reportgen.config import load_report
from reportgen.errors import ConfigError, SourceError
from reportgen.project.data_check import check_data
from reportgen.project.scaffold import init_project

from . import _own_data

WEEK = ("2026-W47", "2026-11-16", "2026-11-22")
QUANTILES = {"time_to_action_p50", "time_to_action_p90"}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The raw rows and the same rows as CSV (with offsets), Parquet, a DuckDB file; staffing CSV."""
    work = tmp_path_factory.mktemp("own-data")
    frame, staff = _own_data.tickets(), _own_data.staffing()
    parquet = work / "tickets.parquet"
    frame.to_parquet(parquet, index=False)
    database = work / "ops.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("SET TimeZone = 'UTC'")
        # naive UTC timestamps, as many warehouses store them
        con.execute(
            "CREATE TABLE tickets AS SELECT * REPLACE (created_utc::TIMESTAMP AS created_utc, "
            f"resolved_utc::TIMESTAMP AS resolved_utc) FROM read_parquet('{parquet}')"
        )
    staff_csv = work / "staffing.csv"
    staff.to_csv(staff_csv, index=False)
    return {
        "frame": frame,
        "staff": staff,
        "csv": _own_data.write_csv_with_offsets(frame, work / "tickets.csv"),
        "parquet": parquet,
        "duckdb": database,
        "staffing": staff_csv,
    }


def _init_and_build(source: str, tmp_path: Path, staffing: Path, zone: str, **kw) -> dict:
    configs = tmp_path / "configs"
    init_project(source, out_dir=configs, timezone=zone, **kw)
    init_project(str(staffing), out_dir=configs, add=True)
    assert check_data(load_report(configs / "reports" / "weekly.yaml")) == []  # validate --data
    result = build_report(
        configs / "reports" / "weekly.yaml",
        period=WEEK[0],
        formats=["html"],
        out_dir=tmp_path / "out",
    )
    return json.loads(Path(result.artifacts["figures"]).read_text())


def _check(figures: dict, raw: dict, zone: str) -> None:
    want = _own_data.expected_figures(raw["frame"], raw["staff"], zone, WEEK[1], WEEK[2])
    got = {name: m["value"] for name, m in figures["metrics"].items()}
    assert set(want) <= set(got)
    for name, value in want.items():
        tolerance = 0.01 if name in QUANTILES else 1e-9  # sketches are within 1 % by design
        assert got[name] == pytest.approx(value, rel=tolerance), name


def _check_breakdown(figures: dict, raw: dict, zone: str) -> None:
    frame = raw["frame"]
    resolved = frame.resolved_utc.dt.tz_convert(zone)
    lo, hi = pd_week(zone)
    counts = frame[(resolved >= lo) & (resolved < hi)].groupby("market").size()
    shown = {
        row["segment"]: row["value"]
        for row in figures["metrics"]["tickets"]["breakdowns"]["market"]
    }
    assert shown == {k: float(v) for k, v in counts.items()}


def pd_week(zone: str):
    import pandas as pd

    return pd.Timestamp(WEEK[1], tz=zone), pd.Timestamp(WEEK[2], tz=zone) + pd.Timedelta(days=1)


def test_csv_with_utc_offsets_builds_with_correct_figures_in_the_report_zone(raw, tmp_path):
    figures = _init_and_build(str(raw["csv"]), tmp_path, raw["staffing"], "Europe/Berlin")
    _check(figures, raw, "Europe/Berlin")
    _check_breakdown(figures, raw, "Europe/Berlin")


def test_parquet_builds_with_correct_figures(raw, tmp_path):
    figures = _init_and_build(str(raw["parquet"]), tmp_path, raw["staffing"], "America/New_York")
    _check(figures, raw, "America/New_York")


def test_duckdb_file_with_naive_utc_timestamps_builds_with_correct_figures(raw, tmp_path):
    figures = _init_and_build(str(raw["duckdb"]), tmp_path, raw["staffing"], "UTC")
    _check(figures, raw, "UTC")
    sources = (tmp_path / "configs" / "sources.yaml").read_text()
    assert "database:" in sources and 'table: "tickets"' in sources


def test_postgres_table_builds_with_the_same_figures(raw, pg_url, tmp_path):
    from . import _servers

    _servers.load_parquet_into_postgres(
        pg_url, "own_data", {"tickets": str(raw["parquet"])}, tmp_path
    )
    try:
        figures = _init_and_build(
            pg_url, tmp_path, raw["staffing"], "Europe/Berlin", table="own_data.tickets"
        )
    finally:
        _servers.drop_schema(pg_url, "own_data")
    _check(figures, raw, "Europe/Berlin")
    _check_breakdown(figures, raw, "Europe/Berlin")


def test_guesses_map_foreign_columns_to_the_ts_vocabulary(raw, tmp_path):
    init_project(str(raw["csv"]), out_dir=tmp_path)
    init_project(str(raw["staffing"]), out_dir=tmp_path, add=True)
    report = load_report(tmp_path / "reports" / "weekly.yaml")
    catalog = report.catalog
    assert catalog.facts["tickets"].time_column == "resolved_utc"
    assert catalog.facts["tickets"].quality.key == "ticket_id"
    assert catalog.facts["tickets"].dimensions == ["team", "market", "policy_area", "outcome"]
    assert catalog.measures["qa_sampled"].filter == "qa_checked = 1"  # a 0/1 integer
    assert catalog.measures["appeals"].filter == "was_appealed"  # a boolean
    assert catalog.measures["inflow"].time_column == "created_utc"
    metrics = catalog.metrics
    assert (metrics["aht"].type, metrics["aht"].format) == ("mean", "seconds")
    assert metrics["overturn_rate"].numerator == "overturns"
    assert (metrics["throughput"].numerator, metrics["throughput"].denominator) == (
        "tickets",
        "staffed_hours",
    )
    # staffing has no market: throughput is broken down by team only, and the comment says why
    assert dict((c.metric, c.breakdowns) for c in report.metrics)["throughput"] == ["team"]
    assert "staffing has no market" in (tmp_path / "catalog.yaml").read_text()


def test_every_guess_carries_a_comment(raw, tmp_path):
    init_project(str(raw["csv"]), out_dir=tmp_path)
    text = (tmp_path / "catalog.yaml").read_text()
    for line in ("time_column:", "dimensions: [", "key: ticket_id"):
        index = text.index(line)
        context = text[max(0, index - 300) : text.index("\n", index)]
        assert "#" in context, line
    for name in ("qa_sampled", "appeals", "aht", "overturn_rate", "time_to_action_hours"):
        row = next(r for r in text.splitlines() if r.startswith(f"  {name}:"))
        assert "#" in row, name


def test_init_never_overwrites_without_force(raw, tmp_path):
    init_project(str(raw["parquet"]), out_dir=tmp_path)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(catalog.read_text() + "# my edit\n")
    with pytest.raises(ConfigError, match="never overwrites a config without --force"):
        init_project(str(raw["parquet"]), out_dir=tmp_path)
    assert catalog.read_text().endswith("# my edit\n")
    init_project(str(raw["parquet"]), out_dir=tmp_path, force=True)
    assert "# my edit" not in catalog.read_text()


def test_add_keeps_the_users_edits(raw, tmp_path):
    init_project(str(raw["parquet"]), out_dir=tmp_path)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace('label: "Team"', 'label: "Squad"'))
    init_project(str(raw["staffing"]), out_dir=tmp_path, add=True)
    report = load_report(tmp_path / "reports" / "weekly.yaml")
    assert report.catalog.dimensions["team"].label == "Squad"
    assert "staffing" in report.catalog.facts


def test_add_a_targets_file(raw, tmp_path):
    init_project(str(raw["parquet"]), out_dir=tmp_path)
    targets = tmp_path / "targets.csv"
    targets.write_text("metric,valid_from,dimension,segment,target\naht,2026-01-01,,,60\n")
    init_project(str(targets), out_dir=tmp_path, add=True)
    report = load_report(tmp_path / "reports" / "weekly.yaml")
    assert report.sources.targets is not None and report.sources.targets.path == "targets.csv"


def test_sqlite_is_refused_with_the_reason_and_a_way_out(tmp_path):
    with pytest.raises(SourceError, match=r"SQLite is not supported: .*AT TIME ZONE"):
        init_project("sqlite:///ops.sqlite", out_dir=tmp_path, table="tickets")


def test_cli_init_writes_without_a_terminal_and_says_what_next(raw, tmp_path):
    result = CliRunner().invoke(
        app, ["init", "--from", str(raw["csv"]), "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    assert "3,000 rows, 12 columns" in result.output
    assert "reportgen build" in result.output
    again = CliRunner().invoke(
        app, ["init", "--from", str(raw["csv"]), "--out", str(tmp_path / "c")]
    )
    assert again.exit_code == 2 and "--force" in again.output


def _daily_queue_csv(tmp_path: Path):
    """Daily totals per queue over 12 weeks, 3 % of rows without a queue."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(4)
    rows = []
    for day in pd.date_range("2026-09-07", periods=84):
        for queue in ("spam", "hate", "csam"):
            n = int(rng.integers(200, 400))
            rows.append(
                (
                    day.date(),
                    None if rng.random() < 0.03 else queue,
                    n,
                    round(n * rng.uniform(30, 60), 1),
                    int(n * rng.uniform(0.8, 0.95)),
                )
            )
    frame = pd.DataFrame(
        rows, columns=["day", "queue", "items_closed", "handle_seconds_total", "within_sla"]
    )
    frame.to_csv(tmp_path / "daily_queue.csv", index=False)
    return frame


def test_daily_totals_get_ratios_to_their_volume_not_means_of_rows(tmp_path):
    import pandas as pd

    frame = _daily_queue_csv(tmp_path)
    init_project(str(tmp_path / "daily_queue.csv"), out_dir=tmp_path / "configs")
    result = build_report(
        tmp_path / "configs" / "reports" / "weekly.yaml",
        period=WEEK[0],
        formats=["html"],
        out_dir=tmp_path / "out",
    )
    figures = json.loads(Path(result.artifacts["figures"]).read_text())
    week = frame[pd.to_datetime(frame.day).between(WEEK[1], WEEK[2])]
    got = {name: m["value"] for name, m in figures["metrics"].items()}
    assert set(got) == {"items_closed", "aht", "sla_attainment"}  # no count of summary rows
    assert got["items_closed"] == week.items_closed.sum()
    assert got["aht"] == pytest.approx(week.handle_seconds_total.sum() / week.items_closed.sum())
    assert got["sla_attainment"] == pytest.approx(week.within_sla.sum() / week.items_closed.sum())
    # NULL in a breakdown dimension is a warning with its count per period
    missing = {
        q["period"]: q["rows"] for q in figures["data_quality"] if q["check"] == "null_queue"
    }
    nulls = frame[frame.queue.isna()]
    weeks = pd.to_datetime(nulls.day).dt.strftime("%G-W%V").value_counts()
    assert missing and all(missing[p] == weeks[p] for p in missing)


def test_init_leaves_the_default_checks_to_the_gate_and_says_what_it_found(tmp_path):
    _daily_queue_csv(tmp_path)
    init_project(str(tmp_path / "daily_queue.csv"), out_dir=tmp_path / "configs")
    catalog = (tmp_path / "configs" / "catalog.yaml").read_text()
    assert "name: missing_" not in catalog and "name: negative_" not in catalog
    assert "#   NULL in a breakdown dimension; the profile found NULLs: queue" in catalog


def test_a_literal_password_is_never_written(tmp_path):
    from reportgen.project.scaffold import _url_without_secret

    url, variable = _url_without_secret("postgresql+psycopg://ops:s3cret@db:5432/ops")
    assert url == "postgresql+psycopg://ops:${REPORTGEN_DB_PASSWORD}@db:5432/ops"
    assert variable == "REPORTGEN_DB_PASSWORD"
    assert _url_without_secret("postgresql+psycopg://ops:${PGPASSWORD}@db/ops")[1] is None
