"""``figures.json``: every number the report shows, machine-readable, for audit and tests."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportgen.analysis.bands import band_dict
from reportgen.analysis.drivers import driver_parts
from reportgen.analysis.followup import earlier_rcas
from reportgen.analysis.insights import Insights
from reportgen.figures import ReportFigures

SCHEMA_VERSION = 1


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _json_fields(type(value))}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


@functools.cache
def _json_fields(kind: type) -> tuple[str, ...]:
    """The fields of a dataclass that figures.json writes, looked up once per class
    (a build writes some twenty thousand values)."""
    return tuple(
        f.name
        for f in dataclasses.fields(kind)
        if f.metadata.get("json", True)  # e.g. a quantile's histogram: working data only
    )


def insights_to_dict(insights: Insights) -> dict[str, Any]:
    sig = insights.significance
    rcas = earlier_rcas(insights.followups)
    return {
        "confidence": sig.confidence,
        "tests": {
            name: {
                **_plain(t.result),
                "kind": t.kind,
                "reason": t.reason,
                "significant": t.significant(sig.alpha),
            }
            if t.result is not None
            else {"kind": t.kind, "reason": t.reason, "significant": None}
            for name, t in sig.metrics.items()
        },
        "segment_tests": [
            {
                "metric": st.metric,
                "dimension": st.dimension,
                "across": _plain(st.across),
                "changes": {
                    seg: {
                        **(_plain(t.result) or {}),
                        "q_value": t.q_value,
                        "significant": t.significant(sig.alpha),
                    }
                    for seg, t in st.changes.items()
                },
            }
            for st in sig.segments.values()
        ],
        "anomalies": [
            {**_plain(a), "earlier_rca": list(rcas.get(a.id, ()))} for a in insights.anomalies
        ],
        "follow_up": [
            {
                "item": _plain(f.item),
                "age_days": f.age_days,
                "flagged_value": f.flagged_value,
                "current_value": f.current_value,
                "test": _plain(f.test.result) if f.test and f.test.result else None,
                "recovered": f.recovered,
                "recurring": list(f.recurring),
            }
            for f in insights.followups
        ],
        "deep_dive": _plain(insights.deep_dive),
        "outlook": _plain(insights.outlook),
        "decompositions": {
            name: {
                "dimensions": list(d.dimensions),
                **_plain(d.result),
                "small_sample": d.small_sample,
                # the segments the sentence, bridge and table name; the rest is "Other"
                "shown": [list(t.segment) for t in driver_parts(d, d.top).shown],
            }
            for name, d in insights.decompositions.items()
        },
    }


def figures_to_dict(
    figures: ReportFigures, insights: Insights | None, meta: dict[str, Any]
) -> dict[str, Any]:
    period = figures.period
    return {
        "schema_version": SCHEMA_VERSION,
        **meta,
        "report": figures.report,
        "period": {
            "label": period.label,
            "grain": period.grain,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "complete": figures.complete,
        },
        "previous_period": {
            "label": figures.previous_period.label,
            "complete": figures.previous_complete,
        },
        "last_year_period": figures.last_year_period.label if figures.last_year_period else None,
        "timezone": figures.timezone,
        "data_complete_through": figures.last_complete_day.isoformat(),
        "metrics": _with_bands(_plain(figures.metrics), insights),
        "data_quality": _plain(list(figures.quality)),
        "insights": insights_to_dict(insights) if insights is not None else None,
    }


def _with_bands(metrics: dict[str, Any], insights: Insights | None) -> dict[str, Any]:
    """Each weekly series point's ``expected_band``: the anomaly model's normal range for it
    (None where it judges nothing), so a reader can check a chart's band and the flags."""
    if insights is None:
        return metrics
    for name, bands in insights.bands.items():
        for point, band in zip(metrics[name]["series"], bands, strict=True):
            point["expected_band"] = _plain(band_dict(band))
    return metrics


def write_figures_json(data: dict[str, Any], path: Path) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
