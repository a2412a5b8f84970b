"""Significance tests computed from sufficient statistics, never from raw rows.

The cube keeps, per period and segment, only what each test needs:

- proportions (QA accuracy, SLA attainment): successes ``x`` and trials ``n``;
- means (average handle time): count ``n``, sum ``S`` and sum of squares ``Q``;
- rates (decisions per productive hour): an event count and an exposure.

Each function here reproduces a standard test exactly from those numbers, so the
report's p-values equal what scipy / statsmodels give on the raw data (the test
suite checks every field to 1e-9 relative). "Current" is period 1, "previous"
period 0, and every ``effect`` is current − previous.

The functions never raise on awkward data. Where a test is undefined (an empty
period, a single observation, no variation at all, NaN input) the result has
``statistic`` and ``p_value`` set to ``None`` and a ``note`` that says why in
plain words, so the report can print "not testable" with a reason instead of a
made-up number; so do numbers beyond double precision (a corrupt row). Only a
programming error — a confidence level outside (0, 1), or an argument that is not a
number — raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from scipy import special

__all__ = [
    "TestResult",
    "benjamini_hochberg",
    "chi_square_homogeneity",
    "one_way_anova",
    "poisson_rate_test",
    "two_proportion_test",
    "welch_t_test",
]

_NOT_FINITE = (
    "an input is missing or not a finite number (NaN or infinity), so nothing can be tested"
)
_OUT_OF_RANGE = "the inputs are too large or too small to compute with in double precision"
_EPS = 2.0**-52
_FISHER_MAX_TRIALS = 10**7


@dataclass(frozen=True)
class TestResult:
    """The outcome of one significance test, with its effect and confidence interval.

    ``statistic`` is z, t, F or chi² (for Fisher's exact test: the sample odds ratio);
    ``df`` is the (Welch, chi², between-groups) degrees of freedom and ``df2`` the
    within-groups degrees of freedom of an ANOVA. ``effect`` and its interval
    ``ci_low``/``ci_high`` are on the metric's own scale (a difference of proportions,
    means or rates); ``effect_size`` is the scale-free measure named in
    ``effect_size_name``. ``n`` lists the sample sizes in input order.
    """

    __test__ = False  # a result, not a pytest test class

    test: str
    statistic: float | None
    p_value: float | None
    df: float | None
    df2: float | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    effect_size: float | None
    effect_size_name: str
    confidence: float
    n: tuple[float, ...]
    note: str | None = None

    def significant(self, alpha: float) -> bool | None:
        """``p < alpha``; ``None`` when the test could not be run."""
        return None if self.p_value is None else self.p_value < alpha


# -- shared helpers ------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@dataclass(frozen=True)
class _Summary:
    """What a result reports whether or not its test can run; filled in as it is known."""

    test: str
    effect_size_name: str
    confidence: float
    n: tuple[float, ...] = ()
    effect: float | None = None
    ci: tuple[float, float] | None = None
    effect_size: float | None = None

    def untestable(self, note: str) -> TestResult:
        """No p-value, but whatever descriptive numbers are defined, and the reason."""
        return self._result(None, None, None, None, note, self.test)

    def tested(
        self,
        statistic: float | None,
        p_value: float,
        *,
        df: float | None = None,
        df2: float | None = None,
        note: str | None = None,
        test: str | None = None,
    ) -> TestResult:
        return self._result(statistic, float(p_value), df, df2, note, test or self.test)

    def _result(
        self,
        statistic: float | None,
        p_value: float | None,
        df: float | None,
        df2: float | None,
        note: str | None,
        test: str,
    ) -> TestResult:
        low, high = self.ci if self.ci is not None else (None, None)
        return TestResult(
            test=test,
            statistic=statistic,
            p_value=p_value,
            df=df,
            df2=df2,
            effect=self.effect,
            ci_low=low,
            ci_high=high,
            effect_size=self.effect_size,
            effect_size_name=self.effect_size_name,
            confidence=self.confidence,
            n=self.n,
            note=note,
        )


def _guarded(summary: _Summary, body: Callable[[], TestResult]) -> TestResult:
    """Run a test's arithmetic; numbers beyond double precision become a note.

    Sums near 1e300 overflow, exposures near 1e-300 divide by zero: no such metric
    exists, but a corrupt cube row must cost one "not testable", not the report.
    """
    try:
        result = body()
    except (ArithmeticError, ValueError):  # ZeroDivision, Overflow, math domain errors
        return summary.untestable(_OUT_OF_RANGE)
    numbers = (result.statistic, result.p_value, result.df, result.df2, result.effect)
    numbers += (result.ci_low, result.ci_high, result.effect_size)
    if all(v is None or math.isfinite(v) for v in numbers):
        return result
    return summary.untestable(_OUT_OF_RANGE)


def _two_sided_normal_p(z: float) -> float:
    return float(2.0 * special.ndtr(-abs(z)))


def _normal_quantile(confidence: float) -> float:
    """The two-sided critical value z_{1−α/2}."""
    return float(-special.ndtri((1.0 - confidence) / 2.0))


def _mover_difference(
    est1: float, ci1: tuple[float, float], est0: float, ci0: tuple[float, float]
) -> tuple[float, float]:
    """Interval of est1 − est0 from the two estimates' own intervals (MOVER, Zou & Donner
    2008): ``d − √((e1 − l1)² + (u0 − e0)²)`` to ``d + √((u1 − e1)² + (e0 − l0)²)``.

    It inherits the asymmetry of good one-sample intervals near a boundary (a
    proportion near 1, a rate near 0), which a symmetric Wald interval lacks.
    """
    (l1, u1), (l0, u0) = ci1, ci0
    d = est1 - est0
    return d - math.hypot(est1 - l1, u0 - est0), d + math.hypot(u1 - est1, est0 - l0)


def _format(value: float) -> str:
    return f"{value:.6g}"


# -- proportions ---------------------------------------------------------------------------------


def _wilson_interval(x: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of one proportion (Wilson 1927; Newcombe 1998, method 3)."""
    p = x / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    return max(center - half, 0.0), min(center + half, 1.0)


