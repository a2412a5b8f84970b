"""Tukey–Kramer HSD across sites from the cube's sufficient statistics (n, Σx, Σx²).

The one-way ANOVA says *whether* site means differ; Tukey's honestly significant
difference says *which* pairs do, holding the family-wise error at α over all
k(k − 1)/2 comparisons. Everything it needs — group means, the pooled within-group
variance and the group sizes — follows from count, sum and sum of squares, so it
runs on the cube for any volume of decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
from scipy import stats

from ._deepdive_common import finite, fmt, fmt_p, with_warnings_as_notes
from .stats import _squared_deviations, one_way_anova

_MAX_READINGS = 3


@dataclass(frozen=True)
class TukeyPair:
    """``mean_diff`` = mean(group2) − mean(group1), as ``pairwise_tukeyhsd`` reports it.

    ``std_error`` is √(MSE/2 · (1/n₁ + 1/n₂)), the studentized-range scale (statsmodels'
    ``std_pairs``); ``q`` = |mean_diff| / std_error; ``p_adjusted`` = P(Q > q) for the
    studentized range with k groups; the interval is mean_diff ± q_crit · std_error.
    """

    group1: str
    group2: str
    mean_diff: float
    std_error: float
    q: float
    p_adjusted: float | None
    ci_low: float
    ci_high: float
    reject: bool


@dataclass(frozen=True)
class TukeyResult:
    """All pairwise comparisons of the groups' means, with the ANOVA F-test over them.

    ``groups``, ``n`` and ``means`` list the groups used (input order); ``mse`` is the
    pooled within-group variance on ``df`` = N − k degrees of freedom and
    ``q_critical`` the studentized-range quantile at 1 − ``alpha``. Without at least
    two groups and some spread within them there are no pairs, and a note says why.
    """

    groups: tuple[str, ...]
    n: tuple[float, ...]
    means: tuple[float, ...]
    pairs: tuple[TukeyPair, ...]
    mse: float | None
    df: float | None
    q_critical: float | None
    alpha: float
    anova_f: float | None
    anova_p: float | None
    readings: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        return " ".join(self.notes) or None


def tukey_hsd(
    groups: Mapping[str, tuple[float, float, float]],
    *,
    alpha: float = 0.05,
    label: str | None = None,
) -> TukeyResult:
    """Tukey–Kramer HSD from (count, sum, sum of squares) per group.

    Equals ``statsmodels.stats.multicomp.pairwise_tukeyhsd`` and
    ``scipy.stats.tukey_hsd`` on the raw values (pass the groups in sorted order to
    get statsmodels' pair order). Groups with no observations, a negative count or a
    non-finite number are left out with a note: one broken site must not cost the
    comparison of the other 24. ``label`` names the metric in readings ("AHT").
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}")
    notes: list[str] = []
    used = _usable_groups(groups, notes)
    names = tuple(used)
    n = np.array([used[g][0] for g in names], dtype=float)
    means = np.array([used[g][1] / used[g][0] for g in names], dtype=float)
    shell = TukeyResult(names, tuple(n), tuple(means), (), None, None, None, alpha, None, None, ())
    df = float(n.sum() - len(names))
    if len(names) < 2:
        return _noted(
            shell, notes, f"Tukey HSD needs at least 2 groups with data; {len(names)} have any"
        )
    if df < 1:
        return _noted(shell, notes, "Tukey HSD needs more observations than groups")
    ssw = sum(_squared_deviations(*used[g]) for g in names)
    if ssw == 0.0:
        return _noted(shell, notes, "no variation within any group: the pooled variance is 0")
    result = _compare(shell, names, n, means, ssw / df, df, [used[g] for g in names], notes)
    return replace(result, readings=_readings(result.pairs, 1.0 - alpha, label))


def _usable_groups(
    groups: Mapping[str, tuple[float, float, float]], notes: list[str]
) -> dict[str, tuple[float, float, float]]:
    used: dict[str, tuple[float, float, float]] = {}
    for name, stats_ in groups.items():
        n, s, q = (float(v) for v in stats_)
        if not all(np.isfinite((n, s, q))):
            notes.append(f"{name} left out: a missing or non-finite number")
        elif n < 0:
            notes.append(f"{name} left out: a negative count")
        elif n == 0:
            notes.append(f"{name} left out: no observations")
        else:
            used[str(name)] = (n, s, q)
    return used


def _noted(shell: TukeyResult, notes: list[str], reason: str) -> TukeyResult:
    return replace(shell, notes=(*notes, reason))


def _compare(
    shell: TukeyResult,
    names: Sequence[str],
    n: np.ndarray,
    means: np.ndarray,
    mse: float,
    df: float,
    sufficient: Sequence[tuple[float, float, float]],
    notes: list[str],
) -> TukeyResult:
    k = len(names)
    index = list(combinations(range(k), 2))
    i, j = (np.array(side) for side in zip(*index, strict=True))
    diff = means[j] - means[i]
    se = np.sqrt(mse / 2.0 * (1.0 / n[i] + 1.0 / n[j]))
    q = np.abs(diff) / se
    q_crit, p = with_warnings_as_notes(
        lambda: (
            float(stats.studentized_range.ppf(1.0 - shell.alpha, k, df)),
            stats.studentized_range.sf(q, k, df),
        ),
        notes,
        "studentized range",
    )
    pairs = tuple(
        TukeyPair(
            names[a],
            names[b],
            float(d),
            float(e),
            float(qv),
            _probability(pv),
            float(d - q_crit * e),
            float(d + q_crit * e),
            bool(qv > q_crit),
        )
        for a, b, d, e, qv, pv in zip(i, j, diff, se, q, p, strict=True)
    )
    anova = one_way_anova(sufficient)
    return replace(
        shell,
        pairs=pairs,
        mse=mse,
        df=df,
        q_critical=q_crit,
        anova_f=anova.statistic,
        anova_p=anova.p_value,
        notes=tuple(notes),
    )


def _probability(p: float) -> float | None:
    """Clip the integration's tiny overshoots to [0, 1]; NaN means it failed."""
    value = finite(p)
    return None if value is None else min(1.0, max(0.0, value))


def _readings(pairs: Sequence[TukeyPair], confidence: float, label: str | None) -> tuple[str, ...]:
    """The largest significant differences, biggest first; a report has room for a few."""
    significant = sorted((p for p in pairs if p.reject), key=lambda p: -abs(p.mean_diff))
    if not significant:
        return ("No pair of groups differs significantly after Tukey's adjustment.",)
    sentences = []
    for pair in significant[:_MAX_READINGS]:
        high, low = (pair.group2, pair.group1) if pair.mean_diff > 0 else (pair.group1, pair.group2)
        lo, hi = sorted((abs(pair.ci_low), abs(pair.ci_high)))
        subject, other = (f"{high}'s {label}", f"{low}'s") if label else (high, low)
        sentences.append(
            f"{subject} is higher than {other} by {fmt(abs(pair.mean_diff))} "
            f"({confidence:.0%} CI {fmt(lo)} to {fmt(hi)}, adjusted {fmt_p(pair.p_adjusted)})."
        )
    return tuple(sentences)
