"""`reportgen init --add` with a table on another engine than the project's first source.

A ticket CSV plus staffing in PostgreSQL works: the project switches to the server and keeps
reading the CSV from its path; the figures (throughput combines both) are checked against pandas
on the raw rows. Where the two cannot be combined, init refuses before writing anything and names
the export command that makes the table a file.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from reportgen import build_report
from reportgen.config import load_report
from reportgen.errors import ConfigError
from reportgen.project.data_check import check_data
from reportgen.project.scaffold import init_project

from . import _own_data, _servers

WEEK = ("2026-W47", "2026-11-16", "2026-11-22")
ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("mixed")
    frame, staff = _own_data.tickets(), _own_data.staffing()
    staff_parquet = work / "staffing.parquet"
    staff.to_parquet(staff_parquet, index=False)
    database = work / "ops.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE staffing AS SELECT * FROM read_parquet('{staff_parquet}')")
    return {
        "frame": frame,
        "staff": staff,
        "csv": _own_data.write_csv_with_offsets(frame, work / "tickets.csv"),
        "staffing_parquet": staff_parquet,
        "other_duckdb": database,
    }


@pytest.fixture(scope="module")
def staffing_on_postgres(pg_url: str, files: dict, tmp_path_factory: pytest.TempPathFactory):
    schema = "mixed_engines"
    _servers.load_parquet_into_postgres(
        pg_url,
        schema,
        {"staffing": str(files["staffing_parquet"])},
        tmp_path_factory.mktemp("pg-load"),
    )
    yield f"{schema}.staffing"
    _servers.drop_schema(pg_url, schema)


def test_a_server_table_added_to_a_csv_project_builds_with_correct_figures(
    files, pg_url, staffing_on_postgres, tmp_path
):
    configs = tmp_path / "configs"
    init_project(str(files["csv"]), out_dir=configs, timezone=ZONE)
    added = init_project(pg_url, table=staffing_on_postgres, out_dir=configs, add=True)
    assert any("sources.yaml now names that server" in n for n in added.notes)
    sources = (configs / "sources.yaml").read_text(encoding="utf-8")
    assert "engine: sqlalchemy" in sources and "engine: duckdb" not in sources
    assert "tickets: {path: " in sources and f'table: "{staffing_on_postgres}"' in sources
    report = load_report(configs / "reports" / "weekly.yaml")
    assert check_data(report) == []  # validate --data reads both schemas
    result = build_report(report.path, period=WEEK[0], formats=["html"], out_dir=tmp_path / "out")
    figures = json.loads(Path(result.artifacts["figures"]).read_text(encoding="utf-8"))
    want = _own_data.expected_figures(files["frame"], files["staff"], ZONE, WEEK[1], WEEK[2])
    got = {name: m["value"] for name, m in figures["metrics"].items()}
    for name in ("tickets", "aht", "throughput", "overturn_rate"):
        assert got[name] == pytest.approx(want[name], rel=1e-9), name


def test_a_server_table_beside_a_duckdb_database_is_refused_with_the_export_command(
    files, pg_url, staffing_on_postgres, tmp_path
):
    configs = tmp_path / "configs"
    with duckdb.connect(str(tmp_path / "main.duckdb")) as con:
        con.execute(f"CREATE TABLE tickets AS SELECT * FROM read_csv('{files['csv']}')")
    init_project(str(tmp_path / "main.duckdb"), out_dir=configs, timezone=ZONE)
    before = {p: p.read_text(encoding="utf-8") for p in configs.rglob("*.yaml")}
    with pytest.raises(ConfigError) as info:
        init_project(pg_url, table=staffing_on_postgres, out_dir=configs, add=True)
    message = str(info.value)
    assert f"{staffing_on_postgres} on postgresql+psycopg://" in message
    assert "is not on the DuckDB database" in message
    assert f"\\copy {staffing_on_postgres} TO 'staffing.csv' CSV HEADER" in message
    assert "`reportgen init --from staffing.csv --add`" in message
    assert 'PGPASSWORD=… psql "postgresql://' in message  # psql reads it: never in the message
    assert "${" not in message.split("psql")[1].split("-c")[0]
    assert {p: p.read_text(encoding="utf-8") for p in configs.rglob("*.yaml")} == before


def test_a_table_in_another_duckdb_file_is_refused(files, tmp_path):
    configs = tmp_path / "configs"
    init_project(str(files["csv"]), out_dir=configs, timezone=ZONE)
    with pytest.raises(ConfigError) as info:
        init_project(str(files["other_duckdb"]), out_dir=configs, add=True)
    message = str(info.value)
    assert f"staffing in {files['other_duckdb']} is not on DuckDB" in message
    assert "COPY staffing TO 'staffing.parquet' (FORMAT parquet)" in message
    assert "`reportgen init --from staffing.parquet --add`" in message


def test_the_exported_file_is_then_added_and_builds(files, tmp_path):
    """The way out the refusal names: the table as a file, added beside the CSV."""
    configs = tmp_path / "configs"
    init_project(str(files["csv"]), out_dir=configs, timezone=ZONE)
    exported = tmp_path / "staffing.parquet"
    with duckdb.connect(str(files["other_duckdb"]), read_only=True) as con:
        con.execute(f"COPY staffing TO '{exported}' (FORMAT parquet)")
    init_project(str(exported), out_dir=configs, add=True)
    result = build_report(
        configs / "reports" / "weekly.yaml", period=WEEK[0], formats=["html"], out_dir=tmp_path
    )
    figures = json.loads(Path(result.artifacts["figures"]).read_text(encoding="utf-8"))
    want = _own_data.expected_figures(files["frame"], files["staff"], ZONE, WEEK[1], WEEK[2])
    assert figures["metrics"]["throughput"]["value"] == pytest.approx(want["throughput"], 1e-9)
