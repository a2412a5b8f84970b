"""The synthetic demo data: schema, determinism, invariants, realistic ranges, planted incidents.

Metrics are recomputed here with plain DuckDB SQL on the raw files, independently
of the metric catalog, so a generator change that breaks the domain ranges or
hides an incident fails here rather than in a report.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import reportgen.demo.generate as generate_module
from reportgen.demo import DemoManifest, Incident, generate_demo_data
from reportgen.demo._calendar import Calendar, day_weight, site_region_share
from reportgen.errors import ConfigError, DeliveryError, ReportgenError

# Large enough that a site-week QA accuracy rests on ~150 samples; ~1 s to generate.
ROWS, WEEKS, SEED = 600_000, 26, 7
END = date(2026, 11, 25)
METRIC_IDS = {
    "decisions", "inflow", "aht", "throughput", "utilization", "sla_attainment", "qa_accuracy",
    "appeal_rate", "overturn_rate", "enforcement_error_rate", "automation_rate", "proactive_rate",
    "removed_before_views", "vvr", "high_severity_exposure", "wellness_share",
}  # fmt: skip

DECISIONS_SCHEMA = pa.schema([
    ("decision_id", pa.int64()),
    ("enqueued_at", pa.timestamp("us", tz="UTC")),
    ("decided_at", pa.timestamp("us", tz="UTC")),
    ("region", pa.string()), ("site", pa.string()), ("team", pa.string()), ("queue", pa.string()),
    ("policy", pa.string()), ("language", pa.string()), ("moderator_id", pa.string()),
    ("action", pa.string()), ("automated", pa.bool_()), ("detection", pa.string()),
    ("handle_seconds", pa.float64()), ("views_before_action", pa.int64()), ("sla_hours", pa.float64()),
    ("qa_sampled", pa.bool_()), ("qa_correct", pa.bool_()), ("appealed", pa.bool_()),
    ("overturned", pa.bool_()),
])  # fmt: skip
STAFFING_SCHEMA = pa.schema([
    ("day", pa.date32()), ("region", pa.string()), ("site", pa.string()), ("team", pa.string()),
    ("moderator_id", pa.string()), ("paid_hours", pa.float64()), ("productive_hours", pa.float64()),
    ("wellness_hours", pa.float64()), ("high_severity_hours", pa.float64()),
])  # fmt: skip
VIEWS_SCHEMA = pa.schema([
    ("day", pa.date32()), ("policy", pa.string()), ("region", pa.string()),
    ("content_views", pa.int64()), ("violative_views", pa.int64()),
])  # fmt: skip

# Week number since the Monday 1969-12-29, computed from epoch values so that no
# session time zone can shift a decision into another week.
DEC_DAY = "epoch_us(decided_at) // 86400000000"  # days since 1970-01-01 (a Thursday)
DEC_WEEK = f"({DEC_DAY} + 3) // 7"
MONDAY_ZERO = date(1969, 12, 29)
SLA_MET = "(epoch_us(decided_at) - epoch_us(enqueued_at)) <= sla_hours * 3600e6"
ENFORCED = "action IN ('remove', 'restrict')"


def week_number(monday: date) -> int:
    return (monday - MONDAY_ZERO).days // 7


@dataclass
class Demo:
    out: Path
    manifest: DemoManifest
    progress: list[tuple[int, int]]
    con: duckdb.DuckDBPyConnection

    def one(self, sql: str) -> tuple:
        row = self.con.execute(sql).fetchone()
        assert row is not None
        return row

    @property
    def week_l(self) -> int:
        monday = END - timedelta(days=END.weekday()) - timedelta(weeks=1)
        return week_number(monday)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo")
    calls: list[tuple[int, int]] = []
    manifest = generate_demo_data(
        out, rows=ROWS, weeks=WEEKS, seed=SEED, end=END, progress=lambda d, t: calls.append((d, t))
    )
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW dec AS SELECT *, {DEC_WEEK} AS wk "
        f"FROM read_parquet('{out.as_posix()}/decisions/*.parquet')"
    )
    con.execute(
        f"CREATE VIEW st AS SELECT *, (day - DATE '{MONDAY_ZERO}') // 7 AS wk "
        f"FROM read_parquet('{out.as_posix()}/staffing/*.parquet')"
    )
    con.execute(f"CREATE VIEW vw AS SELECT * FROM read_parquet('{out.as_posix()}/views.parquet')")
    return Demo(out, manifest, calls, con)


# -- files, schema, manifest -----------------------------------------------------------------


def test_files_have_exact_schemas(demo: Demo) -> None:
    for table, schema in (("decisions", DECISIONS_SCHEMA), ("staffing", STAFFING_SCHEMA)):
        parts = sorted((demo.out / table).glob("part-*.parquet"))
        assert [f"{table}/{p.name}" for p in parts] == list(demo.manifest.table(table).files)
        for part in parts:
            assert pq.read_schema(part).remove_metadata() == schema, part
    assert pq.read_schema(demo.out / "views.parquet").remove_metadata() == VIEWS_SCHEMA
    dataset = pq.read_table(demo.out / "decisions", columns=["decision_id", "region"])
    assert dataset.schema.field("region").type == pa.string()
    leftovers = [p.name for p in demo.out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_files_are_zstd_compressed(demo: Demo) -> None:
    meta = pq.ParquetFile(demo.out / demo.manifest.table("decisions").files[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_manifest_mirrors_json_and_data(demo: Demo) -> None:
    m = demo.manifest
    raw = json.loads((demo.out / "manifest.json").read_text(encoding="utf-8"))
    assert DemoManifest.from_dict(raw) == m == DemoManifest.load(demo.out)
    assert {"seed", "rows", "weeks", "start", "end", "generator_version", "tables", "org",
            "incidents", "latest_complete_week"} <= set(raw)  # fmt: skip
    assert (m.seed, m.rows, m.weeks) == (SEED, ROWS, WEEKS)
    assert m.start == date(2026, 5, 25) and m.start.weekday() == 0
    assert raw["end"] == "2026-11-25T10:00:00Z"
    assert m.end == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert (m.latest_complete_week, m.partial_week) == ("2026-W47", "2026-W48")
    counts = {
        "decisions": demo.one("SELECT count(*) FROM dec")[0],
        "staffing": demo.one("SELECT count(*) FROM st")[0],
        "views": demo.one("SELECT count(*) FROM vw")[0],
    }
    for name, rows in counts.items():
        assert m.table(name).rows == rows
    assert counts["decisions"] == ROWS
    with (demo.out / "targets.csv").open(encoding="utf-8") as f:
        assert m.table("targets").rows == sum(1 for _ in csv.DictReader(f))


def test_period_covers_whole_weeks_then_partial_end_day(demo: Demo) -> None:
    first, last, days = demo.one(
        f"SELECT min(decided_at), max(decided_at), count(DISTINCT {DEC_DAY}) FROM dec"
    )
    assert first >= datetime(2026, 5, 25, tzinfo=UTC)
    assert first < datetime(2026, 5, 25, 1, tzinfo=UTC)
    assert datetime(2026, 11, 25, 9, tzinfo=UTC) <= last < demo.manifest.end
    assert days == WEEKS * 7 + 3  # Monday to Wednesday of the partial week
    staffing_days = demo.one("SELECT count(DISTINCT day), min(day), max(day) FROM st")
    assert staffing_days == (days, date(2026, 5, 25), END)


def test_progress_reports_whole_days(demo: Demo) -> None:
    total = WEEKS * 7 + 3
    assert demo.progress[-1] == (total, total)
    done = [d for d, _ in demo.progress]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert all(t == total for _, t in demo.progress)


# -- invariants ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "violation",
    [
        "decided_at < enqueued_at",
        "qa_correct AND NOT qa_sampled",
        "qa_sampled AND automated",
        "overturned AND NOT appealed",
        f"appealed AND NOT ({ENFORCED})",
        "automated AND (handle_seconds <> 0 OR moderator_id IS NOT NULL)",
        "NOT automated AND (handle_seconds <= 0 OR moderator_id IS NULL)",
        "automated AND action = 'escalate'",
        "views_before_action < 0",
        "sla_hours NOT IN (4, 24)",
        "region IS NULL OR site IS NULL OR team IS NULL OR queue IS NULL OR policy IS NULL",
        "language IS NULL OR action IS NULL OR detection IS NULL",
    ],
)
def test_decision_invariants(demo: Demo, violation: str) -> None:
    assert demo.one(f"SELECT count(*) FROM dec WHERE {violation}") == (0,)


def test_ids_unique_and_moderators_in_one_site(demo: Demo) -> None:
    assert demo.one("SELECT count(*) - count(DISTINCT decision_id) FROM dec") == (0,)
    assert demo.one(
        "SELECT count(*) FROM (SELECT moderator_id FROM dec WHERE moderator_id IS NOT NULL "
        "GROUP BY 1 HAVING count(DISTINCT site) > 1 OR count(DISTINCT team) > 1)"
    ) == (0,)
    assert demo.one(
        "SELECT count(*) FROM (SELECT moderator_id FROM st GROUP BY 1 HAVING count(DISTINCT site) > 1)"
    ) == (0,)
    assert demo.one(
        "SELECT count(*) FROM (SELECT day, moderator_id FROM st GROUP BY ALL HAVING count(*) > 1)"
    ) == (0,)
    # every moderator-day with manual decisions has exactly one staffing row at the same site
    assert demo.one(
        f"SELECT count(*) FROM (SELECT DISTINCT DATE '1970-01-01' + CAST({DEC_DAY} AS INTEGER) AS day, "
        "moderator_id, site FROM dec WHERE NOT automated) d ANTI JOIN st USING (day, moderator_id, site)"
    ) == (0,)


def test_moderators_match_org_blocks(demo: Demo) -> None:
    home = {}
    for block in demo.manifest.org.moderators:
        first, last = int(block.first_id[1:]), int(block.last_id[1:])
        assert last - first + 1 == block.count
        for number in range(first, last + 1):
            home[f"M{number:05d}"] = (block.site, block.team)
    assert len(home) == demo.manifest.org.moderator_count
    pairs = demo.con.execute(
        "SELECT DISTINCT moderator_id, site, team FROM dec WHERE moderator_id IS NOT NULL"
    ).fetchall()
    assert all(home[m] == (s, t) for m, s, t in pairs)


def test_staffing_and_views_invariants(demo: Demo) -> None:
    assert demo.one(
        "SELECT count(*) FROM st WHERE productive_hours > paid_hours OR high_severity_hours > "
        "productive_hours + 1e-12 OR wellness_hours <= 0 OR productive_hours <= 0"
    ) == (0,)
    assert demo.one(
        "SELECT count(*) FROM vw WHERE violative_views > content_views OR content_views <= 0"
    ) == (0,)
    assert demo.one("SELECT count(*) - count(DISTINCT (day, policy, region)) FROM vw") == (0,)


# -- organisation ----------------------------------------------------------------------------


def test_org_sizes(demo: Demo) -> None:
    org = demo.manifest.org
    assert len(org.regions) >= 8 and len(org.sites) >= 20
    assert len(org.queues) >= 15 and len(org.languages) >= 20
    assert 2_000 <= org.moderator_count <= 3_000
    assert all(2 <= len(site.teams) <= 4 and site.region in org.regions for site in org.sites)
    assert all(re.fullmatch(r"[A-Z]{3}-\d", site.code) for site in org.sites)
    assert {q.policy for q in org.queues} == set(org.policies)
    by_name = {q.name: q for q in org.queues}
    assert by_name["Spam"].base_aht_seconds < by_name["Child Safety"].base_aht_seconds
    assert all(q.sla_hours == (4.0 if q.high_severity else 24.0) for q in org.queues)
    assert abs(sum(q.volume_share for q in org.queues) - 1) < 0.01
    in_data = demo.one(
        "SELECT count(DISTINCT region), count(DISTINCT site), count(DISTINCT queue), "
        "count(DISTINCT language), count(DISTINCT moderator_id) FROM dec"
    )
    assert in_data[:4] == (len(org.regions), len(org.sites), len(org.queues), len(org.languages))
    assert in_data[4] >= 1_500  # thousands of moderators actually work


def test_language_mix_depends_on_region(demo: Demo) -> None:
    top = dict(
        demo.con.execute(
            "SELECT region, arg_max(language, n) FROM "
            "(SELECT region, language, count(*) AS n FROM dec GROUP BY ALL) GROUP BY region"
        ).fetchall()
    )
    assert top["Latin America"] == "Spanish" and top["East Asia"] == "Japanese"
    assert top["North America"] == "English" and top["Middle East"] == "Arabic"


# -- realistic values ------------------------------------------------------------------------


def _metrics(demo: Demo, where: str = "TRUE") -> dict[str, float]:
    """Metrics from both facts; ``where`` may use ``wk``, which both views have."""
    d = demo.one(f"""
        SELECT
          avg(automated::INT),
          sum(handle_seconds) FILTER (NOT automated) / count(*) FILTER (NOT automated),
          avg(({SLA_MET})::INT),
          count(*) FILTER (qa_correct) / count(*) FILTER (qa_sampled),
          count(*) FILTER (qa_sampled) / count(*) FILTER (NOT automated),
          count(*) FILTER (appealed) / count(*) FILTER ({ENFORCED}),
          count(*) FILTER (overturned) / count(*) FILTER (appealed),
          count(*) FILTER (detection = 'proactive' AND {ENFORCED}) / count(*) FILTER ({ENFORCED}),
          count(*) FILTER (views_before_action = 0 AND {ENFORCED}) / count(*) FILTER ({ENFORCED}),
          count(*) FILTER (NOT automated)
        FROM dec WHERE {where}""")
    s = demo.one(f"""
        SELECT sum(productive_hours), sum(productive_hours) / sum(paid_hours),
               sum(high_severity_hours) / sum(productive_hours), sum(wellness_hours) / sum(paid_hours)
        FROM st WHERE {where}""")
    names = ["automation", "aht", "sla", "accuracy", "qa_rate", "appeal", "overturn", "proactive",
             "zero_views"]  # fmt: skip
    values = dict(zip(names, d[:-1], strict=True))
    values.update(throughput=d[-1] / s[0], utilization=s[1], exposure=s[2], wellness=s[3])
    return values


RANGES = {
    "automation": (0.50, 0.80),
    "aht": (20, 120),
    "sla": (0.85, 0.99),
    "accuracy": (0.88, 0.97),
    "qa_rate": (0.08, 0.13),
    "appeal": (0.01, 0.05),
    "overturn": (0.05, 0.30),
    "proactive": (0.80, 0.98),
    "zero_views": (0.60, 0.90),
    "throughput": (30, 150),
    "utilization": (0.75, 0.90),
    "exposure": (0.0, 0.50),
    "wellness": (0.05, 0.10),
}


def test_overall_metrics_in_domain_ranges(demo: Demo) -> None:
    values = _metrics(demo)
    for name, (low, high) in RANGES.items():
        assert low <= values[name] <= high, (name, values[name])
    vvr = demo.one("SELECT sum(violative_views) / sum(content_views) FROM vw")[0]
    assert 1e-4 <= vvr <= 1e-3


def test_ordinary_week_metrics_in_domain_ranges(demo: Demo) -> None:
    # a week with no incident, five weeks before L
    values = _metrics(demo, f"wk = {demo.week_l - 5}")
    for name, (low, high) in RANGES.items():
        assert low <= values[name] <= high, (name, values[name])


def test_segments_stay_plausible(demo: Demo) -> None:
    by_site = demo.con.execute(f"""
        SELECT site, sum(handle_seconds) FILTER (NOT automated) / count(*) FILTER (NOT automated),
               avg(({SLA_MET})::INT)
        FROM dec GROUP BY site""").fetchall()
    ahts = [a for _, a, _ in by_site]
    assert max(ahts) / min(ahts) > 1.08  # sites differ ...
    assert all(40 <= a <= 80 and 0.85 <= s <= 0.995 for _, a, s in by_site)  # ... but not wildly
    exposure = demo.con.execute(
        "SELECT team, sum(high_severity_hours) / sum(productive_hours) FROM st GROUP BY team"
    ).fetchall()
    assert all(e <= 0.5 for _, e in exposure)


def test_weekends_are_quieter(demo: Demo) -> None:
    weekday, weekend = demo.one(
        f"SELECT count(*) FILTER (({DEC_DAY} + 3) % 7 < 5) / 5, "
        f"count(*) FILTER (({DEC_DAY} + 3) % 7 >= 5) / 2 FROM dec WHERE wk <= {demo.week_l}"
    )
    assert 0.65 <= weekend / weekday <= 0.85


def test_holidays_lower_volume() -> None:
    calendar = Calendar(date(2026, 1, 14), 60)
    share = site_region_share()
    christmas = day_weight(calendar, date(2025, 12, 25), share)  # a Thursday
    ordinary = day_weight(calendar, date(2025, 12, 11), share)  # two Thursdays earlier
    assert christmas < 0.75 * ordinary


# -- incidents -------------------------------------------------------------------------------


def _incident(demo: Demo, incident_id: str) -> Incident:
    (incident,) = [i for i in demo.manifest.incidents if i.id == incident_id]
    return incident


def test_incidents_are_described(demo: Demo) -> None:
    incidents = {i.id: i for i in demo.manifest.incidents}
    assert set(incidents) == {
        "site_accuracy_drop", "queue_aht_spike", "mix_shift_slow_queue", "sla_breach_week",
    }  # fmt: skip
    for incident in incidents.values():
        assert incident.metric in METRIC_IDS
        assert incident.direction in {"up", "down"}
        assert incident.description and incident.magnitude
    assert incidents["sla_breach_week"].week == "2026-W46"
    assert {incidents[i].week for i in incidents if i != "sla_breach_week"} == {"2026-W47"}
    assert incidents["site_accuracy_drop"].segment in {s.code for s in demo.manifest.org.sites}
    assert incidents["sla_breach_week"].segment in demo.manifest.org.regions


def test_site_accuracy_drop_is_visible(demo: Demo) -> None:
    site = _incident(demo, "site_accuracy_drop").segment
    week, trailing = demo.one(f"""
        SELECT count(*) FILTER (qa_correct AND wk = {demo.week_l}) / count(*) FILTER (qa_sampled AND wk = {demo.week_l}),
               count(*) FILTER (qa_correct AND wk < {demo.week_l}) / count(*) FILTER (qa_sampled AND wk < {demo.week_l})
        FROM dec WHERE site = '{site}' AND wk BETWEEN {demo.week_l - 8} AND {demo.week_l}""")
    assert trailing - week >= 0.08


def test_queue_aht_spike_is_visible(demo: Demo) -> None:
    queue = _incident(demo, "queue_aht_spike").segment
    week, baseline = demo.one(f"""
        SELECT avg(handle_seconds) FILTER (wk = {demo.week_l}), avg(handle_seconds) FILTER (wk < {demo.week_l})
        FROM dec WHERE NOT automated AND queue = '{queue}' AND wk BETWEEN {demo.week_l - 8} AND {demo.week_l}""")
    assert week >= 1.30 * baseline


def test_mix_shift_doubles_slow_queue_share(demo: Demo) -> None:
    incident = _incident(demo, "mix_shift_slow_queue")
    queue = incident.segment
    slowest_busy = max(
        sorted(demo.manifest.org.queues, key=lambda q: -q.volume_share * (1 - q.automation_rate))[
            :4
        ],
        key=lambda q: q.base_aht_seconds,
    )
    assert queue == slowest_busy.name
    week, baseline, own_week, own_base = demo.one(f"""
        SELECT avg((queue = '{queue}')::INT) FILTER (wk = {demo.week_l}),
               avg((queue = '{queue}')::INT) FILTER (wk < {demo.week_l}),
               avg(handle_seconds) FILTER (wk = {demo.week_l} AND queue = '{queue}'),
               avg(handle_seconds) FILTER (wk < {demo.week_l} AND queue = '{queue}')
        FROM dec WHERE NOT automated AND wk BETWEEN {demo.week_l - 8} AND {demo.week_l}""")
    assert week >= 1.6 * baseline
    assert abs(own_week / own_base - 1) < 0.08  # the queue itself is not slower: pure mix
    overall = demo.con.execute(f"""
        SELECT wk, avg(handle_seconds) FROM dec WHERE NOT automated
          AND wk BETWEEN {demo.week_l - 8} AND {demo.week_l} GROUP BY wk ORDER BY wk""").fetchall()
    assert overall[-1][1] > 1.08 * max(a for _, a in overall[:-1])


def test_sla_breach_week_is_visible(demo: Demo) -> None:
    region = _incident(demo, "sla_breach_week").segment
    rows = dict(
        demo.con.execute(f"""
        SELECT wk, avg(({SLA_MET})::INT) FROM dec WHERE region = '{region}'
          AND wk BETWEEN {demo.week_l - 4} AND {demo.week_l} GROUP BY wk""").fetchall()
    )
    assert rows[demo.week_l - 1] <= 0.80
    assert all(v >= 0.90 for wk, v in rows.items() if wk != demo.week_l - 1)


# -- targets ---------------------------------------------------------------------------------


def test_targets_file(demo: Demo) -> None:
    with (demo.out / "targets.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["metric", "valid_from", "dimension", "segment", "target"]
        rows = list(reader)
    global_rows = [r for r in rows if not r["dimension"] and not r["segment"]]
    metrics = {r["metric"] for r in global_rows}
    assert {"aht", "sla_attainment", "qa_accuracy", "overturn_rate", "automation_rate",
            "proactive_rate", "high_severity_exposure", "utilization", "throughput"} <= metrics  # fmt: skip
    assert {r["metric"] for r in rows} <= METRIC_IDS
    changing = [m for m in metrics if sum(r["metric"] == m for r in global_rows) > 1]
    assert len(changing) >= 2
    regional = [r for r in rows if r["dimension"] == "region" and r["metric"] == "qa_accuracy"]
    assert len({r["segment"] for r in regional}) == 2
    assert all(r["segment"] in demo.manifest.org.regions for r in regional)
    for r in rows:
        valid_from = date.fromisoformat(r["valid_from"])
        assert valid_from.weekday() == 0 and demo.manifest.start <= valid_from <= END
        value = float(r["target"])
        if r["metric"] in {"aht", "throughput"}:
            assert value > 1
        else:
            assert 0 < value < 1  # fractions, not percentages


# -- determinism and chunking ----------------------------------------------------------------

SMALL = {"rows": 60_000, "weeks": 26, "seed": 3, "end": END}


def _file_bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = generate_demo_data(tmp_path / "a", **SMALL)
    second = generate_demo_data(tmp_path / "b", **SMALL)
    assert first == second
    assert _file_bytes(tmp_path / "a") == _file_bytes(tmp_path / "b")
    other = generate_demo_data(tmp_path / "c", **{**SMALL, "seed": 4})
    assert (
        _file_bytes(tmp_path / "c")["decisions/part-00000.parquet"]
        != _file_bytes(tmp_path / "a")["decisions/part-00000.parquet"]
    )
    assert other.rows == first.rows


def test_output_does_not_depend_on_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = generate_demo_data(tmp_path / "ref", **SMALL)
    monkeypatch.setattr(generate_module, "CHUNK_ROWS", 7_000)
    chunked = generate_demo_data(tmp_path / "out", **SMALL)
    assert len(chunked.table("decisions").files) > len(reference.table("decisions").files) + 3
    for table in ("decisions", "staffing"):
        assert pq.read_table(tmp_path / "ref" / table).equals(
            pq.read_table(tmp_path / "out" / table)
        )
    # a later run with bigger chunks removes the now stale parts and matches byte for byte
    monkeypatch.undo()
    generate_demo_data(tmp_path / "out", **SMALL)
    assert _file_bytes(tmp_path / "out") == _file_bytes(tmp_path / "ref")


# -- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rows": 9_999},
        {"rows": 2.5e6},
        {"rows": True},
        {"weeks": 25},
        {"weeks": 10_000},
        {"seed": -1},
        {"end": datetime(2026, 11, 25, 10)},
        {"end": "2026-11-25"},
        {"rows": 10_000, "weeks": 520},  # fewer than 20 decisions a day
    ],
)
def test_bad_arguments_raise_with_fix(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        generate_demo_data(tmp_path / "demo", **kwargs)
    assert caught.value.fix
    assert "Fix:" in str(caught.value)
    assert not (tmp_path / "demo").exists()  # nothing is written before the arguments are checked


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DeliveryError) as caught:
        generate_demo_data(blocker, rows=10_000, weeks=26)
    assert isinstance(caught.value, ReportgenError) and caught.value.fix
