"""Significance tests from sufficient statistics equal scipy / statsmodels on the raw rows.

Every comparison generates raw samples, reduces them to what the cube stores (counts;
count, sum and sum of squares; events and exposure) and checks each field of the result
against the reference library run on the raw arrays, to 1e-9 relative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats import rates
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

from reportgen.analysis.stats import (
    TestResult,
    benjamini_hochberg,
    chi_square_homogeneity,
    one_way_anova,
    poisson_rate_test,
    two_proportion_test,
    welch_t_test,
)

REL = 1e-9


def close(expected: float) -> object:
    return pytest.approx(float(expected), rel=REL, abs=0)


def moments(values: np.ndarray) -> tuple[float, float, float]:
    """What the cube keeps of a mean metric: count, sum, sum of squares."""
    return float(values.size), float(values.sum()), float((values * values).sum())


def assert_untestable(result: TestResult, *words: str) -> None:
    assert result.statistic is None
    assert result.p_value is None
    assert result.significant(0.05) is None
    assert result.note is not None
    for word in words:
        assert word in result.note


# -- Welch t-test --------------------------------------------------------------------------------

WELCH_CASES = {
    "moderate": ((50, 60.0, 10.0), (60, 55.0, 12.0)),
    "very unequal variances": ((12, 40.0, 0.5), (400, 45.0, 80.0)),
    "two observations each": ((2, 30.0, 5.0), (2, 20.0, 3.0)),
    "large against small": ((5000, 62.0, 30.0), (3, 70.0, 25.0)),
}


@pytest.mark.parametrize("case", WELCH_CASES.values(), ids=WELCH_CASES.keys())
@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_welch_from_moments_equals_scipy_on_raw_samples(case, confidence) -> None:
    rng = np.random.default_rng(7)
    (n1, mu1, sd1), (n0, mu0, sd0) = case
    current, previous = rng.normal(mu1, sd1, n1), rng.normal(mu0, sd0, n0)

    result = welch_t_test(*moments(current), *moments(previous), confidence=confidence)
    ref = stats.ttest_ind(current, previous, equal_var=False)
    ci = ref.confidence_interval(confidence)

    assert result.test == "Welch t-test"
    assert result.statistic == close(ref.statistic)
    assert result.p_value == close(ref.pvalue)
    assert result.df == close(ref.df)
    assert result.effect == close(current.mean() - previous.mean())
    assert (result.ci_low, result.ci_high) == (close(ci.low), close(ci.high))
    assert result.n == (n1, n0)
    assert result.confidence == confidence
    assert result.note is None


def test_welch_effect_size_is_hedges_g_with_exact_small_sample_correction() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, 8), rng.normal(9, 3, 5)
    dof = a.size + b.size - 2
    pooled_sd = math.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / dof)
    correction = math.gamma(dof / 2) / (math.sqrt(dof / 2) * math.gamma((dof - 1) / 2))

    result = welch_t_test(*moments(a), *moments(b))

    assert result.effect_size_name == "Hedges' g"
    assert result.effect_size == close((a.mean() - b.mean()) / pooled_sd * correction)


def test_welch_variance_is_exact_for_whole_seconds_far_from_zero() -> None:
    # Q − S²/n in floating point loses every digit here (S² ≈ 2.5e19 > 2⁵³); the exact
    # rational subtraction recovers the spread of ±2 s around 10⁶ s, and the rounding
    # floor must not swallow it (Σ(x − x̄)² ≈ 1e4 against Q ≈ 5e15).
    rng = np.random.default_rng(11)
    a = 1_000_000.0 + rng.integers(0, 5, 5000)
    b = 1_000_000.0 + rng.integers(0, 4, 4000)

    result = welch_t_test(*moments(a), *moments(b))
    ref = stats.ttest_ind(a, b, equal_var=False)

    assert result.statistic == close(ref.statistic)
    assert result.p_value == close(ref.pvalue)
    assert result.df == close(ref.df)


def test_welch_with_one_constant_period_is_still_a_test() -> None:
    constant, varied = np.full(6, 30.0), np.array([28.0, 35.0, 31.0, 40.0, 33.0])

    result = welch_t_test(*moments(varied), *moments(constant))
    with pytest.warns(RuntimeWarning, match="Precision loss"):  # scipy's, not ours
        ref = stats.ttest_ind(varied, constant, equal_var=False)

    assert result.statistic == close(ref.statistic)
    assert result.p_value == close(ref.pvalue)
    assert result.df == close(varied.size - 1)


def test_welch_zero_spread_and_equal_means_has_nothing_to_test() -> None:
    result = welch_t_test(*moments(np.full(4, 0.1)), *moments(np.full(3, 0.1)))

    assert_untestable(result, "no variation", "all values are equal")
    assert result.effect == pytest.approx(0.0, abs=1e-15)


def test_welch_zero_spread_with_different_means_says_the_difference_is_exact() -> None:
    result = welch_t_test(*moments(np.full(4, 42.0)), *moments(np.full(3, 40.0)))

    assert_untestable(result, "no variation", "means differ (42 vs 40)", "exact")
    assert result.effect == 2.0


def test_welch_single_observation_has_no_variance() -> None:
    result = welch_t_test(1, 50.0, 2500.0, 10, 400.0, 16_500.0)

    assert_untestable(result, "at least 2 observations", "current has 1")
    assert result.effect == 10.0
    assert result.n == (1.0, 10.0)


def test_welch_empty_period_has_no_effect() -> None:
    result = welch_t_test(0, 0.0, 0.0, 10, 400.0, 16_500.0)

    assert_untestable(result, "current has 0")
    assert result.effect is None


def test_welch_nan_input_is_untestable() -> None:
    assert_untestable(welch_t_test(10, math.nan, 1.0, 10, 5.0, 4.0), "NaN")


# Handle times in seconds at millisecond resolution (sign allowed: any real data).
handle_times = st.lists(
    st.integers(min_value=-(10**7), max_value=10**7).map(lambda ms: ms / 1000),
    min_size=2,
    max_size=40,
)


def well_conditioned(values: np.ndarray) -> bool:
    """A spread the sum of squares resolves to 1e-9: a variance of at least 1e-4 of the
    mean square (real handle times: ~0.2). Below that the rounding already in Q is
    what Q − S²/n measures, and no method on sufficient statistics can do better."""
    return values.var() > 1e-4 * float(np.mean(values * values))


@settings(max_examples=150, deadline=None, database=None)
@given(handle_times, handle_times)
def test_property_welch_from_moments_equals_scipy_on_any_sample(a, b) -> None:
    current, previous = np.array(a), np.array(b)
    assume(well_conditioned(current) and well_conditioned(previous))

    result = welch_t_test(*moments(current), *moments(previous))
    ref = stats.ttest_ind(current, previous, equal_var=False)

    assert result.statistic == pytest.approx(ref.statistic, rel=REL, abs=1e-12)
    assert result.p_value == pytest.approx(ref.pvalue, rel=REL, abs=1e-300)
    assert result.df == close(ref.df)


# -- one-way ANOVA -------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [3, 5, 8])
def test_anova_from_moments_equals_f_oneway_on_raw_groups(k) -> None:
    rng = np.random.default_rng(k)
    groups = [rng.normal(60 + 3 * i, 10 + i, rng.integers(2, 200)) for i in range(k)]

    result = one_way_anova([moments(g) for g in groups])
    ref = stats.f_oneway(*groups)
    everything = np.concatenate(groups)
    ssb = sum(g.size * (g.mean() - everything.mean()) ** 2 for g in groups)
    sst = ((everything - everything.mean()) ** 2).sum()

    assert result.test == "one-way ANOVA"
    assert result.statistic == close(ref.statistic)
    assert result.p_value == close(ref.pvalue)
    assert (result.df, result.df2) == (k - 1, everything.size - k)
    assert result.effect_size_name == "eta squared"
    assert result.effect_size == close(ssb / sst)
    assert result.effect is None


def test_anova_drops_empty_segments_but_keeps_their_place_in_n() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(50, 5, 30), rng.normal(53, 5, 25)

    result = one_way_anova([moments(a), (0, 0.0, 0.0), moments(b)])

    assert result.statistic == close(stats.f_oneway(a, b).statistic)
    assert result.df == 1
    assert result.n == (30.0, 0.0, 25.0)


def test_anova_with_a_single_observation_group_equals_f_oneway() -> None:
    a, b, c = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.5]), np.array([7.0])

    result = one_way_anova([moments(a), moments(b), moments(c)])

    assert result.statistic == close(stats.f_oneway(a, b, c).statistic)


def test_anova_needs_two_groups_with_data() -> None:
    result = one_way_anova([(0, 0.0, 0.0), (5, 10.0, 30.0)])

    assert_untestable(result, "at least 2 groups")


def test_anova_without_spread_in_any_group_is_untestable() -> None:
    result = one_way_anova([moments(np.full(3, 10.0)), moments(np.full(4, 12.0))])

    assert_untestable(result, "no variation", "range from 10 to 12")


def test_anova_nan_input_is_untestable() -> None:
    assert_untestable(one_way_anova([(3, 1.0, 1.0), (3, math.nan, 2.0)]), "NaN")


# -- chi-square across segments ------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 4, 7])
def test_chi_square_equals_chi2_contingency_without_correction(k) -> None:
    rng = np.random.default_rng(100 + k)
    trials = rng.integers(50, 2000, k)
    successes = rng.binomial(trials, rng.uniform(0.85, 0.95, k))
    table = np.array([successes, trials - successes])

    result = chi_square_homogeneity(list(zip(successes, trials, strict=True)))
    ref = stats.chi2_contingency(table, correction=False)

    assert result.test == "chi-square test"
    assert result.statistic == close(ref.statistic)
    assert result.p_value == close(ref.pvalue)
    assert result.df == ref.dof
    assert result.effect_size_name == "Cramér's V"
    assert result.effect_size == close(stats.contingency.association(table, method="cramer"))
    assert result.note is None


def test_chi_square_of_two_groups_is_the_squared_z_statistic() -> None:
    chi = chi_square_homogeneity([(430, 500), (400, 490)])
    z = two_proportion_test(430, 500, 400, 490)

    assert chi.statistic == close(z.statistic**2)
    assert chi.p_value == close(z.p_value)


def test_chi_square_drops_empty_segments() -> None:
    result = chi_square_homogeneity([(90, 100), (0, 0), (70, 100)])
    ref = stats.chi2_contingency([[90, 70], [10, 30]], correction=False)

    assert result.statistic == close(ref.statistic)
    assert result.n == (100.0, 0.0, 100.0)


def test_chi_square_warns_when_expected_counts_are_small() -> None:
    result = chi_square_homogeneity([(9, 10), (7, 10), (10, 10)])

    assert result.p_value is not None
    assert "below 5" in (result.note or "")


def test_chi_square_without_variation_is_untestable() -> None:
    assert_untestable(chi_square_homogeneity([(10, 10), (25, 25)]), "no variation", "success")


def test_chi_square_needs_two_groups_with_data() -> None:
    assert_untestable(chi_square_homogeneity([(3, 10), (0, 0)]), "at least 2 groups")


def test_chi_square_rejects_more_successes_than_trials() -> None:
    assert_untestable(chi_square_homogeneity([(11, 10), (3, 10)]), "successes ≤ trials")


# -- two proportions -----------------------------------------------------------------------------


def test_two_proportion_z_test_equals_statsmodels_for_large_counts() -> None:
    rng = np.random.default_rng(21)
    current, previous = rng.random(4000) < 0.93, rng.random(3500) < 0.91
    x1, n1, x0, n0 = int(current.sum()), current.size, int(previous.sum()), previous.size

    result = two_proportion_test(x1, n1, x0, n0, confidence=0.9)
    z, p = proportions_ztest([x1, x0], [n1, n0])
    low, high = confint_proportions_2indep(
        x1, n1, x0, n0, compare="diff", method="newcomb", alpha=0.1
    )

    assert result.test == "two-proportion z-test"
    assert result.statistic == close(z)
    assert result.p_value == close(p)
    assert result.effect == close(current.mean() - previous.mean())
    assert (result.ci_low, result.ci_high) == (close(low), close(high))
    assert result.effect_size_name == "Cohen's h"
    assert result.effect_size == close(proportion_effectsize(x1 / n1, x0 / n0))
    assert result.n == (n1, n0)
    assert result.note is None


def test_two_proportion_small_counts_use_fisher_exact_test() -> None:
    result = two_proportion_test(1, 12, 6, 11)  # expected failures now: 12 · 7/23 ≈ 3.7
    odds_ratio, p = stats.fisher_exact([[1, 11], [6, 5]])
    low, high = confint_proportions_2indep(1, 12, 6, 11, compare="diff", method="newcomb")

    assert result.test == "Fisher exact test"
    assert result.statistic == close(odds_ratio)
    assert result.p_value == close(p)
    assert (result.ci_low, result.ci_high) == (close(low), close(high))
    assert "Fisher" in (result.note or "")


def test_two_proportion_exact_below_zero_always_uses_the_z_test() -> None:
    result = two_proportion_test(1, 12, 6, 11, exact_below=0)

    assert result.test == "two-proportion z-test"
    assert result.statistic == close(proportions_ztest([1, 6], [12, 11])[0])


def test_fisher_with_a_zero_cell_reports_p_but_no_infinite_odds_ratio() -> None:
    result = two_proportion_test(10, 10, 6, 10)

    assert result.test == "Fisher exact test"
    assert result.statistic is None
    assert result.p_value == close(stats.fisher_exact([[10, 0], [6, 4]])[1])


def test_beyond_ten_million_trials_the_exact_test_is_fishers_binomial_limit() -> None:
    # scipy's Fisher test costs time in proportion to the trials (10 s at 10⁹); conditioning
    # on the 3 rare outcomes gives the same answer in constant time.
    n = 10_000_000
    result = two_proportion_test(0, n, 3, n)

    assert result.test == "conditional binomial test"
    assert result.p_value == close(stats.binomtest(0, 3, 0.5).pvalue)
    assert result.p_value == pytest.approx(stats.fisher_exact([[0, n], [3, n - 3]])[1], rel=1e-6)


def test_small_expected_counts_that_are_not_whole_keep_the_z_test_with_a_warning() -> None:
    result = two_proportion_test(1.5, 12, 6, 11)

    assert result.test == "two-proportion z-test"
    assert "not whole numbers" in (result.note or "")


def test_two_proportion_all_successes_has_no_variation_but_keeps_effect_and_interval() -> None:
    result = two_proportion_test(200, 200, 150, 150)
    low, high = confint_proportions_2indep(200, 200, 150, 150, compare="diff", method="newcomb")

    assert_untestable(result, "no variation", "success")
    assert result.effect == 0.0
    assert (result.ci_low, result.ci_high) == (close(low), close(high))


def test_two_proportion_empty_period_is_untestable() -> None:
    assert_untestable(two_proportion_test(5, 10, 0, 0), "previous period has no trials")


def test_two_proportion_nan_is_untestable() -> None:
    assert_untestable(two_proportion_test(math.nan, 10, 3, 10), "NaN")


def test_significant_compares_p_with_alpha() -> None:
    result = two_proportion_test(900, 1000, 850, 1000)

    assert result.p_value is not None and result.p_value < 0.01
    assert result.significant(0.05) is True
    assert result.significant(result.p_value / 2) is False


# -- Poisson rates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c1", "e1", "c0", "e0"),
    [(41_250, 612.5, 39_800, 640.0), (12, 8.0, 3, 7.0), (0, 5.0, 4, 6.0)],
    ids=["decisions per hour", "small counts", "no events now"],
)
def test_poisson_rate_test_equals_statsmodels_score_test_and_mover_interval(c1, e1, c0, e0) -> None:
    result = poisson_rate_test(c1, e1, c0, e0, confidence=0.9)
    ref = rates.test_poisson_2indep(c1, e1, c0, e0, method="score", compare="diff")
    low, high = rates.confint_poisson_2indep(
        c1, e1, c0, e0, method="mover", compare="diff", alpha=0.1
    )

    assert result.test == "Poisson rate test"
    assert result.statistic == close(ref.statistic)
    assert result.p_value == close(ref.pvalue)
    assert result.effect == close(c1 / e1 - c0 / e0)
    assert (result.ci_low, result.ci_high) == (close(low), close(high))
    assert result.n == (c1, c0)


def test_poisson_score_test_of_no_difference_is_the_ratio_score_test() -> None:
    result = poisson_rate_test(130, 20.0, 100, 21.0)
    ratio = rates.test_poisson_2indep(130, 20.0, 100, 21.0, method="score", compare="ratio")

    assert result.statistic == close(ratio.statistic)
    assert result.effect_size_name == "log rate ratio"
    assert result.effect_size == close(math.log((130 / 20) / (100 / 21)))


def test_poisson_log_ratio_is_undefined_without_events() -> None:
    assert poisson_rate_test(0, 5.0, 4, 6.0).effect_size is None


def test_poisson_without_events_in_either_period_is_untestable() -> None:
    result = poisson_rate_test(0, 5.0, 0, 6.0)

    assert_untestable(result, "no events")
    assert result.effect == 0.0


def test_poisson_without_exposure_is_untestable() -> None:
    assert_untestable(poisson_rate_test(4, 0.0, 3, 6.0), "current period has no exposure")


# -- Benjamini–Hochberg --------------------------------------------------------------------------


def test_benjamini_hochberg_equals_multipletests_and_keeps_none_in_place() -> None:
    rng = np.random.default_rng(8)
    p_values: list[float | None] = list(rng.uniform(0, 0.2, 12))
    p_values[2] = p_values[9] = None
    p_values[4] = p_values[5]  # a tie
    valid = [p for p in p_values if p is not None]

    q_values = benjamini_hochberg(p_values)
    expected = iter(multipletests(valid, method="fdr_bh")[1])

    assert q_values[2] is None and q_values[9] is None
    for p, q in zip(p_values, q_values, strict=True):
        if p is not None:
            assert q == close(next(expected))


def test_benjamini_hochberg_treats_nan_like_none() -> None:
    assert benjamini_hochberg([0.01, math.nan, 0.04]) == [
        pytest.approx(0.02, rel=REL),
        None,
        pytest.approx(0.04, rel=REL),
    ]


def test_benjamini_hochberg_of_nothing_is_nothing() -> None:
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([None, None]) == [None, None]


# -- never raise ---------------------------------------------------------------------------------

any_number = st.floats() | st.integers(min_value=0, max_value=10**6).map(float)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(any_number, min_size=6, max_size=6))
def test_property_no_input_makes_a_test_raise_or_warn(v) -> None:
    results = [
        two_proportion_test(*v[:4]),
        welch_t_test(*v),
        poisson_rate_test(*v[:4]),
        one_way_anova([v[:3], v[3:]]),
        chi_square_homogeneity([v[:2], v[2:4]]),
    ]
    for result in results:
        if result.p_value is None:
            assert result.note
        else:
            assert 0.0 <= result.p_value <= 1.0


def test_numbers_beyond_double_precision_are_a_note_not_an_exception() -> None:
    assert_untestable(welch_t_test(2, 1e300, 1e300, 2, 1.0, 1.0), "double precision")
    assert_untestable(poisson_rate_test(1, 1.0, 1, 5e-324), "double precision")


# -- arguments -----------------------------------------------------------------------------------


def test_a_confidence_outside_zero_and_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        welch_t_test(5, 10.0, 30.0, 5, 12.0, 40.0, confidence=95)
