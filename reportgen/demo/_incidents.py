"""The anomalies planted in the demo data, and their day-level effects.

Reports built on the demo data are judged by whether they surface these, so
each is placed relative to the latest complete week L (the week before
``end``'s) and made large enough to stand out at the default size while
staying plausible. Targets are chosen by rule from the org constants (not by
hand) so that editing the org keeps them meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ._calendar import Calendar, iso_week
from ._manifest import Incident
from ._org import QUEUES, REGIONS, SITES

ACCURACY_DROP = 0.15  # absolute, on QA accuracy
NESTING_QA_FACTOR = 2.5  # QA oversamples a nesting new-hire cohort, so the drop is measured well
AHT_SPIKE = 0.45  # relative, on one queue's handle time
SLA_REGION = "Latin America"
# Extra share of the region's decisions pushed past SLA on each weekday of week L-1: an outage
# that peaks mid-week. Volume-weighted mean ~0.27, so attainment falls from ~97 % to ~70 %.
SLA_LATE_BY_WEEKDAY = (0.08, 0.30, 0.50, 0.45, 0.30, 0.12, 0.08)
# Share of the outage's overdue items stranded in a dead-letter queue: never decided in the data,
# still pending at its end, so the region's backlog steps up in week L-1 and stays up.
STRANDED_SHARE = 0.25


def _manual_share() -> np.ndarray:
    manual = np.array([q.volume_share * (1 - q.automation_rate) for q in QUEUES])
    return manual / manual.sum()


def _choose() -> tuple[int, int, int, int]:
    """(accuracy site, AHT-spike queue, mix-shift queue, SLA region) indices."""
    site = max(range(len(SITES)), key=lambda s: SITES[s].volume_share)
    manual = _manual_share()
    top = np.argsort(-manual, kind="stable")[:4]
    mix = int(max(top, key=lambda q: QUEUES[q].base_aht))
    spike = int(next(q for q in np.argsort(-manual, kind="stable") if q != mix))
    region = [r.name for r in REGIONS].index(SLA_REGION)
    return site, spike, mix, region


@dataclass(frozen=True)
class IncidentPlan:
    """What is changed, where and when; queried once per generated day."""

    week_l: date  # Monday of the latest complete week
    site: int
    spike_queue: int
    mix_queue: int
    region: int
    mix_volume_factor: float

    @classmethod
    def for_calendar(cls, calendar: Calendar) -> IncidentPlan:
        site, spike, mix, region = _choose()
        share = float(_manual_share()[mix])
        # Multiplying the queue's volume by k turns manual share s into k·s / (k·s + 1 - s);
        # solving for 2·s gives k:
        factor = 2 * (1 - share) / (1 - 2 * share)
        return cls(calendar.latest_complete_week, site, spike, mix, region, factor)

    def _in_week(self, day: date, weeks_before_l: int) -> bool:
        first = self.week_l - timedelta(weeks=weeks_before_l)
        return first <= day < first + timedelta(days=7)

    def site_accuracy_delta(self, day: date) -> np.ndarray:
        delta = np.zeros(len(SITES))
        if self._in_week(day, 0):
            delta[self.site] = -ACCURACY_DROP
        return delta

    def site_qa_factor(self, day: date) -> np.ndarray:
        factor = np.ones(len(SITES))
        if self._in_week(day, 0):
            factor[self.site] = NESTING_QA_FACTOR
        return factor

    def queue_aht_factor(self, day: date) -> np.ndarray:
        factor = np.ones(len(QUEUES))
        if self._in_week(day, 0):
            factor[self.spike_queue] = 1 + AHT_SPIKE
        return factor

    def queue_volume_factor(self, day: date) -> np.ndarray:
        factor = np.ones(len(QUEUES))
        if self._in_week(day, 0):
            factor[self.mix_queue] = self.mix_volume_factor
        return factor

    def region_late_probability(self, day: date) -> np.ndarray:
        late = np.zeros(len(REGIONS))
        if self._in_week(day, 1):
            late[self.region] = SLA_LATE_BY_WEEKDAY[day.weekday()]
        return late

    @property
    def stranded_share(self) -> float:
        return STRANDED_SHARE

    @property
    def outage_start_us(self) -> int:
        """Microseconds since the epoch of the SLA outage's start (Monday of week L-1, UTC)."""
        start = self.week_l - timedelta(weeks=1)
        return (start.toordinal() - date(1970, 1, 1).toordinal()) * 86_400_000_000

    def describe(self) -> tuple[Incident, ...]:
        week_l = iso_week(self.week_l)
        week_before = iso_week(self.week_l - timedelta(weeks=1))
        site = SITES[self.site].code
        spike = QUEUES[self.spike_queue].name
        mix = QUEUES[self.mix_queue].name
        region = REGIONS[self.region].name
        return (
            Incident(
                "site_accuracy_drop",
                "site_accuracy_drop",
                f"A new-hire cohort at {site} went live before calibration finished: the site's "
                f"QA accuracy fell about {ACCURACY_DROP * 100:.0f} pp for the week (QA sampled the "
                f"nesting cohort's work at {NESTING_QA_FACTOR:g}x the usual rate).",
                "qa_accuracy",
                "site",
                site,
                week_l,
                "down",
                -ACCURACY_DROP,
                "absolute",
            ),
            Incident(
                "queue_aht_spike",
                "queue_aht_spike",
                f"New {spike} guidelines took effect: moderators needed about "
                f"{AHT_SPIKE * 100:.0f} % longer per {spike} decision at every site.",
                "aht",
                "queue",
                spike,
                week_l,
                "up",
                AHT_SPIKE,
                "relative",
            ),
            Incident(
                "mix_shift_slow_queue",
                "mix_shift_slow_queue",
                f"A surge of {mix} items (the slowest high-volume queue) doubled its share of "
                "manual decisions; overall AHT rose through the mix while the queue's own AHT "
                "did not change.",
                "aht",
                "queue",
                mix,
                week_l,
                "up",
                round(self.mix_aht_effect(), 3),
                "relative",
                share_ratio=2.0,
            ),
            Incident(
                "sla_breach_week",
                "sla_breach_week",
                f"An enforcement-pipeline outage in {region} held decisions past their SLA for "
                "most of the week, peaking mid-week: SLA attainment fell to about 70 %. "
                f"About {STRANDED_SHARE:.0%} of the overdue items were stranded in a dead-letter "
                "queue and are still pending at the end of the data, so the region's backlog "
                "rose that week and stays up.",
                "sla_attainment",
                "region",
                region,
                week_before,
                "down",
                -0.27,
                "absolute",
            ),
        )

    def mix_aht_effect(self) -> float:
        """Relative rise of overall AHT from the mix shift alone, from the org constants."""
        share = _manual_share()
        aht = np.array([q.base_aht for q in QUEUES])
        before = float(share @ aht)
        shifted = share.copy()
        shifted[self.mix_queue] *= self.mix_volume_factor
        shifted /= shifted.sum()
        return float(shifted @ aht) / before - 1
