"""What the cube cache holds for a report, how fresh it is, and what the next build will rescan.

``reportgen cache status`` answers the question an analyst asks after an
upstream correction ("will Monday's deck pick it up?") without building:
for every scan it lists the cached days or periods, when they were written,
and the days the next build will ask the engine for, with the reason
(a file changed, a day's signature moved, the restatement window).
Observing a table source runs its one signature query; files cost a ``stat``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from reportgen.config.loader import ResolvedReport
from reportgen.data.cache import (
    STATE,
    CubeCache,
    default_cache_dir,
    locked,
    read_state,
    stale_periods,
)
from reportgen.data.engines import Engines
from reportgen.data.freshness import DaySpans, stale_days
from reportgen.data.plan import CubeQuery, needed_measures, plan_queries


@dataclass(frozen=True)
class ScanStatus:
    """One scan's cache: what it holds and what the next build asks the engine for."""

    group: str  # fact:time_column, or fact:time_column#sketch measure
    folder: Path
    cached: str  # "2025-09-29 … 2026-11-23 (421 days)" or "14 weeks" or "nothing"
    files: int
    size_bytes: int
    written: datetime | None
    rescan: str  # what the next build scans, in words
    reasons: tuple[str, ...]


def cache_status(report: ResolvedReport) -> list[ScanStatus]:
    """Each scan of the report: its cache and its next rescan (observes the sources)."""
    cache = CubeCache(default_cache_dir(report))
    engines = Engines(report.sources, report.sources_path)
    try:
        return [
            _status(cache, query, engines)
            for query in plan_queries(report, needed_measures(report), engines)
        ]
    finally:
        engines.close()


def clear_cache(report: ResolvedReport) -> tuple[Path, int]:
    """Remove the report's cache folder; returns it and the bytes freed."""
    root = default_cache_dir(report)
    if not root.exists():
        return root, 0
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    shutil.rmtree(root)
    return root, size


def _status(cache: CubeCache, query: CubeQuery, engines: Engines) -> ScanStatus:
    folder = cache.directory(query)
    with locked(folder):
        state = read_state(folder, sketch=query.sketch)
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        size = sum(f.stat().st_size for f in files)
        if state is None:
            held = (
                "nothing readable (written by another version, or damaged)" if files else "nothing"
            )
            return ScanStatus(query.key, folder, held, len(files), size, None, "every day", ())
        written = datetime.fromtimestamp((folder / STATE).stat().st_mtime, UTC)
        seen = cache.observe(query, engines, state)
        if query.sketch:
            periods = sorted(state["periods"])
            held = f"{len(periods)} closed {query.grain}(s)" + (
                f", {periods[0]} … {periods[-1]}" if periods else ""
            )
            stale, reasons, dropped = stale_periods(query, state, seen)
            rescan = _sketch_rescan(stale, dropped, query.grain)
        else:
            closed = date.fromisoformat(state["closed_through"])
            assert query.watch is not None
            stale, reasons = stale_days(query.watch, state.get("source"), seen, closed)
            held = f"closed days through {closed}"
            rescan = _day_rescan(stale, closed)
        return ScanStatus(
            query.key, folder, held, len(files), size, written, rescan, tuple(reasons)
        )


def _day_rescan(stale: DaySpans, closed: date) -> str:
    new = f"the days after {closed}"
    if stale.everything:
        return "every day"
    if not stale:
        return new
    return f"{stale.days} closed day(s) ({stale.describe()}) and {new}"


def _sketch_rescan(stale: DaySpans, dropped: list[str], grain: str) -> str:
    if stale.everything:
        return f"every {grain}"
    if not dropped:
        return f"only {grain}s not cached yet"
    return f"{len(dropped)} cached {grain}(s) from {dropped[0]} and those not cached yet"
