"""One set of metric definitions, several SQL engines: DuckDB, PostgreSQL (a real server), Spark.

The cube query is generated once and transpiled; these tests prove the
transpiled SQL means the same thing — on hand-made edge rows (DST days,
SLA boundaries, NULL booleans) and on the whole weekly report, whose
figures.json must match the Parquet build number for number.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from reportgen.build import build_report, explain
from reportgen.config.loader import load_catalog, load_report, load_sources
from reportgen.data.engines import Engines
from reportgen.data.engines._sql import fixed_offset, to_sql
from reportgen.data.frames import finish, tidy
from reportgen.data.plan import CubeQuery, needed_measures, plan_queries
from reportgen.data.scan import compute_cube
from reportgen.data.sql import build_cube_expression, build_sketch_expression, restrict_sketch
from reportgen.errors import ConfigError, SourceError

from . import _servers
from ._compare import assert_same_figures

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
PERIOD = "2026-W47"


# -- helpers ----------------------------------------------------------------------------------


def figures_without_meta(path: Path) -> dict:
    """figures.json minus what names the build itself (config path, sources, time)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("generated_at", "generator", "config", "config_hash", "sources"):
        data.pop(key, None)
    return data


def project_with_sources(demo_configs: Path, root: Path, sources_yaml: str) -> Path:
    """A copy of the shipped configs whose sources.yaml is ``sources_yaml``; the report path."""
    shutil.copytree(demo_configs, root / "configs")
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    (root / "configs" / "sources.yaml").write_text(sources_yaml, encoding="utf-8")
    return root / "configs" / "reports" / "weekly_leadership.yaml"


def targets_line(demo_dir: Path) -> str:
    return f"targets: {{path: {demo_dir / 'targets.csv'}}}\n"


def tricky_rows() -> pd.DataFrame:
    """Decisions that trip naive SQL: local midnight and DST edges, SLA boundary, NULLs."""
    rng = np.random.default_rng(11)
    n = 400
    enqueued = pd.Timestamp("2026-03-27 20:00", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 4 * 24 * 3600, n), unit="s"
    )
    handle = rng.gamma(2.0, 40.0, n)
    sla = rng.choice([1.0, 4.0, 24.0], n)
    decided = enqueued + pd.to_timedelta(rng.gamma(1.5, 2.0, n), unit="h")
    frame = pd.DataFrame(
        {
            "decision_id": np.arange(n),
            "enqueued_at": enqueued,
            "decided_at": decided,
            "region": rng.choice(["Europe", "Africa", None], n),
            "queue": rng.choice(["Spam", "Hate Speech"], n),
            "site": rng.choice(["DUB-1", "LIS-1"], n),
            "action": rng.choice(["remove", "restrict", "no_action", None], n),
            "automated": rng.random(n) < 0.3,
            "detection": rng.choice(["proactive", "user_report"], n),
            "handle_seconds": handle,
            "views_before_action": rng.integers(0, 3, n),
            "sla_hours": sla,
            "qa_sampled": rng.random(n) < 0.5,
            "qa_correct": rng.choice([True, False, None], n),
            "appealed": rng.random(n) < 0.2,
            "overturned": rng.random(n) < 0.1,
        }
    )
    # exactly on the SLA boundary (counts as met), on Dublin's DST change, at local midnight
    frame.loc[0, "decided_at"] = frame.loc[0, "enqueued_at"] + pd.Timedelta(hours=sla[0])
    frame.loc[1, "decided_at"] = pd.Timestamp("2026-03-29 00:59:59.999999", tz="UTC")
    frame.loc[2, "decided_at"] = pd.Timestamp("2026-03-29 01:00:00", tz="UTC")
    frame.loc[3, "decided_at"] = pd.Timestamp("2026-03-29 23:00:00", tz="UTC")  # 00:00 IST
    frame.loc[4, "decided_at"] = pd.NaT  # not decided: no day, not counted
    frame.loc[5, "handle_seconds"] = np.nan
    frame["automated"] = frame["automated"].astype("boolean")
    frame.loc[6, "automated"] = pd.NA
    frame.loc[7, "enqueued_at"] = pd.NaT  # decided, but no time to action: not in the sketch
    for column in ("enqueued_at", "decided_at"):  # microseconds, as warehouses store them
        frame[column] = frame[column].astype("datetime64[us, UTC]")
    return frame


