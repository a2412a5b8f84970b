"""The exports' tables of the forward look: each metric's forecast and its pace to target.

The trend charts draw the forecast and the stories tell what is off pace; these
tables keep every number behind them (each forecast period with its likely
range, each month and quarter with its projection), as figures.json does, for
the analyst who wants to check or chart them again.
"""

from __future__ import annotations

from reportgen.export_figures import ExportFigures
from reportgen.render.tables._export import (
    INTEGER,
    METRIC_KEYS,
    PERCENT,
    VALUE,
    ExportRow,
    ExportTable,
    _col,
    _text,
    formats_of,
    label_of,
)


def outlook_tables(data: ExportFigures) -> list[ExportTable]:
    """Forecasts and pace, when the analysis looked ahead (every edition draws forecasts)."""
    outlook = data.insights.outlook if data.insights is not None else None
    if outlook is None:
        return []
    tables = []
    if outlook.forecasts:
        tables.append(forecasts_table(data))
    if outlook.pace:
        tables.append(pace_table(data))
    return tables


def forecasts_table(data: ExportFigures) -> ExportTable:
    """One row per metric and forecast period: the forecast, its likely range and target."""
    assert data.insights is not None and data.insights.outlook is not None
    columns = (
        *METRIC_KEYS,
        _text("from_period", "Forecast after"),
        _col("step", "Periods ahead", fmt=INTEGER),
        _text("period", "Period"),
        _col("forecast", "Forecast", fmt=VALUE),
        _col("lower", "Likely from", fmt=VALUE),
        _col("upper", "Likely to", fmt=VALUE),
        _col("level", "Likelihood", fmt=PERCENT),
        _col("target", "Target", fmt=VALUE),
        _text("model", "Model"),
        _text("fitted_on", "Fitted on"),
    )
    rows = []
    for f in data.insights.outlook.forecasts:
        targets = f.targets or (f.target,) + (None,) * (len(f.periods) - 1)
        for step, period in enumerate(f.periods):
            rows.append(
                ExportRow(
                    (
                        label_of(data, f.metric),
                        f.metric,
                        f.period,
                        step + 1,
                        period,
                        float(f.mean[step]),
                        float(f.lower[step]),
                        float(f.upper[step]),
                        f.level,
                        targets[step] if step < len(targets) else None,
                        f.method,
                        f.baseline,
                    ),
                    formats_of(data, f.metric),
                )
            )
    return ExportTable(
        "forecasts",
        "Forecasts",
        columns,
        tuple(rows),
        description="Each metric's forecast for the next periods with its likely range (the "
        "trend charts' dashed line and band)",
        notes={
            "lower": "The prediction interval at the stated likelihood: the metric's own noise "
            "and level drift, not an incident or a policy change."
        },
    )


def pace_table(data: ExportFigures) -> ExportTable:
    """One row per metric and month or quarter: where it ends at the current pace."""
    assert data.insights is not None and data.insights.outlook is not None
    columns = (
        *METRIC_KEYS,
        _text("period", "Period"),
        _col("days_elapsed", "Days so far", fmt=INTEGER),
        _col("days_left", "Days left", fmt=INTEGER),
        _col("to_date", "To date", fmt=VALUE),
        _col("projected", "Projected", fmt=VALUE),
        _col("lower", "Likely from", fmt=VALUE),
        _col("upper", "Likely to", fmt=VALUE),
        _col("target", "Target", fmt=VALUE),
        _text("status", "Status"),
        _text("method", "Method"),
    )
    rows = tuple(
        ExportRow(
            (
                label_of(data, p.metric),
                p.metric,
                p.period,
                p.days_elapsed,
                p.days_left,
                *(float(x) for x in (p.value_to_date, p.projected, p.lower, p.upper, p.target)),
                p.status,
                p.method,
            ),
            formats_of(data, p.metric),
        )
        for p in data.insights.outlook.pace
    )
    return ExportTable(
        "pace",
        "Pace to target",
        columns,
        rows,
        description="Where each month and quarter ends at the current pace, against its target",
    )
