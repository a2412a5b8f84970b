"""One day of decisions and the staffing derived from them.

Each day draws from its own random stream, ``SeedSequence(seed, spawn_key=
(DAY_STREAM, day ordinal))``, in a fixed order, so a day's rows are the same
whichever chunk it lands in. Rows are sampled as integer codes into the org
tables (strings are attached only when writing) and every step is vectorised
over the day's rows.

Why the columns relate as they do:

* ``region`` is the site's region, so decisions and staffing share the
  (region, site, team) dimensions and cross-fact metrics (throughput) work.
* A moderator belongs to one site and team and works five days out of seven;
  manual decisions go to an on-shift moderator of the row's site and team.
* Staffing hours are computed from the day's own handle times, so throughput,
  utilization and high-severity exposure agree with the decisions exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

import numpy as np

from ._calendar import DAY_STREAM, ROSTER_STREAM, Calendar, hour_cdf, region_holiday_volume
from ._incidents import IncidentPlan
from ._org import QUEUES, SITES, TEAMS, OrgArrays

ACTIONS: tuple[str, ...] = ("remove", "restrict", "approve", "escalate")
DETECTIONS: tuple[str, ...] = ("user_report", "proactive")
REMOVE, RESTRICT, APPROVE, ESCALATE = range(4)

US_PER_HOUR = 3_600_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Behaviour constants, kept together so the demo's typical values can be tuned in one place.
AHT_SIGMA = 0.55  # log-normal spread of handle time within a queue
AHT_DECLINE_PER_YEAR = 0.03  # moderators get a little faster over time
MANUAL_DECLINE_PER_YEAR = 0.08  # automation slowly takes over (relative drop in manual share)
AUTO_ENFORCE = 0.85  # automation mostly acts when confident enough to enforce
ESCALATE_SHARE = (0.03, 0.06)  # of manual decisions, (standard, high severity)
PROACTIVE = (0.55, 0.97)  # P(detection = proactive) for (manual, automated)
ZERO_VIEWS = {"auto_proactive": 0.90, "manual_proactive": 0.72, "user_report": 0.04}
QA_RATE = (0.10, 0.15)  # of manual decisions sampled for QA, (standard, high severity)
MANUAL_LATENCY_SHARE = 0.32  # median manual time-to-action as a share of the SLA
LATENCY_SIGMA = 0.75
AUTO_LATENCY_SECONDS = 60.0
AUTO_DELAYED = 0.01  # automated decisions held up by a pipeline retry: these miss SLA


def _grouped_cdf(cdf: np.ndarray) -> np.ndarray:
    """Flatten per-group CDF rows so that one ``searchsorted`` samples every row's group."""
    return (cdf + np.arange(cdf.shape[0])[:, None]).ravel()


