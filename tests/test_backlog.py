"""Backlog: a stock read from daily queue snapshots, never summed over days.

Each figure is recomputed from the raw Parquet with plain SQL: the period's
last-day snapshot, and — independently of the snapshot table — the demo's
decisions and still-open items (enqueued by the period's end, decided after
it or not at all).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from reportgen.config.loader import load_catalog, load_report
from reportgen.data.cache import CubeCache
from reportgen.data.plan import needed_measures
from reportgen.data.quality import check_quality
from reportgen.data.scan import compute_cube
from reportgen.errors import ConfigError
from reportgen.figures import Targets, compute_figures
from reportgen.periods import parse_period

W47_END, W46_END = date(2026, 11, 22), date(2026, 11, 15)


@pytest.fixture(scope="module")
def snapshots(demo_dir: Path) -> str:
    return f"read_parquet('{demo_dir}/queue_snapshots.parquet')"


@pytest.fixture(scope="module")
def backlog(built_report):
    return built_report.figures.metrics["backlog"]


def snapshot_sum(raw, snapshots: str, day: date, by: str | None = None):
    if by is None:
        sql = f"SELECT sum(pending_items) FROM {snapshots} WHERE day = DATE '{day}'"
        return float(raw.execute(sql).fetchone()[0])
    sql = f"SELECT {by}, sum(pending_items) FROM {snapshots} WHERE day = DATE '{day}' GROUP BY 1"
    return {k: float(v) for k, v in raw.execute(sql).fetchall()}


def test_period_backlog_is_the_sum_of_its_last_day_snapshot(raw, snapshots, backlog):
    assert backlog.as_of == W47_END
    assert backlog.value == snapshot_sum(raw, snapshots, W47_END)
    week_sum = raw.execute(
        f"SELECT sum(pending_items) FROM {snapshots} WHERE day BETWEEN DATE '2026-11-16' AND DATE '{W47_END}'"
    ).fetchone()[0]
    assert backlog.value < week_sum / 5  # never the sum of the week's days


def test_segment_backlog_is_its_own_last_day_snapshot(raw, snapshots, backlog):
    for dim in ("region", "queue"):
        expected = snapshot_sum(raw, snapshots, W47_END, by=dim)
        previous = snapshot_sum(raw, snapshots, W46_END, by=dim)
        got = {s.segment: s for s in backlog.breakdowns[dim]}
        assert {k: s.value for k, s in got.items()} == expected
        assert {k: s.previous for k, s in got.items()} == previous
        assert sum(s.value for s in got.values()) == backlog.value


def test_previous_period_reads_the_previous_periods_last_day(raw, snapshots, backlog):
    assert backlog.previous_as_of == W46_END
    assert backlog.previous == snapshot_sum(raw, snapshots, W46_END)
    assert backlog.delta == backlog.value - backlog.previous


def test_segment_changes_add_up_and_the_largest_contributions_are_named(backlog):
    from reportgen.wording import mover_sentence

    for segments in backlog.breakdowns.values():
        assert sum(s.delta for s in segments) == backlog.delta  # one day: additive
    regions = backlog.breakdowns["region"]
    top = max(regions, key=lambda s: abs(s.delta))
    sentence = mover_sentence(backlog, "Region", regions)
    assert sentence.startswith("Largest contributions by region to the ")
    assert sentence.split(": ", 1)[1].startswith(f"{top.segment} ")


def test_backlog_equals_items_enqueued_by_period_end_and_not_yet_decided(raw, demo_dir, backlog):
    """Independent of the snapshot table: decisions and open items at Sunday 24:00 UTC."""
    end = "TIMESTAMPTZ '2026-11-23 00:00:00+00'"
    decided_later = raw.execute(
        f"SELECT count(*) FROM read_parquet('{demo_dir}/decisions/*.parquet') "
        f"WHERE enqueued_at < {end} AND decided_at >= {end}"
    ).fetchone()[0]
    still_open = raw.execute(
        f"SELECT count(*) FROM read_parquet('{demo_dir}/open_items.parquet') WHERE enqueued_at < {end}"
    ).fetchone()[0]
    assert decided_later > 0 and still_open > 0
    assert backlog.value == decided_later + still_open


def test_every_snapshot_cell_agrees_with_decisions_and_open_items(raw, demo_dir, snapshots):
    """Per day × site × queue over the whole history: the generator's counts are exact."""
    diff = raw.execute(
        f"""
        WITH pending AS (
            SELECT site, queue, unnest(generate_series(
                CAST(enqueued_at AT TIME ZONE 'UTC' AS DATE),
                CAST(decided_at AT TIME ZONE 'UTC' AS DATE) - 1, INTERVAL 1 DAY)) AS day
            FROM read_parquet('{demo_dir}/decisions/*.parquet')
            WHERE CAST(decided_at AT TIME ZONE 'UTC' AS DATE)
                > CAST(enqueued_at AT TIME ZONE 'UTC' AS DATE)
            UNION ALL
            SELECT o.site, o.queue, d.day FROM read_parquet('{demo_dir}/open_items.parquet') o
            JOIN (SELECT DISTINCT day FROM {snapshots}) d
              ON d.day >= CAST(o.enqueued_at AT TIME ZONE 'UTC' AS DATE)
        ), counted AS (
            SELECT CAST(day AS DATE) AS day, site, queue, count(*) AS n FROM pending GROUP BY ALL
        )
        SELECT count(*) FROM {snapshots} s
        LEFT JOIN counted c USING (day, site, queue)
        WHERE s.pending_items != coalesce(c.n, 0)
        """
    ).fetchone()[0]
    assert diff == 0


