"""Queue snapshots: pending items at the end of each day, consistent with the decisions.

A queueing system measures its backlog by snapshotting queue depth; the demo
derives the snapshots from the generated items so the two facts agree
exactly. An item is pending at the end of (UTC) day D when it was enqueued on
or before D and decided after D, so each decision adds one to every snapshot
from its enqueue day up to the day before its decision day. Items still open
at the end of the data (10:00 on the last day) count on every day from their
enqueue day through the last day, whose snapshot is the queue depth at the
data's end.

Open items come from two places:

* the ordinary tail: the days after the end are generated like any other day
  (same per-day streams, so a later ``--end`` decides exactly these items) and
  every item enqueued before the data's end but decided after it is open;
* the SLA incident: the outage stranded a share of the region's overdue items
  in a dead-letter queue where they are still waiting, so the region's
  backlog steps up in the outage week and stays up (see :mod:`._incidents`).

Only a (days × sites × queues) count array is kept while generating, so
memory does not grow with the number of decisions; chunks add their own
arrays, which are summed at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ._calendar import Calendar
from ._day import US_PER_HOUR, DayContext, generate_day
from ._org import QUEUES, SITES

US_PER_DAY = 24 * US_PER_HOUR
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
TAIL_DAYS = 14  # days after the end generated for the open tail (waits are at most ~3 × 24 h SLA)
STRANDED_STREAM = 4  # SeedSequence spawn key of the stranded-items draw (see _calendar streams)
OPEN_COLUMNS = ("enqueued_at", "site", "queue")


@dataclass(frozen=True)
class PendingGrid:
    """Index arithmetic of the (day × site × queue) snapshot grid."""

    calendar: Calendar

    @property
    def first_day(self) -> int:
        """Days since 1970-01-01 of the first snapshot day."""
        return self.calendar.start.toordinal() - EPOCH_ORDINAL

    @property
    def days(self) -> int:
        return len(self.calendar.days)

    @property
    def cells(self) -> int:
        return len(SITES) * len(QUEUES)

    def empty(self) -> np.ndarray:
        return np.zeros(self.days * self.cells, dtype=np.int64)

    def add(
        self,
        counts: np.ndarray,
        enqueued_us: np.ndarray,
        decided_us: np.ndarray | None,
        site: np.ndarray,
        queue: np.ndarray,
    ) -> None:
        """Count each item on the snapshot days it is pending (``decided_us`` None: still open)."""
        first = enqueued_us // US_PER_DAY - self.first_day
        if decided_us is None:
            last = np.full(len(first), self.days, dtype=np.int64)  # through the last day
        else:
            last = decided_us // US_PER_DAY - self.first_day  # exclusive: decided that day
        first = np.maximum(first, 0)
        last = np.minimum(last, self.days)
        span = last - first
        keep = span > 0
        first, span = first[keep], span[keep]
        cell = site[keep].astype(np.int64) * len(QUEUES) + queue[keep]
        if not len(span):
            return
        starts = np.cumsum(span) - span
        offset = np.arange(int(span.sum()), dtype=np.int64) - np.repeat(starts, span)
        day = np.repeat(first, span) + offset
        index = day * self.cells + np.repeat(cell, span)
        counts += np.bincount(index, minlength=len(counts))


def stranded_items(
    ctx: DayContext, day: date, decisions: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Items the outage stranded on ``day``: a share of the region's overdue items, still open."""
    late = ctx.incidents.region_late_probability(day)
    region = decisions["region"]
    affected = late[region] > 0
    if not affected.any():
        return {name: decisions[name][:0] for name in OPEN_COLUMNS}
    wait_us = decisions["decided_at"] - decisions["enqueued_at"]
    sla_us = ctx.org.queue_attr("sla_hours")[decisions["queue"]] * US_PER_HOUR
    rng = np.random.default_rng(
        np.random.SeedSequence(ctx.seed, spawn_key=(STRANDED_STREAM, day.toordinal()))
    )
    draw = rng.random(len(region)) < ctx.incidents.stranded_share
    since = ctx.incidents.outage_start_us  # items enqueued before the outage were not stuck in it
    chosen = affected & (wait_us > sla_us) & (decisions["enqueued_at"] >= since) & draw
    return {name: decisions[name][chosen] for name in OPEN_COLUMNS}


class _FullDayCalendar(Calendar):
    """The data's calendar, but every day has 24 hours (the tail runs past the partial last day)."""

    def hours(self, day: date) -> int:
        return 24


def tail_items(ctx: DayContext, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Items enqueued before the data's end and decided after it (the ordinary open tail).

    The last day and the :data:`TAIL_DAYS` after it are generated whole, each
    with the volume of a full day one or more weeks earlier (same weekday), and
    only the items enqueued before the end and decided after it are kept.
    """
    calendar = ctx.calendar
    full = DayContext(
        _FullDayCalendar(calendar.end, calendar.weeks), ctx.seed, ctx.incidents, ctx.org, ctx.roster
    )
    end_us = int(calendar.end_timestamp.timestamp() * 1_000_000)
    parts: list[dict[str, np.ndarray]] = []
    for offset in range(TAIL_DAYS + 1):
        day = calendar.end + timedelta(days=offset)
        reference = day - timedelta(weeks=1 + offset // 7)
        n = int(counts[calendar.days.index(reference)])
        rows = generate_day(full, day, n, 0).decisions
        open_ = (rows["enqueued_at"] < end_us) & (rows["decided_at"] >= end_us)
        parts.append({name: rows[name][open_] for name in OPEN_COLUMNS})
    return {name: np.concatenate([p[name] for p in parts]) for name in OPEN_COLUMNS}


def merge_open(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Open items from every source, ordered by enqueue time (then site, queue) for stable ids."""
    merged = {name: np.concatenate([p[name] for p in parts]) for name in OPEN_COLUMNS}
    order = np.lexsort((merged["queue"], merged["site"], merged["enqueued_at"]))
    return {name: values[order] for name, values in merged.items()}


def snapshot_columns(
    grid: PendingGrid, counts: np.ndarray, ctx: DayContext
) -> dict[str, np.ndarray]:
    """The queue_snapshots table: one row per day × site × queue (zeros included)."""
    n_sites, n_queues = len(SITES), len(QUEUES)
    site = np.tile(np.repeat(np.arange(n_sites, dtype=np.int32), n_queues), grid.days)
    queue = np.tile(np.arange(n_queues, dtype=np.int32), n_sites * grid.days)
    return {
        "day": np.repeat(np.arange(grid.days, dtype=np.int32) + grid.first_day, grid.cells),
        "region": ctx.org.site_region[site].astype(np.int32),
        "site": site,
        "queue": queue,
        "policy": ctx.org.queue_policy[queue].astype(np.int32),
        "pending_items": counts,
    }
