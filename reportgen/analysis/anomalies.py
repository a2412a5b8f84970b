"""Anomalies: a metric's current period against its own history, its peers and its mix.

The score
    Every detector computes a robust z-score of the current value against a
    reference set (the segment's own trailing periods, or the other segments
    this period)::

        z = (observed − median) / scale
        scale = max(1.4826 · MAD, noise, min_effect · max(|median|, |observed|) / threshold)

    ``1.4826 · MAD`` is the median absolute deviation scaled to a normal
    standard deviation — the textbook ``0.6745 · (x − median) / MAD``, since
    0.6745 = 1 / 1.4826. A value is flagged when ``|z| ≥ threshold`` and its
    volume this period (the segment's denominator, count or total) is at least
    ``min_volume``; each call (one metric × dimension) returns at most
    ``max_anomalies``, largest ``|z|`` first.

Why two floors under the MAD
    *Sampling noise.* A site with 15 QA samples a week swings 10 points by
    chance, and twelve weeks of it can easily show a MAD half the true spread.
    ``noise`` is the current period's sampling standard error, taken as the
    larger of the caller's ``noise_sd`` for this period and the error the
    history implies *at this period's volume* — the median over the reference
    periods of ``noise_sd · sqrt(volume)`` (the per-unit spread:
    ``sqrt(p(1 − p))`` for a proportion, the sd for a mean), divided by
    ``sqrt(volume now)``. The second term is what chance would produce if
    nothing had changed, so it still works when this period's own estimate is
    degenerate (0 of 4 appeals overturned has a "standard error" of 0) and it
    grows when the period is thin. A move must be ``threshold`` times larger
    than chance alone before it is flagged.

    *Minimum practical effect.* A large, very stable segment can have a MAD of
    a tenth of a point, which makes a trivial wobble "z = 8". With the effect
    floor, a move smaller than ``min_effect`` of the larger of baseline and
    observed value (4 % for history and peers, 30 % of the share for mix
    shifts) can never reach the threshold. Measuring it against the larger of
    the two keeps the score finite when the baseline is 0.

Totals
    A total (``value == volume`` on every row: decisions, inflow) gets Poisson
    noise ``sqrt(count)`` where the caller gave none and a practical effect of
    at least 10 %, because weekly volumes move several per cent with the
    calendar; and it is never compared with peers, whose sizes differ by design.

Defaults (tuned on the demo data: 13-week windows, the 10 metrics of the weekly
leadership report × overall, region, site and queue, 300k and 2M rows)
    history and shares ``threshold=3.5``; peers ``threshold=5`` (segments also
    differ structurally, which one period cannot tell from an incident);
    ``min_volume=30`` units (below that the normal approximation of the noise
    is not credible); ``min_share=0.02``; ``max_anomalies=3``. Every planted
    incident is found in its week at both sizes, with 0.4–0.9 flags a week on
    average (at most 2) on incident-free weeks.

The normal range (expected band)
    Solving the flag rule for the value gives the open interval a period's
    value could have taken without being flagged, with its history, sampling
    error and volume held fixed: ``reach = threshold · max(1.4826 · MAD,
    noise)`` and, with ``e = min_effect`` and ``m`` the median,
    ``high = m + max(reach, e·m / (1 − e))``, ``low = m − max(reach, e·m)``
    for ``m ≥ 0`` (mirrored for ``m < 0``: the effect floor is measured
    against the larger of baseline and value, so it reaches further on the
    side away from zero). :func:`expected_range` returns it from the same
    score the detector flags with, so a chart's band and the anomaly list
    never disagree: a value outside ``(low, high)`` is exactly a flagged one.

Ids
    ``"A-"`` plus the first 10 hex digits of the SHA-1 of the JSON list
    ``[metric, dimension, segment, period, method]``: the same finding gets the
    same id on every rebuild — analysts attach causes and actions to it —
    whatever the values, the row order or the clock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from reportgen.analysis._peer_gaps import PeerGaps, eligible, gap_text, learn_gaps
from reportgen.document import ValueFormat
from reportgen.formatting import BASE_DECIMALS, MINUS, format_value, in_unit

MAD_TO_SD = 1.482602218505602  # 1 / Φ⁻¹(0.75): scaled MAD estimates a normal sd
MEAN_AD_TO_SD = 1.2533141373155001  # sqrt(π / 2): mean absolute deviation → normal sd

Method = Literal["history", "peer", "share"]
Direction = Literal["up", "down"]
Sentiment = Literal["good", "bad", "neutral"]
Seasonality = Literal["additive", "multiplicative"]
_DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")


@dataclass(frozen=True)
class Anomaly:
    """One flagged value, with the evidence a reader needs to judge it."""

    id: str
    metric: str
    dimension: str | None  # None for the metric's overall value
    segment: str | None
    period: str  # period label, e.g. "2026-W47" (an ISO date for daily checks)
    method: Method
    observed: float
    baseline: float  # median of the history / of the peers
    robust_z: float
    delta: float  # observed − baseline, in the metric's units
    direction: Direction
    sentiment: Sentiment
    volume: float  # the segment's weight this period
    threshold: float
    detail: str  # one plain sentence of evidence
    # on a figure still maturing (late appeals, QA verdicts): may be missing data, not a change
    provisional: bool = False
    # volume below the report's insights.small_sample: kept in figures.json, never a headline
    small_sample: bool = False


# -- the score --------------------------------------------------------------------------------


def anomaly_id(
    metric: str, dimension: str | None, segment: str | None, period: str, method: str
) -> str:
    """Stable id of a finding: depends only on what was flagged, where, when and how."""
    key = json.dumps(
        [metric, dimension, segment, period, method], ensure_ascii=False, separators=(",", ":")
    )
    return "A-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def robust_z(
    value: float, history: Sequence[float], *, mad_floor: float = 0.0
) -> tuple[float, float, float]:
    """``(z, median, scale)`` of ``value`` against ``history``; never divides by zero.

    ``scale`` is ``max(1.4826 · MAD, mad_floor)``. When that is zero (more than
    half the history identical) it falls back to ``1.2533 · mean absolute
    deviation``; if the history is constant too, ``z`` is 0 for an equal value
    and ``±inf`` otherwise (scale 0). NaN history values are ignored.
    """
    h = np.asarray(history, dtype=float)
    h = h[~np.isnan(h)]
    if h.size == 0:
        raise ValueError("robust_z needs at least one history value")
    median = float(np.median(h))
    deviations = np.abs(h - median)
    scale = max(MAD_TO_SD * float(np.median(deviations)), float(mad_floor))
    if scale <= 0:
        scale = MEAN_AD_TO_SD * float(np.mean(deviations))
    diff = float(value) - median
    if scale > 0:
        return diff / scale, median, scale
    return (0.0 if diff == 0 else math.copysign(math.inf, diff)), median, 0.0


def _unit_noise(noise: np.ndarray, volume: np.ndarray) -> float:
    """Median per-unit sampling spread, ``noise · sqrt(volume)``, over usable periods.

    A zero standard error is a degenerate estimate (a proportion of 0 or 1 on a
    few units), not a precise one, so it is left out.
    """
    ok = np.isfinite(noise) & (noise > 0) & (volume > 0)
    if not ok.any():
        return 0.0
    return float(np.median(noise[ok] * np.sqrt(volume[ok])))


def _chance(noise_now: float, volume_now: float, unit: float) -> float:
    """Sampling error this period: as reported, or as the reference implies at this volume."""
    reported = noise_now if math.isfinite(noise_now) else 0.0
    implied = unit / math.sqrt(volume_now) if volume_now > 0 else 0.0
    return max(reported, implied)


def _score(
    segment: str | None,
    observed: float,
    volume: float,
    reference: np.ndarray,
    *,
    noise: float,
    min_effect: float,
    threshold: float,
    bound: float | None = None,
) -> _Score:
    """The floored robust z of ``observed`` against ``reference`` (see the module docstring)."""
    baseline = float(np.median(reference))
    effect = min_effect * _effect_level(baseline, observed, bound) / threshold
    z, baseline, _ = robust_z(observed, reference, mad_floor=max(noise, effect))
    low, high = normal_range(
        reference, noise=noise, min_effect=min_effect, threshold=threshold, bound=bound
    )
    return _Score(
        segment, float(observed), baseline, float(z), float(volume), len(reference), low, high
    )


def _rarer_side(value: float, bound: float) -> float:
    """How far a share of a bounded whole is from its nearer end (0 or ``bound``)."""
    return max(0.0, min(value, bound - value))


def _effect_level(baseline: float, observed: float, bound: float | None) -> float:
    """What the minimum practical effect is a fraction of.

    The larger magnitude of baseline and value; for a proportion (``bound`` is
    its ceiling, 1 or 100) the larger *rarer side*: SLA attainment falling from
    97 % to 94 % doubles the misses, which 4 % of 97 % would call a wobble.
    """
    if bound is None:
        return max(abs(baseline), abs(observed))
    return max(_rarer_side(baseline, bound), _rarer_side(observed, bound))


def normal_range(
    reference: np.ndarray,
    *,
    noise: float,
    min_effect: float,
    threshold: float,
    bound: float | None = None,
) -> tuple[float, float]:
    """``(low, high)``: the values :func:`_score` would not flag against ``reference``.

    The flag rule ``|x − m| ≥ threshold · max(1.4826 · MAD, noise, e · L(m, x) /
    threshold)`` solved for ``x`` (see the module docstring and :func:`_effect_level`
    for ``L``); with the scale at zero it falls back to the mean absolute deviation, as
    :func:`robust_z` does. ``x == m`` is never flagged, even when the interval is empty.
    """
    h = np.asarray(reference, dtype=float)
    h = h[~np.isnan(h)]
    m = float(np.median(h))
    deviations = np.abs(h - m)
    fixed = max(MAD_TO_SD * float(np.median(deviations)), noise)
    if fixed <= 0 and min_effect == 0:
        fixed = MEAN_AD_TO_SD * float(np.mean(deviations))
    reach = threshold * fixed
    if bound is not None:
        return _bounded_range(m, reach, min_effect, bound)
    toward_zero, away = min_effect * abs(m), min_effect * abs(m) / (1 - min_effect)
    up, down = (away, toward_zero) if m >= 0 else (toward_zero, away)
    return m - max(reach, down), m + max(reach, up)


def _bounded_range(m: float, reach: float, e: float, bound: float) -> tuple[float, float]:
    """The normal range of a proportion, whose effect floor is ``e`` of the rarer side.

    Above the median, ``x`` is flagged when ``x − m`` reaches ``reach``, ``e · r(m)``
    and ``e · r(x)`` with ``r(x) = min(x, bound − x)``; the last holds from
    ``x ≥ m / (1 − e)`` or ``x ≥ (m + e · bound) / (1 + e)``, whichever comes first.
    Below it, mirrored: ``x ≤ m / (1 + e)`` or ``x ≤ (m − e · bound) / (1 − e)``.
    """
    own = e * _rarer_side(m, bound)
    high = max(m + reach, m + own, min(m / (1 - e), (m + e * bound) / (1 + e)))
    low = min(m - reach, m - own, max(m / (1 + e), (m - e * bound) / (1 - e)))
    return low, high


def _sentiment(direction: str, move: Direction) -> Sentiment:
    if direction == "neutral":
        return "neutral"
    better = "up" if direction == "higher_is_better" else "down"
    return "good" if move == better else "bad"


def _check(direction: str, threshold: float, min_effect: float) -> None:
    """Fail early on arguments that would make every score meaningless."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, not {direction!r}")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, not {threshold!r}")
    if not 0 <= min_effect < 1:
        raise ValueError(f"min_effect must be in [0, 1), not {min_effect!r}")


