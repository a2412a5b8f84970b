"""Cube scans in bounded memory: DuckDB's results through Arrow, one connection per scan.

A cold build's memory peak is the cube stage (issue #22: ≤ 600 MB from 100M rows).
These tests pin the behaviours that keep it down — each cube scan on DuckDB
comes back through Arrow and closes its connection — and that the cube they
give equals the one ``.df()`` gave before (the independent path).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import reportgen.data.engines.embedded as embedded
from reportgen.build import sketch_periods
from reportgen.config.loader import load_report
from reportgen.data.engines import Engines
from reportgen.data.engines.base import Engine
from reportgen.data.engines.embedded import DuckDBEngine, arrow_frame
from reportgen.data.plan import needed_measures
from reportgen.data.scan import compute_cube, merge_cubes
from reportgen.periods import parse_period
from reportgen.semantics.aggregations import aggregation_of

PERIOD = parse_period("2026-W47")


@pytest.fixture
def report(demo_configs: Path):
    """The shipped weekly report on the session's demo data (scanned without a cache)."""
    return load_report(demo_configs / "reports" / "weekly_leadership.yaml")


def full_cube(report, engines: Engines):
    """The additive cube and the built period's sketches, every day scanned (no cache)."""
    measures = needed_measures(report)
    sketch = [m for m in measures if aggregation_of(report.catalog.measures[m]).is_sketch]
    cube = compute_cube(report, [m for m in measures if m not in sketch], engines=engines)
    more = compute_cube(
        report,
        sketch,
        engines=engines,
        sketch_grain=PERIOD.grain,
        sketch_periods=sketch_periods(report, PERIOD),
        data_through=cube.last_day,
    )
    return merge_cubes(cube, more)


def test_the_cube_through_arrow_equals_the_cube_through_df(report, monkeypatch):
    with Engines(report.sources, report.sources_path) as engines:
        lean = full_cube(report, engines)
    # the path before: DuckDB's .df(), as every other engine's fetch
    monkeypatch.setattr(DuckDBEngine, "fetch_scan", Engine.fetch_scan)
    with Engines(report.sources, report.sources_path) as engines:
        before = full_cube(report, engines)
    assert lean.frames.keys() == before.frames.keys()
    assert any("#" in key for key in lean.frames)  # a sketch scan is among them
    for key, frame in before.frames.items():
        # float sums may differ in the last bit: DuckDB adds in parallel, in any order
        pd.testing.assert_frame_equal(lean.frames[key], frame, check_exact=False, rtol=1e-12)
        for column in frame.select_dtypes("category"):
            assert lean.frames[key][column].cat.categories.equals(frame[column].cat.categories)


def test_each_cube_scan_closes_its_duckdb_connection(report, monkeypatch):
    opened: list[duckdb.DuckDBPyConnection] = []
    real_connect = duckdb.connect

    def connect(*args, **kwargs):
        opened.append(real_connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(embedded.duckdb, "connect", connect)
    engines = Engines(report.sources, report.sources_path)  # left open: the scans close theirs
    cube = full_cube(report, engines)
    assert len(opened) >= len(cube.queries)  # a connection per scan
    for con in opened:
        with pytest.raises(duckdb.ConnectionException):
            con.execute("SELECT 1")
    # the engine connects again for whatever asks next (the data-quality probe)
    day = engines.for_fact("decisions").fetch("SELECT DATE '2026-11-16' AS d", fact="decisions")
    assert day.iloc[0, 0] == pd.Timestamp("2026-11-16")
    engines.close()


def test_a_failed_scan_still_closes_its_connection(report):
    engine = DuckDBEngine(report.sources_path.parent)
    with pytest.raises(Exception, match="no_such_column"):
        engine.fetch_scan("SELECT no_such_column FROM range(3)", fact="decisions")
    assert engine._con is None


def test_arrow_results_have_the_numbers_df_gives():
    """HUGEINT (SUM of integers) and DECIMAL come back as float64, DATE as datetime64, NULL
    labels as missing — what ``.df()`` gives, so ``tidy`` sees the same values."""
    con = duckdb.connect()
    sql = (
        "SELECT DATE '2026-11-16' + (i % 2)::INT AS day, "
        "CASE WHEN i % 3 = 0 THEN NULL ELSE 'EMEA' END AS region, "
        "SUM(i) AS total, SUM(i::DECIMAL(18, 3) / 8) AS share, COUNT(*) AS n "
        "FROM range(10) t(i) GROUP BY ALL ORDER BY ALL"
    )
    lean, before = arrow_frame(con.sql(sql).to_arrow_table()), con.execute(sql).df()
    con.close()
    assert [str(lean[c].dtype) for c in ("total", "share", "n")] == ["float64", "float64", "int64"]
    assert lean["day"].dtype.kind == "M"
    np.testing.assert_array_equal(lean["day"].to_numpy("datetime64[us]"), before["day"])
    for column in ("total", "share", "n"):
        np.testing.assert_array_equal(lean[column].to_numpy(), before[column].to_numpy(float))
    assert lean["region"].isna().tolist() == before["region"].isna().tolist()
    assert lean["region"].dropna().tolist() == before["region"].dropna().tolist()
    # against plain Python on the raw values
    sums = {(d, r): 0 for d in (0, 1) for r in (None, "EMEA")}
    for i in range(10):
        sums[(i % 2, None if i % 3 == 0 else "EMEA")] += i
    assert sorted(lean["total"]) == sorted(float(v) for v in sums.values())
