"""What changed in a source since the cube cache was written: the days a cached build rescans.

Closed days are not final in Trust & Safety data: appeals are overturned
weeks after the decision, QA verdicts arrive late, vendors re-send corrected
files, pipelines backfill a broken day. A cache that trusted closed days
would serve numbers from before the correction, so every cached build first
asks what changed and rescans exactly the days a change can touch. The rule
it keeps: **a cached build equals a cold one.**

How a change is seen depends on where the fact lives:

* **Files** (a Parquet/CSV path or glob): each file's path, size and
  modification time (ns) are recorded with the local days it can hold, read
  from the Parquet footer (each row group's min/max of the time column,
  widened by a day for zone arithmetic). Next time a ``stat`` per file tells
  what changed; a changed, new or removed file invalidates the days its old
  and new versions can hold. A file without usable statistics (CSV, Parquet
  written without them) can hold any day, so changing it rescans everything.
  The unchanged case costs one ``stat`` per file and no query.
* **A DuckDB database file**: the file's stamp; unchanged means nothing
  changed. Once it changed, it is treated like a table.
* **Tables** (PostgreSQL, Spark, any warehouse): a table has no modification
  time, so two rules, both configurable per fact (``refresh:`` in the catalog):

  - a **restatement window**: every build rescans the last ``restate_days``
    closed days (default 35 for tables: appeals arrive up to weeks later; 0
    for files, whose stamps are exact) — as Cube's ``update_window`` and
    dbt's incremental lookback do;
  - a per-day **signature**: one aggregate query, ``COUNT(*)`` and, when the
    fact declares a ``change_column`` (``updated_at``), its ``MAX``, per local
    day. A day whose signature moved (rows deleted, a backfill, an update
    that stamped its row) is rescanned wherever it lies. Without a change
    column, an in-place update older than the window is not seen: declare one
    or widen the window.

This module only observes and compares; :mod:`reportgen.data.cache` drops the
stale days and asks the engine for them.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from reportgen.errors import SourceError

log = logging.getLogger(__name__)

#: days a table's build rescans when the catalog says nothing (appeals arrive up to weeks later)
DEFAULT_TABLE_RESTATE_DAYS = 35
_SLACK = timedelta(days=1)  # a row group's min/max instant may fall on a neighbouring local day


@dataclass(frozen=True)
class DaySpans:
    """A set of local days as merged, sorted (first, last) intervals; ``everything`` = all days."""

    spans: tuple[tuple[date, date], ...] = ()
    everything: bool = False

    @classmethod
    def of(cls, spans: Iterable[tuple[date, date]]) -> DaySpans:
        merged: list[tuple[date, date]] = []
        for first, last in sorted(spans):
            if merged and first <= merged[-1][1] + timedelta(days=1):
                merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
            else:
                merged.append((first, last))
        return cls(tuple(merged))

    @classmethod
    def all_days(cls) -> DaySpans:
        return cls(everything=True)

    def __or__(self, other: DaySpans) -> DaySpans:
        if self.everything or other.everything:
            return DaySpans.all_days()
        return DaySpans.of([*self.spans, *other.spans])

    def __bool__(self) -> bool:
        return self.everything or bool(self.spans)

    def through(self, last: date) -> DaySpans:
        """These days up to ``last`` (the cache's closed days; later ones are scanned anyway)."""
        if self.everything:
            return self
        return DaySpans(tuple((f, min(t, last)) for f, t in self.spans if f <= last))

    def overlaps(self, first: date, last: date) -> bool:
        return self.everything or any(f <= last and first <= t for f, t in self.spans)

    def mask(self, days: pd.Series) -> pd.Series:
        """True for the rows of ``days`` (datetime64) that fall in these days."""
        if self.everything:
            return pd.Series(True, index=days.index)
        hit = pd.Series(False, index=days.index)
        for first, last in self.spans:
            hit |= (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))
        return hit

    @property
    def days(self) -> int:
        return sum((t - f).days + 1 for f, t in self.spans)

    def describe(self) -> str:
        if self.everything:
            return "every day"
        parts = [f.isoformat() if f == t else f"{f}…{t}" for f, t in self.spans]
        return ", ".join(parts) if parts else "none"

    def to_json(self) -> list[list[str]] | str:
        return "all" if self.everything else [[f.isoformat(), t.isoformat()] for f, t in self.spans]


@dataclass(frozen=True)
class SourceWatch:
    """Where one scan's rows come from and how the cache sees them change (planned, not run)."""

    fact: str
    time_column: str
    time_type: str  # "timestamp" or "date"
    timezone: str
    pattern: str | None = None  # the absolute glob of a path source
    database: str | None = None  # a DuckDB database file holding the table
    restate_days: int = 0
    change_column: str | None = None
    signature_sql: str | None = None  # per-day COUNT(*) [, MAX(change_column)]: tables only

    @property
    def is_files(self) -> bool:
        return self.pattern is not None


@dataclass(frozen=True)
class Observation:
    """What a source looked like when a build read it: stored in the cache's ``state.json``."""

    record: dict[str, Any]


def observe(
    watch: SourceWatch,
    previous: dict[str, Any] | None,
    fetch: Callable[[str], pd.DataFrame],
) -> Observation:
    """The source's current stamps (reusing ``previous`` for files whose stamp is unchanged).

    ``fetch`` runs the signature query; it is called only for tables, and for
    a DuckDB database file only once the file changed.
    """
    if watch.is_files:
        return Observation({"files": _file_stamps(watch, previous)})
    record: dict[str, Any] = {}
    if watch.database:
        record["database"] = _stamp(Path(watch.database), watch.fact)
        if previous and previous.get("database") == record["database"]:
            return Observation({**record, "signature": previous.get("signature")})
    if watch.signature_sql:
        record["signature"] = _signature(fetch(watch.signature_sql))
    return Observation(record)


