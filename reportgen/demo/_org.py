"""The fictional moderation organisation behind the demo data.

Everything here is a plain constant so that a reader can see, in one place,
why the data looks the way it does: which sites are slow or sloppy, which
queues are automated, which languages each region speaks. The generator turns
these tables into numpy lookup arrays once (:class:`OrgArrays`) and samples
rows by integer index; strings only appear when a chunk is written, as Arrow
dictionary arrays.

Site codes are made-up city codes with a site number, not real vendors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

# -- regions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    name: str
    utc_offset: int  # hours; shifts the local diurnal curve onto UTC


REGIONS: tuple[Region, ...] = (
    Region("North America", -6),
    Region("Latin America", -4),
    Region("Europe", 1),
    Region("Middle East", 3),
    Region("Africa", 2),
    Region("South Asia", 5),
    Region("Southeast Asia", 8),
    Region("East Asia", 9),
)

# -- teams -----------------------------------------------------------------------------------

TEAMS: tuple[str, ...] = ("Generalist", "Specialist", "Escalations", "Rapid Response")

# Routing weight of a team for (standard, high-severity) queues, before
# normalising over the teams a site has. Specialists take most high-severity
# work but also standard work, which keeps their exposure near the 50 % cap
# rather than at 100 % (wellbeing rotation).
TEAM_ROUTING: dict[str, tuple[float, float]] = {
    "Generalist": (0.70, 0.32),
    "Specialist": (0.30, 0.55),
    "Escalations": (0.06, 0.08),
    "Rapid Response": (0.04, 0.05),
}

# Share of a site's headcount per team, before normalising over its teams.
TEAM_HEADCOUNT: dict[str, float] = {
    "Generalist": 0.58,
    "Specialist": 0.28,
    "Escalations": 0.09,
    "Rapid Response": 0.05,
}

# -- sites -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A vendor site. The factors make sites differ a little, as real ones do."""

    code: str
    city: str
    region: str
    volume_share: float  # share of all decisions routed to the site
    teams: tuple[str, ...]
    aht_factor: float  # multiplies queue base AHT
    accuracy: float  # baseline QA accuracy before queue difficulty
    sla_factor: float  # multiplies manual time-to-action (higher = slower)
    occupancy: float  # productive hours / logged-in handling hours
    utilization: float  # productive hours / paid hours
    wellness: float  # wellness hours / paid hours


