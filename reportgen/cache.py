"""Incremental cube cache: closed days' cube rows as daily Parquet partitions.

A weekly build over 13+ trailing weeks would otherwise rescan a year of raw
events every time although only the last week is new. The cube's rows for a
day never change once the day is closed, so they are kept on disk:

    <cache_dir>/<source>/<fact>.<time column>/<definition hash>/<YYYY-MM-DD>.parquet
                                                               /state.json

* ``source`` hashes the engine's secret-free identity (DuckDB file, redacted
  URL, Spark master); the FROM clause (path glob or table) is part of the
  definition.
* ``definition hash`` hashes the scan's SQL in one canonical dialect: every
  measure expression and filter, the checks, the dimensions (the grain) and
  the report's timezone. Changing one measure changes the hash of the one
  scan it belongs to, so exactly that scan's partitions are rebuilt; the
  other scans keep theirs.
* A day is **closed** when it is older than the newest day in the scan's data
  (the same rule as :attr:`reportgen.cube.Cube.last_complete_day`: the newest
  day is still filling up). ``state.json`` records the last closed day;
  the next build asks the engine only for the days after it.

Closed days are assumed final. When history is restated upstream,
``reportgen build --no-cache`` rescans everything and rewrites the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reportgen.config.loader import ResolvedReport
from reportgen.cube import DAY, CubeQuery, scan, tidy
from reportgen.engines import Engines

FORMAT_VERSION = 1
log = logging.getLogger(__name__)
STATE = "state.json"


@dataclass(frozen=True)
class Scan:
    """What one cube query asked of its engine: the test and the log of incrementality."""

    group: str  # fact:time_column
    since: date | None  # first day asked for; None = every day
    days_scanned: int  # distinct days the engine returned
    days_cached: int  # days served from the cache


@dataclass
class CubeCache:
    """Reads closed days from ``root`` and asks the engine only for the rest.

    ``read=False`` (``--no-cache``) ignores what is cached, scans every day and
    rewrites the cache, so a rebuild also repairs it. A cache that cannot be
    read (a partition missing or corrupt) is ignored and rebuilt; one that
    cannot be written (read-only folder, full disk) is skipped with a note in
    ``problems``: the cache may make a build faster, never make it fail.
    """

    root: Path
    read: bool = True
    scans: list[Scan] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def _problem(self, text: str) -> None:
        self.problems.append(text)
        log.warning(text)

    def directory(self, query: CubeQuery) -> Path:
        source = hashlib.sha256(query.source.encode()).hexdigest()[:12]
        group = f"{query.fact}.{query.time_column}"
        if query.sketch:  # a sketch measure's histogram, per period start (see cube.plan_queries)
            group += f".{query.measures[0]}"
        return self.root / source / group / query.definition_hash

    def frame(self, query: CubeQuery, engines: Engines) -> pd.DataFrame:
        """The scan's cube rows: cached closed days plus a scan of the days after them."""
        folder = self.directory(query)
        state = _read_state(folder) if self.read else None
        cached = self._cached(folder, state, query) if state else None
        if cached is None:
            state, cached = None, tidy(pd.DataFrame(), query)
        since = date.fromisoformat(state["closed_through"]) + timedelta(days=1) if state else None
        fresh = scan(engines, query, query.sql_since(since) if since else None)
        self.scans.append(
            Scan(query.key, since, int(fresh[DAY].nunique()), int(cached[DAY].nunique()))
        )
        try:
            _store(folder, query, fresh, state)
        except OSError as exc:
            self._problem(f"cube cache not written to {folder}: {exc}")
        if cached.empty:
            return fresh
        if fresh.empty:
            return cached
        return pd.concat([cached, fresh], ignore_index=True)

    def _cached(self, folder: Path, state: dict, query: CubeQuery) -> pd.DataFrame | None:
        """Every recorded closed day in one multi-threaded DuckDB read; None when any is lost."""
        files = [folder / f"{day}.parquet" for day in state["days"]]
        if not all(f.is_file() for f in files):
            self._problem(f"cube cache in {folder} lost partitions; rescanning")
            return None
        if not files:
            return tidy(pd.DataFrame(), query)
        if query.sketch:
            return self._cached_sketch(folder, files, query)
        con = duckdb.connect()
        try:
            return tidy(con.read_parquet([str(f) for f in files]).df(), query)
        except (duckdb.Error, OSError) as exc:
            self._problem(f"cube cache in {folder} unreadable ({exc}); rescanning")
            return None
        finally:
            con.close()

    def _cached_sketch(
        self, folder: Path, files: list[Path], query: CubeQuery
    ) -> pd.DataFrame | None:
        """A sketch's partitions through Arrow: its labels stay dictionary-encoded (categories).

        A sketch has ~10× the cube's rows, almost all with the same few labels;
        DuckDB's ``.df()`` would make a Python string of each.
        """
        try:
            tables = [pq.read_table(f) for f in files]
            frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
        except (pa.ArrowException, OSError) as exc:
            self._problem(f"cube cache in {folder} unreadable ({exc}); rescanning")
            return None
        return tidy(frame, query)


def default_cache_dir(report: ResolvedReport) -> Path:
    """``cache_dir`` from sources.yaml (relative to it), else ``.cache/reportgen`` beside configs/."""
    configured = report.sources.cache_dir
    base = report.sources_path.parent
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else (base / path).resolve()
    return (base.parent / ".cache" / "reportgen").resolve()


def open_cache(report: ResolvedReport, *, read: bool = True) -> CubeCache:
    return CubeCache(default_cache_dir(report), read=read)


def _read_state(folder: Path) -> dict | None:
    try:
        state = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != FORMAT_VERSION:
        return None
    # a state file from another build of this format version, or hand-edited: rescan, never crash
    days, closed = state.get("days"), state.get("closed_through")
    if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
        return None
    try:
        date.fromisoformat(closed)
    except (TypeError, ValueError):
        return None
    return state


def _store(folder: Path, query: CubeQuery, fresh: pd.DataFrame, state: dict | None) -> None:
    """Write the closed days of ``fresh`` as partitions, then move the watermark.

    ``state.json`` is replaced last, so a build killed half-way leaves the
    previous watermark and extra partitions that nothing reads yet.
    """
    if fresh.empty:
        return
    newest = fresh[DAY].max().date()
    closed = fresh[fresh[DAY] < pd.Timestamp(newest)]
    if state is None and folder.exists():
        shutil.rmtree(folder)  # a full scan replaces every partition (restated history)
    if closed.empty:
        return
    folder.mkdir(parents=True, exist_ok=True)
    closed = closed.sort_values(DAY, kind="stable").reset_index(drop=True)
    table = pa.Table.from_pandas(closed, preserve_index=False)
    days = closed[DAY].to_numpy()
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    written = []
    for start, stop in zip(starts, [*starts[1:], len(days)], strict=True):
        day = pd.Timestamp(days[start]).date().isoformat()
        _atomic(folder / f"{day}.parquet", table.slice(start, stop - start))
        written.append(day)
    state = {
        "version": FORMAT_VERSION,
        "closed_through": (newest - timedelta(days=1)).isoformat(),
        "fact": query.fact,
        "time_column": query.time_column,
        "engine": query.engine,
        "definition": query.definition,  # for humans: what these partitions hold
        "days": sorted({*(state["days"] if state else ()), *written}),
    }
    _atomic_text(folder / STATE, json.dumps(state, indent=2) + "\n")


def _atomic(path: Path, table: pa.Table) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
