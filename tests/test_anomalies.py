"""Anomaly detection: the robust score, its noise floors, stable ids and the planted incidents."""

from __future__ import annotations

import math
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.analysis.anomalies import (
    Anomaly,
    anomaly_id,
    daily_history_anomalies,
    history_anomalies,
    mean_noise_sd,
    peer_anomalies,
    proportion_noise_sd,
    robust_z,
    share_anomalies,
)

ROOT = Path(__file__).resolve().parent.parent
WEEKS = pd.date_range("2026-08-24", periods=13, freq="7D")  # 12 weeks of history, then W47


def weekly(values, volumes, segment="S", noise=None) -> pd.DataFrame:
    """One segment's weekly series, oldest first; the last row is the current week."""
    frame = pd.DataFrame(
        {"segment": segment, "period_start": WEEKS[-len(values) :], "value": values}
    )
    frame["volume"] = volumes
    if noise is not None:
        frame["noise_sd"] = noise
    return frame


def binomial(correct, n) -> pd.DataFrame:
    """value, volume and noise_sd of a proportion from counts."""
    correct, n = pd.Series(correct, dtype=float), pd.Series(n, dtype=float)
    return pd.DataFrame(
        {"value": correct / n, "volume": n, "noise_sd": proportion_noise_sd(correct, n)}
    )


def history(frame: pd.DataFrame, **kwargs) -> list[Anomaly]:
    args = {
        "metric": "qa_accuracy",
        "direction": "higher_is_better",
        "dimension": "site",
        "period": "2026-W47",
    }
    return history_anomalies(frame, **{**args, **kwargs})


# -- the score ---------------------------------------------------------------------------------


def test_robust_z_matches_an_independent_median_mad_computation():
    rng = np.random.default_rng(3)
    values = rng.normal(50.0, 4.0, 12)
    observed = 63.0
    median = np.median(values)
    mad = np.median(np.abs(values - median))

    z, got_median, scale = robust_z(observed, list(values))

    assert got_median == pytest.approx(median, rel=1e-12)
    assert scale == pytest.approx(1.4826 * mad, rel=1e-4)
    assert z == pytest.approx((observed - median) / (1.4826 * mad), rel=1e-4)
    assert z == pytest.approx(0.6745 * (observed - median) / mad, rel=1e-4)  # textbook form


def test_zero_mad_does_not_divide_by_zero():
    mostly_flat = [5.0, 5.0, 5.0, 5.0, 5.0, 6.0, 9.0]  # MAD 0: falls back to the mean deviation
    z, median, scale = robust_z(8.0, mostly_flat)
    assert median == 5.0 and scale > 0 and math.isfinite(z) and z > 0

    assert robust_z(5.0, [5.0] * 8) == (0.0, 5.0, 0.0)
    assert robust_z(6.0, [5.0] * 8)[0] == math.inf

    flat = weekly([0.9] * 12 + [0.8], [1000] * 13)  # detectors floor the scale: finite z
    found = history(flat)
    assert len(found) == 1 and math.isfinite(found[0].robust_z)


def test_ids_are_stable_and_differ_when_any_key_part_differs():
    key = ("qa_accuracy", "site", "MNL-2", "2026-W47", "history")
    first = anomaly_id(*key)
    assert re.fullmatch(r"A-[0-9a-f]{10}", first)
    assert anomaly_id(*key) == first

    variants = [
        ("aht", "site", "MNL-2", "2026-W47", "history"),
        ("qa_accuracy", "queue", "MNL-2", "2026-W47", "history"),
        ("qa_accuracy", "site", "CEB-1", "2026-W47", "history"),
        ("qa_accuracy", "site", "MNL-2", "2026-W46", "history"),
        ("qa_accuracy", "site", "MNL-2", "2026-W47", "peer"),
        ("qa_accuracy", None, None, "2026-W47", "history"),
        ("qa_accuracy", "None", "None", "2026-W47", "history"),
    ]
    ids = {anomaly_id(*v) for v in variants}
    assert first not in ids and len(ids) == len(variants)


def test_anomaly_ids_do_not_depend_on_values_or_row_order():
    counts = binomial([93] * 12 + [60], [100] * 13)
    frame = weekly(counts.value, counts.volume, "MNL-2", counts.noise_sd)
    other = weekly(counts.value * 0.99, counts.volume, "MNL-2", counts.noise_sd)
    a = history(frame)[0]
    b = history(other.iloc[::-1])[0]
    assert a.id == b.id == anomaly_id("qa_accuracy", "site", "MNL-2", "2026-W47", "history")


