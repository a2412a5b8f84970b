"""A persistent gap between peers is not news: peer checks learn it and flag only a change.

One queue is always 30 % slower than the others. Without its history the peer check calls that
an adverse anomaly every week; with the trailing weeks it learns the gap (checked against a
pandas computation) and stays quiet, until the gap widens in the last week.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reportgen.analysis._peer_gaps import learn_gaps
from reportgen.analysis.anomalies import peer_anomalies
from reportgen.build import build_report

from .test_quality import NOW, project

QUEUES = ("Spam", "Hate Speech", "Fraud", "Nudity", "Violence", "Scams", "Bullying", "Drugs")
SLOW = "Hate Speech"
WEEKS = pd.date_range("2026-08-31", periods=13, freq="7D")  # the 13th is 2026-W47


def weekly_aht(last_week_factor: float = 1.3, seed: int = 1) -> pd.DataFrame:
    """AHT per queue and week: about 60 s (±2 % noise); the slow queue 1.3× every week, and
    ``last_week_factor``× in the last one."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, week in enumerate(WEEKS):
        level = 60.0 * (1 + 0.01 * k)  # every queue drifts a little
        for queue in QUEUES:
            factor = (last_week_factor if k == len(WEEKS) - 1 else 1.3) if queue == SLOW else 1.0
            value = level * factor * rng.normal(1, 0.02)
            rows.append((week, queue, value, 2000.0, 40.0 / np.sqrt(2000.0)))
    return pd.DataFrame(rows, columns=["period_start", "segment", "value", "volume", "noise_sd"])


def check(frame: pd.DataFrame, with_history: bool = True):
    latest = frame.period_start == frame.period_start.max()
    return peer_anomalies(
        frame[latest],
        history=frame[~latest] if with_history else None,
        metric="aht",
        direction="lower_is_better",
        dimension="queue",
        period="2026-W47",
        value_format="seconds",
    )


def earlier(frame: pd.DataFrame) -> pd.DataFrame:
    """Earlier weeks × queues (pandas)."""
    past = frame[frame.period_start < frame.period_start.max()]
    return past.pivot(index="period_start", columns="segment", values="value")


def current(frame: pd.DataFrame) -> pd.Series:
    return frame[frame.period_start == frame.period_start.max()].set_index("segment").value


def pandas_usual_gap(frame: pd.DataFrame, segment: str) -> float:
    """The segment's median over the median of the other queues' medians (pandas)."""
    typical = earlier(frame).median()
    return typical[segment] / typical.drop(segment).median()


def pandas_expected(frame: pd.DataFrame, segment: str) -> float:
    """The segment's earlier values carried forward by the other queues' movement (pandas)."""
    wide = earlier(frame)
    typical = wide.median()
    moved = (wide / typical).drop(columns=segment).median(axis=1)
    moved_now = (current(frame) / typical).drop(segment).median()
    return float((wide[segment] * moved_now / moved).median())


def test_a_segment_always_slower_is_flagged_without_its_history():
    """The old behaviour, which makes the test below meaningful."""
    found = check(weekly_aht(), with_history=False)
    assert [(a.segment, a.sentiment) for a in found] == [(SLOW, "bad")]


def test_a_segment_always_slower_is_not_news():
    assert check(weekly_aht()) == []


def test_the_learned_gap_matches_pandas():
    frame = weekly_aht()
    latest = frame.period_start == frame.period_start.max()
    gaps = learn_gaps(frame[~latest], frame[latest], min_volume=30, min_peers=5)
    assert gaps.ratio
    assert gaps.usual_gap(SLOW) == pytest.approx(pandas_usual_gap(frame, SLOW), rel=1e-12)
    assert gaps.usual_gap(SLOW) == pytest.approx(1.3, rel=0.02)


def test_a_gap_that_widens_in_the_last_week_is_flagged_against_the_usual_gap():
    frame = weekly_aht(last_week_factor=1.6)
    (anomaly,) = check(frame)
    assert (anomaly.segment, anomaly.method, anomaly.sentiment) == (SLOW, "peer", "bad")
    assert anomaly.baseline == pytest.approx(pandas_expected(frame, SLOW), rel=1e-12)
    assert anomaly.observed == pytest.approx(current(frame)[SLOW], rel=1e-12)
    usual = (pandas_usual_gap(frame, SLOW) - 1) * 100
    assert (
        f"expected from its usual gap to the other 7 queues, usually {usual:.0f} % above their "
        "median over the previous 12 weeks (robust z " in anomaly.detail
    )