def tricky_cube(
    engine: Any, table: Any, fetch: Any, timezone: str = "Europe/Dublin", *, plain: bool = False
) -> pd.DataFrame:
    """The decisions cube of ``tricky_rows`` on one engine, in ``timezone``'s days.

    The SQL is what a build runs (``to_sql``: DuckDB's fast instant arithmetic);
    ``plain`` takes sqlglot's own spelling instead.
    """
    catalog = load_catalog(Path(__file__).parent.parent / "configs" / "catalog.yaml")
    fact = catalog.facts["decisions"]
    measures = [
        m
        for m, d in catalog.measures.items()
        if d.fact == "decisions" and not d.time_column and d.agg != "sketch"
    ]
    dims = ("region", "queue")
    checks = tuple(c.name for c in fact.checks)
    expression = build_cube_expression(
        catalog, fact, "decided_at", dims, measures, checks, table=table, timezone=timezone
    )
    query = CubeQuery("decisions", "decided_at", dims, tuple(measures), checks, sql="")
    frame = fetch(_sql_of(expression, engine.dialect, plain))
    return finish(tidy(frame, query), query)


# the ISO weeks of tricky_rows in Dublin: the second starts at 23:00 UTC, after the DST change
TRICKY_WEEKS = ((date(2026, 3, 23), date(2026, 3, 29)), (date(2026, 3, 30), date(2026, 4, 5)))


def _sql_of(expression: Any, dialect: str, plain: bool) -> str:
    return expression.sql(dialect=dialect) if plain else to_sql(expression, dialect)


def tricky_sketch(
    engine: Any,
    table: Any,
    fetch: Any,
    periods: tuple[tuple[date, date], ...] = (),
    timezone: str = "Europe/Dublin",
    *,
    plain: bool = False,
) -> pd.DataFrame:
    """The time-to-action sketch of ``tricky_rows`` (weekly, Europe/Dublin) on one engine.

    With ``periods``, the form a build runs: only those weeks, assigned by instants.
    """
    catalog = load_catalog(Path(__file__).parent.parent / "configs" / "catalog.yaml")
    measure = catalog.measures["time_to_action_hours"]
    dims = ("region", "queue")
    levels = ((), ("region",), ("queue",))
    expression = build_sketch_expression(
        measure,
        catalog.facts["decisions"],
        "decided_at",
        dims,
        "time_to_action_hours",
        levels,
        table=table,
        timezone=timezone,
        grain="week",
    )
    if periods:
        expression = restrict_sketch(expression, "decided_at", "timestamp", timezone, periods)
    query = CubeQuery(
        "decisions",
        "decided_at",
        dims,
        ("time_to_action_hours",),
        (),
        sql="",
        sketch=True,
        grain="week",
        levels=levels,
    )
    frame = fetch(_sql_of(expression, engine.dialect, plain))
    return finish(tidy(frame, query), query)


def assert_frames_close(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right)
    for column in left.columns:
        if left[column].dtype == "float64":
            np.testing.assert_allclose(left[column], right[column], rtol=1e-12, err_msg=column)
        else:
            assert left[column].astype(str).tolist() == right[column].astype(str).tolist(), column


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def tricky_duckdb(tmp_path: Path) -> tuple[Any, str, Any]:
    """``tricky_rows`` as Parquet on embedded DuckDB: (engine, table, fetch)."""
    import duckdb

    from reportgen.data.engines.embedded import DuckDBEngine

    parquet = tmp_path / "tricky.parquet"
    tricky_rows().to_parquet(parquet)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return DuckDBEngine(tmp_path), f"read_parquet('{parquet}')", lambda sql: con.execute(sql).df()


