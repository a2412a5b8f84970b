"""The expected band: what the anomaly model considers normal for each period of a trend.

A weekly business review chart shades, behind each week's value, the range the
history detector (:func:`reportgen.analysis.anomalies.history_anomalies`) would
have accepted for that week: each week is judged as if it were the current
one — against its own preceding ``history_periods − 1`` weeks, with its own
sampling error and volume — by the detector's own scoring code
(:func:`~reportgen.analysis.anomalies.expected_range`; every window of a trend at
once with :func:`~reportgen.analysis.anomalies.expected_ranges`). So a point
outside its band is exactly a week the report would flag, and the band of the
previous week says whether the comparison base was itself unusual.

Daily reports are judged after removing the day-of-week pattern, on a scale a
band around the raw values cannot show: they get no band.
"""

from __future__ import annotations

from reportgen.analysis.anomalies import ExpectedRange, expected_ranges
from reportgen.analysis.series import series_frame
from reportgen.config.loader import ResolvedReport
from reportgen.data.scan import Cube
from reportgen.figures import ReportFigures, measure_series
from reportgen.periods import Period
from reportgen.semantics import kind_of


def band_periods(report: ResolvedReport, period: Period) -> tuple[Period, ...]:
    """Every period a build's bands read: the trend's, and the history of its first one."""
    history = report.config.insights.anomalies.history_periods
    return period.trailing(report.config.trailing_periods + history - 1)


def expected_bands(
    report: ResolvedReport, cube: Cube, figures: ReportFigures
) -> dict[str, tuple[ExpectedRange | None, ...]]:
    """Metric → one band per point of its trailing series (None where nothing is judged:
    too little history before it, no value, or a volume below ``min_volume``)."""
    if figures.period.grain == "day":
        return {}
    config = report.config.insights.anomalies
    history = config.history_periods
    span = band_periods(report, figures.period)
    bands = {}
    for name, m in figures.metrics.items():
        metric = report.metric(name)
        frame = series_frame(report, name, measure_series(cube, metric.measures, span), None)
        bound = kind_of(metric).value_bound(report.catalog.measures)
        offset = len(span) - len(m.series) - history + 1  # 0 unless the series is shorter
        bands[name] = expected_ranges(
            frame,
            [slice(offset + i, offset + i + history) for i in range(len(m.series))],
            threshold=config.threshold,
            min_volume=config.min_volume,
            bound=bound,
        )
    return bands


def band_dict(band: ExpectedRange | None) -> dict[str, float | bool | int] | None:
    """A band as figures.json writes it on its series point."""
    if band is None:
        return None
    return {
        "low": band.low,
        "high": band.high,
        "baseline": band.baseline,
        "robust_z": band.robust_z,
        "unusual": band.unusual,
        "history_periods": band.compared,
    }