def test_one_peers_incident_does_not_make_its_neighbour_news():
    """Queues far apart: when one jumps across the middle, the raw median of the others moves
    to the next queue's level, but their typical-relative movement does not."""
    rng = np.random.default_rng(4)
    levels = dict(zip(QUEUES, (20, 30, 40, 50, 56, 62, 75, 80), strict=True))
    rows = []
    for k, week in enumerate(WEEKS):
        for queue, level in levels.items():
            jump = 1.5 if (queue == "Nudity" and k == len(WEEKS) - 1) else 1.0
            value = level * jump * rng.normal(1, 0.01)
            rows.append((week, queue, value, 2000.0, 40.0 / np.sqrt(2000.0)))
    frame = pd.DataFrame(rows, columns=["period_start", "segment", "value", "volume", "noise_sd"])
    assert [a.segment for a in check(frame)] == ["Nudity"]


def test_values_at_zero_learn_a_difference_not_a_ratio():
    frame = weekly_aht()
    frame["value"] = frame["value"] / 100 - 0.6  # around 0, some negative
    latest = frame.period_start == frame.period_start.max()
    gaps = learn_gaps(frame[~latest], frame[latest], min_volume=30, min_peers=5)
    assert not gaps.ratio
    typical = earlier(frame).median()
    assert gaps.usual_gap(SLOW) == pytest.approx(typical[SLOW] - typical.drop(SLOW).median())


def test_a_segment_without_enough_history_gets_the_plain_peer_check():
    frame = weekly_aht()
    recent = frame[frame.period_start >= WEEKS[-3]]  # two earlier weeks: fewer than min_history
    assert [a.segment for a in check(recent)] == [SLOW]


# -- the same through a report build -------------------------------------------------------------


REPORT = """\
title: Peer gaps
catalog: ../catalog.yaml
sources: ../sources.yaml
brand: ../brands/default.yaml
period: {grain: week, timezone: UTC}
metrics: [aht]
breakdowns: [queue]
trailing_periods: 10
sections: [summary, anomalies, metrics]
outputs: [html]
"""


def slow_queue(widen: bool):
    """Six queues; Hate Speech handles 30 % slower every week (60 % slower in W47 when
    ``widen``); handle times with little noise so that a plain peer check would flag it."""

    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        rng = np.random.default_rng(9)
        frame["queue"] = np.resize(QUEUES[:6], len(frame))
        frame["automated"] = False
        factor = np.where(frame["queue"] == SLOW, 1.3, 1.0)
        if widen:
            last = frame["decided_at"].dt.strftime("%G-W%V") == "2026-W47"
            factor = np.where(last & (frame["queue"] == SLOW), 1.6, factor)
        frame["handle_seconds"] = 60 * factor * rng.normal(1, 0.03, len(frame))
        return frame

    return mutate


def peer_flags(tmp_path, widen: bool) -> list[dict]:
    report = project(tmp_path, slow_queue(widen))
    report.write_text(REPORT, encoding="utf-8")
    result = build_report(report, period="2026-W47", out_dir=tmp_path / "out", now=NOW)
    figures = json.loads(result.artifacts["figures"].read_text(encoding="utf-8"))
    return [a for a in figures["insights"]["anomalies"] if a["method"] == "peer"]


def test_a_report_does_not_flag_a_queue_that_is_always_slower(tmp_path):
    assert peer_flags(tmp_path, widen=False) == []


def test_a_report_flags_the_queue_whose_gap_widened(tmp_path):
    (flag,) = peer_flags(tmp_path, widen=True)
    assert (flag["segment"], flag["sentiment"], flag["period"]) == (SLOW, "bad", "2026-W47")
    assert "expected from its usual gap to the other 5 queues" in flag["detail"]


def test_a_peer_anomaly_on_a_metric_with_a_unit_is_worded_with_it():
    """The unit parameter was shadowed by the noise estimate: wording the anomaly raised."""
    frame = weekly_aht(last_week_factor=1.6)
    latest = frame.period_start == frame.period_start.max()
    (anomaly,) = peer_anomalies(
        frame[latest],
        metric="aht",
        direction="lower_is_better",
        dimension="queue",
        period="2026-W47",
        value_format="decimal",
        decimals=1,
        unit="minutes",
    )
    assert f"was {current(frame)[SLOW]:.1f} minutes in 2026-W47" in anomaly.detail