@pytest.fixture(scope="module")
def pg_demo(pg_url: str, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's demo data loaded into PostgreSQL (schema reportgen_test)."""
    tables = {
        "decisions": str(demo_dir / "decisions" / "*.parquet"),
        "staffing": str(demo_dir / "staffing" / "*.parquet"),
        "views": str(demo_dir / "views.parquet"),
        "queue_snapshots": str(demo_dir / "queue_snapshots.parquet"),
    }
    work = tmp_path_factory.mktemp("pgload")
    _servers.load_parquet_into_postgres(pg_url, "reportgen_test", tables, work)
    yield "reportgen_test"
    _servers.drop_schema(pg_url, "reportgen_test")


# -- planning: dialects, explain, secrets (no server needed) -----------------------------------


def write_sources(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_explain_prints_each_engines_dialect_without_connecting(demo_configs, demo_dir, tmp_path):
    postgres = project_with_sources(
        demo_configs,
        tmp_path / "pg",
        "engine: sqlalchemy\n"
        "url: postgresql+psycopg://reporter:${RG_NEVER_SET_PASSWORD}@db.invalid:5432/ops\n"
        "facts:\n  decisions: {table: analytics.decisions}\n  staffing: {table: analytics.staffing}\n"
        "  views: {table: analytics.views}\n  queue_snapshots: {table: analytics.queue_snapshots}\n"
        + targets_line(demo_dir),
    )
    spark = project_with_sources(
        demo_configs,
        tmp_path / "spark",
        f"engine: spark\nurl: spark://cluster.invalid:7077\nfacts:\n"
        f"  decisions: {{path: {demo_dir}/decisions/*.parquet}}\n"
        f"  staffing: {{table: ops.staffing}}\n  views: {{path: {demo_dir}/views.parquet}}\n"
        f"  queue_snapshots: {{path: {demo_dir}/queue_snapshots.parquet}}\n",
    )
    pg_sql = dict(explain(postgres))["decisions by decided_at"]
    spark_sql = dict(explain(spark))["decisions by decided_at"]
    assert "runs on postgresql (postgres dialect)" in pg_sql
    assert "AT TIME ZONE 'UTC'" in pg_sql and "DOUBLE PRECISION" in pg_sql
    assert "INTERVAL '1 HOUR'" in pg_sql and "FROM analytics.decisions" in pg_sql
    assert "FROM_UTC_TIMESTAMP" in spark_sql and "INTERVAL '1' HOUR" in spark_sql
    assert f"FROM parquet.`{demo_dir}/decisions/*.parquet`" in spark_sql
    assert "RG_NEVER_SET_PASSWORD" not in pg_sql  # the URL is not part of the query


def test_cli_explain_names_the_engine(weekly_config):
    from typer.testing import CliRunner

    from reportgen.cli import app

    result = CliRunner().invoke(app, ["build", str(weekly_config), "--explain"])
    assert result.exit_code == 0
    assert "-- decisions by decided_at\n-- runs on DuckDB (duckdb dialect)\nSELECT" in result.output


def test_a_literal_password_in_a_url_is_rejected_and_never_echoed(tmp_path):
    path = write_sources(
        tmp_path,
        "engine: sqlalchemy\nurl: postgresql+psycopg://ops:hunter2@db:5432/x\nfacts: {}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert "${PGPASSWORD}" in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine: sqlalchemy\nfacts: {}\n", "needs 'url'"),
        ("engine: duckdb\nurl: x://y\nfacts: {}\n", "not 'url'"),
        ("engine: spark\ndatabase: x.duckdb\nfacts: {}\n", "DuckDB database file"),
        ("engine: duckdb\noptions: {a: b}\nfacts: {}\n", "Spark conf"),
    ],
)
def test_engine_fields_are_checked(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_sources(write_sources(tmp_path, text))


def test_an_unset_secret_is_a_source_error_naming_the_variable(demo_configs, demo_dir, tmp_path):
    config = project_with_sources(
        demo_configs,
        tmp_path / "p",
        "engine: sqlalchemy\nurl: postgresql+psycopg://ops:${RG_UNSET_SECRET}@127.0.0.1:1/x\n"
        "facts:\n  decisions: {table: d}\n  staffing: {table: s}\n  views: {table: v}\n"
        "  queue_snapshots: {table: q}\n",
    )
    pytest.importorskip("sqlalchemy")
    report = load_report(config)
    with pytest.raises(SourceError) as info:
        compute_cube(report, needed_measures(report))
    assert "RG_UNSET_SECRET is not set" in str(info.value)
    assert "export RG_UNSET_SECRET" in str(info.value)


def test_path_facts_of_a_warehouse_source_run_on_embedded_duckdb(tmp_path, demo_dir):
    sources = load_sources(
        write_sources(
            tmp_path,
            "engine: sqlalchemy\nurl: postgresql+psycopg://ops@db/x\nfacts:\n"
            f"  decisions: {{table: d}}\n  views: {{path: {demo_dir}/views.parquet}}\n",
        )
    )
    engines = Engines(sources, tmp_path / "sources.yaml")
    assert engines.for_fact("decisions").dialect == "postgres"
    assert engines.for_fact("views").dialect == "duckdb"


def test_an_unknown_backend_asks_for_a_dialect(tmp_path):
    sources = load_sources(
        write_sources(
            tmp_path, "engine: sqlalchemy\nurl: exotic+drv://h/db\nfacts:\n  d: {table: t}\n"
        )
    )
    with pytest.raises(SourceError, match="set 'dialect:'"):
        Engines(sources, tmp_path / "sources.yaml")


def test_a_duckdb_database_file_gives_the_parquet_cube(demo_configs, demo_dir, tmp_path):
    import duckdb

    database = tmp_path / "ops.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        f"CREATE TABLE staffing AS SELECT * FROM read_parquet('{demo_dir}/staffing/*.parquet')"
    )
    con.execute(f"CREATE TABLE views AS SELECT * FROM read_parquet('{demo_dir}/views.parquet')")
    con.close()
    config = project_with_sources(
        demo_configs,
        tmp_path / "p",
        f"engine: duckdb\ndatabase: {database}\nfacts:\n"
        f"  decisions: {{path: {demo_dir}/decisions/*.parquet}}\n"
        "  staffing: {table: staffing}\n  views: {table: views}\n"
        f"  queue_snapshots: {{path: {demo_dir}/queue_snapshots.parquet}}\n",
    )
    report = load_report(config)
    reference = load_report(demo_configs / "reports" / "weekly_leadership.yaml")
    from_file = compute_cube(report, needed_measures(report))
    from_parquet = compute_cube(reference, needed_measures(reference))
    for key, frame in from_parquet.frames.items():
        assert_frames_close(frame, from_file.frames[key])