@pytest.fixture(scope="module")
def report(weekly_config):
    return load_report(weekly_config)


@pytest.fixture(scope="module")
def cube(report):
    return compute_cube(report, needed_measures(report))


def test_weekly_history_is_each_weeks_closing_snapshot(raw, snapshots, backlog):
    for point in backlog.series:
        sunday = point.start + pd.Timedelta(days=6)
        assert point.value == snapshot_sum(raw, snapshots, sunday), point.period


def test_an_incomplete_period_reads_its_latest_day_and_is_labelled(report, cube, raw, snapshots):
    period = parse_period("2026-W48")
    figures = compute_figures(report, cube, period, Targets.load(report), quality=())
    m = figures.metrics["backlog"]
    assert not figures.complete and not m.series[-1].complete
    assert m.as_of == date(2026, 11, 25)  # the newest snapshot, not the week's Sunday
    assert m.value == snapshot_sum(raw, snapshots, date(2026, 11, 25))


def test_a_daily_report_takes_each_days_snapshot(report, cube, raw, snapshots):
    from dataclasses import replace

    daily = replace(
        report,
        config=report.config.model_copy(
            update={"period": report.config.period.model_copy(update={"grain": "day"})}
        ),
    )
    period = parse_period("2026-11-11")
    figures = compute_figures(daily, cube, period, Targets.load(daily), quality=())
    series = figures.metrics["backlog"].series
    for point in series:
        assert point.value == snapshot_sum(raw, snapshots, point.start)


def test_a_stock_gets_no_significance_test_and_says_why(built_report):
    data = json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))
    test = data["insights"]["tests"]["backlog"]
    assert test["kind"] == "none" and "snapshot" in test["reason"]
    assert "backlog" not in data["insights"]["decompositions"]


def test_the_sla_outage_raises_latin_americas_backlog(backlog):
    region = {s.segment: s for s in backlog.breakdowns["region"]}["Latin America"]
    history = [p.value for p in backlog.series[:-4]]
    assert region.previous > 2.5 * pd.Series(history).median() / 8  # W46 vs a typical region
    assert backlog.previous > 1.3 * pd.Series(history).median()


def test_a_cached_cube_gives_the_same_backlog_as_a_cold_one(report, cube, tmp_path):
    period = parse_period("2026-W47")
    targets = Targets.load(report)
    cache = tmp_path / "cache"
    compute_cube(report, needed_measures(report), cache=CubeCache(cache))  # fills the cache
    cached = compute_cube(report, needed_measures(report), cache=CubeCache(cache))
    cold = compute_figures(report, cube, period, targets, quality=()).metrics["backlog"]
    warm = compute_figures(report, cached, period, targets, quality=()).metrics["backlog"]
    assert warm == cold


def test_a_missing_closing_snapshot_is_reported_not_read_as_zero(report, cube):
    from dataclasses import replace

    key = next(q.key for q in cube.queries if q.fact == "queue_snapshots")
    frame = cube.frames[key]
    holed = replace(cube, frames={**cube.frames, key: frame[frame["day"] != "2026-11-22"]})
    period = parse_period("2026-W47")
    figures = compute_figures(report, holed, period, Targets.load(report), quality=())
    m = figures.metrics["backlog"]
    assert m.as_of == date(2026, 11, 21) and m.value > 0
    issues = check_quality(report, holed, period.trailing(13), period)
    stale = [i for i in issues if i.fact == "queue_snapshots" and "closing snapshot" in i.line()]
    assert len(stale) == 1 and stale[0].period == "2026-W47"
    assert "Sun 22 Nov: missing, read from Sat 21 Nov" in stale[0].line()
    assert stale[0].severity == "warning"  # the build goes on, with the Data quality section