def _newcombe_interval(
    x1: float, n1: float, x0: float, n0: float, confidence: float
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 − p0 (Newcombe 1998, method 10): the
    MOVER combination of the two Wilson intervals."""
    z = _normal_quantile(confidence)
    return _mover_difference(
        x1 / n1, _wilson_interval(x1, n1, z), x0 / n0, _wilson_interval(x0, n0, z)
    )


def _cohens_h(p1: float, p0: float) -> float:
    """Cohen's h = 2·asin√p1 − 2·asin√p0: a proportion difference on a variance-stable scale."""
    return 2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p0))


def _valid_counts(x: float, n: float) -> bool:
    return 0.0 <= x <= n


def two_proportion_test(
    x1: float,
    n1: float,
    x0: float,
    n0: float,
    *,
    confidence: float = 0.95,
    exact_below: float = 5.0,
) -> TestResult:
    """Test whether a proportion changed: x1/n1 (current) against x0/n0 (previous).

    The test is the pooled two-sided z-test,
    ``z = (p1 − p0) / √(p̂(1 − p̂)(1/n1 + 1/n0))`` with ``p̂ = (x1 + x0)/(n1 + n0)``,
    equal to ``statsmodels.stats.proportion.proportions_ztest`` (and its square to an
    uncorrected 2×2 chi²). When any expected cell count ``n·p̂`` or ``n·(1 − p̂)`` is
    below ``exact_below`` the normal approximation is unreliable, so the two-sided
    Fisher exact test (``scipy.stats.fisher_exact``) on the 2×2 table is used instead;
    ``test`` then says "Fisher exact test" and ``statistic`` is the sample odds ratio
    (``None`` when it is infinite). Beyond 10⁷ trials Fisher's test is replaced by its
    binomial limit ("conditional binomial test", see ``_exact_test``), which scipy
    computes in constant time. ``exact_below=0`` always uses the z-test.

    The confidence interval of ``effect = p1 − p0`` is Newcombe's hybrid score
    interval (method 10, = ``confint_proportions_2indep(..., compare="diff",
    method="newcomb")``): unlike the Wald interval it keeps its coverage for small
    counts and for proportions near 0 or 1 (accuracy of 97 %, an SLA of 99 %), and it
    is still informative when a period has no failures at all. ``effect_size`` is
    Cohen's h.

    When both periods are all successes (or all failures) there is no variation, z is
    0/0 and Fisher's table has an empty column: ``p_value`` is ``None`` with the note
    "no variation", while the effect (0) and its interval are still reported.
    """
    _check_confidence(confidence)
    x1, n1, x0, n0 = float(x1), float(n1), float(x0), float(n0)
    summary = _Summary("two-proportion z-test", "Cohen's h", confidence)
    return _guarded(summary, lambda: _two_proportion(summary, x1, n1, x0, n0, exact_below))