# -- PostgreSQL, a real server -------------------------------------------------------------------


def test_postgres_cube_matches_duckdb_on_edge_rows(pg_url, tmp_path):
    import duckdb

    from reportgen.data.engines.embedded import DuckDBEngine
    from reportgen.data.engines.warehouse import WarehouseEngine

    rows = tricky_rows()
    parquet = tmp_path / "tricky.parquet"
    rows.to_parquet(parquet)
    _servers.load_parquet_into_postgres(
        pg_url, "reportgen_edge", {"tricky": str(parquet)}, tmp_path
    )
    try:
        duck, pg = DuckDBEngine(tmp_path), WarehouseEngine(pg_url)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        expected = tricky_cube(
            duck,
            f"read_parquet('{parquet}')",
            lambda sql: con.execute(sql).df(),
        )
        got = tricky_cube(
            pg,
            "reportgen_edge.tricky",
            lambda sql: pg.fetch(sql, fact="decisions"),
        )
        sketches = [
            tricky_sketch(duck, f"read_parquet('{parquet}')", lambda sql: con.execute(sql).df()),
            tricky_sketch(pg, "reportgen_edge.tricky", lambda sql: pg.fetch(sql, fact="decisions")),
        ]
        weekly = [
            tricky_sketch(
                duck, f"read_parquet('{parquet}')", lambda sql: con.execute(sql).df(), TRICKY_WEEKS
            ),
            tricky_sketch(
                pg,
                "reportgen_edge.tricky",
                lambda sql: pg.fetch(sql, fact="decisions"),
                TRICKY_WEEKS,
            ),
        ]
        pg.close()
    finally:
        _servers.drop_schema(pg_url, "reportgen_edge")
    assert_frames_close(expected, got)
    assert_frames_close(*sketches)  # same buckets (hours to the microsecond), weeks and levels
    assert_frames_close(*weekly)  # and the same weeks when they are assigned by UTC instants
    assert expected["sla_met"].sum() > 0 and expected["check__missing_region"].sum() > 0