G, S, E, R = TEAMS
# fmt: off
SITES: tuple[Site, ...] = (
    #    code     city            region            share  teams         aht   acc    sla   occ   util  well
    Site("AUS-1", "Austin",       "North America",  0.055, (G, S, E, R), 1.05, 0.945, 0.90, 0.86, 0.84, 0.08),
    Site("PHX-1", "Phoenix",      "North America",  0.040, (G, S),       1.02, 0.935, 1.00, 0.85, 0.83, 0.07),
    Site("TOR-1", "Toronto",      "North America",  0.035, (G, S, E),    1.08, 0.950, 0.95, 0.84, 0.82, 0.08),
    Site("MEX-1", "Mexico City",  "Latin America",  0.040, (G, S, E),    0.98, 0.925, 1.05, 0.86, 0.84, 0.06),
    Site("BOG-1", "Bogota",       "Latin America",  0.035, (G, S),       0.96, 0.915, 1.15, 0.87, 0.85, 0.06),
    Site("SAO-1", "Sao Paulo",    "Latin America",  0.045, (G, S, E),    1.00, 0.930, 1.00, 0.85, 0.83, 0.07),
    Site("DUB-1", "Dublin",       "Europe",         0.050, (G, S, E, R), 1.10, 0.955, 0.85, 0.82, 0.80, 0.09),
    Site("LIS-1", "Lisbon",       "Europe",         0.035, (G, S),       1.04, 0.940, 0.95, 0.84, 0.82, 0.08),
    Site("BER-1", "Berlin",       "Europe",         0.030, (G, S, E),    1.12, 0.950, 0.90, 0.81, 0.79, 0.09),
    Site("WAW-1", "Warsaw",       "Europe",         0.040, (G, S),       1.00, 0.935, 1.00, 0.85, 0.83, 0.07),
    Site("DXB-1", "Dubai",        "Middle East",    0.030, (G, S, E),    1.03, 0.930, 1.05, 0.84, 0.82, 0.07),
    Site("AMM-1", "Amman",        "Middle East",    0.025, (G, S),       0.99, 0.920, 1.15, 0.86, 0.84, 0.06),
    Site("NBO-1", "Nairobi",      "Africa",         0.035, (G, S),       0.97, 0.920, 1.10, 0.87, 0.85, 0.06),
    Site("JNB-1", "Johannesburg", "Africa",         0.025, (G, S, E),    1.01, 0.930, 1.05, 0.85, 0.83, 0.07),
    Site("ACC-1", "Accra",        "Africa",         0.020, (G, S),       0.95, 0.910, 1.20, 0.88, 0.86, 0.05),
    Site("HYD-1", "Hyderabad",    "South Asia",     0.050, (G, S, E),    0.94, 0.920, 1.05, 0.88, 0.86, 0.06),
    Site("BLR-2", "Bengaluru",    "South Asia",     0.045, (G, S, E),    0.96, 0.930, 1.00, 0.87, 0.85, 0.06),
    Site("CMB-1", "Colombo",      "South Asia",     0.025, (G, S),       0.93, 0.905, 1.20, 0.89, 0.87, 0.05),
    Site("MNL-2", "Manila",       "Southeast Asia", 0.080, (G, S, E, R), 0.95, 0.935, 1.00, 0.88, 0.86, 0.06),
    Site("CEB-1", "Cebu",         "Southeast Asia", 0.035, (G, S),       0.93, 0.915, 1.10, 0.89, 0.87, 0.05),
    Site("KUL-1", "Kuala Lumpur", "Southeast Asia", 0.035, (G, S, E),    0.98, 0.930, 1.00, 0.86, 0.84, 0.07),
    Site("BKK-1", "Bangkok",      "Southeast Asia", 0.025, (G, S),       0.97, 0.920, 1.10, 0.87, 0.85, 0.06),
    Site("TYO-1", "Tokyo",        "East Asia",      0.035, (G, S, E),    1.06, 0.955, 0.85, 0.83, 0.81, 0.08),
    Site("SEL-1", "Seoul",        "East Asia",      0.030, (G, S),       1.03, 0.945, 0.90, 0.84, 0.82, 0.07),
    Site("TPE-1", "Taipei",       "East Asia",      0.020, (G, S),       1.01, 0.940, 0.95, 0.85, 0.83, 0.07),
)
# fmt: on
del G, S, E, R

MODERATOR_HEADCOUNT = 2_400
MIN_TEAM_HEADCOUNT = 7  # so that, with two days off a week, every team always has someone on shift

# -- queues ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    """A review queue. Several queues may serve one policy."""

    name: str
    policy: str
    volume_share: float  # share of all decisions before automation
    base_aht: float  # seconds, mean manual handle time at an average site
    automation_rate: float  # share of the queue's decisions taken automatically
    high_severity: bool  # counts towards moderators' high-severity exposure; 4 h SLA
    difficulty: float  # added to QA accuracy (negative = harder)
    restrict_share: float  # of enforcement, share restricting (label, age-gate) not removing
    manual_enforce: float  # share of manual decisions that enforce
    appeal_rate: float  # share of enforcement decisions appealed

    @property
    def sla_hours(self) -> float:
        return 4.0 if self.high_severity else 24.0


