"""The incremental cube cache: closed days are read back, only new days are scanned.

Data "arrives" in two batches: the demo data up to a cut day, then the rest as
new files. The second build must ask the engine only for the days after the
cached ones and still produce exactly the figures of a full rescan.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import reportgen.data.cache as cache_module
from reportgen.build import build_report, sketch_periods
from reportgen.config.loader import load_report
from reportgen.data.cache import FORMAT_VERSION, CubeCache, default_cache_dir
from reportgen.data.plan import needed_measures
from reportgen.data.scan import compute_cube, merge_cubes
from reportgen.periods import Period, period_containing

from ._compare import assert_same_figures

CUT = date(2026, 11, 18)  # first day of the second batch
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def _copy(con: duckdb.DuckDBPyConnection, source: str, target: Path, where: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * FROM read_parquet('{source}') WHERE {where}) TO '{target}'")


def arrive(demo_dir: Path, data: Path, batch: int) -> None:
    """Batch 0: every day before CUT; batch 1: CUT and later, as new files beside the old."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    op = "<" if batch == 0 else ">="
    cut = f"DATE '{CUT.isoformat()}'"
    decided = f"CAST(decided_at AT TIME ZONE 'UTC' AS DATE) {op} {cut}"
    _copy(con, f"{demo_dir}/decisions/*.parquet", data / "decisions" / f"{batch}.parquet", decided)
    for fact in ("staffing", "views", "queue_snapshots"):
        pattern = (
            f"{demo_dir}/{fact}/*.parquet" if fact == "staffing" else f"{demo_dir}/{fact}.parquet"
        )
        _copy(con, pattern, data / fact / f"{batch}.parquet", f"day {op} {cut}")
    con.close()


@pytest.fixture
def project(demo_configs: Path, demo_dir: Path, tmp_path: Path) -> Path:
    """The shipped configs reading a data folder that starts with batch 0 only."""
    shutil.copytree(demo_configs, tmp_path / "configs")
    shutil.copytree(demo_configs.parent / "templates", tmp_path / "templates")
    data = tmp_path / "data"
    arrive(demo_dir, data, 0)
    (tmp_path / "configs" / "sources.yaml").write_text(
        "facts:\n"
        f"  decisions: {{path: {data}/decisions/*.parquet}}\n"
        f"  staffing: {{path: {data}/staffing/*.parquet}}\n"
        f"  views: {{path: {data}/views/*.parquet}}\n"
        f"  queue_snapshots: {{path: {data}/queue_snapshots/*.parquet}}\n"
        f"targets: {{path: {demo_dir / 'targets.csv'}}}\n",
        encoding="utf-8",
    )
    return tmp_path


def report_of(project: Path):
    return load_report(project / "configs" / "reports" / "weekly_leadership.yaml")


OPEN_WEEK = period_containing(CUT - timedelta(days=1), "week")  # batch 0 ends inside it


def cube_with(project: Path, cache: CubeCache | None, period: Period = OPEN_WEEK):
    """The cube as a build of ``period`` makes it: the additive cube, then the period's sketches."""
    report = report_of(project)
    measures = needed_measures(report)
    sketches = [m for m in measures if report.catalog.measures[m].agg == "sketch"]
    additive = [m for m in measures if m not in sketches]
    cube = compute_cube(report, additive, cache=cache)
    more = compute_cube(
        report,
        sketches,
        cache=cache,
        sketch_grain=period.grain,
        sketch_periods=sketch_periods(report, period),
        data_through=cube.last_day,
    )
    return merge_cubes(cube, more)


def assert_same_cube(left, right) -> None:
    assert left.frames.keys() == right.frames.keys()
    for key, a in left.frames.items():
        b = right.frames[key]
        assert list(a.columns) == list(b.columns) and len(a) == len(b), key
        for column in a.columns:
            if a[column].dtype == "float64":  # engines may add floats in another order
                np.testing.assert_allclose(a[column], b[column], rtol=1e-12, err_msg=column)
            else:
                assert a[column].astype(str).tolist() == b[column].astype(str).tolist(), column


