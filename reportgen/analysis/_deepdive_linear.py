"""Linear regression of one metric on others across sites/teams: OLS, or WLS by volume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ._deepdive_common import (
    Term,
    capitalised,
    complete_rows,
    design_matrix,
    finite,
    fmt,
    fmt_p,
    in_sentence,
    label_of,
    require_columns,
    require_numeric,
    row_labels,
    varying,
    with_warnings_as_notes,
)


@dataclass(frozen=True)
class Coefficient:
    """One estimated coefficient with its standard error, test and confidence interval.

    ``statistic`` is t for a linear regression and z for the logit; ``ci_low``/
    ``ci_high`` bound ``estimate`` at the result's confidence level. For a logit,
    ``odds_ratio`` and its interval are exp of the estimate and its bounds.
    """

    name: str
    estimate: float
    std_error: float | None
    statistic: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    odds_ratio: float | None = None
    odds_ratio_ci_low: float | None = None
    odds_ratio_ci_high: float | None = None


@dataclass(frozen=True)
class Outlier:
    """A row the model fits badly: ``residual`` in the outcome's units (observed − fitted)
    and the externally studentized residual that flagged it."""

    label: str
    residual: float
    studentized: float


@dataclass(frozen=True)
class FittedPoint:
    """One row of the fit: observed and fitted outcome (``residual`` = actual − fitted),
    its externally studentized residual (None where undefined) and whether it is an outlier."""

    label: str
    actual: float
    fitted: float
    residual: float
    studentized: float | None
    outlier: bool


@dataclass(frozen=True)
class RegressionResult:
    """An OLS/WLS fit, equal to ``statsmodels`` ``OLS``/``WLS`` on the same rows.

    ``coefficients`` start with ``Intercept``; dummies are named like
    ``queue[T.Spam]``. ``n`` rows were used and ``rows_dropped`` left out (missing
    values, non-positive weights). ``r_squared`` is the weighted R² for WLS, as
    statsmodels reports it. ``outliers`` are rows whose externally studentized
    residual exceeds the threshold in absolute value. With too few rows the result
    has no coefficients and a note.
    """

    outcome: str
    predictors: tuple[str, ...]
    weights: str | None
    n: int
    df_resid: int
    coefficients: tuple[Coefficient, ...]
    r_squared: float | None
    adj_r_squared: float | None
    f_statistic: float | None
    f_p_value: float | None
    residual_std_error: float | None
    outliers: tuple[Outlier, ...]
    rows_dropped: int
    confidence: float
    readings: tuple[str, ...]
    notes: tuple[str, ...] = ()
    points: tuple[FittedPoint, ...] = ()

    @property
    def note(self) -> str | None:
        return " ".join(self.notes) or None


@dataclass(frozen=True)
class _Design:
    """The rows used: design matrix, outcome, weights, what each column means, row labels."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    terms: list[Term]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    unscaled_cov: np.ndarray
    resid_w: np.ndarray
    leverage: np.ndarray
    ssr: float


def linear_regression(
    frame: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    weights: str | None = None,
    confidence: float = 0.95,
    outlier_threshold: float = 2.5,
    unit: str = "rows",
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
) -> RegressionResult:
    """Regress ``outcome`` on ``predictors`` (with an intercept) across the frame's rows.

    ``weights`` names a volume column for WLS: a site's accuracy over 2,000 QA
    samples is far more precise than one over 20, and weighting by volume stops
    the small sites from steering the line. Categorical predictors become treatment
    dummies. Rows are labelled by the frame's index, which is what the outlier list
    shows. ``unit``, ``labels`` and ``formats`` (a column's value format:
    ``percent`` slopes read per percentage point, ``seconds`` per second) only shape the readings.
    """
    require_columns(frame, [outcome, *predictors, *([weights] if weights else [])])
    require_numeric(frame, [outcome, *filter(None, [weights])])
    notes: list[str] = []
    data, dropped = complete_rows(frame, [outcome, *predictors, *filter(None, [weights])], notes)
    data, dropped = _positive_weights(data, weights, dropped, notes)
    empty = _Shell(outcome, tuple(predictors), weights, dropped, confidence)
    if len(data) == 0:
        return empty.result(0, ["no rows with a value in every column", *notes])
    x, terms = design_matrix(data, predictors, notes)
    y = data[outcome].to_numpy(dtype=float)
    w = data[weights].to_numpy(dtype=float) if weights else np.ones(len(y))
    n, p = x.shape
    if n - p < 1:
        return empty.result(n, [*notes, _too_few(n, p)])
    if not varying(y):
        return empty.result(n, [*notes, f"{outcome} has the same value in every row used"])
    fit = with_warnings_as_notes(lambda: _wls(x, y, w), notes, "least squares")
    design = _Design(x, y, w, terms, row_labels(data))
    wording = _Wording(unit, labels or {}, formats or {})
    return _assemble(empty, fit, design, notes, outlier_threshold, wording)


