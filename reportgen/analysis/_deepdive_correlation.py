"""Correlation matrix of metrics across sites/teams: Pearson and Spearman with n and p."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ._deepdive_common import (
    capitalised,
    finite,
    fmt_fixed,
    fmt_p,
    in_sentence,
    label_of,
    require_columns,
    varying,
    with_warnings_as_notes,
)

_MAX_READINGS = 3


@dataclass(frozen=True)
class CorrelationPair:
    """One pair of metrics over the rows where both have a value (pairwise deletion).

    ``pearson_r``/``pearson_p`` equal ``scipy.stats.pearsonr`` and ``spearman_rho``/
    ``spearman_p`` equal ``scipy.stats.spearmanr`` on those rows (two-sided). They
    are None, with a ``note``, when the pair has fewer than ``min_n`` rows or one
    metric does not vary over them.
    """

    x: str
    y: str
    n: int
    pearson_r: float | None
    pearson_p: float | None
    spearman_rho: float | None
    spearman_p: float | None
    note: str | None = None


@dataclass(frozen=True)
class CorrelationResult:
    """All pairs, the same numbers as square matrices for a heatmap, and readings.

    ``metrics`` lists the metrics kept, in matrix order; ``pearson``, ``spearman`` and
    ``n`` are symmetric matrices over them (diagonal 1.0 and the metric's own count;
    None where undefined). ``dropped`` names metrics left out (no variation, too few
    values); ``readings`` are plain-language sentences on the strongest significant
    pairs; ``notes`` say what was dropped or could not be computed.
    """

    metrics: tuple[str, ...]
    pairs: tuple[CorrelationPair, ...]
    pearson: tuple[tuple[float | None, ...], ...]
    spearman: tuple[tuple[float | None, ...], ...]
    n: tuple[tuple[int, ...], ...]
    rows: int
    dropped: tuple[str, ...]
    readings: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        return " ".join(self.notes) or None


def correlation_matrix(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    *,
    min_n: int = 5,
    alpha: float = 0.05,
    unit: str = "rows",
    labels: Mapping[str, str] | None = None,
) -> CorrelationResult:
    """Pearson and Spearman correlation for every pair of ``metrics`` across the rows.

    Both are given because they answer different questions: Pearson measures a
    straight-line relation and is pulled by one extreme site, Spearman any monotone
    relation on ranks; a large gap between them is itself worth a look. Each pair
    uses the rows where both metrics are present, so one site missing QA does not
    remove it from every other pair. ``unit`` names the rows in readings ("sites")
    and ``labels`` maps column names to display names ("AHT").
    """
    if min_n < 3:
        raise ValueError(f"min_n must be at least 3 (a correlation of 2 points is ±1); got {min_n}")
    require_columns(frame, metrics)
    notes: list[str] = []
    values = {m: pd.to_numeric(frame[m], errors="coerce").to_numpy(dtype=float) for m in metrics}
    kept, dropped = _usable_metrics(values, min_n, notes)
    _note_incomplete(values, kept, notes)
    pairs = [_pair(x, y, values[x], values[y], min_n) for x, y in combinations(kept, 2)]
    notes.extend(f"{p.x} × {p.y}: {p.note}" for p in pairs if p.note)
    return CorrelationResult(
        metrics=tuple(kept),
        pairs=tuple(pairs),
        pearson=_matrix(kept, pairs, "pearson_r", 1.0),
        spearman=_matrix(kept, pairs, "spearman_rho", 1.0),
        n=_count_matrix(kept, pairs, values),
        rows=len(frame),
        dropped=tuple(dropped),
        readings=_readings(pairs, alpha, unit, labels),
        notes=tuple(notes),
    )


def _usable_metrics(
    values: Mapping[str, np.ndarray], min_n: int, notes: list[str]
) -> tuple[list[str], list[str]]:
    """Metrics with at least ``min_n`` finite values that vary; the rest are dropped."""
    kept, dropped = [], []
    for metric, column in values.items():
        present = column[np.isfinite(column)]
        if present.size < min_n:
            notes.append(f"{metric} dropped: {present.size} values, fewer than {min_n}")
            dropped.append(metric)
        elif not varying(present):
            notes.append(f"{metric} dropped: it has the same value ({present[0]:g}) in every row")
            dropped.append(metric)
        else:
            kept.append(metric)
    return kept, dropped


def _note_incomplete(
    values: Mapping[str, np.ndarray], kept: Sequence[str], notes: list[str]
) -> None:
    """Count rows missing a kept metric: they are not dropped, but some pairs have fewer."""
    if not kept:
        return
    present = np.column_stack([np.isfinite(values[m]) for m in kept])
    incomplete = int((~present).any(axis=1).sum())
    if incomplete:
        notes.append(
            f"{incomplete} of {len(present)} rows miss a value; "
            "each pair uses the rows where both metrics are present"
        )


def _pair(x: str, y: str, xs: np.ndarray, ys: np.ndarray, min_n: int) -> CorrelationPair:
    both = np.isfinite(xs) & np.isfinite(ys)
    a, b = xs[both], ys[both]
    n = int(both.sum())
    if n < min_n:
        return CorrelationPair(x, y, n, None, None, None, None, f"{n} rows, fewer than {min_n}")
    if not (varying(a) and varying(b)):
        return CorrelationPair(x, y, n, None, None, None, None, "no variation in these rows")
    notes: list[str] = []
    pearson = with_warnings_as_notes(lambda: stats.pearsonr(a, b), notes, "pearsonr")
    spearman = with_warnings_as_notes(lambda: stats.spearmanr(a, b), notes, "spearmanr")
    return CorrelationPair(
        x,
        y,
        n,
        finite(pearson.statistic),
        finite(pearson.pvalue),
        finite(spearman.statistic),
        finite(spearman.pvalue),
        "; ".join(notes) or None,
    )


def _matrix(
    metrics: Sequence[str], pairs: Sequence[CorrelationPair], field: str, diagonal: float
) -> tuple[tuple[float | None, ...], ...]:
    lookup = {(p.x, p.y): getattr(p, field) for p in pairs}
    lookup |= {(p.y, p.x): getattr(p, field) for p in pairs}
    return tuple(tuple(diagonal if a == b else lookup[(a, b)] for b in metrics) for a in metrics)


def _count_matrix(
    metrics: Sequence[str], pairs: Sequence[CorrelationPair], values: Mapping[str, np.ndarray]
) -> tuple[tuple[int, ...], ...]:
    lookup = {(p.x, p.y): p.n for p in pairs} | {(p.y, p.x): p.n for p in pairs}
    own = {m: int(np.isfinite(values[m]).sum()) for m in metrics}
    return tuple(tuple(own[a] if a == b else lookup[(a, b)] for b in metrics) for a in metrics)


def _readings(
    pairs: Sequence[CorrelationPair], alpha: float, unit: str, labels: Mapping[str, str] | None
) -> tuple[str, ...]:
    """Sentences for the strongest pairs significant at ``alpha`` (Pearson), strongest first.

    A report has room for a few; listing all 15 pairs of six metrics would bury the
    one relation worth acting on.
    """
    significant = [
        p
        for p in pairs
        if p.pearson_r is not None and p.pearson_p is not None and p.pearson_p < alpha
    ]
    significant.sort(key=lambda p: -abs(p.pearson_r or 0.0))
    if not significant:
        tested = sum(p.pearson_p is not None for p in pairs)
        return (
            f"No pair of metrics is significantly correlated across {unit} "
            f"({tested} pairs tested at p < {alpha:g}).",
        )
    return tuple(_sentence(p, unit, labels) for p in significant[:_MAX_READINGS])


def _sentence(pair: CorrelationPair, unit: str, labels: Mapping[str, str] | None) -> str:
    r = pair.pearson_r or 0.0
    direction = "higher" if r > 0 else "lower"
    return (
        f"{capitalised(unit)} with higher {in_sentence(label_of(pair.x, labels))} have {direction} "
        f"{in_sentence(label_of(pair.y, labels))} (Pearson r = {fmt_fixed(r)}, {fmt_p(pair.pearson_p)}, "
        f"n = {pair.n})."
    )