def _two_proportion(
    summary: _Summary, x1: float, n1: float, x0: float, n0: float, exact_below: float
) -> TestResult:
    if not _finite(x1, n1, x0, n0):
        return summary.untestable(_NOT_FINITE)
    summary = replace(summary, n=(n1, n0))
    if not (_valid_counts(x1, n1) and _valid_counts(x0, n0)):
        return summary.untestable("counts must satisfy 0 ≤ successes ≤ trials in both periods")
    if n1 == 0 or n0 == 0:
        return summary.untestable(
            f"the {'current' if n1 == 0 else 'previous'} period has no trials"
        )

    p1, p0 = x1 / n1, x0 / n0
    summary = replace(
        summary,
        effect=p1 - p0,
        ci=_newcombe_interval(x1, n1, x0, n0, summary.confidence),
        effect_size=_cohens_h(p1, p0),
    )
    pooled = (x1 + x0) / (n1 + n0)
    if pooled in (0.0, 1.0):
        outcome = "success" if pooled == 1.0 else "failure"
        return summary.untestable(
            f"no variation: every trial in both periods was a {outcome}, so there is nothing to test"
        )

    note = None
    if min(n1, n0) * min(pooled, 1.0 - pooled) < exact_below:
        if all(v.is_integer() for v in (x1, n1, x0, n0)):
            return _exact_test(summary, int(x1), int(n1), int(x0), int(n0), exact_below)
        note = (
            f"an expected count is below {_format(exact_below)} but the counts are not whole "
            "numbers, so Fisher's exact test cannot run; the z-test's p-value is approximate"
        )
    z = (p1 - p0) / math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0))
    return summary.tested(z, _two_sided_normal_p(z), note=note)


def _exact_test(
    summary: _Summary, x1: int, n1: int, x0: int, n0: int, exact_below: float
) -> TestResult:
    """Two-sided Fisher exact test on [[x1, n1 − x1], [x0, n0 − x0]]; statistic = odds ratio.

    scipy's hypergeometric probabilities cost time proportional to the number of trials
    (0.1 s at 10⁷, 10 s at 10⁹), so above ``_FISHER_MAX_TRIALS`` the test conditions
    on the rare margin instead: a binomial test of how the m rare outcomes split
    between the periods (or how a tiny period's m trials split between outcomes). That
    is Fisher's test in the limit m/N → 0, and here m < √(5N) (an expected count is
    below 5), so it agrees to within about √(5/N) ≈ 7e-4 relative at worst.
    """
    reason = f"an expected count is below {_format(exact_below)}"
    statistic = _odds_ratio(x1, n1, x0, n0)
    total = n1 + n0
    from scipy import stats  # ~45 MB and 0.5 s to import: only small samples get here

    if total <= _FISHER_MAX_TRIALS:
        p = stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]], alternative="two-sided").pvalue
        note = f"{reason}, so Fisher's exact test replaces the z-test"
        return summary.tested(statistic, p, note=note, test="Fisher exact test")
    successes, failures = x1 + x0, total - x1 - x0
    rare_now, rare_total = (x1, successes) if successes <= failures else (n1 - x1, failures)
    if rare_total <= min(n1, n0):
        k, m, share = rare_now, rare_total, n1 / total
    else:  # one period is the rare margin
        k, m = (x1, n1) if n1 <= n0 else (x0, n0)
        share = successes / total
    p = stats.binomtest(k, m, share).pvalue
    note = (
        f"{reason} among {total:,} trials, too many for Fisher's exact test to enumerate; "
        "the conditional binomial test, its limit for a rare margin, replaces the z-test"
    )
    return summary.tested(statistic, p, note=note, test="conditional binomial test")


