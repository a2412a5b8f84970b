"""Deep-dive statistics: how metrics relate across sites, teams or moderator-weeks.

The weekly report says *what* moved; the deep-dive sections help an analyst see
*why*, with the analyses otherwise done by hand in notebooks:

- :func:`correlation_matrix` — Pearson and Spearman for every pair of metrics;
- :func:`linear_regression` — OLS, or WLS by volume, of one metric on others,
  with residual outliers;
- :func:`logit_binomial` — logit of a decision outcome (overturned on appeal) on
  its attributes, as a binomial GLM on aggregated counts so it scales;
- :func:`kmeans_clusters` / :func:`hierarchical_clusters` — sites grouped by
  their standardised metric profile;
- :func:`tukey_hsd` — which pairs of sites differ in a mean metric, from
  sufficient statistics.

Each takes a small pandas frame the integration layer computes from the cube
(one row per site/team/moderator-week, indexed by its label) and returns a frozen
dataclass of plain numbers, strings and tuples: ``dataclasses.asdict`` of any result
is JSON (no NaN: undefined numbers are None). Results equal statsmodels, scipy and
scikit-learn on the same data (``tests/test_deepdive.py``), carry one-sentence
``readings`` for the report, and never raise on awkward data: too few rows,
constant columns, missing values, perfect separation and library warnings end up
in ``notes`` instead.
"""

from __future__ import annotations

from ._deepdive_clusters import (
    Cluster,
    ClusterResult,
    FeatureProfile,
    hierarchical_clusters,
    kmeans_clusters,
)
from ._deepdive_correlation import CorrelationPair, CorrelationResult, correlation_matrix
from ._deepdive_linear import (
    Coefficient,
    FittedPoint,
    Outlier,
    RegressionResult,
    linear_regression,
)
from ._deepdive_logit import LogitResult, logit_binomial
from ._deepdive_tukey import TukeyPair, TukeyResult, tukey_hsd

__all__ = [
    "Cluster",
    "ClusterResult",
    "Coefficient",
    "CorrelationPair",
    "CorrelationResult",
    "FeatureProfile",
    "FittedPoint",
    "LogitResult",
    "Outlier",
    "RegressionResult",
    "TukeyPair",
    "TukeyResult",
    "correlation_matrix",
    "hierarchical_clusters",
    "kmeans_clusters",
    "linear_regression",
    "logit_binomial",
    "tukey_hsd",
]
