"""Forecasts of a metric's next periods with a prediction interval (exponential smoothing).

The model is statsmodels' ETS with additive errors and no trend: simple
exponential smoothing for weekly, monthly and quarterly series, plus an
additive weekday season (period 7) for daily ones. A trend term was left out
on purpose: fitted on a year of operational data with incidents in it, a
trend extrapolates the last incident; the damped and undamped trend models
both lost to the plain level on the demo backtest (README, "Forecasts").

The prediction interval is statsmodels' analytic one for the additive model,
at ``level`` (80 % by default: wide enough to be honest, narrow enough to
say something). It is a statement about the metric's own noise and level
drift only; a planted incident or a policy change is outside it by design.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.analysis._threads import one_blas_thread

#: periods forecast ahead, by grain: two weeks of days, a month of weeks, a quarter of months
HORIZON = {"day": 14, "week": 4, "month": 3, "quarter": 2}
#: seasonal period by grain: days repeat weekly; the demo's year of weeks cannot fit a yearly season
SEASON = {"day": 7}
#: fewest history values a forecast is fitted on (two seasons of days, a quarter of weeks)
MIN_HISTORY = {"day": 28, "week": 13, "month": 12, "quarter": 8}
LEVEL = 0.8


@dataclass(frozen=True)
class ForecastPath:
    """Point forecasts and their prediction interval, one entry per future period."""

    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float
    model: str  # e.g. "ETS(A,N,A) seasonal 7"
    fitted_on: int  # history values used


def ets_forecast(
    history: np.ndarray, horizon: int, *, season: int | None = None, level: float = LEVEL
) -> ForecastPath:
    """Fit ETS(A,N,N) — or ETS(A,N,A) with ``season`` — and forecast ``horizon`` steps.

    ``history`` must be finite and at least two seasons long when seasonal.
    """
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    values = np.asarray(history, dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("ets_forecast needs a finite history")
    seasonal = season is not None and season > 1
    if seasonal and values.size < 2 * season:
        raise ValueError(f"a seasonal forecast needs two seasons ({2 * season}) of history")
    model = ETSModel(
        pd.Series(values),  # statsmodels labels its prediction frame by the series' index
        error="add",
        trend=None,
        seasonal="add" if seasonal else None,
        seasonal_periods=season if seasonal else None,
    )
    # optimiser chatter on short or flat series; one BLAS thread (see analysis._threads)
    with warnings.catch_warnings(), one_blas_thread():
        warnings.simplefilter("ignore")
        fit = model.fit(disp=False)
        frame = fit.get_prediction(start=values.size, end=values.size + horizon - 1).summary_frame(
            alpha=1 - level
        )
    name = f"ETS(A,N,{'A' if seasonal else 'N'})" + (f" seasonal {season}" if seasonal else "")
    return ForecastPath(
        mean=tuple(float(v) for v in frame["mean"]),
        lower=tuple(float(v) for v in frame["pi_lower"]),
        upper=tuple(float(v) for v in frame["pi_upper"]),
        level=level,
        model=name,
        fitted_on=int(values.size),
    )


def seasonal_naive(history: np.ndarray, horizon: int, season: int = 1) -> np.ndarray:
    """The benchmark: each future period repeats the same period one season earlier."""
    values = np.asarray(history, dtype=float)
    last = values[-season:]
    return np.array([last[h % season] for h in range(horizon)])


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int = 1) -> float:
    """Mean absolute scaled error: forecast errors over the in-sample seasonal-naive error."""
    history = np.asarray(history, dtype=float)
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    error = float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))))
    return error / scale if scale > 0 else float("inf")
