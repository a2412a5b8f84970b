"""`reportgen init` on an export nobody designed for it, built with no edits.

An abuse-report export with the habits that tripped the first try: a UUID key that a vendor
re-sent a few rows of, ``Z``-suffixed text times beside naive ones, yes/no flags as ``Y``/``N``
text, 0/1 integers, ``appeal_upheld`` for an overturn, handle time in minutes with a few
negative values, NULL countries. Every figure is checked against pandas on the raw rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen import build_report
from reportgen.project.scaffold import init_project

ZONE = "America/Los_Angeles"
WEEK = ("2026-W46", "2026-11-09", "2026-11-15")
START = pd.Timestamp("2026-08-03", tz="UTC")


def export(rows: int = 20000, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    reported = START + pd.to_timedelta(rng.uniform(0, 16 * 7 * 86400, rows).round(), unit="s")
    closed = reported + pd.to_timedelta(rng.lognormal(8, 1.2, rows).round(), unit="s")
    minutes = rng.gamma(2, 4, rows).round(2)
    minutes[rng.random(rows) < 0.004] *= -1
    vendor = rng.choice(["Acme BPO", "Globex", "InHouse"], rows)
    local_week = closed.tz_convert(ZONE).strftime("%G-W%V")
    # in the built week InHouse escalates a little more and the others less: InHouse's share of
    # escalations jumps (a mix shift) while no vendor's count leaves its normal range
    built = local_week == WEEK[0]
    p_escalate = np.where(built, np.where(vendor == "InHouse", 0.12, 0.05), 0.08)
    appealed = (rng.random(rows) < 0.05).astype(int)
    frame = pd.DataFrame(
        {
            "report_uuid": [f"{k:032x}" for k in rng.integers(0, 2**62, rows)],
            "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "closed_at": closed.tz_convert(None).strftime("%Y-%m-%d %H:%M:%S"),
            "country_code": rng.choice(["US", "GB", "DE", "IN", None], rows),
            "category": rng.choice(["harassment", "scam", "spam", "ip"], rows),
            "vendor": vendor,
            "handling_minutes": minutes,
            "escalated": np.where(rng.random(rows) < p_escalate, "Y", "N"),
            "user_appealed": appealed,
            "appeal_upheld": appealed * (rng.random(rows) < 0.3),
        }
    )
    return pd.concat([frame, frame.sample(12, random_state=1)], ignore_index=True)  # re-sent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("new-user")
    frame = export()
    frame.to_csv(work / "abuse_reports_export.csv", index=False)
    init_project(str(work / "abuse_reports_export.csv"), out_dir=work / "configs", timezone=ZONE)
    result = build_report(
        work / "configs" / "reports" / "weekly.yaml",
        period=WEEK[0],
        formats=["html"],
        out_dir=work / "out",
    )
    figures = json.loads(Path(result.artifacts["figures"]).read_text(encoding="utf-8"))
    catalog = (work / "configs" / "catalog.yaml").read_text(encoding="utf-8")
    return {"frame": frame, "figures": figures, "catalog": catalog}


def week_rows(frame: pd.DataFrame) -> pd.DataFrame:
    closed = pd.to_datetime(frame["closed_at"]).dt.tz_localize("UTC").dt.tz_convert(ZONE)
    lo = pd.Timestamp(WEEK[1], tz=ZONE)
    hi = pd.Timestamp(WEEK[2], tz=ZONE) + pd.Timedelta(days=1)
    return frame[(closed >= lo) & (closed < hi)]


def test_a_nearly_unique_key_warns_about_duplicates_instead_of_failing_the_first_build(built):
    assert "severity: {duplicate_keys: warning}" in built["catalog"]
    week = week_rows(built["frame"])
    found = [q for q in built["figures"]["data_quality"] if q["check"] == "duplicate_keys"]
    assert [(q["rows"], q["period_rows"]) for q in found] == [
        (int(week.duplicated("report_uuid").sum()), len(week))
    ]


def test_yes_no_text_is_a_flag_counted_like_pandas(built):
    assert "filter: \"escalated = 'Y'\"" in built["catalog"]
    week = week_rows(built["frame"])
    assert built["figures"]["metrics"]["escalated_rows"]["value"] == (week.escalated == "Y").sum()


def test_appeal_upheld_is_the_overturn_rate(built):
    week = week_rows(built["frame"])
    appealed = week[week.user_appealed == 1]
    value = built["figures"]["metrics"]["overturn_rate"]["value"]
    assert value == pytest.approx((appealed.appeal_upheld == 1).mean(), rel=1e-12)


def test_handle_time_in_minutes_shows_one_decimal(built):
    week = week_rows(built["frame"])
    aht = built["figures"]["metrics"]["aht"]
    assert aht["value"] == pytest.approx(week.handling_minutes.mean(), rel=1e-12)
    assert (aht["decimals"], aht["unit"]) == (1, "minutes")


def test_negative_minutes_and_null_countries_are_warnings_per_period(built):
    week = week_rows(built["frame"])
    checks = {
        q["check"]: q["rows"] for q in built["figures"]["data_quality"] if q["period"] == WEEK[0]
    }
    assert checks["negative_handling_minutes"] == (week.handling_minutes < 0).sum()
    assert checks["null_country_code"] == week.country_code.isna().sum()


def test_a_vendor_story_states_the_metric_not_its_share(built):
    """The vendor's jump is found as a mix shift (its share of escalations); the story about it
    gives the vendor's escalation count, as pandas counts it, not the share."""
    week = week_rows(built["frame"])
    inhouse = int(((week.vendor == "InHouse") & (week.escalated == "Y")).sum())
    (story,) = [s for s in built["figures"]["stories"] if s.get("segment") == "InHouse"]
    assert story["metric"] == "escalated_rows"
    (share,) = [
        a for a in built["figures"]["insights"]["anomalies"] if a["id"] in story["anomaly_ids"]
    ]
    assert share["method"] == "share"  # the path this test is about: a share anomaly leads
    assert share["observed"] == pytest.approx(inhouse / (week.escalated == "Y").sum(), 1e-12)
    assert story["observed"] == inhouse
    # the usual level: the count at the vendor's usual share of this week's escalations
    assert story["usual"] == pytest.approx(inhouse * share["baseline"] / share["observed"], 1e-12)