def _odds_ratio(x1: int, n1: int, x0: int, n0: int) -> float | None:
    """Sample odds ratio x1(n0 − x0) / ((n1 − x1)x0), as scipy reports it; None if infinite."""
    denominator = (n1 - x1) * x0
    return None if denominator == 0 else x1 * (n0 - x0) / denominator


# -- means ---------------------------------------------------------------------------------------


def _squared_deviations(n: float, s: float, q: float) -> float:
    """Σ(x − x̄)² = Q − S²/n, free of the cancellation the textbook formula suffers.

    In floating point ``Q − S²/n`` subtracts two nearly equal numbers when the mean
    is large against the spread (handle times of 10⁶ ± 2 s), losing most digits.
    Here the subtraction is done in exact rational arithmetic on the stored floats, so
    the only error left is the rounding already in ``S`` and ``Q`` — none at all for
    whole-number data such as seconds while the sums stay below 2⁵³. Summation
    rounding grows like ``√n·ε`` relative in practice (Higham 2002, §2.8 and §4.2), so
    a result below ``4·√n·ε·Q`` cannot be told from zero spread (0.1 repeated gives
    ~1e-18, not 0) and is returned as exactly 0; that also clips the tiny negative
    values rounding can produce. For real metrics the floor is far away: handle times
    with a coefficient of variation of 0.5 have Σ(x − x̄)² ≈ 0.2·Q.
    """
    if n < 2:
        return 0.0
    m2 = float(Fraction(q) - Fraction(s) ** 2 / Fraction(n))
    return m2 if m2 > 4.0 * math.sqrt(n) * _EPS * abs(q) else 0.0


def _hedges_g(n1: float, m2_1: float, n0: float, m2_0: float, diff: float) -> float | None:
    """Hedges' g: the mean difference over the pooled SD, times the exact small-sample
    correction J(ν) = Γ(ν/2) / (√(ν/2)·Γ((ν − 1)/2)), ν = n1 + n0 − 2 (Hedges 1981)."""
    dof = n1 + n0 - 2.0
    pooled_var = (m2_1 + m2_0) / dof
    if pooled_var == 0.0:
        return None
    half = dof / 2.0
    correction = math.exp(math.lgamma(half) - math.lgamma(half - 0.5)) / math.sqrt(half)
    return diff / math.sqrt(pooled_var) * correction


def welch_t_test(
    n1: float,
    s1: float,
    q1: float,
    n0: float,
    s0: float,
    q0: float,
    *,
    confidence: float = 0.95,
) -> TestResult:
    """Welch's unequal-variance t-test of current mean S1/n1 against previous S0/n0.

    Each period is given by its count ``n``, sum ``S`` and sum of squares ``Q``; the
    sample variance (ddof = 1) is ``(Q − S²/n)/(n − 1)`` (see ``_squared_deviations``).
    ``t = (m1 − m0)/√(v1/n1 + v0/n0)`` with the Welch–Satterthwaite degrees of freedom
    ``(v1/n1 + v0/n0)² / ((v1/n1)²/(n1 − 1) + (v0/n0)²/(n0 − 1))``; the p-value is
    two-sided and the interval of the mean difference uses the same t quantile. This
    equals ``scipy.stats.ttest_ind(current, previous, equal_var=False)``, including its
    ``df`` and ``confidence_interval``. Welch rather than Student because handle-time
    spread changes with the queue mix from week to week. ``effect_size`` is Hedges' g.

    Not testable (``p_value`` ``None`` with a note): fewer than two observations in a
    period (no variance), or zero spread in both periods — then the means are either
    equal (nothing to test) or differ exactly, and the note says which.
    """
    _check_confidence(confidence)
    n1, s1, q1, n0, s0, q0 = (float(v) for v in (n1, s1, q1, n0, s0, q0))
    summary = _Summary("Welch t-test", "Hedges' g", confidence)
    return _guarded(summary, lambda: _welch(summary, n1, s1, q1, n0, s0, q0))