# -- wording ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Words:
    """How to word a metric's values in the detail sentence."""

    label: str
    value_format: ValueFormat | None
    decimals: int | None
    unit: str | None = None  # a rate's catalog unit, written after its values
    display: ValueFormat | None = None  # the unit the report shows the metric in (hours → minutes)

    def value(self, x: float) -> str:
        if self.value_format is None:
            return f"{x:,.4g}".replace("-", MINUS)
        shown = self.display or self.value_format
        decimals = self.decimals
        if self.display == "hours" and decimals is None:  # chosen: no switch to minutes
            decimals = BASE_DECIMALS["hours"]
        return format_value(in_unit(x, self.value_format, shown), shown, decimals, self.unit)


def _where(dimension: str | None, segment: str | None) -> str:
    if segment is None:
        return ""
    if dimension is None:
        return f" for {segment}"
    return f" {'at' if dimension == 'site' else 'in'} {dimension} {segment}"


def _z_text(z: float) -> str:
    return f"{z:.1f}".replace("-", MINUS)


def _span(period: str, count: int) -> str:
    """'the previous 12 weeks', the unit read from the label's form (see reportgen.periods)."""
    unit = "periods"
    if "-W" in period:
        unit = "weeks"
    elif "-Q" in period:
        unit = "quarters"
    elif period.count("-") == 1:
        unit = "months"
    elif period.count("-") == 2:
        unit = "days"
    return f"the previous {count} {unit}"


