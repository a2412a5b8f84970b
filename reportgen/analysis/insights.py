"""The analysis stage: significance, anomalies and drivers for one report and period.

It reads only the cube and the period figures (sufficient statistics), never
raw rows, and returns immutable values the compose stage turns into sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from reportgen.analysis.anomalies import (
    Anomaly,
    ExpectedRange,
    anomaly_id,
    daily_history_anomalies,
    history_anomalies,
    peer_anomalies,
    share_anomalies,
)
from reportgen.analysis.bands import expected_bands
from reportgen.analysis.deepdive_run import DeepDive, run_deep_dive
from reportgen.analysis.drivers import Decomposition, decompose_all
from reportgen.analysis.followup import FollowUp
from reportgen.analysis.outlook import FOR_CHARTS_AND_STORIES, look_ahead
from reportgen.analysis.series import series_frame
from reportgen.analysis.significance import Significance, assess, significance_phrase
from reportgen.config.loader import ResolvedReport
from reportgen.config.models import (
    AnomalyConfig,
    MetricDef,
)
from reportgen.data.scan import Cube
from reportgen.figures import (
    ReportFigures,
    display_format,
    measure_series,
)
from reportgen.periods import Period, history_length
from reportgen.semantics import kind_class, kind_of

if TYPE_CHECKING:
    from reportgen.analysis.outlook import Outlook
    from reportgen.analysis.stories import Story


@dataclass(frozen=True)
class Insights:
    """Everything the analysis layer found for one report and period."""

    significance: Significance
    anomalies: tuple[Anomaly, ...]
    decompositions: dict[str, Decomposition]
    followups: tuple[FollowUp, ...] = ()  # recorded root causes and whether the metric recovered
    deep_dive: DeepDive | None = None  # relationships and groups across units (analyst sections)
    # the week's stories (reportgen.analysis.stories), found once follow-ups are known
    stories: tuple[Story, ...] = ()
    # word tests as what they mean ("could be noise") rather than p-values: leadership edition
    plain_words: bool = False
    #: metric → how its previous period was unusual ("adverse"/"favourable") when the current
    #: period moves back toward the usual level: a recovery, not a plain win or loss
    recoveries: dict[str, str] = field(default_factory=dict)
    #: metric → the anomaly model's normal range per trailing series point (analysis.bands)
    bands: dict[str, tuple[ExpectedRange | None, ...]] = field(default_factory=dict)
    #: the forward look (pace, forecasts, backlog, records, concentration, shifts)
    outlook: Outlook | None = None

    @property
    def headline_anomalies(self) -> tuple[Anomaly, ...]:
        """The anomalies the report names: small samples stay in figures.json only."""
        return tuple(a for a in self.anomalies if not a.small_sample)

    def phrase(self, metric: str) -> str | None:
        test = self.significance.metrics.get(metric)
        if test is None:
            return None
        if self.plain_words:  # the leadership edition: what the test means, not its p-value
            real = test.significant(self.significance.alpha)
            return None if real is None else ("unlikely to be noise" if real else "could be noise")
        return significance_phrase(test, self.significance.alpha)

    def significant(self, metric: str) -> bool | None:
        test = self.significance.metrics.get(metric)
        return test.significant(self.significance.alpha) if test else None


def analyze(report: ResolvedReport, cube: Cube, figures: ReportFigures) -> Insights:
    bands = expected_bands(report, cube, figures)
    return Insights(
        significance=assess(report, figures),
        anomalies=qualify_provisional(detect_anomalies(report, cube, figures), figures),
        decompositions=decompose_all(report, cube, figures),
        deep_dive=run_deep_dive(report, cube, figures)
        if "deep_dive" in report.config.sections
        else None,
        recoveries=find_recoveries(figures, bands),
        bands=bands,
        # every edition draws the forecast on its trend charts and tells forward stories; the
        # detectors only the "Looking ahead" section reads run for an edition that shows it
        outlook=look_ahead(
            report,
            cube,
            figures,
            kinds=None if "outlook" in report.config.sections else FOR_CHARTS_AND_STORIES,
        ),
    )


def find_recoveries(
    figures: ReportFigures, bands: dict[str, tuple[ExpectedRange | None, ...]]
) -> dict[str, str]:
    """Metrics whose previous period was itself unusual and whose current one moves back.

    "Unusual" is the anomaly model's own verdict on the previous period, read
    from its band (:mod:`reportgen.analysis.bands`), so the recovery line and the
    chart's shaded range can never disagree. The current value is a recovery
    when it lies closer to that period's usual level, on the same side of the
    previous value. Returns metric → "adverse"/"favourable"/"neutral" (how the
    previous period was unusual).
    """
    found = {}
    for name, m in figures.metrics.items():
        points = bands.get(name, ())
        if len(points) < 2 or len(m.series) < 2:
            continue
        before_band = points[-2]
        now, before = m.series[-1].value, m.series[-2].value
        if before_band is None or not before_band.unusual or now is None or before is None:
            continue
        usual = before_band.baseline
        if (now - before) * (usual - before) > 0 and abs(now - usual) < abs(before - usual):
            worse = (before > usual) == (m.direction == "lower_is_better")
            found[name] = (
                "neutral" if m.direction == "neutral" else ("adverse" if worse else "favourable")
            )
    return found


# -- anomalies --------------------------------------------------------------------------------


def qualify_provisional(
    anomalies: tuple[Anomaly, ...], figures: ReportFigures
) -> tuple[Anomaly, ...]:
    """Anomalies of a provisional figure say so: the move may be data still to arrive.

    They stay listed (a real drop is still a drop) with ``provisional`` set and
    their sentence qualified, and the summary never leads with them.
    """
    out = []
    for a in anomalies:
        m = figures.metrics.get(a.metric)
        if m is None or not m.provisional or a.period != figures.period.label:
            out.append(a)
            continue
        reason = m.provisional_reason or "late data still arriving"
        until = f" until {m.matures_on:%d %b %Y}" if m.matures_on else ""
        detail = (
            f"{a.detail.rstrip('.')}. Provisional: {reason}{until}; "
            "part of this may be late data, not a change."
        )
        out.append(replace(a, provisional=True, detail=detail))
    return tuple(out)


def _weight_measure(metric: MetricDef) -> str | None:
    """The measure a segment's volume is, or None (then no share anomalies)."""
    return kind_of(metric).weight_measure