def test_a_missing_closing_snapshot_in_the_trend_is_reported_too(report, cube):
    from dataclasses import replace

    key = next(q.key for q in cube.queries if q.fact == "queue_snapshots")
    frame = cube.frames[key]
    holed = replace(cube, frames={**cube.frames, key: frame[frame["day"] != "2026-10-25"]})
    period = parse_period("2026-W47")
    issues = check_quality(report, holed, period.trailing(13), period)
    stale = [i for i in issues if i.fact == "queue_snapshots" and "closing snapshot" in i.line()]
    assert [i.period for i in stale] == ["2026-W43"]


# -- config errors --------------------------------------------------------------------------


def catalog_with(tmp_path: Path, old: str, new: str, configs: Path) -> Path:
    text = (configs / "catalog.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalog.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line
    )


@pytest.mark.parametrize(
    ("old", "new", "needle", "message", "fix"),
    [
        (
            "    agg: last\n    column: pending_items\n",
            "    agg: last\n    column: pending_items\n    time_column: day\n",
            "  pending_items:",
            "takes no 'time_column'",
            "",
        ),
        (
            "agg: count, filter: NOT automated}",
            "agg: last, column: handle_seconds}",
            "manual_decisions: {fact: decisions, agg: last",
            "whose time column 'decided_at' is a timestamp",
            "Fix: read a stock from a fact with one snapshot row per day",
        ),
        (
            "columns: {pending_items: number}",
            "columns: {pending_items: text}",
            "    column: pending_items",
            "declares as text",
            "Fix: name a numeric column",
        ),
        (
            "    sum: handle_seconds\n",
            "    sum: pending_items\n",
            "    sum: pending_items",
            "uses 'pending_items' (agg 'last', a period-end snapshot) as its sum",
            "Fix: make it a 'total' metric",
        ),
    ],
    ids=["time_column", "timestamp_fact", "text_column", "mean_of_stock"],
)
def test_misused_last_aggregation_is_a_config_error_with_line_and_fix(
    tmp_path, old, new, needle, message, fix
):
    from .conftest import CONFIGS

    path = catalog_with(tmp_path, old, new, CONFIGS)
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    error = info.value
    assert error.context["file"] == str(path)
    assert error.context["line"] == line_of(path, needle)
    assert message in str(error) and fix in str(error)


def test_a_duplicated_snapshot_row_stops_the_build_naming_the_composite_key(
    demo_configs, demo_dir, tmp_path, raw
):
    import shutil

    from reportgen.data.engines import Engines
    from reportgen.data.quality import run_gate
    from reportgen.errors import DataQualityError

    configs = tmp_path / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", tmp_path / "templates")
    copy = tmp_path / "queue_snapshots.parquet"
    raw.execute(
        f"COPY (SELECT * FROM read_parquet('{demo_dir}/queue_snapshots.parquet') UNION ALL "
        f"SELECT * FROM read_parquet('{demo_dir}/queue_snapshots.parquet') "
        "WHERE day = DATE '2026-11-20' AND site = 'MNL-2' AND queue = 'Spam') TO "
        f"'{copy}' (FORMAT parquet)"
    )
    sources = configs / "sources.yaml"
    sources.write_text(
        sources.read_text().replace(f"{demo_dir}/queue_snapshots.parquet", str(copy)),
        encoding="utf-8",
    )
    report = load_report(configs / "reports" / "weekly_leadership.yaml")
    cube = compute_cube(report, needed_measures(report))
    engines = Engines(report.sources, report.sources_path)
    try:
        with pytest.raises(DataQualityError) as info:
            run_gate(report, cube, parse_period("2026-W47"), engines)
    finally:
        engines.close()
    message = str(info.value)
    assert "queue_snapshots.duplicate_keys — (day, site, queue) occurs more than once" in message
    assert "1 row in 2026-W47" in message
    assert "(e.g. (day, site, queue) 2026-11-20 / MNL-2 / Spam)" in message


def test_the_manifest_lists_the_snapshot_tables(demo_dir, raw):
    from reportgen.demo import DemoManifest

    manifest = DemoManifest.load(demo_dir)
    for name in ("queue_snapshots", "open_items"):
        table = manifest.table(name)
        files = ", ".join(f"'{demo_dir}/{f}'" for f in table.files)
        assert (
            table.rows == raw.execute(f"SELECT count(*) FROM read_parquet([{files}])").fetchone()[0]
        )
    assert manifest.table("queue_snapshots").rows == 25 * 16 * (60 * 7 + 3)  # dense grid