def test_postgres_figures_equal_parquet_figures(
    pg_url, pg_demo, demo_configs, demo_dir, built_report, tmp_path
):
    """The acceptance test: the weekly report from PostgreSQL equals the one from Parquet."""
    facts = "".join(
        f"  {t}: {{table: {pg_demo}.{t}}}\n"
        for t in ("decisions", "staffing", "views", "queue_snapshots")
    )
    config = project_with_sources(
        demo_configs,
        tmp_path / "p",
        f"engine: sqlalchemy\nurl: {pg_url}\nfacts:\n{facts}" + targets_line(demo_dir),
    )
    assert "${" in pg_url  # the secret stays in the environment
    result = build_report(config, period=PERIOD, formats=["html"], out_dir=tmp_path / "o", now=NOW)
    assert_same_figures(
        figures_without_meta(built_report.artifacts["figures"]),
        figures_without_meta(result.artifacts["figures"]),
    )
    queries = plan_queries(load_report(config), needed_measures(load_report(config)))
    assert {q.dialect for q in queries} == {"postgres"}


def test_postgres_query_errors_name_the_fact_without_the_password(pg_url, pg_demo, tmp_path):
    from reportgen.data.engines.warehouse import WarehouseEngine

    engine = WarehouseEngine(pg_url)
    with pytest.raises(SourceError) as info:
        engine.fetch(f"SELECT no_such_column FROM {pg_demo}.decisions", fact="decisions")
    engine.close()
    message = str(info.value)
    assert "fact 'decisions'" in message and "no_such_column" in message
    assert _servers.PASSWORD_VAR not in message
    import os

    assert os.environ[_servers.PASSWORD_VAR] not in message


# -- Spark SQL, local mode ----------------------------------------------------------------------


@pytest.mark.slow
def test_spark_cube_matches_duckdb_on_edge_rows(spark_session, tmp_path):
    import duckdb

    from reportgen.data.engines.embedded import DuckDBEngine
    from reportgen.data.engines.spark import SparkEngine

    parquet = tmp_path / "tricky.parquet"
    tricky_rows().to_parquet(parquet)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    expected = tricky_cube(
        DuckDBEngine(tmp_path), f"read_parquet('{parquet}')", lambda sql: con.execute(sql).df()
    )
    spark = SparkEngine(tmp_path, "local[2]", {})
    from reportgen.config.models import FactSource

    table = spark.table("decisions", FactSource(path=str(parquet)))
    got = tricky_cube(spark, table, lambda sql: spark.fetch(sql, fact="decisions"))
    assert_frames_close(expected, got)
    for periods in ((), TRICKY_WEEKS):
        assert_frames_close(
            tricky_sketch(
                DuckDBEngine(tmp_path),
                f"read_parquet('{parquet}')",
                lambda sql: con.execute(sql).df(),
                periods,
            ),
            tricky_sketch(spark, table, lambda sql: spark.fetch(sql, fact="decisions"), periods),
        )