def detect_anomalies(
    report: ResolvedReport, cube: Cube, figures: ReportFigures
) -> tuple[Anomaly, ...]:
    """History, peer and share anomalies for every metric, overall and per anomaly dimension."""
    config = report.config.insights.anomalies
    periods = figures.period.trailing(_history_length(figures.period, config))
    label = figures.period.label
    found: dict[str, Anomaly] = {}
    shares_done: set[tuple[str, str]] = set()
    for name, m in figures.metrics.items():
        metric = report.metric(name)
        dims = [
            d
            for d in report.anomaly_dimensions
            if d in report.metric_dimensions(name) and d in cube.dimensions_of(metric.measures[0])
        ]
        for dim in (None, *dims):
            sums = measure_series(cube, metric.measures, periods, by=dim)
            frame = series_frame(report, name, sums, dim)
            common = {
                "metric": name,
                "dimension": dim,
                "period": label,
                "max_anomalies": config.max_per_metric,
            }
            shown = {
                "label": m.label,
                "value_format": m.format,
                "decimals": m.decimals,
                "unit": m.unit,
                "display": display_format(m),  # one unit per metric, as on its pages
            }
            bound = kind_of(metric).value_bound(report.catalog.measures)
            batch = _history(
                frame, metric, m.direction, config, figures.period, common, shown, bound
            )
            # only kinds whose segments are comparable get peer checks (not quantiles)
            if dim is not None and kind_of(metric).peer_comparable:
                latest = frame.period_start == frame.period_start.max()
                batch += peer_anomalies(
                    frame[latest],
                    history=frame[~latest],  # a segment's persistent gap is not news
                    direction=m.direction,
                    min_volume=config.min_volume,
                    threshold=config.peer_threshold,
                    **common,
                    **shown,
                )
                key = (_weight_measure(metric), dim)
                if key[0] is not None and key not in shares_done:
                    shares_done.add(key)
                    batch += share_anomalies(
                        _share_frame(frame),
                        threshold=config.threshold,
                        noise_sd=None,
                        volume_label=_volume_label(report, metric),
                        **common,
                    )
            for anomaly in _strongest(batch, config.max_per_metric):
                found.setdefault(anomaly.id, anomaly)
    floor = report.config.insights.small_sample
    scoped = [
        _worded(
            _scoped_id(a, report),
            report,
            small_sample=_is_small(a, floor, report.metric(a.metric).type),
        )
        for a in found.values()
    ]
    return tuple(sorted(scoped, key=lambda a: abs(a.robust_z), reverse=True))


