"""A metric's series as the anomaly checks and the expected bands read it.

One row per period (and segment): the value, the volume it weighs by and the
sampling noise chance alone moves it by, each from the metric kind. The
detector (:mod:`.insights`) and the WBR chart's normal range (:mod:`.bands`)
read the same frame, so they can never disagree.
"""

from __future__ import annotations

import pandas as pd

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import MetricDef
from reportgen.figures import metric_values, metric_weight
from reportgen.semantics import kind_of


def noise_sd(report: ResolvedReport, name: str, metric: MetricDef, sums: pd.DataFrame) -> pd.Series:
    """Sampling standard error of each value: what chance alone moves it by."""
    return kind_of(metric).noise_sd(sums, report.catalog.measures)


def series_frame(
    report: ResolvedReport, name: str, sums: pd.DataFrame, dimension: str | None
) -> pd.DataFrame:
    metric = report.metric(name)
    frame = pd.DataFrame(
        {
            "value": metric_values(metric, sums),
            "volume": metric_weight(metric, sums),
            "noise_sd": noise_sd(report, name, metric, sums),
        }
    )
    frame = frame.reset_index()
    first = frame.columns[0]
    names = ["period_start" if c == first else "segment" if c == dimension else c for c in frame]
    frame.columns = pd.Index(names)  # renamed in place: a copy per rename cost more than the rest
    if dimension is not None:
        frame["segment"] = frame["segment"].astype(str)
    else:
        frame["segment"] = None
    return frame