def _welch(
    summary: _Summary, n1: float, s1: float, q1: float, n0: float, s0: float, q0: float
) -> TestResult:
    if not _finite(n1, s1, q1, n0, s0, q0):
        return summary.untestable(_NOT_FINITE)
    summary = replace(summary, n=(n1, n0))
    if n1 < 0 or n0 < 0:
        return summary.untestable("a count is negative")
    if n1 > 0 and n0 > 0:
        summary = replace(summary, effect=s1 / n1 - s0 / n0)
    if n1 < 2 or n0 < 2:
        return summary.untestable(
            "a t-test needs at least 2 observations in each period to estimate the spread "
            f"(current has {_format(n1)}, previous has {_format(n0)})"
        )
    m1, m0 = s1 / n1, s0 / n0
    m2_1, m2_0 = _squared_deviations(n1, s1, q1), _squared_deviations(n0, s0, q0)
    if m2_1 == 0.0 and m2_0 == 0.0:
        same = _same_value(m1, m0, n1 + n0)
        differ = None if same else f"the means differ ({_format(m1)} vs {_format(m0)})"
        return summary.untestable(_no_spread_note("either period", differ, "a t-test"))

    effect = m1 - m0
    se2_1, se2_0 = m2_1 / (n1 - 1.0) / n1, m2_0 / (n0 - 1.0) / n0
    se2 = se2_1 + se2_0
    w1, w0 = se2_1 / se2, se2_0 / se2  # shares, so tiny variances cannot underflow the df
    df = 1.0 / (w1 * w1 / (n1 - 1.0) + w0 * w0 / (n0 - 1.0))
    se = math.sqrt(se2)
    t = effect / se
    half = float(special.stdtrit(df, 0.5 + summary.confidence / 2.0)) * se
    summary = replace(
        summary,
        ci=(effect - half, effect + half),
        effect_size=_hedges_g(n1, m2_1, n0, m2_0, effect),
    )
    return summary.tested(t, 2.0 * special.stdtr(df, -abs(t)), df=df)


def _same_value(a: float, b: float, n: float) -> bool:
    """Whether two means of constant samples are the same value up to summation rounding.

    With every value equal, ``S`` carries at most ``n·ε`` relative rounding (all terms
    share a sign), so 0.1 four times and 0.1 three times give means a few ulps apart
    that are one value.
    """
    return abs(a - b) <= n * _EPS * max(abs(a), abs(b))


def _no_spread_note(where: str, difference: str | None, test: str) -> str:
    """Why a test of means is undefined when nothing varies within ``where``."""
    if difference is None:
        return "no variation: all values are equal, so there is no difference to test"
    return f"no variation within {where}, but {difference}: the difference is exact, so {test} does not apply"


def one_way_anova(
    groups: Sequence[tuple[float, float, float]], *, confidence: float = 0.95
) -> TestResult:
    """One-way ANOVA across segments, each given as (count, sum, sum of squares).

    ``F = (SSB/(k − 1)) / (SSW/(N − k))`` with the between-groups sum of squares
    ``SSB = Σ nᵢ(x̄ᵢ − x̄)²`` and the within-groups ``SSW = Σ (Qᵢ − Sᵢ²/nᵢ)``; equals
    ``scipy.stats.f_oneway`` on the raw groups. ``df`` is k − 1, ``df2`` N − k, and
    ``effect_size`` is η² = SSB/(SSB + SSW), the share of the variance the segments
    explain. There is no single ``effect`` or interval across many groups;
    ``confidence`` is only recorded, so every result of a report carries the same level.

    Empty segments (count 0) are dropped: a region with no decisions this week says
    nothing about the others. ``n`` still lists every input group (0 for dropped ones)
    so results map back to segments. Not testable, with a note: fewer than two
    non-empty groups, no more observations than groups, or no spread within any group.
    """
    _check_confidence(confidence)
    summary = _Summary("one-way ANOVA", "eta squared", confidence)
    return _guarded(summary, lambda: _anova(summary, [tuple(float(v) for v in g) for g in groups]))