def sample_grouped(flat: np.ndarray, width: int, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sample of a category per row, each row using its group's distribution.

    ``flat`` is :func:`_grouped_cdf` of a (groups × width) CDF table. Row ``i``
    looks for ``group[i] + u[i]``; values of group g lie in [g, g + 1], so the
    search lands inside the row's own group. ``u`` is kept below 1 so that
    rounding can never spill into the next group.
    """
    x = group + np.minimum(u, 1.0 - 1e-12)
    return (np.searchsorted(flat, x, side="right") - group.astype(np.int64) * width).astype(
        np.int32
    )


def sample(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int32)


@dataclass(frozen=True)
class Roster:
    """Per-moderator traits, fixed for a run: some moderators are slower or more accurate."""

    aht_factor: np.ndarray
    accuracy_offset: np.ndarray

    @classmethod
    def build(cls, seed: int, count: int) -> Roster:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ROSTER_STREAM,)))
        return cls(rng.lognormal(0.0, 0.12, count), rng.normal(0.0, 0.015, count))


@dataclass(frozen=True)
class DayContext:
    """Everything a day needs that does not change from day to day."""

    calendar: Calendar
    seed: int
    incidents: IncidentPlan
    org: OrgArrays
    roster: Roster

    @cached_property
    def site_share(self) -> np.ndarray:
        share = self.org.site_attr("volume_share")
        return share / share.sum()

    @cached_property
    def queue_share(self) -> np.ndarray:
        share = self.org.queue_attr("volume_share")
        return share / share.sum()

    @cached_property
    def language_flat(self) -> np.ndarray:
        return _grouped_cdf(self.org.language_cdf)

    @cached_property
    def team_flat(self) -> np.ndarray:
        return _grouped_cdf(self.org.team_cdf)

    @cached_property
    def action_flat(self) -> np.ndarray:
        """Action CDF per (queue, automated) key = 2·queue + automated."""
        table = np.zeros((len(QUEUES) * 2, len(ACTIONS)))
        for q, queue in enumerate(QUEUES):
            escalate = ESCALATE_SHARE[queue.high_severity]
            manual = queue.manual_enforce
            table[2 * q] = (
                manual * (1 - queue.restrict_share),
                manual * queue.restrict_share,
                1 - manual - escalate,
                escalate,
            )
            table[2 * q + 1] = (
                AUTO_ENFORCE * (1 - queue.restrict_share),
                AUTO_ENFORCE * queue.restrict_share,
                1 - AUTO_ENFORCE,
                0.0,
            )
        cdf = np.cumsum(table, axis=1)
        cdf[:, -1] = 1.0
        return _grouped_cdf(cdf)

    def hour_flat(self, hours: int) -> np.ndarray:
        return _grouped_cdf(hour_cdf(hours))

    @cached_property
    def hour_flat_full(self) -> np.ndarray:
        return self.hour_flat(24)


@dataclass
class DayData:
    """A day's rows as numpy arrays; string columns hold codes into the org tables."""

    decisions: dict[str, np.ndarray]
    staffing: dict[str, np.ndarray]


def generate_day(ctx: DayContext, day: date, n: int, first_id: int) -> DayData:
    """Generate ``n`` decisions decided on ``day`` and that day's moderator staffing."""
    rng = np.random.default_rng(
        np.random.SeedSequence(ctx.seed, spawn_key=(DAY_STREAM, day.toordinal()))
    )
    org = ctx.org
    holiday = region_holiday_volume(day)
    site, tod = _sites_and_times(ctx, rng, day, n, holiday)
    region = org.site_region[site]
    queue = _queues(ctx, rng, day, n)
    language = sample_grouped(ctx.language_flat, org.language_cdf.shape[1], region, rng.random(n))
    automated = _automated(ctx, rng, day, queue)
    severe = org.queue_high_severity[queue]
    team = sample_grouped(ctx.team_flat, len(TEAMS), 2 * site + severe, rng.random(n))

    manual_rows = np.flatnonzero(~automated)
    moderator = _moderators(ctx, rng, day, site[manual_rows], team[manual_rows])
    handle = np.zeros(n)
    handle[manual_rows] = _handle_seconds(
        ctx, rng, day, queue[manual_rows], site[manual_rows], moderator
    )

    action = sample_grouped(ctx.action_flat, len(ACTIONS), 2 * queue + automated, rng.random(n))
    proactive = rng.random(n) < np.where(automated, PROACTIVE[1], PROACTIVE[0])
    views = _views_before_action(rng, automated, proactive)
    latency_us = _latency_us(ctx, rng, day, queue, site, region, automated, holiday)
    decided = _day_start_us(day) + tod
    accuracy = _accuracy(ctx, day, queue[manual_rows], site[manual_rows], moderator)
    qa_rate = np.where(severe, QA_RATE[1], QA_RATE[0]) * ctx.incidents.site_qa_factor(day)[site]
    qa_sampled, qa_correct = _qa(rng, n, manual_rows, qa_rate[manual_rows], accuracy)
    appealed, overturned = _appeals(rng, queue, action, manual_rows, accuracy)

    moderator_full = np.full(n, -1, dtype=np.int32)
    moderator_full[manual_rows] = moderator
    decisions = {
        "decision_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "enqueued_at": decided - latency_us,
        "decided_at": decided,
        "region": region.astype(np.int32),
        "site": site,
        "team": team,
        "queue": queue,
        "policy": org.queue_policy[queue].astype(np.int32),
        "language": language,
        "moderator_id": moderator_full,
        "action": action,
        "automated": automated,
        "detection": proactive.astype(np.int32),
        "handle_seconds": handle,
        "views_before_action": views,
        "sla_hours": ctx.org.queue_attr("sla_hours")[queue],
        "qa_sampled": qa_sampled,
        "qa_correct": qa_correct,
        "appealed": appealed,
        "overturned": overturned,
    }
    staffing = _staffing(ctx, rng, day, moderator, handle[manual_rows], severe[manual_rows])
    return DayData(decisions, staffing)


# -- steps -----------------------------------------------------------------------------------


def _day_start_us(day: date) -> int:
    return (day.toordinal() - EPOCH.date().toordinal()) * 24 * US_PER_HOUR


def _sites_and_times(
    ctx: DayContext, rng: np.random.Generator, day: date, n: int, holiday: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sites (holiday-weighted, with daily noise) and decision times, sorted by time.

    Sorting here, before the other columns exist, keeps each day's rows in
    ``decided_at`` order (good for Parquet statistics) at the cost of permuting
    two arrays.
    """
    weights = ctx.site_share * holiday[ctx.org.site_region] * rng.lognormal(0.0, 0.05, len(SITES))
    cdf = np.cumsum(weights / weights.sum())
    site = sample(cdf, rng.random(n))
    hours = ctx.calendar.hours(day)
    flat = ctx.hour_flat_full if hours == 24 else ctx.hour_flat(hours)
    hour = sample_grouped(flat, hours, ctx.org.site_region[site], rng.random(n))
    tod = hour.astype(np.int64) * US_PER_HOUR + (rng.random(n) * US_PER_HOUR).astype(np.int64)
    order = np.argsort(tod, kind="stable")
    return site[order], tod[order]


def _queues(ctx: DayContext, rng: np.random.Generator, day: date, n: int) -> np.ndarray:
    weights = ctx.queue_share * ctx.incidents.queue_volume_factor(day)
    weights = weights * rng.lognormal(0.0, 0.03, len(QUEUES))
    return sample(np.cumsum(weights / weights.sum()), rng.random(n))


def _automated(
    ctx: DayContext, rng: np.random.Generator, day: date, queue: np.ndarray
) -> np.ndarray:
    """Automation slowly rises: each queue's manual share shrinks ~8 % a year, with daily noise."""
    manual = 1.0 - ctx.org.queue_attr("automation_rate")
    manual = manual * np.exp(MANUAL_DECLINE_PER_YEAR * ctx.calendar.years_before_end(day))
    manual = np.clip(manual * rng.lognormal(0.0, 0.03, len(QUEUES)), 0.005, 1.0)
    return rng.random(len(queue)) >= manual[queue]


def _moderators(
    ctx: DayContext, rng: np.random.Generator, day: date, site: np.ndarray, team: np.ndarray
) -> np.ndarray:
    """An on-shift moderator of the row's site and team, uniformly.

    Moderator ``i`` (0-based) is off on weekdays ``i mod 7`` and ``i + 1 mod 7``;
    ids are contiguous per site-team, so every team keeps most of its staff on
    every day.
    """
    org = ctx.org
    number = np.arange(org.moderator_count)
    on_shift = np.flatnonzero((day.weekday() - number) % 7 >= 2)
    keys = org.moderator_site[on_shift].astype(np.int64) * len(TEAMS) + org.moderator_team[on_shift]
    counts = np.bincount(keys, minlength=len(SITES) * len(TEAMS))
    offsets = np.cumsum(counts) - counts
    row_key = site.astype(np.int64) * len(TEAMS) + team
    pick = (rng.random(len(site)) * counts[row_key]).astype(np.int64)
    return on_shift[offsets[row_key] + pick].astype(np.int32)


def _handle_seconds(
    ctx: DayContext,
    rng: np.random.Generator,
    day: date,
    queue: np.ndarray,
    site: np.ndarray,
    moderator: np.ndarray,
) -> np.ndarray:
    org = ctx.org
    queue_mean = org.queue_attr("base_aht") * ctx.incidents.queue_aht_factor(day)
    trend = np.exp(AHT_DECLINE_PER_YEAR * ctx.calendar.years_before_end(day))
    mean = (
        queue_mean[queue]
        * org.site_attr("aht_factor")[site]
        * ctx.roster.aht_factor[moderator]
        * trend
    )
    median = mean * np.exp(-(AHT_SIGMA**2) / 2)
    seconds = median * rng.lognormal(0.0, AHT_SIGMA, len(queue))
    return np.round(np.clip(seconds, 2.0, 1800.0), 3)


def _views_before_action(
    rng: np.random.Generator, automated: np.ndarray, proactive: np.ndarray
) -> np.ndarray:
    """Proactively found items are mostly actioned before anyone sees them; reported ones were seen."""
    zero_p = np.where(
        proactive,
        np.where(automated, ZERO_VIEWS["auto_proactive"], ZERO_VIEWS["manual_proactive"]),
        ZERO_VIEWS["user_report"],
    )
    zero = rng.random(len(automated)) < zero_p
    median = np.where(proactive, 30.0, 250.0)
    views = np.ceil(median * rng.lognormal(0.0, 1.5, len(automated))).astype(np.int64)
    views[zero] = 0
    return views


def _latency_us(
    ctx: DayContext,
    rng: np.random.Generator,
    day: date,
    queue: np.ndarray,
    site: np.ndarray,
    region: np.ndarray,
    automated: np.ndarray,
    holiday: np.ndarray,
) -> np.ndarray:
    """Time from enqueue to decision.

    Manual work waits a share of its SLA (longer at slow sites, on weekends
    and holidays, when fewer people work); automation takes about a minute
    unless a pipeline retry holds it. The SLA incident pushes a share of one
    region's decisions past their SLA.
    """
    n = len(queue)
    sla_seconds = ctx.org.queue_attr("sla_hours")[queue] * 3600.0
    weekend = 1.1 if day.weekday() >= 5 else 1.0
    slow = 1.0 + 2.0 * (1.0 - holiday)  # 0.6 volume (Christmas) -> 1.8x slower
    manual_median = (
        sla_seconds
        * MANUAL_LATENCY_SHARE
        * ctx.org.site_attr("sla_factor")[site]
        * slow[region]
        * weekend
    )
    noise = rng.lognormal(0.0, LATENCY_SIGMA, n)
    auto_noise = rng.lognormal(0.0, 1.0, n)
    seconds = np.where(automated, AUTO_LATENCY_SECONDS * auto_noise, manual_median * noise)
    delayed = automated & (rng.random(n) < AUTO_DELAYED)
    late = rng.random(n) < ctx.incidents.region_late_probability(day)[region]
    overdue = sla_seconds * rng.uniform(1.1, 3.0, n)
    seconds = np.where(delayed | late, overdue, seconds)
    return (np.maximum(seconds, 1.0) * 1e6).astype(np.int64)


def _accuracy(
    ctx: DayContext, day: date, queue: np.ndarray, site: np.ndarray, moderator: np.ndarray
) -> np.ndarray:
    """Chance a manual decision is correct: site baseline, queue difficulty, moderator, incident."""
    org = ctx.org
    site_accuracy = org.site_attr("accuracy") + ctx.incidents.site_accuracy_delta(day)
    value = (
        site_accuracy[site]
        + org.queue_attr("difficulty")[queue]
        + ctx.roster.accuracy_offset[moderator]
    )
    return np.clip(value, 0.5, 0.995)


def _qa(
    rng: np.random.Generator,
    n: int,
    manual_rows: np.ndarray,
    rate: np.ndarray,
    accuracy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """QA samples ~10 % of manual work (more on high-severity queues); automation is never sampled."""
    m = len(manual_rows)
    sampled_m = rng.random(m) < rate
    correct_m = sampled_m & (rng.random(m) < accuracy)
    sampled = np.zeros(n, dtype=bool)
    correct = np.zeros(n, dtype=bool)
    sampled[manual_rows] = sampled_m
    correct[manual_rows] = correct_m
    return sampled, correct


def _appeals(
    rng: np.random.Generator,
    queue: np.ndarray,
    action: np.ndarray,
    manual_rows: np.ndarray,
    accuracy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Only enforcement can be appealed; sloppier work is overturned more often."""
    n = len(queue)
    appeal_rate = np.array([q.appeal_rate for q in QUEUES])
    difficulty = np.array([q.difficulty for q in QUEUES])
    enforced = action <= RESTRICT
    appealed = enforced & (rng.random(n) < appeal_rate[queue])
    overturn_p = 0.10 - 1.5 * difficulty[queue]
    overturn_p[manual_rows] = 0.04 + 1.8 * (1.0 - accuracy)
    overturned = appealed & (rng.random(n) < overturn_p)
    return appealed, overturned


def _staffing(
    ctx: DayContext,
    rng: np.random.Generator,
    day: date,
    moderator: np.ndarray,
    handle: np.ndarray,
    severe: np.ndarray,
) -> dict[str, np.ndarray]:
    """One row per moderator with manual decisions today, hours derived from handle time.

    productive = handle time / occupancy; paid = productive / utilization;
    wellness = a share of paid; high-severity hours = productive hours spent on
    high-severity queues. Site values carry a little per-moderator-day noise.
    """
    org = ctx.org
    count = org.moderator_count
    worked = np.flatnonzero(np.bincount(moderator, minlength=count) > 0)
    handle_hours = np.bincount(moderator, weights=handle, minlength=count)[worked] / 3600.0
    severe_hours = np.bincount(moderator, weights=handle * severe, minlength=count)[worked] / 3600.0
    site = org.moderator_site[worked]
    k = len(worked)
    occupancy = np.clip(org.site_attr("occupancy")[site] + rng.normal(0.0, 0.025, k), 0.70, 0.97)
    utilization = np.clip(org.site_attr("utilization")[site] + rng.normal(0.0, 0.03, k), 0.65, 0.95)
    wellness = np.clip(org.site_attr("wellness")[site] + rng.normal(0.0, 0.01, k), 0.03, 0.12)
    productive = handle_hours / occupancy
    paid = productive / utilization
    return {
        "day": np.full(k, _day_start_us(day) // (24 * US_PER_HOUR), dtype=np.int32),
        "region": org.site_region[site].astype(np.int32),
        "site": site.astype(np.int32),
        "team": org.moderator_team[worked].astype(np.int32),
        "moderator_id": worked.astype(np.int32),
        "paid_hours": paid,
        "productive_hours": productive,
        "wellness_hours": paid * wellness,
        "high_severity_hours": severe_hours / occupancy,
    }
