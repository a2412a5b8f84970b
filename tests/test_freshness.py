"""A cached build equals a cold one, whatever changed in the sources since the cache was written.

Closed days are not final in T&S data (late appeals, re-sent vendor files,
backfills). Each test writes the cache with one build, changes the source the
way upstream does, builds again with the cache and compares with a build
without it. Files: one Parquet file per month, so a change touches a few
weeks and the cache must rescan just those.
"""

from __future__ import annotations

import io
import multiprocessing
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reportgen.build import build_report
from reportgen.config.loader import load_report
from reportgen.data.cache import CubeCache, default_cache_dir
from reportgen.data.freshness import DaySpans, SourceWatch, observe
from reportgen.data.plan import needed_measures, plan_queries
from reportgen.data.scan import compute_cube
from reportgen.errors import SourceError

from . import _servers
from ._compare import assert_same_figures
from .test_cache import NOW, assert_same_cube, cube_with, figures

MONTHS = ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
CORRECTED = "2026-08"  # a closed month whose file upstream re-sends


def _write_months(demo_dir: Path, folder: Path, suffix: str = "parquet") -> None:
    """The demo's decisions from July 2026 on, one file per month of ``decided_at``."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    source = f"read_parquet('{demo_dir}/decisions/*.parquet')"
    for month in MONTHS:
        where = f"strftime(decided_at, '%Y-%m') = '{month}'"
        fmt = "(FORMAT csv, HEADER true)" if suffix == "csv" else "(FORMAT parquet)"
        con.execute(
            f"COPY (SELECT * FROM {source} WHERE {where} ORDER BY decided_at) "
            f"TO '{folder}/{month}.{suffix}' {fmt}"
        )
    con.close()


def _configs(demo_configs: Path, demo_dir: Path, root: Path, head: str, decisions: str) -> Path:
    """The shipped configs and templates under ``root``; decisions from ``decisions`` (a
    sources.yaml value), the other facts from the session's demo data."""
    shutil.copytree(demo_configs, root / "configs")
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    (root / "configs" / "sources.yaml").write_text(
        f"{head}facts:\n"
        f"  decisions: {decisions}\n"
        f"  staffing: {{path: {demo_dir}/staffing/*.parquet}}\n"
        f"  views: {{path: {demo_dir}/views.parquet}}\n"
        f"  queue_snapshots: {{path: {demo_dir}/queue_snapshots.parquet}}\n"
        f"targets: {{path: {demo_dir / 'targets.csv'}}}\n",
        encoding="utf-8",
    )
    return root


def _project(demo_configs: Path, demo_dir: Path, root: Path, suffix: str = "parquet") -> Path:
    _write_months(demo_dir, root / "data" / "decisions", suffix)
    glob = f"{{path: {root}/data/decisions/*.{suffix}}}"
    return _configs(demo_configs, demo_dir, root, "", glob)


@pytest.fixture
def monthly(demo_configs: Path, demo_dir: Path, tmp_path: Path) -> Path:
    """The shipped configs over decisions kept as one Parquet file per month."""
    return _project(demo_configs, demo_dir, tmp_path)


def decisions_cube(project: Path, cache: CubeCache | None):
    """Only the decisions scan: what these tests change."""
    report = load_report(project / "configs" / "reports" / "weekly_leadership.yaml")
    measures = [
        m
        for m in needed_measures(report)
        if report.catalog.measures[m].fact == "decisions"
        and report.catalog.measures[m].agg != "sketch"
    ]
    return compute_cube(report, measures, cache=cache)


def cache_of(project: Path) -> CubeCache:
    config = project / "configs" / "reports" / "weekly_leadership.yaml"
    return CubeCache(default_cache_dir(load_report(config)))


def main_scan(cache: CubeCache):
    (scan,) = [s for s in cache.scans if s.group == "decisions:decided_at"]
    return scan


