"""The cube: additive measures by (day × dimensions), computed inside the SQL engine.

Raw rows never reach pandas. Each planned scan (:mod:`reportgen.data.plan`)
runs in its engine, or comes from a :class:`FrameSource` (the cube cache,
:class:`reportgen.data.cache.CubeCache`, which is handed :func:`scan` rather
than importing it); pandas receives only the aggregated rows.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

import pandas as pd
import pyarrow as pa

from reportgen.config.loader import ResolvedReport
from reportgen.data.engines import Engines
from reportgen.data.frames import Scanner, finish, tidy
from reportgen.data.plan import CubeQuery, group_key, plan_queries
from reportgen.data.sql import DAY
from reportgen.errors import SourceError


class FrameSource(Protocol):
    """Where :func:`compute_cube` gets a scan's rows from instead of the engine: the cube cache
    (:class:`reportgen.data.cache.CubeCache`). It is handed ``run`` (:func:`scan`) for the days
    or periods it lacks, so the cache never imports this module back."""

    def frame(
        self,
        query: CubeQuery,
        engines: Engines,
        run: Scanner,
        data_through: date | None = None,
    ) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Cube:
    """Aggregated measures; ``frames[group]`` has columns day, dimensions…, measures…, checks…."""

    frames: dict[str, pd.DataFrame]
    queries: tuple[CubeQuery, ...]
    last_day: dict[str, date]  # per group: the latest day with data
    first_day: dict[str, date]

    # the dimensions an audience's row filter pinned in the sketch frames (see filter_cube)
    sketch_scope: tuple[str, ...] = ()

    def group_of(self, measure: str) -> str:
        return self.query_of(measure).key

    def query_of(self, measure: str) -> CubeQuery:
        for query in self.queries:
            if measure in query.measures:
                return query
        raise KeyError(measure)

    def frame_for(self, measure: str) -> pd.DataFrame:
        return self.frames[self.group_of(measure)]

    def is_stock(self, measure: str) -> bool:
        """A snapshot measure: a period takes its last day's value instead of the sum of days."""
        return any(measure in q.stocks for q in self.queries)

    def dimensions_of(self, measure: str) -> tuple[str, ...]:
        """Dimensions a measure can be split by (a sketch: those with a grouping set)."""
        query = self.query_of(measure)
        if not query.sketch:
            return query.dimensions
        scope = set(self.sketch_scope)
        return tuple(
            d for d in query.dimensions if any(set(level) == scope | {d} for level in query.levels)
        )

    @property
    def last_complete_day(self) -> date:
        """The latest day every fact has complete data for.

        The newest day present in a fact is assumed to be still filling up
        (late-arriving data, today's partial day), so a fact is complete
        through the day before it.
        """
        return min(self.last_day.values()) - timedelta(days=1)

    @property
    def first_complete_day(self) -> date:
        return max(self.first_day.values())

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.frames.values())


def scan(engines: Engines, query: CubeQuery, sql: str | None = None) -> pd.DataFrame:
    """Run one scan (or its incremental form) and bring the result to the cube's types.

    Engines return different types for the same numbers; :func:`~reportgen.data.frames.tidy`
    gives the cube, and the cache, one schema whatever the engine.
    """
    engine = engines.for_fact(query.fact)
    frame = tidy(engine.fetch_scan(sql or query.sql, fact=query.fact), query)
    return_freed_memory()
    return frame


def return_freed_memory() -> None:
    """Hand the heap a scan freed (the engine's result, the untidy frame) back to the OS.

    glibc and Arrow's allocator keep freed pages for reuse, so without this the
    next scan's peak, the quantile sketch's at a cold build's high point, stacks
    on the last one's leftovers (~20–35 MB of a cold 100M-row cube's peak).
    """
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def compute_cube(
    report: ResolvedReport,
    measures: Iterable[str],
    *,
    cache: FrameSource | None = None,
    engines: Engines | None = None,
    sketch_grain: str | None = None,
    sketch_periods: tuple[tuple[date, date], ...] = (),
    data_through: dict[str, date] | None = None,
) -> Cube:
    """Run every cube query in its engine (closed days from ``cache`` when given).

    Without a cache every day is scanned; with one, only days after the
    cached, closed days are, and only the sketch periods not cached yet —
    see :mod:`reportgen.data.cache`. ``data_through`` (the additive cube's
    ``last_day``) tells the cache which sketch periods are closed.
    """
    own = engines is None
    engines = engines or Engines(report.sources, report.sources_path)
    newest = data_through or {}
    try:
        queries = plan_queries(
            report, measures, engines, sketch_grain=sketch_grain, sketch_periods=sketch_periods
        )
        frames: dict[str, pd.DataFrame] = {}
        for query in queries:
            through = newest.get(group_key(query.fact, query.time_column))
            frame = cache.frame(query, engines, scan, through) if cache else scan(engines, query)
            if frame.empty and not query.sketch:  # a sketch's window may hold no rows
                raise SourceError(
                    f"fact '{query.fact}' has no rows",
                    fact=query.fact,
                    fix="check the source path and that the data was loaded",
                )
            frames[query.key] = finish(frame, query)
    finally:
        if own:
            engines.close()
    # sketch frames are dated by period start: the additive scans say which days are complete
    dated = {q.key for q in queries if not q.sketch}
    last_day = {k: f[DAY].iloc[-1].date() for k, f in frames.items() if k in dated}
    first_day = {k: f[DAY].iloc[0].date() for k, f in frames.items() if k in dated}
    return Cube(frames, queries, last_day, first_day)


def merge_cubes(cube: Cube, more: Cube) -> Cube:
    """The cube with another's scans added (sketches computed once the period is known)."""
    return replace(
        cube,
        frames={**cube.frames, **more.frames},
        queries=(*cube.queries, *more.queries),
    )