def _is_small(anomaly: Anomaly, floor: float, metric_type: str = "proportion") -> bool:
    """A segment's anomaly on fewer than ``floor`` sampled units.

    Only kinds whose volume counts sampled units (MetricKind.volume_is_sample): a
    total is its own volume; other ratios are weighed by hours or sums, not samples.
    """
    sampled = kind_class(metric_type).volume_is_sample
    return sampled and anomaly.segment is not None and anomaly.volume < floor


def _worded(anomaly: Anomaly, report: ResolvedReport, *, small_sample: bool) -> Anomaly:
    """The detail sentence names the dimension by its catalog label, not its column name."""
    detail = anomaly.detail
    dim = anomaly.dimension
    if dim is not None and anomaly.segment is not None and dim in report.catalog.dimensions:
        label = report.catalog.dimensions[dim].label
        spoken = label if label[1:2].isupper() else label[:1].lower() + label[1:]
        for before, after in ((f" {dim} ", f" {spoken} "), (f"{dim.capitalize()} ", f"{label} ")):
            detail = detail.replace(before + anomaly.segment, after + anomaly.segment, 1)
    return replace(anomaly, detail=detail, small_sample=small_sample)


def _history_length(period: Period, config: AnomalyConfig) -> int:
    return history_length(period.grain, config.history_periods)


def _history(
    frame: pd.DataFrame,
    metric: MetricDef,
    direction: str,
    config: AnomalyConfig,
    period: Period,
    common: dict,
    shown: dict,
    bound: float | None = None,
) -> list[Anomaly]:
    """The segment against its own past: day-of-week adjusted for a daily report."""
    if period.grain != "day":
        return history_anomalies(
            frame,
            direction=direction,
            min_volume=config.min_volume,
            threshold=config.threshold,
            bound=bound,
            **common,
            **shown,
        )
    daily = {k: v for k, v in common.items() if k != "period"}  # the day checked is the period
    return daily_history_anomalies(
        frame.rename(columns={"period_start": "day"}),
        direction=direction,
        min_volume=config.min_volume,
        threshold=config.threshold,
        # volumes scale with the weekday; rates, shares and means shift by it
        seasonality=kind_of(metric).seasonality,
        **daily,
        **shown,
    )


def _scoped_id(anomaly: Anomaly, report: ResolvedReport) -> Anomaly:
    """Anomalies of a restricted audience are about other numbers: give them their own ids.

    The id stays stable across rebuilds of the same audience; an unrestricted
    audience keeps the plain id.
    """
    audience = report.config.audience
    if not audience.filter:
        return anomaly
    scope = "|".join(
        f"{dim}={','.join(sorted(audience.allowed(dim) or ()))}" for dim in sorted(audience.filter)
    )
    key = f"{anomaly.metric}@{scope}"
    return replace(
        anomaly,
        id=anomaly_id(key, anomaly.dimension, anomaly.segment, anomaly.period, anomaly.method),
    )


def _share_frame(frame: pd.DataFrame) -> pd.DataFrame:
    totals = frame.groupby("period_start")["volume"].transform("sum")
    shares = frame[["segment", "period_start", "volume"]].copy()
    shares["value"] = frame["volume"] / totals.where(totals > 0)
    return shares


def _strongest(anomalies: list[Anomaly], limit: int) -> list[Anomaly]:
    return sorted(anomalies, key=lambda a: abs(a.robust_z), reverse=True)[:limit]


def _volume_label(report: ResolvedReport, metric: MetricDef) -> str:
    name = _weight_measure(metric)
    assert name is not None
    measure = report.catalog.measures[name]
    return measure.description or name.replace("_", " ")