@pytest.mark.parametrize(
    "timezone", ["UTC", "Asia/Kolkata", "Etc/GMT+5", "Europe/Dublin", "America/Sao_Paulo"]
)
def test_duckdb_fast_instant_arithmetic_equals_sqlglots_spelling(tricky_duckdb, timezone):
    """epoch_us differences and make_timestamp days == date_diff and AT TIME ZONE (ICU)."""
    duck, table, fetch = tricky_duckdb
    fast = tricky_cube(duck, table, fetch, timezone)
    assert_frames_close(tricky_cube(duck, table, fetch, timezone, plain=True), fast)
    assert fast["day"].nunique() >= 4  # the rows span five local days in every zone
    assert_frames_close(
        tricky_sketch(duck, table, fetch, (), timezone, plain=True),
        tricky_sketch(duck, table, fetch, (), timezone),
    )


@pytest.mark.parametrize(
    ("timezone", "hours"),
    [("UTC", 0.0), ("Etc/UTC", 0.0), ("Asia/Kolkata", 5.5), ("Etc/GMT+5", -5.0)],
)
def test_a_zone_with_one_offset_since_1970_has_a_fixed_offset(timezone, hours):
    assert fixed_offset(timezone) == round(hours * 3600e6)


@pytest.mark.parametrize(
    "timezone", ["Europe/Dublin", "America/Sao_Paulo", "Europe/Moscow", "No/Such_Zone"]
)
def test_a_zone_with_daylight_saving_or_a_changed_offset_has_none(timezone):
    """Dublin has DST; Sao Paulo dropped it in 2019; Moscow changed its offset in 2011 and 2014."""
    assert fixed_offset(timezone) is None


@pytest.mark.parametrize(
    "periods",
    [TRICKY_WEEKS, TRICKY_WEEKS[1:]],
    ids=["both-weeks", "after-the-dst-change"],
)
def test_a_sketch_of_chosen_periods_equals_the_full_sketch_of_those_periods(tricky_duckdb, periods):
    """Weeks assigned by UTC instants == weeks of the local day (DST, local midnight)."""
    duck, table, fetch = tricky_duckdb
    full = tricky_sketch(duck, table, fetch)
    chosen = tricky_sketch(duck, table, fetch, periods)
    starts = [pd.Timestamp(start) for start, _ in periods]
    expected = full[full["day"].isin(starts)].reset_index(drop=True)
    for column in ("level", "region", "queue"):  # categories differ with the rows present
        expected[column] = expected[column].astype(str)
        chosen[column] = chosen[column].astype(str)
    assert len(chosen) > 0
    assert_frames_close(expected, chosen)
    rows = tricky_rows().dropna(subset=["enqueued_at", "decided_at"])
    local = rows["decided_at"].dt.tz_convert("Europe/Dublin").dt.date
    inside = sum(((local >= a) & (local <= b)).sum() for a, b in periods)
    assert chosen.loc[chosen["level"] == "", "time_to_action_hours"].sum() == inside


@pytest.mark.slow
def test_spark_figures_equal_parquet_figures(
    spark_session, demo_configs, demo_dir, built_report, tmp_path
):
    config = project_with_sources(
        demo_configs,
        tmp_path / "p",
        "engine: spark\nurl: local[2]\nfacts:\n"
        f"  decisions: {{path: {demo_dir}/decisions/*.parquet}}\n"
        f"  staffing: {{path: {demo_dir}/staffing/*.parquet}}\n"
        f"  views: {{path: {demo_dir}/views.parquet}}\n"
        f"  queue_snapshots: {{path: {demo_dir}/queue_snapshots.parquet}}\n"
        + targets_line(demo_dir),
    )
    result = build_report(config, period=PERIOD, formats=["html"], out_dir=tmp_path / "o", now=NOW)
    assert_same_figures(
        figures_without_meta(built_report.artifacts["figures"]),
        figures_without_meta(result.artifacts["figures"]),
    )
