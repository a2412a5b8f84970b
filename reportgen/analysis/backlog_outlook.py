"""Backlog outlook: weeks to clear at the current net flow, or how fast the backlog grows.

A backlog is a stock read from daily queue snapshots; its change over a
period is exactly items in minus decisions out (every item enqueued by a
snapshot and not yet decided is in it). The current net flow per day is
``(backlog at the previous period's end − backlog now) / days``: decisions
out minus items in, over the period just reported. With a positive net
flow the backlog clears in ``backlog / net flow`` days; with a negative one
it grows by ``−net flow`` a day.

A growing backlog is raised (``fires``) when its growth this period is
unusual for the segment: a robust z of at least the anomaly threshold
against its own weekly changes over the history, with the detector's 10 %
effect floor for totals (so a queue that always drifts a few items does
not ring every week). Segments holding less than the volume floor are not
reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reportgen.analysis.anomalies import robust_z

TOTAL_EFFECT = 0.10


@dataclass(frozen=True)
class BacklogOutlook:
    metric: str
    dimension: str | None
    segment: str | None
    period: str
    backlog: float
    previous: float
    net_outflow_per_day: float  # decisions out − items in, per day (positive: shrinking)
    status: Literal["clearing", "growing", "steady"]
    weeks_to_clear: float | None
    growing_per_day: float | None
    robust_z: float
    fires: bool
    method: str
    baseline: str
    volume: float
    volume_floor: float
    detail: str = ""


def net_flow(backlog: Sequence[float], days: int) -> tuple[float, float | None, float | None]:
    """``(net outflow a day, weeks to clear, growth a day)`` from the last two closing snapshots."""
    now, before = float(backlog[-1]), float(backlog[-2])
    outflow = (before - now) / days
    if outflow > 0:
        return outflow, now / outflow / 7, None
    if outflow < 0:
        return outflow, None, -outflow
    return 0.0, None, None


def growth_z(backlog: Sequence[float], threshold: float) -> float:
    """Robust z of the last change against the earlier period-on-period changes."""
    values = np.asarray(backlog, dtype=float)
    changes = np.diff(values)
    if changes.size < 3:
        return 0.0
    level = max(abs(values[-2]), abs(values[-1]))
    z, _, _ = robust_z(changes[-1], changes[:-1], mad_floor=TOTAL_EFFECT * level / threshold)
    return float(z)
