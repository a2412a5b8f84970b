"""The forward look: pace to target, forecasts, backlog outlook, records, concentration, shifts.

One function, :func:`look_ahead`, runs each detector on the cube's series
for the report's period and returns an immutable :class:`Outlook`. Every
finding carries its method, its baseline and its volume floor, like an
anomaly, and ``fires`` — whether it is raised to the reader (the "Looking
ahead" section leads with those) or only kept in figures.json. The
detectors are pure functions in their own modules; this one only reads the
series they need and words their results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from reportgen.analysis import backlog_outlook, concentration, pace, records, shifts
from reportgen.analysis.forecast import HORIZON, MIN_HISTORY, SEASON, ets_forecast
from reportgen.config.loader import ResolvedReport
from reportgen.data.scan import Cube
from reportgen.figures import (
    MetricFigures,
    ReportFigures,
    Targets,
    measure_series,
    metric_values,
    metric_weight,
    target_met,
)
from reportgen.formatting import MINUS
from reportgen.periods import Period, period_containing
from reportgen.semantics import kind_of
from reportgen.wording import headline_value, term_text, value_text

#: the anomaly detector's practical-effect floor: a move smaller than this share of the level is
#: never news (totals move more with the calendar)
EFFECT = 0.04
TOTAL_EFFECT = 0.10


@dataclass(frozen=True)
class MetricForecast:
    metric: str
    period: str  # the period the forecast starts after
    periods: tuple[str, ...]  # the forecast periods' labels
    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float
    model: str
    target: float | None  # target in force for the first forecast period
    fires: bool  # the next period is forecast to miss a target the current period meets
    method: str
    baseline: str
    volume: float
    volume_floor: float
    detail: str = ""
    #: the target in force in each forecast period (a target can change at a month's start)
    targets: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Outlook:
    """Everything the forward look found; each list in the order it is shown."""

    pace: tuple[pace.Pace, ...] = ()
    forecasts: tuple[MetricForecast, ...] = ()
    backlog: tuple[backlog_outlook.BacklogOutlook, ...] = ()
    records: tuple[records.Record, ...] = ()
    streaks: tuple[records.Streak, ...] = ()
    concentration: tuple[concentration.Concentration, ...] = ()
    shifts: tuple[shifts.Shift, ...] = ()
    raised_counts: dict[str, int] = field(default_factory=dict)

    def raised(self) -> dict[str, list]:
        """The findings raised to the reader, by kind."""
        kinds = ("pace", "forecasts", "backlog", "records", "streaks", "concentration", "shifts")
        return {k: [x for x in getattr(self, k) if x.fires] for k in kinds}


#: what an edition without the "Looking ahead" section still needs: the forecast drawn on each
#: trend chart, and the pace and backlog outlook its forward stories are told from
FOR_CHARTS_AND_STORIES = ("pace", "forecasts", "backlog")


def look_ahead(
    report: ResolvedReport,
    cube: Cube,
    figures: ReportFigures,
    *,
    kinds: tuple[str, ...] | None = None,
) -> Outlook:
    """Run the forward-looking detectors for the report's period (``kinds``: only those).

    A leadership edition shows no "Looking ahead" section, yet draws each
    metric's forecast on its trend chart and tells a story when a target is
    out of reach: it asks for :data:`FOR_CHARTS_AND_STORIES` only, which skips
    the detectors read by the section alone (records, streaks, concentration,
    shifts: about a third of the time).
    """
    targets = Targets.load(report)

    def wanted(kind: str) -> bool:
        return kinds is None or kind in kinds

    try:
        found = Outlook(
            pace=tuple(_pace(report, cube, figures, targets)) if wanted("pace") else (),
            forecasts=tuple(_forecasts(report, cube, figures, targets))
            if wanted("forecasts")
            else (),
            backlog=tuple(_backlog(report, cube, figures)) if wanted("backlog") else (),
            records=tuple(_records(report, cube, figures)) if wanted("records") else (),
            streaks=tuple(_streaks(report, cube, figures, targets)) if wanted("streaks") else (),
            concentration=tuple(_concentration(report, cube, figures))
            if wanted("concentration")
            else (),
            shifts=tuple(_shifts(report, cube, figures)) if wanted("shifts") else (),
        )
    finally:
        _CACHE.clear()
    counts = {k: len(v) for k, v in found.raised().items()}
    return Outlook(**{**found.__dict__, "raised_counts": counts})


# -- reading series ---------------------------------------------------------------------------


def _floor(report: ResolvedReport) -> float:
    return report.config.insights.anomalies.min_volume


def _threshold(report: ResolvedReport) -> float:
    return report.config.insights.anomalies.threshold


def _effect(metric_type: str) -> float:
    return TOTAL_EFFECT if metric_type == "total" else EFFECT


def _known_periods(cube: Cube, period: Period, count: int) -> tuple[Period, ...]:
    """Up to ``count`` periods ending with ``period`` that lie wholly inside the data."""
    return tuple(p for p in period.trailing(count) if p.start >= cube.first_complete_day)


def _series(
    report: ResolvedReport, cube: Cube, name: str, periods: tuple[Period, ...], by: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, volumes): periods × segments (one column "" for the overall series).

    Every detector reads a tail of the same year of periods, so the year is
    read once per metric and dimension (cached on the cube and period) and sliced.
    """
    key = (id(cube), report.id, name, by, periods[-1])
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not cube:  # the cube is held, so its id is not reused
        year = _known_periods(cube, periods[-1], records.YEAR[periods[-1].grain] + 1)
        cached = _CACHE[key] = (cube, *_read_series(report, cube, name, year, by))
    _, values, volumes = cached
    n = len(periods)
    return values.iloc[-n:], volumes.iloc[-n:]