def _positive_weights(
    data: pd.DataFrame, weights: str | None, dropped: int, notes: list[str]
) -> tuple[pd.DataFrame, int]:
    """A weight of zero or less is no observation at all (a site with no volume)."""
    if not weights:
        return data, dropped
    bad = int((data[weights] <= 0).sum())
    if bad:
        notes.append(f"{bad} rows dropped for a {weights} of zero or less")
    return data[data[weights] > 0], dropped + bad


def _too_few(n: int, p: int) -> str:
    return (
        f"too few rows: {n} rows for {p} coefficients (intercept included); "
        f"a regression needs at least {p + 1}"
    )


@dataclass(frozen=True)
class _Shell:
    """What every result states even when nothing could be estimated."""

    outcome: str
    predictors: tuple[str, ...]
    weights: str | None
    rows_dropped: int
    confidence: float

    def result(self, n: int, notes: Sequence[str], **fields: object) -> RegressionResult:
        values: dict[str, object] = {
            "n": n,
            "df_resid": 0,
            "coefficients": (),
            "r_squared": None,
            "adj_r_squared": None,
            "f_statistic": None,
            "f_p_value": None,
            "residual_std_error": None,
            "outliers": (),
            "readings": (),
            "points": (),
        }
        values |= fields
        return RegressionResult(
            outcome=self.outcome,
            predictors=self.predictors,
            weights=self.weights,
            rows_dropped=self.rows_dropped,
            confidence=self.confidence,
            notes=tuple(notes),
            **values,  # type: ignore[arg-type]
        )


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> _Fit:
    """Least squares on the whitened data √w·y = √w·X β via a thin QR decomposition.

    QR rather than the normal equations keeps the error at cond(X)·ε instead of
    cond(X)²·ε, which is what lets the result match statsmodels to 1e-9; the same Q
    gives the leverages for the studentized residuals.
    """
    root = np.sqrt(w)
    xw, yw = x * root[:, None], y * root
    q, r = np.linalg.qr(xw)
    beta = linalg.solve_triangular(r, q.T @ yw)
    r_inv = linalg.solve_triangular(r, np.eye(r.shape[0]))
    resid_w = yw - xw @ beta
    return _Fit(beta, r_inv @ r_inv.T, resid_w, np.sum(q * q, axis=1), float(resid_w @ resid_w))


def _assemble(
    shell: _Shell,
    fit: _Fit,
    design: _Design,
    notes: list[str],
    threshold: float,
    wording: _Wording,
) -> RegressionResult:
    n, p = design.x.shape
    df = n - p
    y, w = design.y, design.w
    tss = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
    if fit.ssr <= (64.0 * n * np.finfo(float).eps) ** 2 * tss:
        notes.append("the predictors fit the outcome exactly: no standard errors or tests")
        fit = replace(fit, ssr=0.0)
    scale = fit.ssr / df
    coefficients = _coefficients(fit, design.terms, scale, df, shell.confidence)
    r2 = 1.0 - fit.ssr / tss
    f_stat, f_p = _f_test(tss, fit.ssr, p, df)
    fitted = design.x @ fit.beta
    resid = y - fitted
    studentized = _studentized(fit, df, notes)
    outliers = _outliers(studentized, resid, threshold, design.labels)
    flagged = {o.label for o in outliers}
    points = tuple(
        FittedPoint(
            label,
            float(actual),
            float(fit_value),
            float(actual - fit_value),
            finite(s) if studentized is not None else None,
            label in flagged,
        )
        for label, actual, fit_value, s in zip(
            design.labels,
            y,
            fitted,
            studentized if studentized is not None else np.full(n, np.nan),
            strict=True,
        )
    )
    return shell.result(
        n,
        notes,
        df_resid=df,
        coefficients=coefficients,
        r_squared=finite(r2),
        adj_r_squared=finite(1.0 - (n - 1) / df * (1.0 - r2)),
        f_statistic=f_stat,
        f_p_value=f_p,
        residual_std_error=finite(np.sqrt(scale)),
        outliers=outliers,
        points=points,
        readings=_readings(coefficients, design.terms, shell, wording),
    )


