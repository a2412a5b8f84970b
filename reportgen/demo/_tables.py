"""The small tables: violative views per day × policy × region, and targets.

Views are a prevalence measurement, not a by-product of decisions: each
(day, policy, region) cell's ``content_views`` is the region's daily views
split across policy measurement strata, and ``violative_views`` a binomial
draw at the policy's violative view rate, so summing cells gives the overall
rate (0.01–0.1 %).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from ._calendar import VIEWS_STREAM, Calendar, region_holiday_volume
from ._org import POLICIES, QUEUES, REGIONS

# Daily content views per region (a full weekday at the end of the data).
REGION_DAILY_VIEWS: dict[str, float] = {
    "North America": 2.2e9,
    "Latin America": 1.6e9,
    "Europe": 2.0e9,
    "Middle East": 0.6e9,
    "Africa": 0.9e9,
    "South Asia": 2.4e9,
    "Southeast Asia": 1.8e9,
    "East Asia": 1.2e9,
}
# Regional multiplier on violative view rates (weaker local-language classifiers = more exposure).
REGION_VVR: dict[str, float] = {
    "North America": 0.85,
    "Latin America": 1.10,
    "Europe": 0.80,
    "Middle East": 1.20,
    "Africa": 1.30,
    "South Asia": 1.15,
    "Southeast Asia": 1.05,
    "East Asia": 0.90,
}
# Violative view rate per policy at the end of the data (fraction of views).
POLICY_VVR: dict[str, float] = {
    "Spam": 8e-4,
    "Impersonation": 3e-4,
    "Scams & Fraud": 4e-4,
    "Hate Speech": 2.5e-4,
    "Harassment": 3e-4,
    "Adult Nudity": 6e-4,
    "Misinformation": 5e-4,
    "Violent Extremism": 1e-4,
    "Child Safety": 1e-4,
    "Self-Harm": 1.2e-4,
    "Graphic Violence": 3e-4,
    "Regulated Goods": 2e-4,
    "Intellectual Property": 2e-4,
    "Privacy": 1e-4,
    "Dangerous Organisations": 1e-4,
}
VVR_IMPROVEMENT_PER_YEAR = 0.10
WEEKEND_VIEWS = 1.06  # people browse more at weekends


def views_columns(calendar: Calendar, seed: int) -> dict[str, np.ndarray]:
    """Columns of the views table, rows ordered by day, policy, region."""
    days = calendar.days
    n_days, n_pol, n_reg = len(days), len(POLICIES), len(REGIONS)
    region_views = np.array([REGION_DAILY_VIEWS[r.name] for r in REGIONS])
    policy_share = _policy_view_share()
    day_factor = np.array([_views_day_factor(calendar, d) for d in days])
    holiday = np.array([region_holiday_volume(d) ** 0.5 for d in days])  # (days, regions)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(VIEWS_STREAM,)))
    noise = rng.lognormal(0.0, 0.03, (n_days, 1, n_reg))
    content = (
        day_factor[:, None, None]
        * holiday[:, None, :]
        * noise
        * region_views[None, None, :]
        * policy_share[None, :, None]
    )
    content = np.round(content).astype(np.int64)
    rate = (
        _vvr(calendar, days)[:, :, None]
        * np.array([REGION_VVR[r.name] for r in REGIONS])[None, None, :]
    )
    rate = rate * rng.lognormal(0.0, 0.08, (*rate.shape[:2], n_reg))
    violative = rng.binomial(content, np.clip(rate, 0.0, 0.01)).astype(np.int64)
    epoch = date(1970, 1, 1).toordinal()
    return {
        "day": np.repeat([d.toordinal() - epoch for d in days], n_pol * n_reg).astype(np.int32),
        "policy": np.tile(np.repeat(np.arange(n_pol, dtype=np.int32), n_reg), n_days),
        "region": np.tile(np.arange(n_reg, dtype=np.int32), n_days * n_pol),
        "content_views": content.ravel(),
        "violative_views": violative.ravel(),
    }


def _policy_view_share() -> np.ndarray:
    """Measurement strata sized by each policy's share of decisions (flattened by a square root)."""
    share = np.zeros(len(POLICIES))
    for queue in QUEUES:
        share[POLICIES.index(queue.policy)] += queue.volume_share
    share = np.sqrt(share)
    return share / share.sum()


def _views_day_factor(calendar: Calendar, day: date) -> float:
    weekend = WEEKEND_VIEWS if day.weekday() >= 5 else 1.0
    growth = math.exp(-0.06 * calendar.years_before_end(day))
    partial = calendar.hours(day) / 24
    return weekend * growth * partial


def _vvr(calendar: Calendar, days: tuple[date, ...]) -> np.ndarray:
    """(days × policies) rates, improving slowly over time."""
    base = np.array([POLICY_VVR[p] for p in POLICIES])
    years = np.array([calendar.years_before_end(d) for d in days])
    return base[None, :] * np.exp(VVR_IMPROVEMENT_PER_YEAR * years)[:, None]


# -- targets ---------------------------------------------------------------------------------

# (metric, target at start, target from mid-history or None). Proportions are fractions.
# Chosen against the generated levels so that ordinary weeks mostly meet them and
# the incident weeks miss several (AHT, throughput, QA accuracy, automation).
GLOBAL_TARGETS: tuple[tuple[str, float, float | None], ...] = (
    ("aht", 60.0, 57.0),
    ("sla_attainment", 0.95, None),
    ("qa_accuracy", 0.90, 0.91),
    ("overturn_rate", 0.15, None),
    ("automation_rate", 0.68, 0.70),
    ("proactive_rate", 0.85, None),
    ("high_severity_exposure", 0.40, None),
    ("utilization", 0.82, None),
    ("throughput", 50.0, None),
)
# A stricter target for a strong region and a looser one for a newer one.
REGION_TARGETS: tuple[tuple[str, str, float], ...] = (
    ("qa_accuracy", "Europe", 0.94),
    ("qa_accuracy", "South Asia", 0.90),
)


def target_change_day(calendar: Calendar) -> date:
    """Targets that change do so on the Monday half-way through the history."""
    return calendar.start + timedelta(weeks=calendar.weeks // 2)


def targets_csv(calendar: Calendar) -> str:
    """targets.csv text: the target in force is the row with the latest valid_from <= period start."""
    start = calendar.start.isoformat()
    change = target_change_day(calendar).isoformat()
    lines = ["metric,valid_from,dimension,segment,target"]
    for metric, first, later in GLOBAL_TARGETS:
        lines.append(f"{metric},{start},,,{first:g}")
        if later is not None:
            lines.append(f"{metric},{change},,,{later:g}")
    for metric, region, value in REGION_TARGETS:
        lines.append(f"{metric},{start},region,{region},{value:g}")
    return "\n".join(lines) + "\n"