# -- building anomalies -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Score:
    segment: str | None
    observed: float
    baseline: float
    z: float
    volume: float
    compared: int  # how many history values or peers the baseline is a median of
    low: float = -math.inf  # the normal range: values in (low, high) would not be flagged
    high: float = math.inf


@dataclass(frozen=True)
class _Finding:
    """What every anomaly of one call shares."""

    metric: str
    dimension: str | None
    period: str
    method: Method
    direction: str
    threshold: float

    def anomaly(self, score: _Score, detail: str) -> Anomaly:
        move: Direction = "up" if score.observed >= score.baseline else "down"
        return Anomaly(
            id=anomaly_id(self.metric, self.dimension, score.segment, self.period, self.method),
            metric=self.metric,
            dimension=self.dimension,
            segment=score.segment,
            period=self.period,
            method=self.method,
            observed=score.observed,
            baseline=score.baseline,
            robust_z=score.z,
            delta=score.observed - score.baseline,
            direction=move,
            sentiment=_sentiment(self.direction, move),
            volume=score.volume,
            threshold=self.threshold,
            detail=detail,
        )


def _strongest(scores: list[_Score], threshold: float, limit: int) -> list[_Score]:
    """Flagged scores, largest |z| first (ties by segment, so the order is stable)."""
    flagged = [s for s in scores if abs(s.z) >= threshold]
    flagged.sort(key=lambda s: (-abs(s.z), "" if s.segment is None else s.segment))
    return flagged[:limit]