# fmt: off
QUEUES: tuple[Queue, ...] = (
    #     name                       policy                     share  aht auto  high   diff    restr enf   appeal
    Queue("Spam",                    "Spam",                    0.280,  20, 0.97, False, +0.030, 0.05, 0.60, 0.010),
    Queue("Fake Accounts",           "Impersonation",           0.050,  30, 0.90, False, +0.010, 0.10, 0.55, 0.020),
    Queue("Scams & Fraud",           "Scams & Fraud",           0.080,  45, 0.80, False, +0.000, 0.05, 0.55, 0.020),
    Queue("Hate Speech",             "Hate Speech",             0.080,  55, 0.40, False, -0.030, 0.15, 0.50, 0.045),
    Queue("Harassment",              "Harassment",              0.090,  50, 0.35, False, -0.020, 0.15, 0.50, 0.040),
    Queue("Adult Nudity",            "Adult Nudity",            0.100,  25, 0.90, False, +0.020, 0.30, 0.60, 0.030),
    Queue("Misinformation",          "Misinformation",          0.050,  75, 0.30, False, -0.040, 0.60, 0.45, 0.050),
    Queue("Violent Extremism",       "Violent Extremism",       0.015,  90, 0.70, True,  -0.010, 0.05, 0.65, 0.020),
    Queue("Child Safety",            "Child Safety",            0.008, 120, 0.75, True,  +0.000, 0.00, 0.70, 0.010),
    Queue("Self-Harm",               "Self-Harm",               0.025,  80, 0.45, True,  -0.010, 0.50, 0.55, 0.015),
    Queue("Graphic Violence",        "Graphic Violence",        0.040,  70, 0.60, True,  -0.010, 0.45, 0.55, 0.030),
    Queue("Regulated Goods",         "Regulated Goods",         0.040,  35, 0.75, False, +0.000, 0.30, 0.55, 0.030),
    Queue("Intellectual Property",   "Intellectual Property",   0.040,  40, 0.65, False, -0.010, 0.10, 0.55, 0.050),
    Queue("Impersonation",           "Impersonation",           0.030,  45, 0.50, False, +0.000, 0.10, 0.50, 0.035),
    Queue("Privacy",                 "Privacy",                 0.020,  60, 0.35, False, -0.020, 0.10, 0.50, 0.030),
    Queue("Dangerous Organisations", "Dangerous Organisations", 0.015,  85, 0.60, True,  -0.020, 0.05, 0.60, 0.025),
)
# fmt: on

# -- languages -------------------------------------------------------------------------------

# Relative language mix per region (weights are normalised per region).
# fmt: off
LANGUAGE_MIX: dict[str, dict[str, float]] = {
    "North America": {"English": 78, "Spanish": 15, "French": 4, "Chinese": 2, "Vietnamese": 1},
    "Latin America": {"Spanish": 62, "Portuguese": 33, "English": 5},
    "Europe": {"English": 18, "German": 18, "French": 17, "Spanish": 10, "Italian": 10, "Polish": 10, "Dutch": 7, "Turkish": 5, "Portuguese": 5},
    "Middle East": {"Arabic": 65, "Turkish": 13, "Persian": 12, "English": 10},
    "Africa": {"English": 35, "Swahili": 15, "French": 15, "Hausa": 10, "Arabic": 10, "Amharic": 8, "Zulu": 7},
    "South Asia": {"Hindi": 35, "English": 25, "Bengali": 15, "Urdu": 10, "Tamil": 10, "Sinhala": 5},
    "Southeast Asia": {"Tagalog": 25, "Indonesian": 25, "English": 15, "Thai": 12, "Vietnamese": 12, "Malay": 11},
    "East Asia": {"Japanese": 40, "Korean": 30, "Chinese": 25, "English": 5},
}
# fmt: on


def _languages() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for mix in LANGUAGE_MIX.values():
        seen.update(dict.fromkeys(mix))
    return tuple(seen)


LANGUAGES: tuple[str, ...] = _languages()
POLICIES: tuple[str, ...] = tuple(dict.fromkeys(q.policy for q in QUEUES))

# -- calendar constants ----------------------------------------------------------------------

# Relative volume by ISO weekday (Mon..Sun): weekends ~25 % lower.
WEEKDAY_VOLUME: tuple[float, ...] = (1.04, 1.06, 1.05, 1.03, 1.00, 0.78, 0.76)

# Relative content arrivals by local hour (0..23): quiet at night, evening peak.
# fmt: off
LOCAL_HOUR_VOLUME: tuple[float, ...] = (
    0.55, 0.45, 0.38, 0.34, 0.33, 0.36, 0.45, 0.60, 0.75, 0.88, 0.97, 1.03,
    1.08, 1.10, 1.10, 1.10, 1.12, 1.17, 1.25, 1.33, 1.36, 1.30, 1.10, 0.80,
)
# fmt: on


@dataclass(frozen=True)
class Holiday:
    """A fixed-date holiday: lower volume and, with fewer staff, slower decisions."""

    month: int
    day: int
    name: str
    volume: float
    regions: tuple[str, ...] | None = None  # None = everywhere