def rewrite(path: Path, change: str, *, csv: bool = False) -> None:
    """Rewrite a data file in place through DuckDB: ``change`` is a SELECT over ``rows``."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    reader = "read_csv_auto" if csv else "read_parquet"
    con.execute(f"CREATE TABLE rows AS SELECT * FROM {reader}('{path}')")
    fmt = "(FORMAT csv, HEADER true)" if csv else "(FORMAT parquet)"
    tmp = path.with_suffix(".new")
    con.execute(f"COPY ({change}) TO '{tmp}' {fmt}")
    con.close()
    tmp.replace(path)


LATE_APPEALS = (
    "SELECT * REPLACE (appealed OR (decision_id % 7 = 0 AND action IN ('remove', 'restrict')) "
    "AS appealed, overturned OR (decision_id % 7 = 0 AND action IN ('remove', 'restrict')) "
    "AS overturned) FROM rows"
)


# -- files -------------------------------------------------------------------------------------


def test_an_unchanged_source_rescans_only_the_open_day(monthly):
    decisions_cube(monthly, cache_of(monthly))
    again = cache_of(monthly)
    decisions_cube(monthly, again)
    scan = main_scan(again)
    assert not scan.restated and scan.reasons == ()
    assert scan.days_scanned == 1  # the newest day, still filling up


def test_a_corrected_file_rescans_the_days_it_holds_and_equals_a_cold_build(monthly):
    decisions_cube(monthly, cache_of(monthly))
    rewrite(monthly / "data" / "decisions" / f"{CORRECTED}.parquet", LATE_APPEALS)
    after = cache_of(monthly)
    cached = decisions_cube(monthly, after)
    assert_same_cube(decisions_cube(monthly, None), cached)
    scan = main_scan(after)
    # August and a day of slack either side for zone arithmetic: not the other four months
    assert scan.restated.spans == ((date(2026, 7, 31), date(2026, 9, 1)),)
    assert any(f"{CORRECTED}.parquet changed" in r for r in scan.reasons)
    # the restated days went into a small partition of their own, which wins over the old one
    root = after.root
    assert len(list(next(root.iterdir()).glob("decisions.decided_at/*/*.parquet"))) == 2
    again = cache_of(monthly)
    assert_same_cube(cached, decisions_cube(monthly, again))
    assert not main_scan(again).restated and main_scan(again).days_scanned == 1


def test_rows_appended_to_a_closed_month_are_counted(monthly):
    decisions_cube(monthly, cache_of(monthly))
    late = "SELECT * FROM rows UNION ALL SELECT * REPLACE (decision_id + 10000000 AS decision_id) "
    rewrite(monthly / "data" / "decisions" / "2026-09.parquet", late + "FROM rows LIMIT 500")
    assert_same_cube(decisions_cube(monthly, None), decisions_cube(monthly, cache_of(monthly)))


def test_a_file_removed_from_the_glob_takes_its_days_out(monthly):
    decisions_cube(monthly, cache_of(monthly))
    (monthly / "data" / "decisions" / "2026-07.parquet").unlink()
    after = cache_of(monthly)
    cached = decisions_cube(monthly, after)
    assert_same_cube(decisions_cube(monthly, None), cached)
    assert cached.first_day["decisions:decided_at"] >= date(2026, 8, 1)
    assert any("2026-07.parquet removed" in r for r in main_scan(after).reasons)


def test_a_backfilled_file_of_closed_days_is_read(monthly, demo_dir):
    folder = monthly / "data" / "decisions"
    backfill = folder / "2026-10.parquet"
    held = backfill.with_suffix(".held")
    backfill.replace(held)  # October arrives late, after November was built
    decisions_cube(monthly, cache_of(monthly))
    held.replace(folder / "2026-10-backfill.parquet")
    after = cache_of(monthly)
    assert_same_cube(decisions_cube(monthly, None), decisions_cube(monthly, after))
    assert main_scan(after).restated.overlaps(date(2026, 10, 1), date(2026, 10, 31))


def test_a_changed_csv_has_no_statistics_so_every_day_is_rescanned(
    demo_configs, demo_dir, tmp_path
):
    project = _project(demo_configs, demo_dir, tmp_path, suffix="csv")
    decisions_cube(project, cache_of(project))
    rewrite(project / "data" / "decisions" / f"{CORRECTED}.csv", LATE_APPEALS, csv=True)
    after = cache_of(project)
    assert_same_cube(decisions_cube(project, None), decisions_cube(project, after))
    assert main_scan(after).since is None  # everything rescanned: a CSV says nothing of its days


def test_a_corrected_file_changes_the_sketch_periods_it_holds_too(monthly):
    """The p90 time-to-action sketch, kept per week, drops the corrected weeks."""
    cube_with(monthly, cache_of(monthly))
    rewrite(
        monthly / "data" / "decisions" / "2026-11.parquet",
        "SELECT * REPLACE (decided_at + INTERVAL '3 hours' AS decided_at) FROM rows "
        "WHERE decided_at < TIMESTAMPTZ '2026-11-20 00:00:00+00'",
    )
    after = cache_of(monthly)
    assert_same_cube(cube_with(monthly, None), cube_with(monthly, after))
    (sketch,) = [s for s in after.scans if "#" in s.group]
    assert date(2026, 11, 9) in sketch.periods  # a closed week of the corrected file: rescanned


def test_cached_figures_after_a_correction_equal_a_cold_builds(monthly, tmp_path):
    """The acceptance test: figures.json of the cached build equals the --no-cache build's."""
    config = monthly / "configs" / "reports" / "weekly_leadership.yaml"
    first = build_report(
        config, period="2026-W46", formats=["html"], out_dir=tmp_path / "a", now=NOW
    )
    rewrite(monthly / "data" / "decisions" / "2026-11.parquet", LATE_APPEALS)
    cached = build_report(
        config, period="2026-W46", formats=["html"], out_dir=tmp_path / "b", now=NOW
    )
    cold = build_report(
        config,
        period="2026-W46",
        formats=["html"],
        out_dir=tmp_path / "c",
        now=NOW,
        cache=False,
    )
    assert_same_figures(figures(cold.artifacts["figures"]), figures(cached.artifacts["figures"]))
    now = figures(cached.artifacts["figures"])["metrics"]["overturn_rate"]["value"]
    assert now != figures(first.artifacts["figures"])["metrics"]["overturn_rate"]["value"]