# -- reading the frames -------------------------------------------------------------------------


def _segments(frame: pd.DataFrame) -> pd.Series:
    """The segment of every row as str, or None for the overall value."""
    if "segment" not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame["segment"].map(lambda s: None if s is None or pd.isna(s) else str(s))


def _tidy(frame: pd.DataFrame, time_column: str | None, noise_column: str | None) -> pd.DataFrame:
    """The columns the detectors use, under fixed names: segment, time, value, volume, noise."""
    has_noise = noise_column is not None and noise_column in frame.columns
    columns = {
        "segment": _segments(frame),
        "value": frame["value"].astype(float),
        "volume": frame["volume"].astype(float),
        "noise": frame[noise_column].astype(float) if has_noise else np.nan,
    }
    if time_column is not None:  # in the constructor: a column set afterwards is re-aligned
        columns["time"] = pd.to_datetime(frame[time_column])
    return pd.DataFrame(columns, index=frame.index)


def _current_series(data: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """Per segment: its rows in time order, keeping only segments that have the latest time.

    The latest time across the frame is the current period; a segment without a
    row for it has nothing to check (rather than an old period mislabelled).
    """
    if data.empty:
        return []
    current = data["time"].max()
    out = []
    for _, rows in data.groupby(data["segment"].fillna("\x00"), sort=True):
        rows = rows.sort_values("time")
        if rows["time"].iloc[-1] == current:
            out.append((rows["segment"].iloc[0], rows))
    return out


@dataclass(frozen=True)
class _Series:
    """One segment's periods in time order, as arrays: what a history score reads."""

    segment: str | None
    time: np.ndarray  # datetime64
    value: np.ndarray
    volume: np.ndarray
    noise: np.ndarray


def _current_arrays(data: pd.DataFrame) -> list[_Series]:
    """:func:`_current_series` as arrays, from one sort instead of a frame per segment.

    A report scores a few hundred segments per metric; slicing a frame for
    each (sort, filter, row lookup) cost several times the scoring itself.
    """
    if data.empty:
        return []
    keys = data["segment"].fillna("\x00").to_numpy(dtype=object)
    times = data["time"].to_numpy()
    order = np.lexsort((times, keys))
    keys, times = keys[order], times[order]
    columns = [data[c].to_numpy(dtype=float)[order] for c in ("value", "volume", "noise")]
    segments = data["segment"].to_numpy(dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    current = times.max()
    return [
        _Series(segments[a], times[a:b], *(c[a:b] for c in columns))
        for a, b in zip(starts, ends, strict=True)
        if times[b - 1] == current
    ]


def _is_total(data: pd.DataFrame) -> bool:
    """A total's value is its own volume (the segment's size), on every row."""
    return len(data) > 0 and bool(np.allclose(data["value"], data["volume"], equal_nan=True))


def _as_total(data: pd.DataFrame) -> pd.DataFrame:
    """Poisson sampling error, ``sqrt(count)``, where the caller gave none."""
    poisson = np.sqrt(data["volume"].clip(lower=0))
    return data.assign(noise=data["noise"].where(data["noise"].notna(), poisson))


def _measured(rows: pd.DataFrame) -> pd.DataFrame:
    """Periods that have a value: a period with no volume has none."""
    return rows[rows["value"].notna() & (rows["volume"] > 0)]


def _eligible(now: pd.Series, past: pd.DataFrame, min_history: int, min_volume: float) -> bool:
    return (
        len(past) >= min_history
        and pd.notna(now["value"])
        and now["volume"] > 0
        and now["volume"] >= min_volume
    )


# -- history --------------------------------------------------------------------------------------


def history_anomalies(
    frame: pd.DataFrame,
    *,
    metric: str,
    direction: str,
    dimension: str | None,
    period: str,
    threshold: float = 3.5,
    min_history: int = 6,
    min_volume: float = 30.0,
    min_effect: float = 0.04,
    min_effect_total: float = 0.10,
    noise_sd: str | None = "noise_sd",
    max_anomalies: int = 3,
    bound: float | None = None,
    label: str | None = None,
    value_format: ValueFormat | None = None,
    decimals: int | None = None,
    unit: str | None = None,
    display: ValueFormat | None = None,
) -> list[Anomaly]:
    """Segments whose current period is out of line with their own trailing periods.

    ``frame`` has one row per (segment, period_start) with columns ``segment``
    (absent or None for the overall value), ``period_start``, ``value``,
    ``volume`` and optionally the column named by ``noise_sd`` (the sampling
    standard error of ``value``; pass ``None`` to ignore it). Per segment the
    latest period is the current one and the earlier rows are its history;
    periods with zero volume are skipped. A total (``value == volume`` on
    every row) gets Poisson noise ``sqrt(value)`` where none is given and a
    practical effect of at least ``min_effect_total``: weekly volumes move
    several per cent with the calendar, which is not news. ``label``,
    ``value_format`` and ``decimals`` only word the detail sentence. ``bound`` is a
    proportion's ceiling (1, or 100 for a scaled one): its effect floor is then taken
    on the rarer side (:func:`_effect_level`).
    """
    _check(direction, threshold, min_effect)
    words = _Words(label or metric, value_format, decimals, unit, display)
    scores = _history_scores(
        frame, threshold, min_history, min_volume, min_effect, min_effect_total, noise_sd, bound
    )
    finding = _Finding(metric, dimension, period, "history", direction, threshold)
    return [
        finding.anomaly(
            s,
            f"{words.label}{_where(dimension, s.segment)} was {words.value(s.observed)} "
            f"vs a median of {words.value(s.baseline)} over {_span(period, s.compared)} "
            f"(robust z {_z_text(s.z)}).",
        )
        for s in _strongest(scores, threshold, max_anomalies)
    ]


def _history_scores(
    frame: pd.DataFrame,
    threshold: float,
    min_history: int,
    min_volume: float,
    min_effect: float,
    min_effect_total: float,
    noise_sd: str | None,
    bound: float | None = None,
) -> list[_Score]:
    """Each segment's latest period scored against its history: flagged or not."""
    data = _tidy(frame, "period_start", noise_sd)
    if _is_total(data):
        data = _as_total(data)
        min_effect = max(min_effect, min_effect_total)
    scores = []
    for series in _current_arrays(data):
        score = _series_score(series, threshold, min_history, min_volume, min_effect, bound)
        if score is not None:
            scores.append(score)
    return scores


def _series_score(
    series: _Series,
    threshold: float,
    min_history: int,
    min_volume: float,
    min_effect: float,
    bound: float | None,
) -> _Score | None:
    """The series' latest period scored against its earlier ones; None when not judged."""
    value, volume, noise = series.value, series.volume, series.noise
    measured = ~np.isnan(value[:-1]) & (volume[:-1] > 0)  # as _measured()
    now_value, now_volume = value[-1], volume[-1]
    eligible = (  # as _eligible()
        int(measured.sum()) >= min_history
        and not np.isnan(now_value)
        and now_volume > 0
        and now_volume >= min_volume
    )
    if not eligible:
        return None
    unit = _unit_noise(noise[:-1][measured], volume[:-1][measured])
    return _score(
        series.segment,
        float(now_value),
        float(now_volume),
        value[:-1][measured],
        noise=_chance(float(noise[-1]), float(now_volume), unit),
        min_effect=min_effect,
        threshold=threshold,
        bound=bound,
    )


@dataclass(frozen=True)
class ExpectedRange:
    """What the history detector considers normal for one period, and its verdict.

    ``unusual`` is the detector's own flag (``|robust_z| ≥ threshold``); it holds
    exactly when the value lies outside the open interval ``(low, high)``.
    """

    low: float
    high: float
    baseline: float  # median of the history
    robust_z: float
    unusual: bool
    compared: int  # how many earlier periods the baseline is a median of


def expected_range(
    frame: pd.DataFrame,
    *,
    threshold: float = 3.5,
    min_history: int = 6,
    min_volume: float = 30.0,
    min_effect: float = 0.04,
    min_effect_total: float = 0.10,
    noise_sd: str | None = "noise_sd",
    bound: float | None = None,
) -> ExpectedRange | None:
    """The normal range of the overall series' latest period, as :func:`history_anomalies`
    judges it (same frame shape, same defaults, the same scoring code).

    None when the detector would not judge the period at all: too little
    history, no value, or a volume below ``min_volume``.
    """
    _check("neutral", threshold, min_effect)
    overall = frame[_segments(frame).isna()] if "segment" in frame.columns else frame
    scores = _history_scores(
        overall, threshold, min_history, min_volume, min_effect, min_effect_total, noise_sd, bound
    )
    if not scores:
        return None
    s = scores[0]
    return ExpectedRange(s.low, s.high, s.baseline, s.z, abs(s.z) >= threshold, s.compared)


def expected_ranges(
    frame: pd.DataFrame,
    windows: Sequence[slice],
    *,
    threshold: float = 3.5,
    min_history: int = 6,
    min_volume: float = 30.0,
    min_effect: float = 0.04,
    min_effect_total: float = 0.10,
    noise_sd: str | None = "noise_sd",
    bound: float | None = None,
) -> tuple[ExpectedRange | None, ...]:
    """``expected_range(frame.iloc[w], ...)`` for each window ``w``, from one pass over ``frame``.

    A trend chart's band judges every point against the points before it: a
    dozen overlapping windows of one series. The frame is read and tidied once
    and each window scored from array slices by the same scoring code
    (:func:`_series_score`), instead of building and sorting a frame per window.
    """
    _check("neutral", threshold, min_effect)
    overall = np.ones(len(frame), dtype=bool)
    if "segment" in frame.columns:
        overall = _segments(frame).isna().to_numpy()
    data = _tidy(frame, "period_start", noise_sd)  # row by row: the same on a window
    time = data["time"].to_numpy()
    value, volume, noise = (data[c].to_numpy(dtype=float) for c in ("value", "volume", "noise"))
    positions = np.arange(len(frame))
    out: list[ExpectedRange | None] = []
    for window in windows:
        rows = positions[window]
        rows = rows[overall[rows]]
        out.append(
            _window_range(
                time[rows],
                value[rows],
                volume[rows],
                noise[rows],
                threshold,
                min_history,
                min_volume,
                min_effect,
                min_effect_total,
                bound,
            )
        )
    return tuple(out)


def _window_range(
    time: np.ndarray,
    value: np.ndarray,
    volume: np.ndarray,
    noise: np.ndarray,
    threshold: float,
    min_history: int,
    min_volume: float,
    min_effect: float,
    min_effect_total: float,
    bound: float | None,
) -> ExpectedRange | None:
    """:func:`expected_range` of one window of the overall series, given as arrays."""
    if len(value) == 0:
        return None
    if np.allclose(value, volume, equal_nan=True):  # as _is_total() and _as_total()
        noise = np.where(np.isnan(noise), np.sqrt(np.clip(volume, 0, None)), noise)
        min_effect = max(min_effect, min_effect_total)
    order = np.argsort(time, kind="stable")  # as _current_arrays(): one segment, by time
    series = _Series(None, time[order], value[order], volume[order], noise[order])
    if series.time[-1] != series.time.max():  # NaT: not judged, as in _current_arrays()
        return None
    s = _series_score(series, threshold, min_history, min_volume, min_effect, bound)
    if s is None:
        return None
    return ExpectedRange(s.low, s.high, s.baseline, s.z, abs(s.z) >= threshold, s.compared)


# -- peers ------------------------------------------------------------------------------------------


def peer_anomalies(
    frame: pd.DataFrame,
    *,
    metric: str,
    direction: str,
    dimension: str | None,
    period: str,
    threshold: float = 5.0,
    min_volume: float = 30.0,
    min_peers: int = 5,
    min_effect: float = 0.04,
    noise_sd: str | None = "noise_sd",
    max_anomalies: int = 3,
    label: str | None = None,
    value_format: ValueFormat | None = None,
    decimals: int | None = None,
    unit: str | None = None,
    display: ValueFormat | None = None,
    history: pd.DataFrame | None = None,
    min_history: int = 4,
) -> list[Anomaly]:
    """Segments out of line with the other segments this period.

    ``frame`` has one row per segment for the current period: ``segment``,
    ``value``, ``volume`` and optionally the noise column. Each segment is
    compared with the median and MAD of the *other* eligible segments (an
    outlier does not pull its own baseline), floored like the history score,
    with the per-unit noise taken across the peers. Nothing is returned for a
    total (``value == volume`` on every row: segments differ in size by design)
    or with fewer than ``min_peers`` other segments. The default threshold is
    stricter than the history one because segments also differ for structural
    reasons (a queue's policy, a site's tenure) that one period cannot tell
    from an incident.

    With ``history`` (the same columns plus ``period_start``, for the earlier
    periods), a segment's persistent gap to its peers is learned and only a
    change against it is flagged: one policy area that is always 30 % slower
    is not news every week (see :mod:`reportgen.analysis._peer_gaps`).
    Segments with fewer than ``min_history`` earlier gaps get the plain check.
    """
    _check(direction, threshold, min_effect)
    data = _tidy(frame, None, noise_sd)
    if _is_total(data):
        return []
    data = eligible(data, min_volume)
    if len(data) < min_peers + 1:
        return []
    per_unit = _unit_noise(data["noise"].to_numpy(), data["volume"].to_numpy())
    values = data["value"].to_numpy()
    gaps = None
    if history is not None and not history.empty:
        past = _tidy(history, "period_start", None).assign(period_start=history["period_start"])
        gaps = learn_gaps(
            past, data, min_volume=min_volume, min_peers=min_peers, min_history=min_history
        )
    now = pd.Series(values, index=data["segment"].astype(str).to_numpy())
    learned_all = gaps.references(now) if gaps is not None else {}
    words = _Words(label or metric, value_format, decimals, unit, display)
    scores, details = [], {}
    for i, row in enumerate(data.itertuples(index=False)):
        peers = np.delete(values, i)
        learned = learned_all.get(str(row.segment))
        reference = peers if learned is None else learned
        score = _score(
            row.segment,
            row.value,
            row.volume,
            reference,
            noise=_chance(row.noise, row.volume, per_unit),
            min_effect=min_effect,
            threshold=threshold,
        )
        scores.append(score)
        details[row.segment] = _peer_detail(
            score, words, dimension, period, len(peers), gaps, learned
        )
    finding = _Finding(metric, dimension, period, "peer", direction, threshold)
    return [
        finding.anomaly(s, details[s.segment]) for s in _strongest(scores, threshold, max_anomalies)
    ]


def _peer_detail(
    score: _Score,
    words: _Words,
    dimension: str | None,
    period: str,
    peers: int,
    gaps: PeerGaps | None,
    learned: np.ndarray | None,
) -> str:
    """The evidence sentence: against the peers' median, or against the segment's usual gap."""
    where = (
        f"{words.label}{_where(dimension, score.segment)} was {words.value(score.observed)} "
        f"in {period}"
    )
    others = f"the other {peers} {dimension or 'segment'}s"
    z = f"robust z {_z_text(score.z)}"
    if gaps is None or learned is None:
        return f"{where} vs a median of {words.value(score.baseline)} across {others} ({z})."
    usual = gap_text(gaps, str(score.segment), words.value)
    return (
        f"{where} vs {words.value(score.baseline)} expected from its usual gap to {others}, "
        f"usually {usual} their median over {_span(period, len(learned))} ({z})."
    )


# -- shares (mix shifts) ------------------------------------------------------------------------------


def _period_totals(data: pd.DataFrame) -> pd.Series:
    """Total units behind each period's shares, ``volume / share`` (equal for every segment)."""
    shares = data["value"].where(data["value"] > 0)
    return (data["volume"] / shares).groupby(data["time"]).median()


def share_anomalies(
    frame: pd.DataFrame,
    *,
    metric: str,
    dimension: str | None,
    period: str,
    threshold: float = 3.5,
    min_share: float = 0.02,
    min_history: int = 6,
    min_effect: float = 0.30,
    noise_sd: str | None = "noise_sd",
    max_anomalies: int = 3,
    volume_label: str | None = None,
) -> list[Anomaly]:
    """Mix shifts: a segment's share of the volume against its own history.

    ``frame`` is shaped like :func:`history_anomalies`'s with ``value`` the
    segment's share of the period's total volume. Without a noise column the
    noise floor is the binomial error of the *baseline* share over this
    period's total units (``volume / value``) — what chance alone would do if
    the mix had not changed; right for counts (decisions), merely small for
    hours. Segments below ``min_share`` both now and in their baseline are
    skipped: a queue going from 0.5 % to 1 % of the work is not a mix shift
    anyone acts on. Sentiment is neutral: a mix shift is neither good nor bad
    by itself.
    """
    _check("neutral", threshold, min_effect)
    data = _tidy(frame, "period_start", noise_sd)
    totals = _period_totals(data)
    of = volume_label or "the volume"
    scores = []
    for series in _current_arrays(data):
        past = series.value[:-1][~np.isnan(series.value[:-1])]  # a 0 share is real
        now_value = float(series.value[-1])
        if len(past) < min_history or math.isnan(now_value):
            continue
        baseline = float(np.median(past))
        if max(now_value, baseline) < min_share:
            continue
        total = float(totals.get(pd.Timestamp(series.time[-1]), np.nan))
        binomial = math.sqrt(baseline * (1 - baseline) / total) if total > 0 else 0.0
        scores.append(
            _score(
                series.segment,
                now_value,
                float(series.volume[-1]),
                past,
                noise=max(_chance(float(series.noise[-1]), 0.0, 0.0), binomial),
                min_effect=min_effect,
                threshold=threshold,
            )
        )
    finding = _Finding(metric, dimension, period, "share", "neutral", threshold)
    return [
        finding.anomaly(
            s,
            f"{_share_subject(dimension, s.segment)} share of {of} was "
            f"{s.observed * 100:.1f}% vs a median of {s.baseline * 100:.1f}% over "
            f"{_span(period, s.compared)} (robust z {_z_text(s.z)}).",
        )
        for s in _strongest(scores, threshold, max_anomalies)
    ]


def _share_subject(dimension: str | None, segment: str | None) -> str:
    if segment is None:
        return "The"
    return f"{(dimension or 'segment').capitalize()} {segment}'s"


# -- daily series -------------------------------------------------------------------------------------


def daily_history_anomalies(
    frame: pd.DataFrame,
    *,
    metric: str,
    direction: str,
    dimension: str | None,
    threshold: float = 3.5,
    min_history: int = 28,
    min_volume: float = 30.0,
    min_effect: float = 0.04,
    min_effect_total: float = 0.10,
    seasonality: Seasonality = "additive",
    noise_sd: str | None = "noise_sd",
    max_anomalies: int = 3,
    label: str | None = None,
    value_format: ValueFormat | None = None,
    decimals: int | None = None,
    unit: str | None = None,
    display: ValueFormat | None = None,
) -> list[Anomaly]:
    """History anomalies of a daily series, after removing day-of-week seasonality.

    ``frame`` has columns ``segment``, ``day``, ``value``, ``volume`` (and the
    optional noise column); per segment the latest day is checked against the
    earlier ones. Rule: the history is *deseasonalised by weekday medians* —
    each weekday's effect is the median of its days minus (``additive``, for
    rates) or over (``multiplicative``, for volumes) the median of all days —
    and the floored robust z is computed on the adjusted values; the reported
    baseline is the adjusted median put back on the current weekday's level.
    Using every day for the MAD, not only the four to eight same weekdays,
    keeps the scale estimate stable; ``min_history`` days (four weeks by
    default) give each weekday several values. Totals are treated as in
    :func:`history_anomalies`. Each anomaly's period is the ISO date of the day
    checked.
    """
    _check(direction, threshold, min_effect)
    words = _Words(label or metric, value_format, decimals, unit, display)
    data = _tidy(frame, "day", noise_sd)
    if _is_total(data):
        data = _as_total(data)
        min_effect = max(min_effect, min_effect_total)
    scores, day = [], ""
    for segment, rows in _current_series(data):
        now, past = rows.iloc[-1], _measured(rows.iloc[:-1])
        day = now["time"].date().isoformat()
        if _eligible(now, past, min_history, min_volume):
            scores.append(_daily_score(segment, now, past, seasonality, min_effect, threshold))
    finding = _Finding(metric, dimension, day, "history", direction, threshold)
    weekday = date.fromisoformat(day).strftime("%A") if day else ""
    return [
        finding.anomaly(
            s,
            f"{words.label}{_where(dimension, s.segment)} was {words.value(s.observed)} "
            f"on {weekday} {day} vs a usual {weekday} level of {words.value(s.baseline)} "
            f"over the previous {s.compared} days (robust z {_z_text(s.z)}, day-of-week "
            "adjusted).",
        )
        for s in _strongest(scores, threshold, max_anomalies)
    ]


def _weekday_effects(
    weekdays: np.ndarray, values: np.ndarray, seasonality: Seasonality
) -> np.ndarray:
    """Effect of each weekday 0..6: its median minus / over the median of all days."""
    overall = float(np.median(values))
    neutral = 0.0 if seasonality == "additive" else 1.0
    effects = np.full(7, neutral)
    for weekday in np.unique(weekdays):
        level = float(np.median(values[weekdays == weekday]))
        if seasonality == "additive":
            effects[weekday] = level - overall
        elif overall > 0 and level > 0:
            effects[weekday] = level / overall
    return effects


def _adjust(values: np.ndarray, factors: np.ndarray, seasonality: Seasonality) -> np.ndarray:
    return values - factors if seasonality == "additive" else values / factors


def _daily_score(
    segment: str | None,
    now: pd.Series,
    past: pd.DataFrame,
    seasonality: Seasonality,
    min_effect: float,
    threshold: float,
) -> _Score:
    weekdays = past["time"].dt.day_of_week.to_numpy()
    effects = _weekday_effects(weekdays, past["value"].to_numpy(), seasonality)
    adjusted = _adjust(past["value"].to_numpy(), effects[weekdays], seasonality)
    today = effects[now["time"].weekday()]
    # noise is on the raw scale; dividing by the weekday factor puts it on the adjusted one
    ratio = 1.0 if seasonality == "additive" else 1.0 / today
    unit = _unit_noise(past["noise"].to_numpy(), past["volume"].to_numpy())
    score = _score(
        segment,
        float(_adjust(np.array([now["value"]]), np.array([today]), seasonality)[0]),
        now["volume"],
        adjusted,
        noise=_chance(now["noise"], now["volume"], unit) * ratio,
        min_effect=min_effect,
        threshold=threshold,
    )
    level = score.baseline + today if seasonality == "additive" else score.baseline * today
    return dataclasses.replace(score, observed=float(now["value"]), baseline=float(level))


# -- sampling noise, for callers ----------------------------------------------------------------------


def proportion_noise_sd(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Standard error of a proportion, ``sqrt(p(1 − p) / n)``; NaN where n = 0."""
    n = denominator.astype(float).where(denominator > 0)
    p = numerator.astype(float) / n
    return np.sqrt(p * (1 - p) / n)


def mean_noise_sd(count: pd.Series, total: pd.Series, sum_squares: pd.Series) -> pd.Series:
    """Standard error of a mean from count, sum and sum of squares: ``sqrt(s² / n)``."""
    n = count.astype(float)
    var = (sum_squares - total * total / n.where(n > 0)) / (n - 1).where(n > 1)
    return np.sqrt(var.clip(lower=0) / n.where(n > 0))
