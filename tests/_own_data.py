"""A ticket export with other column names than the demo, and a staffing file: what a new user has.

Small (a few thousand rows over 12 weeks), seeded, with the habits of real exports: UTC offsets
in text timestamps, 0/1 integers for some yes/no columns and booleans for others, a few NULL
handle times, a staffing table without the ticket's ``market``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-09-07", tz="UTC")
WEEKS = 12
TEAMS = ["alpha", "beta", "gamma"]


def tickets(rows: int = 3000, seed: int = 11) -> pd.DataFrame:
    """Ticket rows, timestamps as tz-aware UTC."""
    rng = np.random.default_rng(seed)
    created = START + pd.to_timedelta(rng.uniform(0, WEEKS * 7 * 86400, rows).round(), unit="s")
    resolved = created + pd.to_timedelta(rng.exponential(6 * 3600, rows).round() + 60, unit="s")
    appealed = rng.random(rows) < 0.12
    qa_checked = (rng.random(rows) < 0.25).astype("int64")
    seconds = rng.gamma(3, 20, rows).round(1)
    seconds[rng.random(rows) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "ticket_id": np.arange(100_001, 100_001 + rows, dtype="int64"),
            "created_utc": created,
            "resolved_utc": resolved,
            "team": rng.choice(TEAMS, rows),
            "market": rng.choice(["DE", "FR", "US", "BR"], rows),
            "policy_area": rng.choice(["spam", "hate", "fraud", "nudity", "violence"], rows),
            "outcome": rng.choice(["removed", "kept", "escalated"], rows, p=[0.5, 0.4, 0.1]),
            "was_appealed": appealed,
            "appeal_reversed": appealed & (rng.random(rows) < 0.25),
            "qa_checked": qa_checked,
            "qa_pass": (qa_checked == 1) & (rng.random(rows) < 0.9),
            "seconds_spent": seconds,
        }
    ).astype({"qa_pass": "int64"})


def staffing(seed: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range(START.tz_localize(None), periods=WEEKS * 7, freq="D")
    rows = [(d.date(), t, round(float(rng.uniform(40, 80)), 2)) for d in days for t in TEAMS]
    return pd.DataFrame(rows, columns=["date", "team", "staffed_hours"])


def write_csv_with_offsets(frame: pd.DataFrame, path: Path, zone: str = "Europe/Berlin") -> Path:
    """Timestamps as ISO text with the local UTC offset (+01:00 / +02:00 across the DST change)."""
    out = frame.copy()
    for column in ("created_utc", "resolved_utc"):
        out[column] = frame[column].dt.tz_convert(zone).map(lambda t: t.isoformat())
    out.to_csv(path, index=False)
    return path


def expected_figures(
    frame: pd.DataFrame, staff: pd.DataFrame, zone: str, start: str, end: str
) -> dict[str, float]:
    """The week's figures from the raw rows, with days cut in ``zone`` (pandas, not the engine)."""
    lo = pd.Timestamp(start, tz=zone)
    hi = pd.Timestamp(end, tz=zone) + pd.Timedelta(days=1)
    resolved = frame["resolved_utc"].dt.tz_convert(zone)
    week = frame[(resolved >= lo) & (resolved < hi)]
    created = frame["created_utc"].dt.tz_convert(zone)
    qa = week[week.qa_checked == 1]
    appealed = week[week.was_appealed]
    hours = staff[
        (pd.to_datetime(staff.date) >= lo.tz_localize(None))
        & (pd.to_datetime(staff.date) < hi.tz_localize(None))
    ]
    return {
        "tickets": float(len(week)),
        "inflow": float(((created >= lo) & (created < hi)).sum()),
        "aht": float(week.seconds_spent.mean()),
        "qa_accuracy": float((qa.qa_pass == 1).mean()),
        "appeal_rate": float(len(appealed) / len(week)),
        "overturn_rate": float(appealed.appeal_reversed.mean()),
        "throughput": float(len(week) / hours.staffed_hours.sum()),
        "time_to_action_p50": float(
            ((week.resolved_utc - week.created_utc).dt.total_seconds() / 3600).quantile(0.5)
        ),
        "time_to_action_p90": float(
            ((week.resolved_utc - week.created_utc).dt.total_seconds() / 3600).quantile(0.9)
        ),
    }