def _anova(summary: _Summary, groups: Sequence[tuple[float, ...]]) -> TestResult:
    if not _finite(*(v for g in groups for v in g)):
        return summary.untestable(_NOT_FINITE)
    summary = replace(summary, n=tuple(n for n, _, _ in groups))
    if any(n < 0 for n in summary.n):
        return summary.untestable("a group has a negative count")
    used = [(n, s, q) for n, s, q in groups if n > 0]
    k, total = len(used), sum(n for n, _, _ in used)
    if k < 2:
        return summary.untestable(f"an ANOVA needs at least 2 groups with data; {k} have any")
    if total <= k:
        return summary.untestable(
            "an ANOVA needs more observations than groups (every group has one value)"
        )

    grand = sum(s for _, s, _ in used) / total
    ssb = sum(n * (s / n - grand) ** 2 for n, s, _ in used)
    ssw = sum(_squared_deviations(n, s, q) for n, s, q in used)
    if ssw == 0.0:
        means = [s / n for n, s, _ in used]
        low, high = min(means), max(means)
        same = _same_value(low, high, total)
        differ = None if same else f"the group means range from {_format(low)} to {_format(high)}"
        return summary.untestable(_no_spread_note("any group", differ, "an F-test"))
    df1, df2 = k - 1.0, total - k
    f = (ssb / df1) / (ssw / df2)
    summary = replace(summary, effect_size=ssb / (ssb + ssw))
    return summary.tested(f, special.fdtrc(df1, df2, f), df=df1, df2=df2)


# -- proportions across segments -----------------------------------------------------------------


def chi_square_homogeneity(
    groups: Sequence[tuple[float, float]], *, confidence: float = 0.95
) -> TestResult:
    """Chi-square test that a proportion is the same in every segment, from (x, n) pairs.

    The 2×k table has successes ``x`` and failures ``n − x`` per segment; with the
    pooled proportion ``P = Σx/Σn`` the statistic ``Σ (O − E)²/E`` over both rows
    simplifies to ``Σ (xᵢ − nᵢP)² / (nᵢP(1 − P))`` with k − 1 degrees of freedom —
    ``scipy.stats.chi2_contingency(table, correction=False)``. ``effect_size`` is
    Cramér's V = √(χ²/N) (a 2-row table has min(rows, cols) − 1 = 1). There is no
    interval; ``confidence`` is only recorded, as for ``one_way_anova``.

    Empty segments are dropped (``n`` keeps them as 0). Not testable, with a note:
    fewer than two non-empty segments, or no variation (all successes or all
    failures everywhere: an expected count is 0). When an expected count is below 5
    the test still runs and the note warns that the approximation may be poor.
    """
    _check_confidence(confidence)
    summary = _Summary("chi-square test", "Cramér's V", confidence)
    return _guarded(
        summary, lambda: _chi_square(summary, [tuple(float(v) for v in g) for g in groups])
    )


def _chi_square(summary: _Summary, groups: Sequence[tuple[float, ...]]) -> TestResult:
    if not _finite(*(v for g in groups for v in g)):
        return summary.untestable(_NOT_FINITE)
    summary = replace(summary, n=tuple(n for _, n in groups))
    if not all(_valid_counts(x, n) for x, n in groups):
        return summary.untestable("counts must satisfy 0 ≤ successes ≤ trials in every group")
    used = [(x, n) for x, n in groups if n > 0]
    if len(used) < 2:
        return summary.untestable(
            f"a chi-square test needs at least 2 groups with data; {len(used)} have any"
        )
    total = sum(n for _, n in used)
    pooled = sum(x for x, _ in used) / total
    if pooled in (0.0, 1.0):
        outcome = "success" if pooled == 1.0 else "failure"
        return summary.untestable(
            f"no variation: every trial in every group was a {outcome}, so there is nothing to test"
        )

    chi2 = sum((x - n * pooled) ** 2 / (n * pooled * (1.0 - pooled)) for x, n in used)
    df = len(used) - 1.0
    smallest = min(n for _, n in used) * min(pooled, 1.0 - pooled)
    note = "an expected count is below 5, so the chi-square approximation may be poor"
    summary = replace(summary, effect_size=math.sqrt(chi2 / total))
    return summary.tested(
        chi2, special.chdtrc(df, chi2), df=df, note=note if smallest < 5.0 else None
    )


# -- rates ---------------------------------------------------------------------------------------