# -- history ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "jump", "move", "sentiment"),
    [
        ("lower_is_better", 1.45, "up", "bad"),  # AHT spike
        ("higher_is_better", 1.45, "up", "good"),
        ("higher_is_better", 0.60, "down", "bad"),
        ("neutral", 0.60, "down", "neutral"),
    ],
)
def test_a_planted_spike_is_found_with_its_direction_and_sentiment(
    direction, jump, move, sentiment
):
    rng = np.random.default_rng(11)
    values = [*(50 + rng.normal(0, 1.5, 12)), 50 * jump]
    found = history(weekly(values, [2000] * 13, "Harassment"), metric="aht", direction=direction)

    assert len(found) == 1
    spike = found[0]
    assert (spike.segment, spike.method, spike.direction, spike.sentiment) == (
        "Harassment",
        "history",
        move,
        sentiment,
    )
    assert spike.baseline == pytest.approx(np.median(values[:12]))
    assert spike.delta == pytest.approx(values[-1] - spike.baseline)


def test_chance_moves_of_a_small_segment_are_not_flagged():
    # 90 QA samples a week at 92 %: one standard error is 2.9 pp. The history happened to be
    # calm, so a plain MAD score calls a 2.5-SE dip a big anomaly; the noise floor does not.
    n = 90
    counts = binomial([83, 83, 82, 83, 83, 82, 83, 83, 84, 83, 82, 83, 76], [n] * 13)
    frame = weekly(counts.value, counts.volume, "CEB-1", counts.noise_sd)

    plain_z = robust_z(counts.value.iloc[-1], list(counts.value.iloc[:-1]))[0]
    assert plain_z < -3.5
    assert history(frame) == []


def test_a_real_incident_in_a_small_segment_is_still_flagged():
    counts = binomial([83, 83, 82, 83, 83, 82, 83, 83, 84, 83, 82, 83, 68], [90] * 13)  # -15 pp
    found = history(weekly(counts.value, counts.volume, "CEB-1", counts.noise_sd))
    assert [(a.segment, a.direction, a.sentiment) for a in found] == [("CEB-1", "down", "bad")]


def test_tiny_moves_of_a_very_stable_series_are_not_flagged():
    values = [0.9500, 0.9501, 0.9499, 0.9500, 0.9502, 0.9500, 0.9499] * 2
    frame = weekly([*values[:12], 0.9430], [1e6] * 13)  # z ≈ 50 by MAD, a 0.7 pp move
    assert robust_z(0.9430, values[:12])[0] < -3.5
    assert history(frame) == []


def test_min_volume_filters_thin_segments():
    values = [0.92] * 6 + [0.93] * 6 + [0.40]
    thin = weekly(values, [50] * 12 + [12], "TPE-1")
    thick = weekly(values, [50] * 12 + [200], "MNL-2")
    found = history(pd.concat([thin, thick]), min_volume=30)
    assert [a.segment for a in found] == ["MNL-2"]


def test_at_most_max_anomalies_are_returned_largest_first():
    frames = [
        weekly([100.0 + i % 2 for i in range(12)] + [100.0 * (1 + k / 10)], [500] * 13, f"Q{k}")
        for k in range(3, 8)
    ]
    found = history(pd.concat(frames), metric="aht", direction="lower_is_better", max_anomalies=3)
    assert [a.segment for a in found] == ["Q7", "Q6", "Q5"]


def test_detail_reads_as_one_sentence_of_evidence():
    counts = binomial([92] * 12 + [76], [100] * 13)
    frame = weekly(counts.value, counts.volume, "MNL-2", counts.noise_sd)
    (found,) = history(frame, label="QA accuracy", value_format="percent")
    assert found.detail.startswith(
        "QA accuracy at site MNL-2 was 76.0% vs a median of 92.0% over the previous 12 weeks "
        "(robust z −"
    )
    assert found.detail.endswith(").")


def test_a_segment_without_a_row_for_the_current_period_is_not_checked():
    old = weekly([0.92, 0.93] * 6 + [0.40], [100] * 13, "OLD")
    old["period_start"] -= pd.Timedelta(weeks=1)  # its last row is W46, not W47
    now = weekly([0.92, 0.93] * 6 + [0.92], [100] * 13, "NOW")
    assert [a.segment for a in history(old)] == ["OLD"]  # alone, W46 is the latest period
    assert history(pd.concat([old, now])) == []


def test_noise_helpers_match_the_textbook_standard_errors():
    rng = np.random.default_rng(5)
    x = rng.normal(40, 9, 50)
    got = mean_noise_sd(pd.Series([50]), pd.Series([x.sum()]), pd.Series([(x**2).sum()]))
    assert got.iloc[0] == pytest.approx(x.std(ddof=1) / math.sqrt(50), rel=1e-9)
    assert proportion_noise_sd(pd.Series([9]), pd.Series([10])).iloc[0] == pytest.approx(
        math.sqrt(0.9 * 0.1 / 10)
    )