def test_a_file_that_vanishes_while_the_build_reads_it_is_an_error_naming_it(tmp_path):
    watch = SourceWatch("decisions", "decided_at", "timestamp", "UTC", pattern=str(tmp_path / "*"))
    (tmp_path / "a.parquet").write_bytes(b"x")
    real = Path.stat

    def vanished(self: Path, *args, **kwargs):
        if self.name == "a.parquet":
            raise FileNotFoundError(self)
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "stat", vanished)
        with pytest.raises(SourceError, match=r"a\.parquet of fact 'decisions' disappeared"):
            observe(watch, None, lambda sql: pd.DataFrame())


# -- the cache itself --------------------------------------------------------------------------


def test_a_truncated_partition_is_caught_by_its_checksum_and_rebuilt(monthly):
    decisions_cube(monthly, cache_of(monthly))
    root = cache_of(monthly).root
    (partition,) = next(root.iterdir()).glob("decisions.decided_at/*/*.parquet")
    data = partition.read_bytes()
    partition.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    repaired = cache_of(monthly)
    assert_same_cube(decisions_cube(monthly, None), decisions_cube(monthly, repaired))
    assert any("checksum" in p for p in repaired.problems)


def _build_in_child(project: str, queue) -> None:
    path = Path(project)
    cube = decisions_cube(path, cache_of(path))
    queue.put(cube.frames["decisions:decided_at"].to_parquet())