def _poisson_score_interval(count: float, exposure: float, z: float) -> tuple[float, float]:
    """Score (Wilson-type) interval of one Poisson rate: ((c + z²/2) ∓ z√(c + z²/4)) / e."""
    center = count + z * z / 2.0
    half = z * math.sqrt(count + z * z / 4.0)
    return (center - half) / exposure, (center + half) / exposure


def poisson_rate_test(
    c1: float, e1: float, c0: float, e0: float, *, confidence: float = 0.95
) -> TestResult:
    """Test whether an event rate changed: c1/e1 (current) against c0/e0 (previous).

    Counts are Poisson given their exposure (productive hours, days). The test is the
    score test of equal rates, ``z = (r1 − r0) / √(r̂(1/e1 + 1/e0))`` with the pooled
    rate ``r̂ = (c1 + c0)/(e1 + e0)`` — ``statsmodels.stats.rates.test_poisson_2indep(
    c1, e1, c0, e0, method="score", compare="diff")``. The score test is chosen
    because it uses the variance under the null (pooled), so it stays valid when one
    period has no events, where the Wald test divides by zero; at a difference of 0
    it is also identical to the ``compare="ratio"`` score test.

    ``effect`` is the rate difference r1 − r0; its interval is the MOVER interval
    built from the two score intervals (Li, Tang & Wong 2011; the rate analogue of
    Newcombe's interval for proportions) — ``confint_poisson_2indep(...,
    method="mover", compare="diff")``. It has a closed form, unlike the inverted
    score interval, which statsmodels finds by numerical search to only ~1e-8.
    ``effect_size`` is the log rate ratio ln(r1/r0), ``None`` when either count is 0.
    ``n`` holds the event counts (c1, c0), which carry the test's information.

    Not testable, with a note: an exposure that is not positive, or no events in
    either period.
    """
    _check_confidence(confidence)
    c1, e1, c0, e0 = float(c1), float(e1), float(c0), float(e0)
    summary = _Summary("Poisson rate test", "log rate ratio", confidence)
    return _guarded(summary, lambda: _poisson(summary, c1, e1, c0, e0))


def _poisson(summary: _Summary, c1: float, e1: float, c0: float, e0: float) -> TestResult:
    if not _finite(c1, e1, c0, e0):
        return summary.untestable(_NOT_FINITE)
    summary = replace(summary, n=(c1, c0))
    if c1 < 0 or c0 < 0:
        return summary.untestable("an event count is negative")
    if e1 <= 0 or e0 <= 0:
        return summary.untestable(
            f"the {'current' if e1 <= 0 else 'previous'} period has no exposure"
        )

    r1, r0 = c1 / e1, c0 / e0
    z_crit = _normal_quantile(summary.confidence)
    summary = replace(
        summary,
        effect=r1 - r0,
        ci=_mover_difference(
            r1, _poisson_score_interval(c1, e1, z_crit), r0, _poisson_score_interval(c0, e0, z_crit)
        ),
        effect_size=math.log(r1 / r0) if c1 > 0 and c0 > 0 else None,
    )
    if c1 + c0 == 0:
        return summary.untestable("no events in either period, so there is nothing to test")
    pooled = (c1 + c0) / (e1 + e0)
    z = (r1 - r0) / math.sqrt(pooled / e1 + pooled / e0)
    return summary.tested(z, _two_sided_normal_p(z))


# -- multiple comparisons ------------------------------------------------------------------------


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values (q-values), in input order.

    With m valid p-values sorted ascending, ``q₍ᵢ₎ = min_{j ≥ i} p₍ⱼ₎·m/j``, capped
    at 1 — ``statsmodels.stats.multitest.multipletests(method="fdr_bh")[1]``. Testing
    every region's change at once would flag some by chance alone; q controls the
    expected share of false discoveries among the flagged ones instead.

    ``None`` (an untestable segment) stays ``None`` and does not count towards m; so
    does anything that is not a p-value (NaN, outside [0, 1]).
    """
    valid = [
        (p, i) for i, p in enumerate(p_values) if p is not None and 0.0 <= p <= 1.0
    ]  # NaN fails both comparisons
    valid.sort()
    m = len(valid)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank in range(m, 0, -1):
        p, index = valid[rank - 1]
        running = min(running, p / (rank / m))
        adjusted[index] = running
    return adjusted
