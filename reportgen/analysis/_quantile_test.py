"""A distribution-free test for a change in a quantile, from two histograms.

Time to action is heavy-tailed and far from normal, so no t-test applies.
Mood's median test, generalised to any q, needs only counts: the pooled
q-quantile splits both periods' rows into "at or below" and "above"; if the
quantile did not move, both periods have the same share at or below it, and
the 2×2 table is tested like any two proportions (pooled z-test, Fisher's exact
test for small counts); z is signed like the quantile's change. The histograms answer "at or below" exactly at bucket
boundaries, so the threshold is the upper edge of the pooled quantile's bucket.

The interval is for the *difference* of the two quantiles: each period's
quantile has a distribution-free order-statistic interval
(:meth:`reportgen.semantics.sketch.Histogram.quantile_ci`) at confidence ``1 − a/2``, and
their difference ``[L₁ − U₀, U₁ − L₀]`` then covers the true difference with
probability at least ``1 − a`` (Bonferroni), whatever the distributions.
"""

from __future__ import annotations

from dataclasses import replace

from reportgen.analysis.stats import TestResult, two_proportion_test
from reportgen.semantics.sketch import Histogram

TEST_NAME = "quantile test (Mood)"


def quantile_test(
    current: Histogram, previous: Histogram, q: float, *, confidence: float = 0.95
) -> TestResult:
    """Did the q-quantile change from ``previous`` to ``current``?"""
    pooled = current + previous
    threshold = pooled.quantile_bucket(q)
    if threshold is None:
        at_most = (0.0, 0.0)
    else:
        at_most = (current.count_at_most(threshold), previous.count_at_most(threshold))
    base = two_proportion_test(at_most[0], current.n, at_most[1], previous.n, confidence=confidence)
    now, before = current.quantile(q), previous.quantile(q)
    effect = None if now is None or before is None else now - before
    each = 1 - (1 - confidence) / 2
    low1, high1 = current.quantile_ci(q, each)
    low0, high0 = previous.quantile_ci(q, each)
    bounds = (low1, high1, low0, high0)
    ci_low = None if None in bounds else low1 - high0
    ci_high = None if None in bounds else high1 - low0
    z_test = base.test.startswith("two-proportion")
    test = TEST_NAME if z_test else f"{TEST_NAME}, Fisher exact"
    # fewer rows at or below the pooled quantile means the quantile rose: z takes the
    # quantile's direction (Fisher's odds ratio is left as it is)
    statistic = -base.statistic if z_test and base.statistic is not None else base.statistic
    return replace(
        base,
        test=test,
        statistic=statistic,
        effect=effect,
        ci_low=ci_low,
        ci_high=ci_high,
        effect_size=None,
        effect_size_name="",
    )


def threshold_counts(
    current: Histogram, previous: Histogram, q: float
) -> tuple[int | None, float, float]:
    """The pooled quantile's bucket and each period's rows at or below it (for checks)."""
    threshold = (current + previous).quantile_bucket(q)
    if threshold is None:
        return None, 0.0, 0.0
    return threshold, current.count_at_most(threshold), previous.count_at_most(threshold)
