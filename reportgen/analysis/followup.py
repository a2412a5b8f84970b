"""Follow-up on recorded root causes: has the flagged metric recovered?

Recovery is measured, not eyeballed: the segment's current period is tested
against the period the anomaly was flagged in, with the same test the report
uses for period changes. "Recovered" means a significant move back in the
metric's better direction; a recurrence is an anomaly this period on the same
metric and segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from reportgen.analysis.anomalies import Anomaly
from reportgen.analysis.significance import (
    ChangeTest,
    change_test,
    no_test_reason,
    test_kind,
    test_params,
)
from reportgen.config.loader import ResolvedReport
from reportgen.data.scan import Cube
from reportgen.errors import PeriodError
from reportgen.figures import ALL, ReportFigures, measure_totals, metric_stats, metric_values
from reportgen.periods import parse_period

if TYPE_CHECKING:  # the ledger (SQLAlchemy) is imported only when a build has one
    from reportgen.ops.rca import RcaItem


@dataclass(frozen=True)
class FollowUp:
    item: RcaItem
    age_days: int
    flagged_value: float | None
    current_value: float | None
    test: ChangeTest | None
    recovered: bool | None  # None: cannot be measured (metric not in this report, no test)
    recurring: tuple[str, ...]  # ids of this period's anomalies on the same metric and segment


def _segment_stats(report: ResolvedReport, cube: Cube, item: RcaItem, start: date, end: date):
    metric = report.metric(item.metric)
    totals = measure_totals(cube, metric.measures, start, end, by=item.dimension)
    index = ALL if item.dimension is None else item.segment
    if index not in totals.index:
        return None, None
    row = totals.loc[index]
    value = metric_values(metric, totals.loc[[index]]).iloc[0]
    return metric_stats(metric, row), (None if value != value else float(value))


def follow_up_item(
    report: ResolvedReport,
    cube: Cube,
    figures: ReportFigures,
    anomalies: tuple[Anomaly, ...],
    item: RcaItem,
    now: datetime | None = None,
) -> FollowUp:
    recurring = tuple(a.id for a in anomalies if (a.metric, a.dimension, a.segment) == item.key)
    # days since recorded, as of the build (a rebuild of an old week reports the same ages)
    age = max(0, ((now or datetime.now(UTC)).date() - item.created_at.date()).days)
    if item.metric not in figures.metrics or (
        item.dimension
        and item.dimension not in cube.dimensions_of(report.metric(item.metric).measures[0])
    ):
        return FollowUp(item, age, item.observed, None, None, None, recurring)
    try:
        flagged_period = parse_period(item.period)
    except PeriodError:
        return FollowUp(item, age, item.observed, None, None, None, recurring)
    now = figures.period
    flagged_stats, flagged_value = _segment_stats(
        report, cube, item, flagged_period.start, flagged_period.end
    )
    current_stats, current_value = _segment_stats(report, cube, item, now.start, now.end)
    if flagged_stats is None or current_stats is None or flagged_period == now:
        return FollowUp(item, age, flagged_value, current_value, None, None, recurring)
    kind = test_kind(report, item.metric)
    if kind == "none":
        test = ChangeTest("none", None, reason=no_test_reason(report, item.metric))
        return FollowUp(item, age, flagged_value, current_value, test, None, recurring)
    test = change_test(
        kind,
        current_stats,
        flagged_stats,
        days=(now.days, flagged_period.days),
        confidence=report.config.insights.confidence,
        **test_params(report, item.metric),
    )
    return FollowUp(
        item, age, flagged_value, current_value, test, _recovered(report, item, test), recurring
    )


def _recovered(report: ResolvedReport, item: RcaItem, test: ChangeTest) -> bool | None:
    alpha = 1 - report.config.insights.confidence
    significant = test.significant(alpha)
    if significant is None or test.result is None or test.result.effect is None:
        return None
    better = report.metric(item.metric).direction
    if better == "neutral":  # back towards the baseline it left
        if item.observed is None or item.baseline is None:
            return None
        return significant and (test.result.effect > 0) == (item.baseline > item.observed)
    improved = (test.result.effect > 0) == (better == "higher_is_better")
    return bool(significant and improved)


def follow_up(
    report: ResolvedReport,
    cube: Cube,
    figures: ReportFigures,
    anomalies: tuple[Anomaly, ...],
    items: list[RcaItem],
    now: datetime | None = None,
) -> tuple[FollowUp, ...]:
    """Open items; items closed since the report's period began (with their outcome); and
    older closed items whose metric and segment are flagged again this period, so that a
    recurrence is read next to the cause and action recorded last time.
    """
    start = figures.period.start
    flagged_again = {(a.metric, a.dimension, a.segment) for a in anomalies}
    shown = [
        i
        for i in items
        if i.status == "open"
        or (i.closed_at and i.closed_at.date() >= start)
        or i.key in flagged_again
    ]
    return tuple(follow_up_item(report, cube, figures, anomalies, item, now) for item in shown)


def earlier_rcas(followups: Sequence[FollowUp]) -> dict[str, tuple[int, ...]]:
    """This period's anomaly ids that recur where a cause was recorded → those RCA item ids.

    An analyst reading a recurring anomaly should find the earlier root cause
    (and whether its action worked) instead of starting the analysis again.
    """
    linked: dict[str, list[int]] = {}
    for f in followups:
        for anomaly_id in f.recurring:
            linked.setdefault(anomaly_id, []).append(f.item.id)
    return {k: tuple(v) for k, v in linked.items()}