def test_two_builds_sharing_a_cache_at_once_never_corrupt_it(monthly):
    decisions_cube(monthly, cache_of(monthly))
    rewrite(monthly / "data" / "decisions" / f"{CORRECTED}.parquet", LATE_APPEALS)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [
        context.Process(target=_build_in_child, args=(str(monthly), queue)) for _ in range(2)
    ]
    for child in children:
        child.start()
    results = [queue.get(timeout=300) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    cold = decisions_cube(monthly, None).frames["decisions:decided_at"]
    for result in results:
        frame = pd.read_parquet(io.BytesIO(result))
        assert len(frame) == len(cold)
    after = cache_of(monthly)
    assert_same_cube(decisions_cube(monthly, None), decisions_cube(monthly, after))
    assert not after.problems and not main_scan(after).restated


# -- tables: a restatement window and a day signature ------------------------------------------


def _pg_project(demo_configs: Path, demo_dir: Path, root: Path, url: str, refresh: str) -> Path:
    head = f"engine: sqlalchemy\nurl: {url}\n"
    _configs(demo_configs, demo_dir, root, head, "{table: fresh.decisions}")
    catalog = root / "configs" / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    anchor = "  decisions:\n    time_column: decided_at\n"
    assert anchor in text
    catalog.write_text(text.replace(anchor, anchor + f"    refresh: {refresh}\n"), "utf-8")
    return root


@pytest.fixture
def pg_decisions(pg_url: str, demo_dir: Path, tmp_path: Path):
    """Three months of demo decisions in PostgreSQL with an ``updated_at`` column."""
    import psycopg

    from reportgen.data.engines import expand_env

    months = tmp_path / "months"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    months.mkdir()
    con.execute(
        f"COPY (SELECT *, decided_at AS updated_at FROM read_parquet('{demo_dir}/decisions/*.parquet')"
        " WHERE decided_at >= TIMESTAMPTZ '2026-09-01 00:00:00+00') "
        f"TO '{months}/d.parquet' (FORMAT parquet)"
    )
    con.close()
    _servers.load_parquet_into_postgres(
        pg_url, "fresh", {"decisions": str(months / "d.parquet")}, tmp_path
    )
    dsn = expand_env(pg_url, what="url").replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as pg:
        yield pg
    _servers.drop_schema(pg_url, "fresh")


OLD_DAY = "2026-09-15"  # far outside a 35-day window before the data's end (2026-11-25)


def test_a_table_row_updated_long_ago_is_seen_through_the_change_column(
    pg_url, pg_decisions, demo_configs, demo_dir, tmp_path
):
    project = _pg_project(
        demo_configs, demo_dir, tmp_path / "p", pg_url, "{change_column: updated_at}"
    )
    decisions_cube(project, cache_of(project))
    changed = pg_decisions.execute(
        "UPDATE fresh.decisions SET appealed = true, overturned = true, updated_at = now() "
        f"WHERE CAST(decided_at AT TIME ZONE 'UTC' AS date) = DATE '{OLD_DAY}' "
        "AND action IN ('remove', 'restrict')"
    )
    assert changed.rowcount > 0
    after = cache_of(project)
    assert_same_cube(decisions_cube(project, None), decisions_cube(project, after))
    assert main_scan(after).restated.overlaps(date(2026, 9, 15), date(2026, 9, 15))


def test_rows_deleted_from_an_old_day_change_its_count(
    pg_url, pg_decisions, demo_configs, demo_dir, tmp_path
):
    project = _pg_project(demo_configs, demo_dir, tmp_path / "p", pg_url, "{restate_days: 7}")
    decisions_cube(project, cache_of(project))
    changed = pg_decisions.execute(
        "DELETE FROM fresh.decisions "
        f"WHERE CAST(decided_at AT TIME ZONE 'UTC' AS date) = DATE '{OLD_DAY}' "
        "AND decision_id % 10 = 0"
    )
    assert changed.rowcount > 0
    after = cache_of(project)
    assert_same_cube(decisions_cube(project, None), decisions_cube(project, after))
    restated = main_scan(after).restated
    assert restated.overlaps(date(2026, 9, 15), date(2026, 9, 15))
    assert not restated.overlaps(date(2026, 9, 16), date(2026, 11, 16))  # only that day + window


def test_a_late_appeal_inside_the_restatement_window_is_counted(
    pg_url, pg_decisions, demo_configs, demo_dir, tmp_path
):
    """No change column: an in-place update is seen because the window rescans recent days."""
    project = _pg_project(demo_configs, demo_dir, tmp_path / "p", pg_url, "{restate_days: 35}")
    decisions_cube(project, cache_of(project))
    changed = pg_decisions.execute(
        "UPDATE fresh.decisions SET appealed = true, overturned = true "
        "WHERE CAST(decided_at AT TIME ZONE 'UTC' AS date) = DATE '2026-11-02' "
        "AND action = 'remove'"
    )
    assert changed.rowcount > 0
    after = cache_of(project)
    assert_same_cube(decisions_cube(project, None), decisions_cube(project, after))
    assert main_scan(after).restated.days == 35


def test_a_table_build_asks_for_one_signature_query_per_scan(demo_configs, demo_dir, tmp_path):
    project = _pg_project(
        demo_configs,
        demo_dir,
        tmp_path / "p",
        "postgresql+psycopg://u:${PGPASSWORD}@127.0.0.1:1/db",
        "{change_column: updated_at}",
    )
    report = load_report(project / "configs" / "reports" / "weekly_leadership.yaml")
    (query,) = [q for q in plan_queries(report, needed_measures(report)) if q.key.endswith("at")]
    assert query.watch is not None and query.watch.restate_days == 35  # the default for tables
    signature = query.watch.signature_sql or ""
    assert "COUNT(*)" in signature and "MAX(updated_at)" in signature
    assert "fresh.decisions" in signature and "AT TIME ZONE 'UTC'" in signature


# -- Spark local mode, Parquet files -----------------------------------------------------------


@pytest.mark.slow
def test_spark_sees_a_corrected_file_too(spark_session, monthly):
    sources = monthly / "configs" / "sources.yaml"
    sources.write_text("engine: spark\nurl: local[2]\n" + sources.read_text(), "utf-8")
    decisions_cube(monthly, cache_of(monthly))
    rewrite(monthly / "data" / "decisions" / f"{CORRECTED}.parquet", LATE_APPEALS)
    after = cache_of(monthly)
    assert_same_cube(decisions_cube(monthly, None), decisions_cube(monthly, after))
    assert main_scan(after).restated.spans == ((date(2026, 7, 31), date(2026, 9, 1)),)


def test_day_spans_merge_and_clip():
    spans = DaySpans.of(
        [(date(2026, 1, 5), date(2026, 1, 9)), (date(2026, 1, 1), date(2026, 1, 4))]
    )
    assert spans.spans == ((date(2026, 1, 1), date(2026, 1, 9)),)
    assert spans.through(date(2026, 1, 3)).spans == ((date(2026, 1, 1), date(2026, 1, 3)),)
    assert (spans | DaySpans.all_days()).everything
    assert spans.days == 9 and not DaySpans()


# -- reportgen cache status / clear ------------------------------------------------------------


def test_cache_status_says_what_the_next_build_rescans_and_why(monthly):
    from typer.testing import CliRunner

    from reportgen.cli import app

    config = monthly / "configs" / "reports" / "weekly_leadership.yaml"
    decisions_cube(monthly, cache_of(monthly))
    rewrite(monthly / "data" / "decisions" / f"{CORRECTED}.parquet", LATE_APPEALS)
    shown = CliRunner().invoke(app, ["cache", "status", str(config)])
    assert shown.exit_code == 0, shown.output
    block = shown.output.split("decisions:decided_at\n")[1]
    assert "cached       closed days through 2026-11-24" in block
    assert "rescans 33 closed day(s) (2026-07-31…2026-09-01)" in block
    assert f"because    {CORRECTED}.parquet changed" in block
    assert (
        "staffing:day\n  cached       nothing\n" in shown.output
    )  # this test built decisions only


def test_cache_clear_empties_the_cache_and_the_next_build_rescans(monthly):
    from typer.testing import CliRunner

    from reportgen.cli import app

    config = monthly / "configs" / "reports" / "weekly_leadership.yaml"
    decisions_cube(monthly, cache_of(monthly))
    cleared = CliRunner().invoke(app, ["cache", "clear", str(config)])
    assert cleared.exit_code == 0 and "cleared" in cleared.output
    assert not cache_of(monthly).root.exists()
    after = cache_of(monthly)
    decisions_cube(monthly, after)
    assert main_scan(after).since is None


def test_a_duckdb_database_file_unchanged_costs_a_stat_and_changed_is_compared_by_day(
    demo_configs, demo_dir, tmp_path
):
    project = _project(demo_configs, demo_dir, tmp_path)
    database = tmp_path / "ops.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        f"CREATE TABLE decisions AS SELECT * FROM read_parquet('{tmp_path}/data/decisions/*')"
    )
    con.close()
    sources = project / "configs" / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    text = text.replace(f"{{path: {tmp_path}/data/decisions/*.parquet}}", "{table: decisions}")
    sources.write_text(f"database: {database}\n{text}", encoding="utf-8")
    decisions_cube(project, cache_of(project))
    unchanged = cache_of(project)
    decisions_cube(project, unchanged)
    assert not main_scan(unchanged).restated  # the file's stamp: no signature, no window
    con = duckdb.connect(str(database))
    con.execute("DELETE FROM decisions WHERE decision_id % 5 = 0 AND decided_at < '2026-08-01'")
    con.close()
    after = cache_of(project)
    assert_same_cube(decisions_cube(project, None), decisions_cube(project, after))
    assert main_scan(after).restated.overlaps(date(2026, 7, 1), date(2026, 7, 31))
