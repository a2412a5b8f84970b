"""Plumbing shared by the deep-dive statistics: clean input, warnings as notes, wording.

The deep dives run on small frames the integration layer computes from the cube
(one row per site, team or moderator-week). Awkward data is normal there — a site
with no QA sample this week, a metric that is 100 % everywhere — so nothing in
this module raises on data: rows with a missing value are dropped and counted,
columns that cannot carry information are dropped with a note, and library
warnings are recorded as notes (pytest runs with warnings as errors, and a report
reader needs the caveat in words, not on stderr). Only programming errors — a
column name that is not in the frame — raise, as :class:`ValueError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

MINUS = "\N{MINUS SIGN}"


def require_columns(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """A misspelt column is a bug in the caller, so it fails loudly with the choices."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"column(s) {', '.join(map(repr, missing))} not in the frame; "
            f"it has {', '.join(map(repr, map(str, frame.columns)))}"
        )


def require_numeric(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """Outcomes, weights and counts must be numbers; a text column there is a caller's bug."""
    text = [c for c in columns if is_categorical(frame[c])]
    if text:
        raise ValueError(f"column(s) {', '.join(map(repr, text))} must be numeric")


def is_categorical(series: pd.Series) -> bool:
    """Strings and categories become dummies; numbers and booleans are used as they are."""
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def complete_rows(
    frame: pd.DataFrame, columns: Sequence[str], notes: list[str]
) -> tuple[pd.DataFrame, int]:
    """The rows where every column has a usable value, and how many were dropped.

    Numeric columns become float64 and must be finite (NaN and ±inf are missing);
    categorical columns must be non-null. Dropping whole rows (listwise deletion)
    keeps every statistic of one result on the same sites.
    """
    keep = np.ones(len(frame), dtype=bool)
    out: dict[str, pd.Series] = {}
    for column in dict.fromkeys(columns):
        series = frame[column]
        if is_categorical(series):
            out[column] = series.astype("object")
            keep &= series.notna().to_numpy()
        else:
            values = pd.to_numeric(series, errors="coerce").astype("float64")
            out[column] = values
            keep &= np.isfinite(values.to_numpy())
    clean = pd.DataFrame(out, index=frame.index)[keep]
    dropped = int(len(frame) - keep.sum())
    if dropped:
        notes.append(f"{dropped} of {len(frame)} rows dropped for a missing or non-finite value")
    return clean, dropped


def varying(values: np.ndarray) -> bool:
    """True when a column takes more than one value (a constant carries no information)."""
    return values.size > 1 and bool(np.any(values != values[0]))


def row_labels(frame: pd.DataFrame) -> tuple[str, ...]:
    """Rows are named by the frame's index (site codes, team names): set it before calling."""
    return tuple(str(label) for label in frame.index)


def label_of(name: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(name, name)


def in_sentence(label: str) -> str:
    """A label inside a sentence: "average handle time", but "QA accuracy" and "AHT" kept."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def with_warnings_as_notes(body: Callable[[], T], notes: list[str], source: str) -> T:
    """Run ``body`` with every warning caught; each distinct message becomes a note.

    The libraries warn about exactly the things a reader should know (an integral
    that did not converge, fewer distinct clusters than asked for), so they are kept
    — as text on the result, never as a warning that would escape to the caller.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            result = body()
    for message in dict.fromkeys(str(w.message).strip() for w in caught):
        notes.append(f"{source}: {message}")
    return result


def finite(value: float | np.floating | None) -> float | None:
    """A plain float for JSON, or None where the number is undefined (NaN, ±inf)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def fmt(value: float, digits: int = 3) -> str:
    """A number for a sentence: ``digits`` significant figures, a real minus sign."""
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}×10^{int(exponent)}"
    return text.replace("-", MINUS)


def fmt_fixed(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace("-", MINUS)


def fmt_p(p: float | None) -> str:
    """``p < 0.001`` below what three decimals show, else ``p = 0.012``."""
    if p is None:
        return "p not available"
    return "p < 0.001" if p < 0.0005 else f"p = {p:.3f}"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_limited(items: Sequence[str], limit: int = 5) -> str:
    """``a, b, c`` — or ``a, b, c, d, e +3 more`` so a cluster of 20 sites stays one line."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} +{len(items) - limit} more"


@dataclass(frozen=True)
class Term:
    """One column of a design matrix and what it means, for names and readings.

    ``column`` is the frame column; for a dummy ``level`` is the category it marks
    and ``reference`` the baseline category it is compared with.
    """

    name: str
    column: str
    level: str | None = None
    reference: str | None = None


def design_matrix(
    frame: pd.DataFrame, predictors: Sequence[str], notes: list[str]
) -> tuple[np.ndarray, list[Term]]:
    """Intercept plus predictors; categorical predictors become treatment dummies.

    Dummies follow patsy/statsmodels-formula naming (``queue[T.Spam]``) with the
    first level in sorted order as the reference, so a coefficient table reads the
    same as ``smf.ols("y ~ queue")``. Columns that are constant or a linear
    combination of earlier ones cannot be estimated; they are dropped with a note
    rather than returned as arbitrary numbers.
    """
    columns: list[np.ndarray] = [np.ones(len(frame))]
    terms = [Term("Intercept", "Intercept")]
    for predictor in predictors:
        series = frame[predictor]
        if is_categorical(series):
            levels = sorted({str(v) for v in series})
            text = series.astype(str).to_numpy()
            for level in levels[1:]:
                columns.append((text == level).astype(float))
                terms.append(Term(f"{predictor}[T.{level}]", predictor, level, levels[0]))
            if len(levels) < 2:
                notes.append(f"{predictor} dropped: it has a single category ({levels[0]})")
        else:
            columns.append(series.to_numpy(dtype=float))
            terms.append(Term(predictor, predictor))
    x = np.column_stack(columns)
    return _drop_inestimable(x, terms, notes)


def _drop_inestimable(
    x: np.ndarray, terms: list[Term], notes: list[str]
) -> tuple[np.ndarray, list[Term]]:
    keep = [0] + [j for j in range(1, x.shape[1]) if varying(x[:, j])]
    for j in range(1, x.shape[1]):
        if j not in keep:
            notes.append(f"{terms[j].name} dropped: it is constant in the rows used")
    kept: list[int] = []
    for j in keep:  # greedy rank check, in the caller's order: later duplicates go
        candidate = x[:, [*kept, j]]
        if np.linalg.matrix_rank(candidate) == len(kept) + 1:
            kept.append(j)
        else:
            notes.append(
                f"{terms[j].name} dropped: it is a linear combination of the other predictors"
            )
    return x[:, kept], [terms[j] for j in kept]