#: series read during one :func:`look_ahead` call; emptied when it returns
_CACHE: dict[tuple, tuple[Cube, pd.DataFrame, pd.DataFrame]] = {}


def _read_series(
    report: ResolvedReport, cube: Cube, name: str, periods: tuple[Period, ...], by: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    metric = report.metric(name)
    sums = measure_series(cube, metric.measures, periods, by=by)
    values, volumes = metric_values(metric, sums), metric_weight(metric, sums)
    if by is None:
        index = [p.label for p in periods]
        return (
            pd.DataFrame({"": values.to_numpy(float)}, index=index),
            pd.DataFrame({"": volumes.to_numpy(float)}, index=index),
        )
    labels = {pd.Timestamp(p.start): p.label for p in periods}
    values = values.unstack(by).rename(index=labels).astype(float)
    volumes = volumes.unstack(by).rename(index=labels).astype(float).fillna(0.0)
    return values, volumes


def _dimensions(report: ResolvedReport, cube: Cube, name: str) -> list[str]:
    metric = report.metric(name)
    if kind_of(metric).reads_sketch:
        return []  # a segment's quantile is read per segment's history only (anomalies)
    return [
        d
        for d in report.breakdowns
        if d in report.metric_dimensions(name) and d in cube.dimensions_of(metric.measures[0])
    ]


def _where(report: ResolvedReport, dimension: str | None, segment: str | None) -> str:
    if dimension is None or segment is None:
        return ""
    label = (
        report.catalog.dimensions[dimension].label
        if dimension in report.catalog.dimensions
        else dimension
    )
    return f" in {segment} ({label.lower()})"


def _unit(period: Period, n: float) -> str:
    word = {"day": "day", "week": "week", "month": "month", "quarter": "quarter"}[period.grain]
    return word if n == 1 else word + "s"


def _signed(m: MetricFigures, delta: float) -> str:
    text = value_text(m, abs(delta))
    return ("+" if delta >= 0 else MINUS) + text


# -- pace to target -----------------------------------------------------------------------------


def _pace(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, targets: Targets
) -> list[pace.Pace]:
    through = min(figures.period.end, cube.last_complete_day)
    out = []
    for grain in ("month", "quarter"):
        span = period_containing(through, grain)
        if figures.period.grain in ("quarter",) or span.start < cube.first_complete_day:
            continue
        for name, m in figures.metrics.items():
            found = _pace_one(report, cube, name, m, span, through, targets)
            if found is not None:
                out.append(found)
    return out


def _pace_parts(report: ResolvedReport, name: str) -> tuple[str, str | None, float] | None:
    """(numerator, denominator, scale) measures of a metric that can be paced, else None."""
    return kind_of(report.metric(name)).measure_parts()


def _pace_one(
    report: ResolvedReport,
    cube: Cube,
    name: str,
    m: MetricFigures,
    span: Period,
    through: date,
    targets: Targets,
) -> pace.Pace | None:
    parts = _pace_parts(report, name)
    target = targets.lookup(name, span)
    if parts is None or target is None or m.direction == "neutral" or m.as_of is not None:
        return None  # a stock (backlog) has no pace: its period value is the last day's
    num, den, scale = parts
    first = max(cube.first_complete_day, through - timedelta(days=pace.PACE_DAYS - 1))
    first = min(first, span.start)
    days = tuple(
        period_containing(first + timedelta(days=k), "day")
        for k in range((through - first).days + 1)
    )
    sums = measure_series(cube, tuple(x for x in (num, den) if x), days)
    daily = pd.DataFrame({"num": sums[num].to_numpy(float)}, index=sums.index)
    if den is not None:
        daily["den"] = sums[den].to_numpy(float)
    to_date, projected, lower, upper, volume = pace.project(
        daily, start=span.start, end=span.end, through=through, ratio=den is not None, scale=scale
    )
    floor = _floor(report)
    if volume < floor or not np.isfinite(projected):
        return None
    days_left = (span.end - through).days
    best = None
    if den is not None and m.type == "proportion":
        so_far = daily[daily.index >= pd.Timestamp(span.start)]
        expected_den = float(
            daily.tail(pace.PACE_DAYS)
            .groupby(pd.DatetimeIndex(daily.tail(pace.PACE_DAYS).index).day_of_week)["den"]
            .mean()
            .reindex(pd.date_range(through + timedelta(days=1), span.end).day_of_week)
            .fillna(0)
            .sum()
        )
        best = pace.best_case(
            (float(so_far["num"].sum()), float(so_far["den"].sum())),
            expected_den,
            direction=m.direction,
            proportion=True,
        )
        best = None if best is None else best * scale
    elif den is None and m.direction == "lower_is_better":
        best = to_date
    verdict, fires = pace.status(
        projected, lower, upper, target, m.direction, best=best, days_left=days_left
    )
    elapsed = (through - span.start).days + 1
    what = "month" if span.grain == "month" else "quarter"
    detail = (
        f"{m.label}, {what} to date ({span.label}, {elapsed} days): {value_text(m, to_date)}; "
        f"at the current pace it ends the {what} at {value_text(m, projected)} "
        f"(80% interval {value_text(m, lower, unit=False)}–{value_text(m, upper)}) against a "
        f"target of {value_text(m, target)}: {verdict}."
    )
    return pace.Pace(
        metric=name,
        period=span.label,
        through=through,
        days_elapsed=elapsed,
        days_left=days_left,
        value_to_date=to_date,
        projected=projected,
        lower=lower,
        upper=upper,
        level=0.8,
        target=target,
        status=verdict,
        fires=fires,
        method=(
            "to date + each remaining day at the mean of its weekday over the last "
            f"{pace.PACE_DAYS} days" + (", numerator and denominator apart" if den else "")
        ),
        baseline=f"the last {pace.PACE_DAYS} days to {through.isoformat()}",
        volume=volume,
        volume_floor=floor,
        detail=detail,
    )


# -- forecasts ----------------------------------------------------------------------------------


def _forecasts(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, targets: Targets
) -> list[MetricForecast]:
    period = figures.period
    periods = _known_periods(cube, period, records.YEAR[period.grain] + 1)
    horizon = HORIZON[period.grain]
    future = tuple(period.shift(k) for k in range(1, horizon + 1))
    out = []
    for name, m in figures.metrics.items():
        values, volumes = _series(report, cube, name, periods, None)
        series = values[""].to_numpy(float)
        finite = np.isfinite(series)
        if not finite.any():
            continue
        series = series[int(np.argmax(finite)) :]  # from the first period with data
        if len(series) < MIN_HISTORY[period.grain] or not np.isfinite(series).all():
            continue
        path = ets_forecast(series, horizon, season=SEASON.get(period.grain))
        target = targets.lookup(name, future[0])
        meets_now = target_met(m.direction, m.value, target)
        edge = path.upper[0] if m.direction == "higher_is_better" else path.lower[0]
        fires = bool(meets_now) and target_met(m.direction, edge, target) is False
        detail = (
            f"{m.label}: {headline_value(m, path.mean[0])} forecast for {future[0].label} "
            f"(80% interval {value_text(m, path.lower[0], unit=False)}–"
            f"{value_text(m, path.upper[0])})"
            + (f", against a target of {value_text(m, target)}" if target is not None else "")
            + "."
        )
        out.append(
            MetricForecast(
                metric=name,
                period=period.label,
                periods=tuple(p.label for p in future),
                mean=path.mean,
                lower=path.lower,
                upper=path.upper,
                level=path.level,
                model=path.model,
                target=target,
                fires=fires,
                method=f"{path.model}, statsmodels ETS, analytic {path.level:.0%} prediction interval",
                baseline=f"{path.fitted_on} {_unit(period, path.fitted_on)} to {period.label}",
                volume=float(volumes[""].iloc[-1]),
                volume_floor=_floor(report),
                detail=detail,
                targets=tuple(targets.lookup(name, p) for p in future),
            )
        )
    return out


# -- backlog outlook ----------------------------------------------------------------------------


def _backlog(
    report: ResolvedReport, cube: Cube, figures: ReportFigures
) -> list[backlog_outlook.BacklogOutlook]:
    period = figures.period
    periods = _known_periods(cube, period, report.config.insights.anomalies.history_periods)
    if len(periods) < 2:
        return []
    floor, threshold = _floor(report), _threshold(report)
    out = []
    for name, m in figures.metrics.items():
        if m.as_of is None or m.previous_as_of is None:
            continue  # not a stock
        days = (m.as_of - m.previous_as_of).days
        if days <= 0:
            continue
        for dim in (None, *_dimensions(report, cube, name)):
            values, _ = _series(report, cube, name, periods, dim)
            for segment in values.columns:
                series = values[segment].fillna(0.0).to_numpy(float)
                if series[-1] < floor and series[-2] < floor:
                    continue
                outflow, weeks, growth = backlog_outlook.net_flow(series, days)
                z = backlog_outlook.growth_z(series, threshold)
                status = "clearing" if weeks is not None else "growing" if growth else "steady"
                seg = None if dim is None else str(segment)
                where = _where(report, dim, seg)
                if weeks is not None:
                    said = (
                        f"clears in about {weeks:.1f} weeks at the current net flow of "
                        f"{outflow:,.0f} a day (decisions out − items in)"
                    )
                elif growth:
                    said = (
                        f"growing by {growth:,.1f} a day (items in exceed decisions out)"
                        if growth < 10
                        else f"growing by {growth:,.0f} a day (items in exceed decisions out)"
                    )
                else:
                    said = "steady: as many items decided as came in"
                out.append(
                    backlog_outlook.BacklogOutlook(
                        metric=name,
                        dimension=dim,
                        segment=seg,
                        period=period.label,
                        backlog=float(series[-1]),
                        previous=float(series[-2]),
                        net_outflow_per_day=outflow,
                        status=status,
                        weeks_to_clear=weeks,
                        growing_per_day=growth,
                        robust_z=z,
                        fires=status == "growing" and z >= threshold,
                        method=(
                            "net flow = change of the closing snapshots over "
                            f"{days} days; growth scored by robust z vs the earlier changes"
                        ),
                        baseline=f"period-on-period changes over {len(periods) - 1} periods",
                        volume=float(series[-1]),
                        volume_floor=floor,
                        detail=f"{m.label}{where}: {headline_value(m, series[-1])}, {said}.",
                    )
                )
    return out


# -- records and streaks ------------------------------------------------------------------------


def _records(report: ResolvedReport, cube: Cube, figures: ReportFigures) -> list[records.Record]:
    period = figures.period
    year = records.YEAR[period.grain]
    periods = _known_periods(cube, period, year + 1)
    threshold, floor = _threshold(report), _floor(report)
    out = []
    for name, m in figures.metrics.items():
        values, volumes = _series(report, cube, name, periods, None)
        series = [None if not np.isfinite(v) else float(v) for v in values[""]]
        current = series[-1]
        if any(v is None for v in series):
            continue  # gaps inside the data's span (a sketch kept for the shown weeks only)
        level = max(abs(v) for v in series if v is not None)
        margin = _effect(m.type) * level / threshold
        found = records.find_record(series, values.index, year=year, margin=margin)
        if found is None:
            continue
        kind, before, at, since_begin, beyond = found
        window = sum(v is not None for v in series[:-1])
        volume = float(volumes[""].iloc[-1])
        up = kind == "highest"
        sentiment = (
            "neutral"
            if m.direction == "neutral"
            else "good"
            if up == (m.direction == "higher_is_better")
            else "bad"
        )
        span = (
            f"since the data begins ({window} {_unit(period, window)})"
            if since_begin
            else f"in {year} {_unit(period, year)}"
        )
        fires = (
            beyond
            and window >= records.MIN_RECORD_HISTORY[period.grain]
            and volume >= floor
            and not m.provisional
        )
        out.append(
            records.Record(
                metric=name,
                period=period.label,
                kind=kind,
                value=current,
                previous_record=before,
                previous_record_period=str(values.index[at]),
                window=window,
                since_data_begins=since_begin,
                sentiment=sentiment,
                fires=bool(fires),
                method=f"{kind} of the window; raised when beyond the previous extreme by "
                f"{_effect(m.type):.0%} of the level / {threshold:g}",
                baseline=f"the previous {window} {_unit(period, window)}",
                volume=volume,
                volume_floor=floor,
                detail=(
                    f"{m.label} {headline_value(m, current)}: the {kind} {span}; "
                    f"the previous {kind} was {headline_value(m, before)} in {values.index[at]}."
                ),
            )
        )
    return out


def _streaks(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, targets: Targets
) -> list[records.Streak]:
    period = figures.period
    periods = _known_periods(cube, period, report.config.trailing_periods)
    out = []
    for name, m in figures.metrics.items():
        if m.direction == "neutral":
            continue
        values, volumes = _series(report, cube, name, periods, None)
        tgts = [targets.lookup(name, p) for p in periods]
        missed = [
            None
            if t is None or not np.isfinite(v)
            else target_met(m.direction, float(v), t) is False
            for v, t in zip(values[""], tgts, strict=True)
        ]
        length = records.missed_streak(missed)
        if length < 2:
            continue
        first = periods[-length].label
        word = "below" if m.direction == "higher_is_better" else "above"
        out.append(
            records.Streak(
                metric=name,
                period=period.label,
                length=length,
                first_period=first,
                target=float(tgts[-1]),
                fires=length == records.STREAK_RAISED,
                method=f"consecutive periods missing the target in force; raised at {records.STREAK_RAISED}",
                baseline="the target in force in each period",
                volume=float(volumes[""].iloc[-1]),
                volume_floor=_floor(report),
                detail=(
                    f"{m.label}: {length} {_unit(period, length)} in a row {word} target "
                    f"(since {first}; target now {value_text(m, tgts[-1])})"
                    + ("" if length < len(periods) else ", as far back as the report looks")
                    + "."
                ),
            )
        )
    return out


# -- concentration ------------------------------------------------------------------------------


def _weight_key(report: ResolvedReport, name: str) -> str | None:
    return kind_of(report.metric(name)).weight_measure


def _concentration(
    report: ResolvedReport, cube: Cube, figures: ReportFigures
) -> list[concentration.Concentration]:
    period = figures.period
    periods = _known_periods(cube, period, report.config.insights.anomalies.history_periods)
    if len(periods) < 4:
        return []
    floor = _floor(report)
    done: set[tuple[str, str]] = set()
    out = []
    for name, m in figures.metrics.items():
        weight = _weight_key(report, name)
        for dim in _dimensions(report, cube, name):
            if weight is None or (weight, dim) in done:
                continue
            done.add((weight, dim))
            _, volumes = _series(report, cube, name, periods, dim)
            if volumes.shape[1] < 2:
                continue
            additive = kind_of(report.metric(name)).is_volume
            hhi, usual_hhi, seg, share, usual, of, change_share, fires = concentration.assess(
                volumes, additive=additive, min_volume=floor
            )
            of_what = "its volume" if additive else _volume_word(report, weight)
            if of == "change":
                said = (
                    f"{seg} accounts for {change_share:.0%} of the change in {m.label.lower()} "
                    f"against a usual {usual:.0%} share"
                )
            else:
                said = f"{seg} holds {share:.0%} of {of_what} against a usual {usual:.0%}"
            label = (
                report.catalog.dimensions[dim].label if dim in report.catalog.dimensions else dim
            )
            out.append(
                concentration.Concentration(
                    metric=name,
                    dimension=dim,
                    period=period.label,
                    hhi=hhi,
                    usual_hhi=usual_hhi,
                    segment=seg,
                    share=share,
                    usual_share=usual,
                    of=of,
                    change_share=change_share,
                    fires=fires,
                    method=(
                        f"share ≥ {concentration.RATIO:g}× usual and ≥ {concentration.MIN_GAP:.0%}"
                        f" above it; Herfindahl index Σ share²"
                    ),
                    baseline=f"median share over the previous {len(periods) - 1} periods",
                    volume=float(volumes[seg].iloc[-1]),
                    volume_floor=floor,
                    detail=(
                        f"{m.label} by {label.lower()}: {said} "
                        f"(Herfindahl index {hhi:.2f}, usually {usual_hhi:.2f})."
                    ),
                )
            )
    return out


def _volume_word(report: ResolvedReport, measure: str) -> str:
    spec = report.catalog.measures[measure]
    return spec.description or measure.replace("_", " ")


# -- trend shifts -------------------------------------------------------------------------------


def _shifts(report: ResolvedReport, cube: Cube, figures: ReportFigures) -> list[shifts.Shift]:
    period = figures.period
    periods = _known_periods(cube, period, shifts.WINDOW)
    if len(periods) < 2 * shifts.MIN_SIZE + 2:
        return []
    threshold, floor = _threshold(report), _floor(report)
    out = []
    for name, m in figures.metrics.items():
        effect = _effect(m.type)
        for dim in (None, *_dimensions(report, cube, name)):
            values, volumes = _series(report, cube, name, periods, dim)
            for segment in values.columns:
                series = values[segment].to_numpy(float)
                if not np.isfinite(series).all():
                    continue
                volume = float(np.median(volumes[segment]))
                if volume < floor:
                    continue
                level = float(np.median(np.abs(series)))
                found = shifts.last_shift(series, effect * level / threshold)
                if found is None:
                    continue
                at, before, after = found
                size = after - before
                lasted = len(series) - at
                if lasted > shifts.RECENT:
                    continue  # an old level change is the series' level now, not news
                since = periods[at].label
                up = size > 0
                sentiment = (
                    "neutral"
                    if m.direction == "neutral"
                    else "good"
                    if up == (m.direction == "higher_is_better")
                    else "bad"
                )
                seg = None if dim is None else str(segment)
                out.append(
                    shifts.Shift(
                        metric=name,
                        dimension=dim,
                        segment=seg,
                        period=period.label,
                        since=since,
                        periods_at_new_level=lasted,
                        before=before,
                        after=after,
                        size=size,
                        direction="up" if up else "down",
                        sentiment=sentiment,
                        fires=lasted == shifts.MIN_SIZE and abs(size) >= effect * level,
                        method=(
                            f"PELT (ruptures, l2 cost, min {shifts.MIN_SIZE} periods, penalty "
                            f"{shifts.PENALTY:g}·σ²·ln n)"
                        ),
                        baseline=f"the last {len(series)} {_unit(period, len(series))}",
                        volume=volume,
                        volume_floor=floor,
                        detail=(
                            f"{m.label}{_where(report, dim, seg)} shifted "
                            f"{'up' if up else 'down'} by about {term_text(m, abs(size)).lstrip('+')} "
                            f"from {since} ({headline_value(m, before)} → "
                            f"{headline_value(m, after)}, {lasted} {_unit(period, lasted)} so far)."
                        ),
                    )
                )
    return out