def figures(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("generated_at", "config_hash"):
        data.pop(key, None)
    return data


def test_second_build_scans_only_new_days_and_equals_a_full_scan(project, demo_dir):
    root = default_cache_dir(report_of(project))
    first = CubeCache(root)
    cube_with(project, first)
    assert all(s.since is None and s.days_cached == 0 for s in first.scans)
    newest = CUT - timedelta(days=1)  # the newest day of batch 0 is still open: not cached
    arrive(demo_dir, project / "data", 1)
    second = CubeCache(root)
    incremental = cube_with(project, second)
    for scan in second.scans:
        if "#" in scan.group:  # a sketch is kept per week: only the week that was open is asked
            assert scan.periods == (OPEN_WEEK.start,), scan
            assert scan.days_cached == len(sketch_periods(report_of(project), OPEN_WEEK)) - 1
            continue
        assert scan.since == newest, scan
        assert scan.days_scanned == (incremental.last_day[scan.group] - newest).days + 1, scan
        assert (
            scan.days_cached
            == next(s.days_scanned for s in first.scans if s.group == scan.group) - 1
        )
    assert_same_cube(cube_with(project, None), incremental)


def test_next_weeks_build_scans_only_its_new_weeks_for_the_sketch(project, demo_dir):
    """Weekly builds share their sketch periods: each asks only for the weeks it adds."""
    root = default_cache_dir(report_of(project))
    week = OPEN_WEEK.shift(-1)  # the latest complete week of batch 0
    cube_with(project, CubeCache(root), week)
    arrive(demo_dir, project / "data", 1)
    following = CubeCache(root)
    incremental = cube_with(project, following, OPEN_WEEK)
    (scan,) = [s for s in following.scans if "#" in s.group]
    last_year = OPEN_WEEK.same_period_last_year()
    assert last_year is not None
    assert scan.periods == (last_year.start, OPEN_WEEK.start)  # the two weeks W46's build lacked
    assert scan.days_cached == len(sketch_periods(report_of(project), OPEN_WEEK)) - 2
    assert_same_cube(cube_with(project, None, OPEN_WEEK), incremental)


def test_a_sketch_over_every_period_is_scanned_not_cached(project):
    report = report_of(project)
    sketches = [m for m in needed_measures(report) if report.catalog.measures[m].agg == "sketch"]
    cache = CubeCache(default_cache_dir(report))
    for _ in range(2):
        compute_cube(report, sketches, cache=cache)
    assert all(s.since is None and s.days_cached == 0 for s in cache.scans)
    assert not cache.root.exists()


def test_a_changed_measure_invalidates_exactly_its_scan(project):
    root = default_cache_dir(report_of(project))
    cube_with(project, CubeCache(root))
    catalog = project / "configs" / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    old = "decided_at <= enqueued_at + sla_hours * INTERVAL '1 hour'"
    assert old in text
    catalog.write_text(text.replace(old, old + " + INTERVAL '30 minutes'"), encoding="utf-8")
    after = CubeCache(root)
    changed = cube_with(project, after)
    scans = {s.group: s for s in after.scans}
    assert scans["decisions:decided_at"].since is None  # rebuilt: sla_met lives in this scan
    assert scans["staffing:day"].since is not None  # untouched: read from the cache
    assert scans["staffing:day"].days_scanned == 1
    assert_same_cube(cube_with(project, None), changed)


def test_no_cache_rescans_everything_and_rewrites_the_cache(project):
    root = default_cache_dir(report_of(project))
    cube_with(project, CubeCache(root))
    rebuild = CubeCache(root, read=False)
    cube_with(project, rebuild)
    assert all(s.since is None for s in rebuild.scans)
    again = CubeCache(root)
    assert_same_cube(cube_with(project, None), cube_with(project, again))
    assert all(s.days_scanned == 1 for s in again.scans)  # the open day; the sketch's open week


def test_a_build_writes_one_partition_per_scan_and_folds_them_when_they_pile_up(
    project, demo_dir, monkeypatch
):
    root = default_cache_dir(report_of(project))
    oldest = cube_with(project, CubeCache(root)).first_day["decisions:decided_at"]
    (folder,) = (next(root.iterdir()) / "decisions.decided_at").iterdir()
    (first,) = folder.glob("*.parquet")  # every closed day of the cold build in one file
    assert first.name == f"{oldest}_{CUT - timedelta(days=2)}.parquet"
    monkeypatch.setattr(cache_module, "MAX_PARTITIONS", 1)
    arrive(demo_dir, project / "data", 1)
    folded = cube_with(project, CubeCache(root))
    (merged,) = folder.glob("*.parquet")  # the old file's days and the new ones, in one file
    assert merged.name == f"{oldest}_{date(2026, 11, 24)}.parquet"  # the data's newest is open
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    assert state["files"] == [merged.name]
    assert_same_cube(cube_with(project, None), folded)
    again = CubeCache(root)
    assert_same_cube(folded, cube_with(project, again))
    assert all(s.days_scanned == 1 for s in again.scans if "#" not in s.group)


def test_a_lost_partition_means_a_rescan_not_a_missing_day(project):
    root = default_cache_dir(report_of(project))
    cube_with(project, CubeCache(root))
    (partition,) = (next(root.iterdir()) / "decisions.decided_at").rglob("*.parquet")
    partition.unlink()
    repaired = CubeCache(root)
    assert_same_cube(cube_with(project, None), cube_with(project, repaired))
    assert any("lost partitions" in p for p in repaired.problems)
    assert sum(s.since is None for s in repaired.scans) == 1  # only the damaged scan


@pytest.mark.parametrize(
    "state",
    ['{"version": %d}', "[1, 2]", '{"version": %d, "files": "a.parquet", "closed_through": 3}'],
    ids=["keys-missing", "not-an-object", "wrong-types"],
)
def test_a_malformed_state_file_means_a_rescan_not_a_crash(project, state):
    root = default_cache_dir(report_of(project))
    cube_with(project, CubeCache(root))
    damaged = next(root.rglob("state.json"))
    damaged.write_text(state.replace("%d", str(FORMAT_VERSION)), encoding="utf-8")
    repaired = CubeCache(root)
    assert_same_cube(cube_with(project, None), cube_with(project, repaired))
    assert sum(s.since is None for s in repaired.scans) == 1  # only the damaged scan


def test_an_unwritable_cache_never_fails_the_build(project):
    blocker = project / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    cache = CubeCache(blocker / "cube")
    assert_same_cube(cube_with(project, None), cube_with(project, cache))
    assert cache.problems and all("not written" in p for p in cache.problems)


def test_timezone_and_grain_are_part_of_the_key(project):
    report = report_of(project)
    from reportgen.data.plan import plan_queries

    base = {q.key: q.definition_hash for q in plan_queries(report, needed_measures(report))}
    config = project / "configs" / "reports" / "weekly_leadership.yaml"
    config.write_text(
        config.read_text().replace("timezone: UTC", "timezone: Europe/Dublin"), encoding="utf-8"
    )
    dublin = report_of(project)
    moved = {q.key: q.definition_hash for q in plan_queries(dublin, needed_measures(dublin))}
    assert all(base[k] != moved[k] for k in base)


def test_builds_with_cache_and_no_cache_give_identical_figures(project, demo_dir, monkeypatch):
    """End to end through build_report and the CLI flag: cached figures == rebuilt figures."""
    opened: list[CubeCache] = []
    real_open = cache_module.open_cache

    def recording(report, *, read=True):
        opened.append(real_open(report, read=read))
        return opened[-1]

    monkeypatch.setattr(cache_module, "open_cache", recording)
    config = project / "configs" / "reports" / "weekly_leadership.yaml"
    build_report(config, formats=["html"], out_dir=project / "o1", now=NOW)
    arrive(demo_dir, project / "data", 1)
    cached = build_report(
        config, period="2026-W47", formats=["html"], out_dir=project / "o2", now=NOW
    )
    open_day = CUT - timedelta(days=1)
    scans = opened[-1].scans
    assert all(s.since == open_day for s in scans if "#" not in s.group)
    # the sketch's weeks: W46's build had all but the open week and last year's W47
    assert [s.periods for s in scans if "#" in s.group] == [(date(2025, 11, 17), OPEN_WEEK.start)]

    from typer.testing import CliRunner

    from reportgen.cli import app

    out = project / "o3"
    result = CliRunner().invoke(
        app,
        ["build", str(config), "--period", "2026-W47", "-f", "html", "-o", str(out), "--no-cache"],
    )
    assert result.exit_code == 0, result.output
    assert opened[-1].read is False and all(s.since is None for s in opened[-1].scans)
    rebuilt = out / "weekly_leadership" / "2026-W47" / "leadership" / "figures.json"
    assert_same_figures(figures(cached.artifacts["figures"]), figures(rebuilt))


def test_a_partitions_closed_days_are_the_boolean_selection_sorted_stably():
    """One copy of the rows (take) instead of a selection and a sort: the same rows, same order."""
    rng = np.random.default_rng(3)
    days = pd.to_datetime("2026-11-01") + pd.to_timedelta(rng.integers(0, 9, 500), unit="D")
    fresh = pd.DataFrame({"day": days.astype("datetime64[us]"), "n": np.arange(500.0)})
    newest = date(2026, 11, 9)
    expected = (
        fresh[fresh["day"] < pd.Timestamp(newest)]
        .sort_values("day", kind="stable")
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(cache_module._closed_by_day(fresh, newest), expected)


def test_partitions_written_in_small_row_groups_read_back_as_the_same_cube(project, monkeypatch):
    monkeypatch.setattr(cache_module, "ROW_GROUP_ROWS", 1_000)
    root = default_cache_dir(report_of(project))
    cold = cube_with(project, CubeCache(root))
    (folder,) = (next(root.iterdir()) / "decisions.decided_at").iterdir()
    (partition,) = folder.glob("*.parquet")
    groups = pq.ParquetFile(partition).metadata
    assert groups.num_row_groups > 1
    assert max(groups.row_group(i).num_rows for i in range(groups.num_row_groups)) <= 1_000
    again = CubeCache(root)
    assert_same_cube(cold, cube_with(project, again))
    assert all(s.days_scanned == 1 for s in again.scans)  # the rest came from the partition
