"""Write the demo data set: argument checks, chunked generation, atomic Parquet writes, manifest.

Memory stays bounded because only a few chunks of whole days (about
``CHUNK_ROWS`` rows each) exist at once; up to ``MAX_WORKERS`` chunks are
generated in parallel threads (numpy and the Parquet writer release the GIL
for most of the work). Output is byte-identical for the same arguments: every
day has its own random stream, ids come from the fixed daily counts, and the
Parquet writer settings are pinned.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError, DeliveryError
from ._calendar import Calendar, Chunk, daily_counts, iso_week, monday, plan_chunks
from ._day import ACTIONS, DETECTIONS, DayContext, Roster, generate_day
from ._incidents import IncidentPlan
from ._manifest import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    DemoManifest,
    ModeratorBlock,
    OrgInfo,
    QueueInfo,
    SiteInfo,
    TableInfo,
)
from ._org import LANGUAGES, POLICIES, QUEUES, REGIONS, SITES, TEAMS, OrgArrays
from ._snapshots import (
    PendingGrid,
    merge_open,
    snapshot_columns,
    stranded_items,
    tail_items,
)
from ._tables import targets_csv, views_columns

GENERATOR = "reportgen.demo"
GENERATOR_VERSION = "1.1"  # 1.1: queue_snapshots and open_items
CHUNK_ROWS = 1_000_000
MAX_WORKERS = 2
MIN_ROWS = 10_000
MAX_ROWS = 2_000_000_000
MIN_WEEKS = 26
MAX_WEEKS = 520
MIN_ROWS_PER_DAY = 20
DELTA_COLUMNS = ("decision_id", "enqueued_at", "decided_at")

ProgressFn = Callable[[int, int], None]

DECISIONS_SCHEMA = pa.schema(
    [
        ("decision_id", pa.int64()),
        ("enqueued_at", pa.timestamp("us", tz="UTC")),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("region", pa.string()),
        ("site", pa.string()),
        ("team", pa.string()),
        ("queue", pa.string()),
        ("policy", pa.string()),
        ("language", pa.string()),
        ("moderator_id", pa.string()),
        ("action", pa.string()),
        ("automated", pa.bool_()),
        ("detection", pa.string()),
        ("handle_seconds", pa.float64()),
        ("views_before_action", pa.int64()),
        ("sla_hours", pa.float64()),
        ("qa_sampled", pa.bool_()),
        ("qa_correct", pa.bool_()),
        ("appealed", pa.bool_()),
        ("overturned", pa.bool_()),
    ]
)
STAFFING_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("region", pa.string()),
        ("site", pa.string()),
        ("team", pa.string()),
        ("moderator_id", pa.string()),
        ("paid_hours", pa.float64()),
        ("productive_hours", pa.float64()),
        ("wellness_hours", pa.float64()),
        ("high_severity_hours", pa.float64()),
    ]
)
SNAPSHOTS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("region", pa.string()),
        ("site", pa.string()),
        ("queue", pa.string()),
        ("policy", pa.string()),
        ("pending_items", pa.int64()),
    ]
)
OPEN_ITEMS_SCHEMA = pa.schema(
    [
        ("item_id", pa.int64()),
        ("enqueued_at", pa.timestamp("us", tz="UTC")),
        ("region", pa.string()),
        ("site", pa.string()),
        ("queue", pa.string()),
        ("policy", pa.string()),
    ]
)
VIEWS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("policy", pa.string()),
        ("region", pa.string()),
        ("content_views", pa.int64()),
        ("violative_views", pa.int64()),
    ]
)


def generate_demo_data(
    out_dir: Path,
    rows: int = 2_000_000,
    weeks: int = 60,
    seed: int = 7,
    end: date = date(2026, 11, 25),
    progress: ProgressFn | None = None,
) -> DemoManifest:
    """Generate the synthetic moderation-operations data set into ``out_dir``.

    Returns the manifest that was written to ``out_dir/manifest.json``.
    ``progress(done_days, total_days)`` is called each time a chunk is on disk.
    Raises :class:`~reportgen.errors.ConfigError` for bad arguments and
    :class:`~reportgen.errors.DeliveryError` when ``out_dir`` cannot be written.
    """
    _validate(rows, weeks, seed, end)
    out = _prepare(Path(out_dir))
    calendar = Calendar(end, weeks)
    counts = daily_counts(calendar, rows, seed)
    chunks = plan_chunks(counts, CHUNK_ROWS)
    org = OrgArrays()
    ctx = DayContext(
        calendar,
        seed,
        IncidentPlan.for_calendar(calendar),
        org,
        Roster.build(seed, org.moderator_count),
    )
    written = _write_chunks(out, ctx, counts, chunks, progress)
    staffing_rows = list(written.staffing_rows)
    _remove_stale_parts(out, {chunk.name for chunk in chunks})
    snapshot_rows, open_rows = _write_snapshots(out, ctx, counts, written)
    views_rows = _write_views(out, calendar, seed)
    targets = targets_csv(calendar)
    _write_text(out / "targets.csv", targets)
    manifest = _manifest(
        calendar,
        seed,
        int(counts.sum()),
        org,
        ctx.incidents,
        chunks,
        staffing_rows,
        views_rows,
        targets.count("\n") - 1,
        snapshot_rows,
        open_rows,
    )
    _write_text(out / MANIFEST_NAME, manifest.to_json())
    return manifest


# -- arguments and folders -------------------------------------------------------------------


def _validate(rows: int, weeks: int, seed: int, end: date) -> None:
    def whole(value: object) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    if not whole(rows) or not MIN_ROWS <= rows <= MAX_ROWS:
        raise ConfigError(
            f"rows must be a whole number from {MIN_ROWS:,} to {MAX_ROWS:,}, got {rows!r}",
            key="rows",
            fix=f"pass --rows {MIN_ROWS} or more (the default is 2000000)",
        )
    if not whole(weeks) or not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise ConfigError(
            f"weeks must be a whole number from {MIN_WEEKS} to {MAX_WEEKS}, got {weeks!r}",
            key="weeks",
            fix=f"pass --weeks {MIN_WEEKS} or more; 60 (the default) "
            "also covers the same week last year",
        )
    if not whole(seed) or seed < 0:
        raise ConfigError(
            f"seed must be a non-negative whole number, got {seed!r}",
            key="seed",
            fix="pass --seed 7, or any other number >= 0",
        )
    if not isinstance(end, date) or isinstance(end, datetime):
        raise ConfigError(
            f"end must be a date, got {end!r}",
            key="end",
            fix="pass --end as YYYY-MM-DD, e.g. 2026-11-25",
        )
    days = len(Calendar(end, weeks).days)
    if rows < MIN_ROWS_PER_DAY * days:
        raise ConfigError(
            f"{rows:,} rows over {days} days is fewer than {MIN_ROWS_PER_DAY} decisions a day",
            key="rows",
            fix=f"pass --rows {MIN_ROWS_PER_DAY * days} or more, or fewer --weeks",
        )


def _prepare(out: Path) -> Path:
    """Create the folders; drop the old manifest and temp files so a killed run is never mistaken for a whole one."""
    try:
        for folder in (out, out / "decisions", out / "staffing"):
            folder.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST_NAME).unlink(missing_ok=True)
        for folder in (out, out / "decisions", out / "staffing"):
            for temp in folder.glob(".*.tmp"):
                temp.unlink()
    except OSError as error:
        raise DeliveryError(
            f"cannot write demo data to {out}: {error.strerror or error}",
            fix="pass --out a folder you can write to (it is created if missing)",
        ) from error
    return out


def _remove_stale_parts(out: Path, keep: set[str]) -> None:
    """Parts left by an earlier run with more chunks would otherwise be read as data."""
    for table in ("decisions", "staffing"):
        for part in (out / table).glob("part-*.parquet"):
            if part.name not in keep:
                part.unlink()


def _write_text(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(temp, path)


def _write_parquet(path: Path, table: pa.Table) -> None:
    """Pinned writer settings keep the bytes identical across runs.

    ``store_schema=False`` makes readers see plain ``string`` columns although
    they are written straight from dictionary arrays (Parquet dictionary-encodes
    them either way). Ids and sorted timestamps are delta-encoded: far smaller
    and faster than dictionary or plain encoding for them.
    """
    delta = [n for n in DELTA_COLUMNS if n in table.column_names]
    temp = path.with_name(f".{path.name}.tmp")
    pq.write_table(
        table,
        temp,
        row_group_size=262_144,
        compression="zstd",
        compression_level=3,
        use_dictionary=[n for n in table.column_names if n not in delta],
        column_encoding=dict.fromkeys(delta, "DELTA_BINARY_PACKED"),
        write_statistics=True,
        version="2.6",
        store_schema=False,
    )
    os.replace(temp, path)


# -- chunks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dictionaries:
    """Arrow dictionaries for the coded string columns, built once per run."""

    region: pa.Array
    site: pa.Array
    team: pa.Array
    queue: pa.Array
    policy: pa.Array
    language: pa.Array
    moderator_id: pa.Array
    action: pa.Array
    detection: pa.Array

    @classmethod
    def build(cls, org: OrgArrays) -> _Dictionaries:
        return cls(
            *(
                pa.array(values, pa.string())
                for values in (
                    org.region_names,
                    org.site_codes,
                    TEAMS,
                    org.queue_names,
                    POLICIES,
                    LANGUAGES,
                    org.moderator_ids,
                    ACTIONS,
                    DETECTIONS,
                )
            )
        )


@dataclass(frozen=True)
class _Written:
    """What chunks leave behind besides their files: counts for the snapshot tables.

    ``pending`` is summed as chunks finish, so memory stays one (days × sites ×
    queues) array whatever the number of chunks.
    """

    staffing_rows: tuple[int, ...]  # per chunk, in chunk order
    pending: np.ndarray  # (days × sites × queues) items pending at each day's end
    stranded: dict[str, np.ndarray]  # items the SLA outage left open (enqueued_at, site, queue)


def _write_chunks(
    out: Path, ctx: DayContext, counts: np.ndarray, chunks: list[Chunk], progress: ProgressFn | None
) -> _Written:
    """Generate and write every chunk; returns what they counted, folded in chunk order."""
    dictionaries = _Dictionaries.build(ctx.org)
    total_days = len(counts)
    _ = (
        ctx.action_flat,
        ctx.team_flat,
        ctx.language_flat,
        ctx.hour_flat_full,
    )  # warm caches before threads

    def run(chunk: Chunk) -> _Written:
        return _write_chunk(out, ctx, dictionaries, counts, chunk)

    staffing_rows: list[int] = []
    pending = PendingGrid(ctx.calendar).empty()
    stranded: list[dict[str, np.ndarray]] = []
    done_days = 0
    workers = max(1, min(MAX_WORKERS, len(chunks), _cpu_count()))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # map() yields in chunk order, so progress only ever moves forward
        for chunk, written in zip(chunks, pool.map(run, chunks), strict=True):
            staffing_rows.append(written.staffing_rows[0])
            pending += written.pending
            stranded.append(written.stranded)
            done_days += chunk.day_count
            if progress is not None:
                progress(done_days, total_days)
    return _Written(tuple(staffing_rows), pending, merge_open(stranded))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _write_chunk(
    out: Path, ctx: DayContext, dicts: _Dictionaries, counts: np.ndarray, chunk: Chunk
) -> _Written:
    """Generate the chunk's days into preallocated columns, then write both facts.

    Copying each day into chunk-sized buffers (instead of concatenating a list
    of days) keeps only one copy of the chunk in memory. Each day's items are
    also counted into the pending-items grid (see :mod:`._snapshots`).
    """
    columns: dict[str, np.ndarray] = {}
    staffing: list[dict[str, np.ndarray]] = []
    grid = PendingGrid(ctx.calendar)
    pending = grid.empty()
    stranded: list[dict[str, np.ndarray]] = []
    position, first_id = 0, chunk.first_id
    for i in range(chunk.first_day, chunk.first_day + chunk.day_count):
        n = int(counts[i])
        day = generate_day(ctx, ctx.calendar.days[i], n, first_id)
        rows = day.decisions
        grid.add(pending, rows["enqueued_at"], rows["decided_at"], rows["site"], rows["queue"])
        stranded.append(stranded_items(ctx, ctx.calendar.days[i], rows))
        for name, values in day.decisions.items():
            if name not in columns:
                columns[name] = np.empty(chunk.rows, dtype=_buffer_dtype(values))
            columns[name][position : position + n] = values
        staffing.append(day.staffing)
        position, first_id = position + n, first_id + n
    _write_parquet(out / "decisions" / chunk.name, _arrow_table(DECISIONS_SCHEMA, columns, dicts))
    del columns
    staffing_columns = {name: np.concatenate([d[name] for d in staffing]) for name in staffing[0]}
    staffing_table = _arrow_table(STAFFING_SCHEMA, staffing_columns, dicts)
    _write_parquet(out / "staffing" / chunk.name, staffing_table)
    return _Written((staffing_table.num_rows,), pending, merge_open(stranded))


def _write_snapshots(
    out: Path, ctx: DayContext, counts: np.ndarray, written: _Written
) -> tuple[int, int]:
    """queue_snapshots.parquet and open_items.parquet; returns their row counts.

    Open items (never decided in the data) get ids after the last decision id,
    in enqueue order, and are counted on every snapshot from their enqueue day.
    """
    grid = PendingGrid(ctx.calendar)
    pending = written.pending.copy()
    open_items = merge_open([tail_items(ctx, counts), written.stranded])
    grid.add(pending, open_items["enqueued_at"], None, open_items["site"], open_items["queue"])
    dicts = _Dictionaries.build(ctx.org)
    snapshots = _arrow_table(SNAPSHOTS_SCHEMA, snapshot_columns(grid, pending, ctx), dicts)
    _write_parquet(out / "queue_snapshots.parquet", snapshots)
    n, first_id = len(open_items["site"]), int(counts.sum()) + 1
    columns = {
        "item_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "enqueued_at": open_items["enqueued_at"],
        "region": ctx.org.site_region[open_items["site"]].astype(np.int32),
        "site": open_items["site"],
        "queue": open_items["queue"],
        "policy": ctx.org.queue_policy[open_items["queue"]].astype(np.int32),
    }
    _write_parquet(out / "open_items.parquet", _arrow_table(OPEN_ITEMS_SCHEMA, columns, dicts))
    return snapshots.num_rows, n


def _buffer_dtype(values: np.ndarray) -> np.dtype:
    """Codes are small (< 32,768 categories), so int16 halves their memory."""
    return np.dtype(np.int16) if values.dtype == np.int32 else values.dtype


def _arrow_table(
    schema: pa.Schema, columns: dict[str, np.ndarray], dicts: _Dictionaries
) -> pa.Table:
    """Arrow arrays over the numpy buffers (zero-copy where Arrow allows); strings stay dictionary-coded."""
    arrays = []
    for field in schema:
        values = columns[field.name]
        if field.type == pa.string():
            arrays.append(_coded(values, getattr(dicts, field.name)))
        elif pa.types.is_timestamp(field.type):
            arrays.append(_timestamps(values))
        elif field.type == pa.date32():
            arrays.append(_days(values))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, names=schema.names)


def _coded(codes: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    """Codes into a dictionary; negative codes are nulls."""
    mask = codes < 0
    indices = pa.array(codes, mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us.view("datetime64[us]"), type=pa.timestamp("us", tz="UTC"))


def _days(days_since_epoch: np.ndarray) -> pa.Array:
    return pa.array(days_since_epoch.astype("datetime64[D]"), type=pa.date32())


def _write_views(out: Path, calendar: Calendar, seed: int) -> int:
    cols = views_columns(calendar, seed)
    policy = pa.array(POLICIES, pa.string())
    region = pa.array([r.name for r in REGIONS], pa.string())
    table = pa.Table.from_arrays(
        [
            _days(cols["day"]),
            _coded(cols["policy"], policy),
            _coded(cols["region"], region),
            pa.array(cols["content_views"]),
            pa.array(cols["violative_views"]),
        ],
        names=VIEWS_SCHEMA.names,
    )
    _write_parquet(out / "views.parquet", table)
    return table.num_rows


# -- manifest --------------------------------------------------------------------------------


def _manifest(
    calendar: Calendar,
    seed: int,
    rows: int,
    org: OrgArrays,
    incidents: IncidentPlan,
    chunks: list[Chunk],
    staffing_rows: list[int],
    views_rows: int,
    target_rows: int,
    snapshot_rows: int,
    open_rows: int,
) -> DemoManifest:
    names = [chunk.name for chunk in chunks]
    tables = (
        TableInfo("decisions", rows, tuple(f"decisions/{n}" for n in names)),
        TableInfo("staffing", sum(staffing_rows), tuple(f"staffing/{n}" for n in names)),
        TableInfo("views", views_rows, ("views.parquet",)),
        TableInfo("queue_snapshots", snapshot_rows, ("queue_snapshots.parquet",)),
        TableInfo("open_items", open_rows, ("open_items.parquet",)),
        TableInfo("targets", target_rows, ("targets.csv",)),
    )
    return DemoManifest(
        format_version=FORMAT_VERSION,
        generator=GENERATOR,
        generator_version=GENERATOR_VERSION,
        seed=int(seed),
        rows=int(rows),
        weeks=int(calendar.weeks),
        start=calendar.start,
        end=calendar.end_timestamp,
        timezone="UTC",
        latest_complete_week=iso_week(calendar.latest_complete_week),
        partial_week=iso_week(monday(calendar.end)),
        tables=tables,
        org=_org_info(org),
        incidents=incidents.describe(),
    )


def _org_info(org: OrgArrays) -> OrgInfo:
    heads = np.bincount(org.moderator_site, minlength=len(SITES))
    ids = org.moderator_ids
    queue_total = sum(q.volume_share for q in QUEUES)
    return OrgInfo(
        regions=org.region_names,
        sites=tuple(
            SiteInfo(s.code, s.city, s.region, s.teams, int(heads[i])) for i, s in enumerate(SITES)
        ),
        teams=TEAMS,
        queues=tuple(
            QueueInfo(
                q.name,
                q.policy,
                q.high_severity,
                q.sla_hours,
                float(q.base_aht),
                q.automation_rate,
                round(q.volume_share / queue_total, 4),
            )
            for q in QUEUES
        ),
        policies=POLICIES,
        languages=LANGUAGES,
        moderator_count=org.moderator_count,
        moderators=tuple(
            ModeratorBlock(SITES[s].code, TEAMS[t], ids[first - 1], ids[first + count - 2], count)
            for s, t, first, count in org.moderator_blocks
        ),
    )