HOLIDAYS: tuple[Holiday, ...] = (
    Holiday(1, 1, "New Year's Day", 0.62),
    Holiday(5, 1, "Labour Day", 0.85),
    Holiday(12, 24, "Christmas Eve", 0.82),
    Holiday(12, 25, "Christmas Day", 0.60),
    Holiday(12, 31, "New Year's Eve", 0.82),
)
# US/Canada-style Thanksgiving (fourth Thursday of November) is computed per year.
THANKSGIVING = Holiday(11, 0, "Thanksgiving", 0.70, ("North America",))


# -- numpy view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgArrays:
    """The constants above as index-aligned numpy arrays, built once per run.

    Moderators are numbered site by site and team by team, so each
    (site, team) owns one contiguous id range; ``moderator_id`` strings are
    ``M`` plus a five-digit number starting at 1.
    """

    @cached_property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in REGIONS)

    @cached_property
    def site_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in SITES)

    @cached_property
    def queue_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in QUEUES)

    @cached_property
    def site_region(self) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.region_names)}
        return np.array([index[s.region] for s in SITES], dtype=np.int16)

    def site_attr(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in SITES], dtype=np.float64)

    def queue_attr(self, name: str) -> np.ndarray:
        return np.array([getattr(q, name) for q in QUEUES], dtype=np.float64)

    @cached_property
    def queue_policy(self) -> np.ndarray:
        return np.array([POLICIES.index(q.policy) for q in QUEUES], dtype=np.int16)

    @cached_property
    def queue_high_severity(self) -> np.ndarray:
        return np.array([q.high_severity for q in QUEUES], dtype=bool)

    @cached_property
    def language_cdf(self) -> np.ndarray:
        """Cumulative language probabilities, one row per region."""
        table = np.zeros((len(REGIONS), len(LANGUAGES)))
        for r, region in enumerate(REGIONS):
            for language, weight in LANGUAGE_MIX[region.name].items():
                table[r, LANGUAGES.index(language)] = weight
        return _cdf_rows(table)

    @cached_property
    def team_cdf(self) -> np.ndarray:
        """Cumulative team probabilities, one row per (site, high_severity) key = 2·site + hs."""
        table = np.zeros((len(SITES) * 2, len(TEAMS)))
        for s, site in enumerate(SITES):
            for team in site.teams:
                standard, severe = TEAM_ROUTING[team]
                table[2 * s, TEAMS.index(team)] = standard
                table[2 * s + 1, TEAMS.index(team)] = severe
        return _cdf_rows(table)

    @cached_property
    def moderator_blocks(self) -> tuple[tuple[int, int, int, int], ...]:
        """(site index, team index, first moderator number, count) per site-team."""
        total_share = sum(s.volume_share for s in SITES)
        blocks: list[tuple[int, int, int, int]] = []
        next_number = 1
        for s, site in enumerate(SITES):
            site_heads = MODERATOR_HEADCOUNT * site.volume_share / total_share
            weight = sum(TEAM_HEADCOUNT[t] for t in site.teams)
            for team in site.teams:
                count = max(MIN_TEAM_HEADCOUNT, round(site_heads * TEAM_HEADCOUNT[team] / weight))
                blocks.append((s, TEAMS.index(team), next_number, count))
                next_number += count
        return tuple(blocks)

    @cached_property
    def moderator_count(self) -> int:
        return sum(block[3] for block in self.moderator_blocks)

    @cached_property
    def moderator_ids(self) -> tuple[str, ...]:
        return tuple(f"M{n:05d}" for n in range(1, self.moderator_count + 1))

    @cached_property
    def moderator_site(self) -> np.ndarray:
        return self._expand_blocks(0)

    @cached_property
    def moderator_team(self) -> np.ndarray:
        return self._expand_blocks(1)

    def _expand_blocks(self, field: int) -> np.ndarray:
        values = [block[field] for block in self.moderator_blocks]
        counts = [block[3] for block in self.moderator_blocks]
        return np.repeat(np.array(values, dtype=np.int16), counts)


def _cdf_rows(weights: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative sums with the last column exactly 1 (rows of zeros stay 0)."""
    totals = weights.sum(axis=1, keepdims=True)
    cdf = np.cumsum(weights / np.where(totals > 0, totals, 1.0), axis=1)
    cdf[totals[:, 0] > 0, -1] = 1.0
    return cdf