def _coefficients(
    fit: _Fit, terms: Sequence[Term], scale: float, df: int, confidence: float
) -> tuple[Coefficient, ...]:
    se = np.sqrt(np.diag(fit.unscaled_cov) * scale)
    critical = stats.t.ppf(0.5 + confidence / 2.0, df)
    with np.errstate(all="ignore"):
        t = fit.beta / se
        p = 2.0 * stats.t.sf(np.abs(t), df)
    return tuple(
        Coefficient(
            name=term.name,
            estimate=float(b),
            std_error=finite(s),
            statistic=finite(tv),
            p_value=finite(pv) if np.isfinite(tv) else None,
            ci_low=finite(b - critical * s),
            ci_high=finite(b + critical * s),
        )
        for term, b, s, tv, pv in zip(terms, fit.beta, se, t, p, strict=True)
    )


def _f_test(tss: float, ssr: float, p: int, df: int) -> tuple[float | None, float | None]:
    """The overall F-test that every slope is zero; undefined with no predictor left."""
    if p < 2 or ssr == 0.0:
        return None, None
    f = ((tss - ssr) / (p - 1)) / (ssr / df)
    return finite(f), finite(stats.f.sf(f, p - 1, df))


def _studentized(fit: _Fit, df: int, notes: list[str]) -> np.ndarray | None:
    """Externally studentized residuals: each residual scaled by the error variance of
    the fit without that row, because one wild site inflates the ordinary residual
    variance and hides itself; the value is the t-statistic of a dummy for that row alone.
    None when undefined (fewer than 2 residual degrees of freedom, or an exact fit)."""
    if df < 2:
        notes.append("residual outliers need at least 2 residual degrees of freedom")
        return None
    if fit.ssr == 0.0:
        return None
    with np.errstate(all="ignore"):
        room = 1.0 - fit.leverage
        loo_var = (fit.ssr - fit.resid_w**2 / room) / (df - 1)
        return fit.resid_w / np.sqrt(loo_var * room)


def _outliers(
    studentized: np.ndarray | None,
    resid: np.ndarray,
    threshold: float,
    labels: Sequence[str],
) -> tuple[Outlier, ...]:
    """Rows with |externally studentized residual| > ``threshold``, largest first."""
    if studentized is None:
        return ()
    flagged = [
        Outlier(labels[i], float(resid[i]), float(studentized[i]))
        for i in map(
            int, np.flatnonzero(np.isfinite(studentized) & (np.abs(studentized) > threshold))
        )
    ]
    return tuple(sorted(flagged, key=lambda o: -abs(o.studentized)))


@dataclass(frozen=True)
class _Wording:
    """How the readings name things: the row unit, metric labels and value formats."""

    unit: str
    labels: Mapping[str, str]
    formats: Mapping[str, str]

    def step(self, column: str) -> tuple[float, str]:
        """The predictor change a sentence talks about, and how it is said."""
        value_format = self.formats.get(column)
        if value_format == "percent":
            return 0.01, "1 pp"
        if value_format in _UNITS:
            return 1.0, f"1 {_UNITS[value_format]}"
        return 1.0, "1"

    def effect(self, column: str, value: float) -> str:
        """A change in the outcome, in its units (pp for proportions)."""
        value_format = self.formats.get(column)
        if value_format == "percent":
            return f"{fmt(value * 100)} pp"
        if value_format in _UNITS:
            return f"{fmt(value)} {_UNITS[value_format]}"
        return fmt(value)


_UNITS = {"seconds": "s", "minutes": "min", "hours": "h"}


def _readings(
    coefficients: Sequence[Coefficient],
    terms: Sequence[Term],
    shell: _Shell,
    wording: _Wording,
) -> tuple[str, ...]:
    """One sentence per slope significant at 1 − confidence, in coefficient order."""
    alpha = 1.0 - shell.confidence
    labels = wording.labels
    outcome = in_sentence(label_of(shell.outcome, labels))
    level = f"{shell.confidence:.0%}"
    sentences = []
    for c, term in zip(coefficients, terms, strict=True):
        if term.name == "Intercept" or c.p_value is None or c.p_value >= alpha:
            continue
        direction = "higher" if c.estimate > 0 else "lower"
        if term.level is None:
            step, said = wording.step(term.column)
            who = f"{capitalised(wording.unit)} with {said} more {in_sentence(label_of(term.column, labels))}"
        else:
            step = 1.0
            column = label_of(term.column, labels)
            who = (
                f"{capitalised(wording.unit)} with {column} {term.level} "
                f"rather than {term.reference}"
            )
        effect, low, high = (
            wording.effect(shell.outcome, v * step)
            for v in (abs(c.estimate), c.ci_low or 0.0, c.ci_high or 0.0)
        )
        sentences.append(
            f"{who} have {outcome} {effect} {direction} on average, other predictors held "
            f"fixed ({level} CI {low} to {high}, {fmt_p(c.p_value)})."
        )
    return tuple(sentences)