# -- peers and shares ---------------------------------------------------------------------------


def peers(values, volumes, noise=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"segment": [f"R{i}" for i in range(len(values))], "value": values, "volume": volumes}
    )
    if noise is not None:
        frame["noise_sd"] = noise
    return frame


def test_a_segment_out_of_line_with_its_peers_is_flagged():
    values = [0.97, 0.965, 0.972, 0.968, 0.971, 0.969, 0.966, 0.72]
    found = peer_anomalies(
        peers(values, [5000] * 8),
        metric="sla_attainment",
        direction="higher_is_better",
        dimension="region",
        period="2026-W46",
    )
    assert [(a.segment, a.method, a.sentiment) for a in found] == [("R7", "peer", "bad")]
    assert found[0].baseline == pytest.approx(np.median(values[:7]))


def test_totals_are_not_compared_with_peers():
    sizes = [100.0, 120.0, 90.0, 110.0, 105.0, 95.0, 2000.0]  # segments differ in size by design
    found = peer_anomalies(
        peers(sizes, sizes),
        metric="decisions",
        direction="neutral",
        dimension="queue",
        period="2026-W47",
    )
    assert found == []


def shares(segment_volumes: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    totals = np.sum(list(segment_volumes.values()), axis=0)
    for segment, volumes in segment_volumes.items():
        for start, volume, total in zip(WEEKS, volumes, totals, strict=True):
            rows.append((segment, start, volume / total, volume))
    return pd.DataFrame(rows, columns=["segment", "period_start", "value", "volume"])


def test_share_anomaly_catches_a_doubling_share():
    rng = np.random.default_rng(2)
    base = {name: 1000 * w for name, w in {"A": 3, "B": 2.5, "C": 2, "D": 1.5, "E": 1}.items()}
    volumes = {k: list(v * rng.uniform(0.97, 1.03, 13)) for k, v in base.items()}
    volumes["E"][-1] *= 2.25  # its share of ~10 % becomes ~20 %
    found = share_anomalies(shares(volumes), metric="aht", dimension="queue", period="2026-W47")
    assert [(a.segment, a.method, a.direction, a.sentiment) for a in found] == [
        ("E", "share", "up", "neutral")
    ]
    assert found[0].observed == pytest.approx(2 * found[0].baseline, rel=0.1)


def test_share_anomaly_ignores_segments_below_min_share():
    volumes = {"big": [10_000.0] * 13, "tiny": [50.0] * 12 + [150.0]}  # 0.5 % → 1.5 %
    found = share_anomalies(shares(volumes), metric="aht", dimension="queue", period="2026-W47")
    assert found == []


# -- daily series -------------------------------------------------------------------------------


def busy_mondays(last: float) -> pd.DataFrame:
    """Six weeks of a daily rate that is ~50 % higher every Monday, then one more Monday."""
    rng = np.random.default_rng(8)
    days = [date(2026, 10, 5) + timedelta(days=i) for i in range(43)]  # Monday … Monday
    values = [(150.0 if d.weekday() == 0 else 100.0) + rng.normal(0, 2) for d in days[:-1]]
    return pd.DataFrame(
        {"segment": "Spam", "day": days, "value": [*values, last], "volume": 5000.0}
    )


def daily(frame: pd.DataFrame) -> list[Anomaly]:
    return daily_history_anomalies(
        frame, metric="aht", direction="lower_is_better", dimension="queue"
    )


def test_a_normal_monday_after_busy_mondays_is_not_flagged():
    frame = busy_mondays(last=151.0)
    assert robust_z(151.0, list(frame.value.iloc[:-1]))[0] > 3.5  # without seasonality: flagged
    assert daily(frame) == []


def test_an_abnormal_monday_is_flagged_against_the_monday_level():
    (found,) = daily(busy_mondays(last=100.0))  # an ordinary weekday's level, low for a Monday
    assert (found.period, found.direction, found.sentiment) == ("2026-11-16", "down", "good")
    assert found.baseline == pytest.approx(150.0, abs=3.0)


# -- the demo data's planted incidents ------------------------------------------------------------

METRICS = (
    "decisions",
    "aht",
    "throughput",
    "utilization",
    "sla_attainment",
    "qa_accuracy",
    "overturn_rate",
    "automation_rate",
    "proactive_rate",
    "high_severity_exposure",
)
DIMENSIONS = ("region", "site", "queue")
EXPECTED_METHODS = {
    "site_accuracy_drop": {"history", "peer"},
    "queue_aht_spike": {"history", "peer"},
    "mix_shift_slow_queue": {"share"},
    "sla_breach_week": {"history", "peer"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """300k demo rows over 30 weeks, the weekly report with site breakdowns, and its cube."""
    from reportgen.config import load_report
    from reportgen.data.scan import compute_cube
    from reportgen.demo import generate_demo_data

    root = tmp_path_factory.mktemp("anomalies")
    manifest = generate_demo_data(root / "data", rows=300_000, weeks=30)
    shutil.copytree(ROOT / "configs", root / "configs")
    shutil.copytree(ROOT / "templates", root / "templates")
    sources = root / "configs" / "sources.yaml"
    sources.write_text(sources.read_text().replace("../data/demo", str(root / "data")))
    path = root / "configs" / "reports" / "weekly_leadership.yaml"
    text = re.sub(r"(?m)^breakdowns:.*$", "breakdowns: [region, site, queue]", path.read_text())
    path.write_text(text)
    report = load_report(path)
    measures = {m for c in report.metrics for m in report.metric(c.metric).measures}
    return manifest, report, compute_cube(report, sorted(measures))


def series_frame(report, name: str, sums: pd.DataFrame, dim: str | None) -> pd.DataFrame:
    """value, volume and (for count-based proportions and means) noise_sd per period × segment."""
    from reportgen.config.models import MeanMetric, RatioMetric
    from reportgen.figures import metric_values, metric_weight

    metric = report.metric(name)
    frame = pd.DataFrame({"value": metric_values(metric, sums)})
    frame["volume"] = metric_weight(metric, sums)
    aggs = report.catalog.measures
    if isinstance(metric, MeanMetric):
        frame["noise_sd"] = mean_noise_sd(
            sums[metric.count], sums[metric.sum], sums[metric.sum_squares]
        )
    elif isinstance(metric, RatioMetric) and {
        aggs[metric.numerator].agg,
        aggs[metric.denominator].agg,
    } == {"count"}:  # a proportion of counts; hour denominators have no binomial error
        frame["noise_sd"] = proportion_noise_sd(sums[metric.numerator], sums[metric.denominator])
    frame = frame.reset_index()
    frame = frame.rename(columns={frame.columns[0]: "period_start"})
    return frame.rename(columns={dim: "segment"}) if dim else frame


def weight_measure(metric) -> str:
    """The measure a metric's segment shares are shares of."""
    from reportgen.config.models import MeanMetric, RatioMetric

    if isinstance(metric, MeanMetric):
        return metric.count
    return metric.denominator if isinstance(metric, RatioMetric) else metric.measure


def share_frame(frame: pd.DataFrame) -> pd.DataFrame:
    total = frame.groupby("period_start")["volume"].transform("sum")
    return frame.assign(value=frame.volume / total).drop(columns="noise_sd", errors="ignore")


def detect(report, cube, week: str) -> list[Anomaly]:
    """The detector as a report runs it: per metric × dimension, history, peers and shares."""
    from reportgen.figures import measure_series
    from reportgen.periods import parse_period

    periods = parse_period(week).trailing(13)
    found: list[Anomaly] = []
    shares_done: set[tuple[str, str]] = set()
    for name in METRICS:
        metric = report.metric(name)
        dims = [d for d in DIMENSIONS if d in report.metric_dimensions(name)]
        for dim in (None, *dims):
            sums = measure_series(cube, metric.measures, periods, by=dim)
            frame = series_frame(report, name, sums, dim)
            common = {"metric": name, "dimension": dim, "period": week}
            batch = history_anomalies(frame, direction=metric.direction, **common)
            if dim is not None:
                current = frame[frame.period_start == frame.period_start.max()]
                batch += peer_anomalies(current, direction=metric.direction, **common)
                key = (weight_measure(metric), dim)
                if key not in shares_done:
                    shares_done.add(key)
                    batch += share_anomalies(share_frame(frame), **common)
            found += sorted(batch, key=lambda a: -abs(a.robust_z))[:3]
    return found


def test_every_planted_incident_is_found_in_its_week(demo):
    manifest, report, cube = demo
    by_week = {w: detect(report, cube, w) for w in {i.week for i in manifest.incidents}}
    for incident in manifest.incidents:
        hits = {
            a.method
            for a in by_week[incident.week]
            if (a.metric, a.dimension, a.segment)
            == (incident.metric, incident.dimension, incident.segment)
        }
        assert hits & EXPECTED_METHODS[incident.id], incident.id


def test_incident_free_weeks_raise_few_anomalies(demo):
    _, report, cube = demo
    counts = [len(detect(report, cube, f"2026-W{w}")) for w in range(38, 45)]
    assert max(counts) <= 3, counts