def stale_days(
    watch: SourceWatch, previous: dict[str, Any] | None, now: Observation, closed_through: date
) -> tuple[DaySpans, list[str]]:
    """The closed days (through ``closed_through``) a build must rescan, and why, in words."""
    if not previous:
        return DaySpans.all_days(), ["no record of the source (cache written by another version)"]
    reasons: list[str] = []
    if watch.is_files:
        stale, reasons = _changed_files(previous.get("files") or {}, now.record["files"])
    else:
        stale = DaySpans()
        if "database" in now.record and previous.get("database") == now.record["database"]:
            return DaySpans(), []  # the database file did not change: neither did its tables
        moved = _moved_days(previous.get("signature"), now.record.get("signature"))
        if moved:
            stale = moved
            reasons.append(
                f"{moved.days} day(s) with rows added, removed or updated: {moved.describe()}"
            )
    if watch.restate_days > 0:
        window_start = closed_through - timedelta(days=watch.restate_days - 1)
        stale = stale | DaySpans(((window_start, closed_through),))
        reasons.append(f"restatement window: the last {watch.restate_days} closed days")
    return stale.through(closed_through), reasons


# -- files ----------------------------------------------------------------------------------


def _stamp(path: Path, fact: str) -> dict[str, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError(
            f"source file {path} of fact '{fact}' disappeared while the build read it",
            fix="rebuild once the upstream job has finished writing the files",
            fact=fact,
        ) from None
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _file_stamps(watch: SourceWatch, previous: dict[str, Any] | None) -> dict[str, dict]:
    """``path → {size, mtime_ns, spans}``; a file's footer is read only when its stamp is new."""
    assert watch.pattern is not None
    known = (previous or {}).get("files") or {}
    stamps: dict[str, dict] = {}
    for name in sorted(glob.glob(watch.pattern)):
        stamp: dict[str, Any] = _stamp(Path(name), watch.fact)
        old = known.get(name)
        if old and old.get("size") == stamp["size"] and old.get("mtime_ns") == stamp["mtime_ns"]:
            stamps[name] = old
            continue
        stamp["spans"] = _file_spans(Path(name), watch)
        stamps[name] = stamp
    return stamps


def _file_spans(path: Path, watch: SourceWatch) -> list[list[str]] | None:
    """The local days a file's rows can fall on, from its Parquet row-group statistics.

    None when the file has no usable statistics (CSV, or a row group without
    min/max of the time column): it can hold any day.
    """
    if path.suffix.lower() != ".parquet":
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        log.info("no statistics read from %s (%s): any day may change", path, exc)
        return None
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if watch.time_column not in names:
        return None
    index = names.index(watch.time_column)
    zone = ZoneInfo(watch.timezone)
    spans = []
    for group in range(meta.num_row_groups):
        column = meta.row_group(group).column(index)
        stats = column.statistics
        if meta.row_group(group).num_rows == 0:
            continue
        if stats is None or not stats.has_min_max:
            return None
        first, last = _local_day(stats.min, zone), _local_day(stats.max, zone)
        if first is None or last is None:
            return None
        spans.append((first - _SLACK, last + _SLACK))
    return [[f.isoformat(), t.isoformat()] for f, t in DaySpans.of(spans).spans]


def _local_day(value: object, zone: ZoneInfo) -> date | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # naive timestamps are read as UTC everywhere
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        return value.astimezone(zone).date()
    if isinstance(value, date):
        return value
    return None


def _spans_of(stamp: dict | None) -> DaySpans:
    if stamp is None:
        return DaySpans()
    spans = stamp.get("spans")
    if spans is None:
        return DaySpans.all_days()
    return DaySpans.of((date.fromisoformat(f), date.fromisoformat(t)) for f, t in spans)


def _changed_files(old: dict[str, dict], new: dict[str, dict]) -> tuple[DaySpans, list[str]]:
    stale = DaySpans()
    reasons: list[str] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if (
            before
            and after
            and before.get("size") == after.get("size")
            and before.get("mtime_ns") == after.get("mtime_ns")
        ):
            continue
        what = "added" if before is None else "removed" if after is None else "changed"
        days = _spans_of(before) | _spans_of(after)
        stale = stale | days
        reasons.append(f"{Path(name).name} {what} (days {days.describe()})")
    return stale, reasons


# -- tables ---------------------------------------------------------------------------------


def _signature(frame: pd.DataFrame) -> dict[str, list]:
    """``day → [rows, max change]`` from the signature query (columns day, n[, changed])."""
    out: dict[str, list] = {}
    for row in frame.itertuples(index=False):
        day = getattr(row, "day", None)
        if day is None or pd.isna(day):
            continue
        changed = getattr(row, "changed", None)
        changed = None if changed is None or pd.isna(changed) else str(changed)
        out[pd.Timestamp(day).date().isoformat()] = [int(row.n), changed]
    return out


def _moved_days(old: dict | None, new: dict | None) -> DaySpans:
    if new is None:
        return DaySpans()
    if old is None:
        return DaySpans.all_days()
    moved = [d for d in set(old) | set(new) if old.get(d) != new.get(d)]
    return DaySpans.of((date.fromisoformat(d), date.fromisoformat(d)) for d in moved)
