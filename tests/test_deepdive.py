"""Deep-dive statistics against statsmodels, scipy and scikit-learn on the raw data.

Every number is compared to 1e-9 relative, except p-values of the studentized range
(1e-6: scipy integrates it numerically). The demo-data tests rebuild the per-site
frames the integration layer computes from the cube with DuckDB SQL, and check the
results against the libraries run on the raw decision rows.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from scipy.cluster import hierarchy
from scipy.integrate import IntegrationWarning
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.multicomp import pairwise_tukeyhsd
from statsmodels.stats.outliers_influence import OLSInfluence

from reportgen.analysis.deepdive import (
    correlation_matrix,
    hierarchical_clusters,
    kmeans_clusters,
    linear_regression,
    logit_binomial,
    tukey_hsd,
)

RTOL = 1e-9
RANGE_RTOL = 1e-6  # scipy's studentized range is a numerical integral


def close(actual, expected, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


# -- data ------------------------------------------------------------------------------------


@pytest.fixture
def sites() -> pd.DataFrame:
    """25 sites: QA accuracy falls with AHT, one site (PLANT-1) far off the line, one NaN."""
    rng = np.random.default_rng(42)
    n = 25
    frame = pd.DataFrame(
        {
            "aht": rng.normal(60.0, 8.0, n),
            "tenure": rng.normal(14.0, 5.0, n),
            "volume": rng.integers(40, 900, n).astype(float),
        },
        index=pd.Index([f"S{i:02d}" for i in range(n - 1)] + ["PLANT-1"], name="site"),
    )
    frame["qa"] = 1.1 - 0.004 * frame["aht"] + 0.002 * frame["tenure"] + rng.normal(0, 0.01, n)
    frame.loc["PLANT-1", "qa"] -= 0.12
    frame.loc["S05", "tenure"] = np.nan
    return frame


def cells(seed: int = 3) -> pd.DataFrame:
    """Appeals per (queue, region) cell with overturns drawn from a known logit."""
    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product(
        [["Hate", "Scams", "Spam"], ["EU", "LATAM", "NA", "SEA"]], names=["queue", "region"]
    ).to_frame(index=False)
    grid["aht"] = rng.normal(60.0, 10.0, len(grid))
    grid["appeals"] = rng.integers(15, 60, len(grid))
    eta = -1.0 - 1.0 * (grid["queue"] == "Spam") + 0.02 * (grid["aht"] - 60.0)
    grid["overturns"] = rng.binomial(grid["appeals"], 1.0 / (1.0 + np.exp(-eta)))
    return grid


def expanded(frame: pd.DataFrame, successes: str, trials: str) -> pd.DataFrame:
    """One 0/1 row per trial: the raw decisions the cells summarise."""
    rows = frame.loc[frame.index.repeat(frame[trials])].copy()
    rank = rows.groupby(level=0).cumcount()
    rows["y"] = (rank < rows[successes]).astype(float)
    return rows.reset_index(drop=True)


def dummies(frame: pd.DataFrame, categorical: list[str], numeric: list[str]) -> pd.DataFrame:
    """Treatment dummies against the first sorted level, as the deep-dive names them."""
    parts = [frame[numeric]] if numeric else []
    for column in categorical:
        levels = sorted(frame[column].unique())
        for level in levels[1:]:
            parts.append((frame[column] == level).astype(float).rename(f"{column}[T.{level}]"))
    ordered = pd.concat(parts, axis=1)
    names = [c for c in ordered.columns if c.split("[")[0] in categorical] + numeric
    return sm.add_constant(ordered[names], has_constant="add")


def converged_glm(endog, exog, **kwargs):
    """statsmodels' binomial GLM, fitted by Newton's method to a tight tolerance.

    Its default IRLS takes the covariance from the weights of the iterate before
    the last, which leaves its standard errors ~1e-8 relative from the maximum;
    Newton evaluates the information at the final estimate, a fair reference.
    """
    model = sm.GLM(endog, exog, family=sm.families.Binomial(), **kwargs)
    return model.fit(method="newton", tol=1e-12)


# -- correlation -----------------------------------------------------------------------------


def test_correlation_equals_scipy_on_pairwise_complete_rows(sites: pd.DataFrame) -> None:
    result = correlation_matrix(sites, ["aht", "qa", "tenure"])
    assert len(result.pairs) == 3
    for pair in result.pairs:
        both = sites[[pair.x, pair.y]].dropna()
        pearson = stats.pearsonr(both[pair.x], both[pair.y])
        spearman = stats.spearmanr(both[pair.x], both[pair.y])
        assert pair.n == len(both)
        close(
            [pair.pearson_r, pair.pearson_p, pair.spearman_rho, pair.spearman_p],
            [pearson.statistic, pearson.pvalue, spearman.statistic, spearman.pvalue],
        )
    matrix = np.array(result.pearson, float)
    close(matrix, matrix.T)
    close(np.diag(matrix), 1.0)
    assert result.n[2][2] == 24 and result.n[0][1] == 25


def test_correlation_reads_the_strongest_pair_in_plain_words(sites: pd.DataFrame) -> None:
    result = correlation_matrix(
        sites, ["aht", "qa"], unit="sites", labels={"aht": "AHT", "qa": "QA accuracy"}
    )
    (pair,) = result.pairs
    assert result.readings == (
        f"Sites with higher AHT have lower QA accuracy (Pearson r = "
        f"{pair.pearson_r:.2f}, p < 0.001, n = 25).".replace("-", "\N{MINUS SIGN}"),
    )


def test_correlation_drops_a_constant_metric_with_a_note(sites: pd.DataFrame) -> None:
    result = correlation_matrix(sites.assign(flat=0.97), ["aht", "flat", "qa"])
    assert result.metrics == ("aht", "qa") and result.dropped == ("flat",)
    assert "flat dropped" in (result.note or "")


def test_correlation_with_too_few_rows_has_a_note_not_numbers(sites: pd.DataFrame) -> None:
    result = correlation_matrix(sites.head(4), ["aht", "qa"])
    assert result.pairs == () and result.dropped == ("aht", "qa")
    assert "fewer than 5" in (result.note or "")


# -- linear regression -------------------------------------------------------------------------


def assert_matches_statsmodels(result, fitted) -> None:
    close([c.estimate for c in result.coefficients], fitted.params)
    close([c.std_error for c in result.coefficients], fitted.bse)
    close([c.statistic for c in result.coefficients], fitted.tvalues)
    close([c.p_value for c in result.coefficients], fitted.pvalues)
    ci = fitted.conf_int()
    close([c.ci_low for c in result.coefficients], ci[0])
    close([c.ci_high for c in result.coefficients], ci[1])
    close(
        [result.r_squared, result.adj_r_squared, result.f_statistic, result.f_p_value],
        [fitted.rsquared, fitted.rsquared_adj, fitted.fvalue, fitted.f_pvalue],
    )
    assert (result.n, result.df_resid) == (fitted.nobs, fitted.df_resid)


def test_ols_equals_statsmodels(sites: pd.DataFrame) -> None:
    result = linear_regression(sites, "qa", ["aht", "tenure"])
    used = sites.dropna()
    fitted = sm.OLS(used["qa"], sm.add_constant(used[["aht", "tenure"]])).fit()
    assert_matches_statsmodels(result, fitted)
    assert result.rows_dropped == 1 and "1 of 25 rows dropped" in (result.note or "")


def test_wls_by_volume_equals_statsmodels(sites: pd.DataFrame) -> None:
    result = linear_regression(sites, "qa", ["aht", "tenure"], weights="volume")
    used = sites.dropna()
    fitted = sm.WLS(
        used["qa"], sm.add_constant(used[["aht", "tenure"]]), weights=used["volume"]
    ).fit()
    assert_matches_statsmodels(result, fitted)


def test_categorical_predictor_equals_the_formula_api(sites: pd.DataFrame) -> None:
    frame = sites.dropna().assign(vendor=lambda f: np.array(["Acme", "Blue", "Core"] * 8))
    result = linear_regression(frame, "qa", ["aht", "vendor"])
    fitted = smf.ols("qa ~ aht + vendor", data=frame).fit()
    assert [c.name for c in result.coefficients] == [
        "Intercept",
        "aht",
        "vendor[T.Blue]",
        "vendor[T.Core]",
    ]
    close(
        [c.estimate for c in result.coefficients],
        fitted.params[["Intercept", "aht", "vendor[T.Blue]", "vendor[T.Core]"]],
    )


def test_ols_outliers_are_external_studentized_residuals_beyond_2_5(sites: pd.DataFrame) -> None:
    result = linear_regression(sites, "qa", ["aht", "tenure"])
    used = sites.dropna()
    fitted = sm.OLS(used["qa"], sm.add_constant(used[["aht", "tenure"]])).fit()
    external = pd.Series(OLSInfluence(fitted).resid_studentized_external, index=used.index)
    expected = external[external.abs() > 2.5]
    assert [o.label for o in result.outliers] == list(expected.index) == ["PLANT-1"]
    close([o.studentized for o in result.outliers], expected)
    close([o.residual for o in result.outliers], fitted.resid[expected.index])


def test_wls_outlier_equals_the_t_of_a_dummy_for_that_row(sites: pd.DataFrame) -> None:
    """Mean-shift outlier model: the studentized residual is the t of an indicator."""
    result = linear_regression(sites, "qa", ["aht", "tenure"], weights="volume")
    used = sites.dropna()
    exog = sm.add_constant(used[["aht", "tenure"]]).assign(
        shift=(used.index == "PLANT-1").astype(float)
    )
    fitted = sm.WLS(used["qa"], exog, weights=used["volume"]).fit()
    (outlier,) = result.outliers
    assert outlier.label == "PLANT-1"
    close(outlier.studentized, fitted.tvalues["shift"])


def test_regression_reads_each_significant_coefficient(sites: pd.DataFrame) -> None:
    result = linear_regression(
        sites, "qa", ["aht", "tenure"], unit="sites", labels={"aht": "AHT", "qa": "QA accuracy"}
    )
    significant = [c for c in result.coefficients[1:] if c.p_value < 0.05]
    assert len(result.readings) == len(significant) >= 1
    assert result.readings[0].startswith("Sites with 1 more AHT have QA accuracy 0.00")
    assert "lower on average, other predictors held fixed (95% CI" in result.readings[0]


def test_regression_reads_slopes_in_the_metrics_units(sites: pd.DataFrame) -> None:
    """AHT in seconds, QA accuracy a proportion: "1 s more AHT … 0.2 pp lower", CI alike."""
    labels = {"aht": "AHT", "qa": "QA accuracy"}
    formats = {"aht": "seconds", "qa": "percent"}
    result = linear_regression(sites, "qa", ["aht"], unit="sites", labels=labels, formats=formats)
    (slope,) = result.coefficients[1:]
    assert slope.p_value < 0.05
    (reading,) = result.readings
    pp = f"{abs(slope.estimate) * 100:.3g}"
    low, high = (f"{v * 100:.3g}".replace("-", "\u2212") for v in (slope.ci_low, slope.ci_high))
    assert reading.startswith(f"Sites with 1 s more AHT have QA accuracy {pp} pp lower on average")
    assert f"(95% CI {low} pp to {high} pp" in reading


def test_a_proportion_predictor_reads_per_percentage_point(sites: pd.DataFrame) -> None:
    frame = sites.assign(share=sites["aht"] / sites["aht"].max())
    formats = {"share": "percent", "qa": "percent"}
    result = linear_regression(frame, "qa", ["share"], unit="sites", formats=formats)
    (slope,) = result.coefficients[1:]
    (reading,) = result.readings
    assert reading.startswith(f"Sites with 1 pp more share have qa {abs(slope.estimate):.3g} pp")


@pytest.mark.parametrize(
    ("change", "predictors", "expected"),
    [
        (lambda f: f.head(3), ["aht", "tenure"], "too few rows: 3 rows for 3 coefficients"),
        (lambda f: f.assign(tenure=5.0), ["aht", "tenure"], "tenure dropped: it is constant"),
        (lambda f: f.assign(twice=2 * f["aht"]), ["aht", "twice"], "twice dropped: it is a linear"),
        (lambda f: f.assign(qa=0.9), ["aht"], "qa has the same value in every row"),
        (lambda f: f.assign(aht=np.nan), ["aht"], "no rows with a value in every column"),
    ],
    ids=["too-few-rows", "constant", "collinear", "constant-outcome", "all-missing"],
)
def test_regression_edge_cases_return_a_note(sites, change, predictors, expected) -> None:
    result = linear_regression(change(sites), "qa", predictors)
    assert expected in (result.note or "")


def test_a_perfect_fit_has_no_tests_and_says_so() -> None:
    frame = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "y": [3.0, 5, 7, 9, 11]})
    result = linear_regression(frame, "y", ["x"])
    close([c.estimate for c in result.coefficients], [1.0, 2.0])
    assert result.coefficients[1].p_value is None
    assert "fit the outcome exactly" in (result.note or "")


# -- logit on counts ------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["proportion-var-weights", "successes-failures"])
def test_logit_on_counts_equals_statsmodels_binomial_glm(form: str) -> None:
    data = cells()
    result = logit_binomial(data, "overturns", "appeals", ["queue", "region", "aht"])
    exog = dummies(data, ["queue", "region"], ["aht"])
    if form == "successes-failures":
        endog = np.column_stack([data["overturns"], data["appeals"] - data["overturns"]])
        fitted = converged_glm(endog, exog)
    else:
        fitted = converged_glm(
            data["overturns"] / data["appeals"], exog, var_weights=data["appeals"]
        )
    assert [c.name for c in result.coefficients] == list(
        exog.columns.str.replace("const", "Intercept")
    )
    close([c.estimate for c in result.coefficients], fitted.params)
    close([c.std_error for c in result.coefficients], fitted.bse)
    close([c.statistic for c in result.coefficients], fitted.tvalues)
    close([c.p_value for c in result.coefficients], fitted.pvalues)
    close([result.deviance, result.null_deviance], [fitted.deviance, fitted.null_deviance])
    assert result.df_resid == fitted.df_resid and result.converged


def test_logit_on_counts_equals_logit_on_the_expanded_raw_rows() -> None:
    """Why it scales: the cells carry the whole likelihood of the raw 0/1 decisions."""
    data = cells()
    result = logit_binomial(data, "overturns", "appeals", ["queue", "region", "aht"])
    raw = expanded(data, "overturns", "appeals")
    assert len(raw) == data["appeals"].sum()
    fitted = sm.Logit(raw["y"], dummies(raw, ["queue", "region"], ["aht"])).fit(disp=0)
    close([c.estimate for c in result.coefficients], fitted.params)
    close([c.std_error for c in result.coefficients], fitted.bse)
    close([c.p_value for c in result.coefficients], fitted.pvalues)
    close(result.log_likelihood, fitted.llf)
    null = sm.Logit(raw["y"], np.ones(len(raw))).fit(disp=0, tol=1e-12)
    close(result.pseudo_r_squared, 1.0 - fitted.llf / null.llf)


def test_logit_odds_ratios_are_exp_of_the_coefficients_and_their_interval() -> None:
    data = cells()
    result = logit_binomial(data, "overturns", "appeals", ["queue", "aht"])
    fitted = converged_glm(
        data["overturns"] / data["appeals"],
        dummies(data, ["queue"], ["aht"]),
        var_weights=data["appeals"],
    )
    ci = fitted.conf_int()
    close([c.odds_ratio for c in result.coefficients], np.exp(fitted.params))
    close([c.odds_ratio_ci_low for c in result.coefficients], np.exp(ci[0]))
    close([c.odds_ratio_ci_high for c in result.coefficients], np.exp(ci[1]))
    spam = next(r for r in result.readings if "Spam" in r)
    assert spam.startswith("The odds of overturns are 0.")
    assert "as high for queue Spam as for queue Hate (95% CI" in spam


def test_logit_perfect_separation_is_a_note_not_a_warning() -> None:
    data = cells()
    data.loc[data["queue"] == "Spam", "overturns"] = 0  # no Spam appeal is ever overturned
    result = logit_binomial(data, "overturns", "appeals", ["queue", "region"])
    assert result.coefficients == ()
    assert "perfect separation: queue[T.Spam] predicts overturns" in (result.note or "")


def test_logit_drops_impossible_and_empty_cells_with_a_note() -> None:
    data = cells()
    data.loc[0, "appeals"] = 0
    data.loc[1, "overturns"] = data.loc[1, "appeals"] + 1
    data.loc[2, "aht"] = np.nan
    result = logit_binomial(data, "overturns", "appeals", ["queue", "aht"])
    assert result.rows_dropped == 3 and result.cells == len(data) - 3
    assert "1 cells dropped: no trials" in (result.note or "")
    kept = data.drop(index=[0, 1, 2])
    fitted = converged_glm(
        kept["overturns"] / kept["appeals"],
        dummies(kept, ["queue"], ["aht"]),
        var_weights=kept["appeals"],
    )
    close([c.estimate for c in result.coefficients], fitted.params)


# -- clusters ---------------------------------------------------------------------------------


@pytest.fixture
def profiles() -> pd.DataFrame:
    """Three kinds of site: slow and inaccurate, fast and accurate, and the middle."""
    rng = np.random.default_rng(11)
    centres = {"slow": (80.0, 0.86, 30.0), "fast": (45.0, 0.96, 20.0), "mid": (60.0, 0.92, 25.0)}
    rows, names = [], []
    for kind, centre in centres.items():
        for i in range(6):
            rows.append(np.array(centre) + rng.normal(0, [3.0, 0.008, 2.0]))
            names.append(f"{kind.upper()}-{i + 1}")
    return pd.DataFrame(rows, columns=["aht", "qa", "hs"], index=names)


def partition(labels) -> set[frozenset[int]]:
    """Cluster membership without the arbitrary cluster numbers."""
    groups: dict[object, set[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def test_kmeans_equals_sklearn_on_standardised_features(profiles: pd.DataFrame) -> None:
    result = kmeans_clusters(profiles, ["aht", "qa", "hs"], seed=0)
    z = StandardScaler().fit_transform(profiles)
    expected = {}
    for k in range(2, 7):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(z)
        expected[k] = (silhouette_score(z, labels), labels)
    assert [k for k, _ in result.silhouette_by_k] == list(expected)
    close([s for _, s in result.silhouette_by_k], [s for s, _ in expected.values()])
    best = max(expected, key=lambda k: expected[k][0])
    assert result.k == best == 3
    assert partition(result.assignment) == partition(expected[best][1])


def test_clusters_are_described_by_what_sets_them_apart(profiles: pd.DataFrame) -> None:
    result = kmeans_clusters(profiles, ["aht", "qa"], labels={"aht": "AHT", "qa": "QA accuracy"})
    slow = next(c for c in result.clusters if "SLOW-1" in c.members)
    z = StandardScaler().fit_transform(profiles[["aht", "qa"]])[: len(slow.members)].mean(axis=0)
    assert slow.members == tuple(f"SLOW-{i}" for i in range(1, 7))
    assert abs(z[1]) > abs(z[0])  # the largest difference is named first
    assert slow.description == (
        f"Cluster {slow.id} (SLOW-1, SLOW-2, SLOW-3, SLOW-4, SLOW-5 +1 more): "
        f"low QA accuracy (\N{MINUS SIGN}{-z[1]:.1f} sd), high AHT (+{z[0]:.1f} sd)"
    )
    close([p.z for p in slow.profile], z)


def test_hierarchical_ward_equals_scipy(profiles: pd.DataFrame) -> None:
    result = hierarchical_clusters(profiles, ["aht", "qa", "hs"])
    z = StandardScaler().fit_transform(profiles)
    linkage = hierarchy.linkage(z, method="ward")
    close(result.linkage, linkage)
    assert result.leaves == tuple(profiles.index[hierarchy.leaves_list(linkage)])
    cut = hierarchy.fcluster(linkage, t=result.k, criterion="maxclust")
    assert partition(result.assignment) == partition(cut)
    close(result.silhouette, silhouette_score(z, cut))


def test_clusters_with_k_larger_than_the_rows_have_a_note(profiles: pd.DataFrame) -> None:
    result = kmeans_clusters(profiles.head(4), ["aht", "qa"], k_range=range(2, 9))
    assert [k for k, _ in result.silhouette_by_k] == [2, 3]
    assert "k = 4, 5, 6, 7, 8 skipped" in (result.note or "")
    assert kmeans_clusters(profiles.head(2), ["aht", "qa"]).clusters == ()


def test_a_constant_feature_is_dropped_with_a_note(profiles: pd.DataFrame) -> None:
    result = kmeans_clusters(profiles.assign(flat=1.0), ["aht", "flat", "qa"])
    assert result.features == ("aht", "qa") and result.k is not None
    assert "flat dropped: it does not vary" in (result.note or "")


def test_duplicate_profiles_limit_k_instead_of_warning(profiles: pd.DataFrame) -> None:
    twins = pd.concat([profiles.head(2)] * 4)  # 8 rows, 2 distinct profiles
    result = kmeans_clusters(twins, ["aht", "qa"])
    assert result.k == 2 and "2 distinct" in (result.note or "")


# -- Tukey HSD -------------------------------------------------------------------------------


@pytest.fixture
def raw_groups() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    sizes, shifts = [12, 30, 18, 25, 9], [0.0, 4.0, 1.0, 9.0, 3.0]
    return {
        f"site-{i}": rng.normal(60 + s, 6.0, n)
        for i, (n, s) in enumerate(zip(sizes, shifts, strict=True))
    }


def sufficient(groups: dict[str, np.ndarray]) -> dict[str, tuple[float, float, float]]:
    return {g: (len(x), float(x.sum()), float((x * x).sum())) for g, x in groups.items()}


def test_tukey_from_sufficient_statistics_equals_pairwise_tukeyhsd(raw_groups) -> None:
    result = tukey_hsd(sufficient(raw_groups))
    values = np.concatenate(list(raw_groups.values()))
    labels = np.concatenate([[g] * len(x) for g, x in raw_groups.items()])
    reference = pairwise_tukeyhsd(values, labels)
    assert [(p.group1, p.group2) for p in result.pairs] == [
        tuple(row[:2]) for row in reference.summary().data[1:]
    ]
    close([p.mean_diff for p in result.pairs], reference.meandiffs)
    close([p.std_error for p in result.pairs], reference.std_pairs)
    close([p.ci_low for p in result.pairs], reference.confint[:, 0])
    close([p.ci_high for p in result.pairs], reference.confint[:, 1])
    close([p.p_adjusted for p in result.pairs], reference.pvalues, RANGE_RTOL)
    close(result.q_critical, reference.q_crit)
    assert [p.reject for p in result.pairs] == list(reference.reject)
    anova = stats.f_oneway(*raw_groups.values())
    close([result.anova_f, result.anova_p], [anova.statistic, anova.pvalue])


def test_tukey_from_sufficient_statistics_equals_scipy_tukey_hsd(raw_groups) -> None:
    result = tukey_hsd(sufficient(raw_groups))
    reference = stats.tukey_hsd(*raw_groups.values())
    ci = reference.confidence_interval(0.95)
    names = list(raw_groups)
    for pair in result.pairs:
        i, j = names.index(pair.group1), names.index(pair.group2)
        close(pair.mean_diff, -reference.statistic[i, j])
        close(pair.p_adjusted, reference.pvalue[i, j], RANGE_RTOL)
        close([pair.ci_low, pair.ci_high], [-ci.high[i, j], -ci.low[i, j]])
    assert result.readings[0].startswith("site-3 is higher than site-0 by ")


def test_tukey_reads_the_largest_significant_differences_with_the_metric(raw_groups) -> None:
    result = tukey_hsd(sufficient(raw_groups), label="AHT")
    largest = max((p for p in result.pairs if p.reject), key=lambda p: abs(p.mean_diff))
    assert (largest.group1, largest.group2) == ("site-0", "site-3")
    assert result.readings[0] == (
        f"site-3's AHT is higher than site-0's by {largest.mean_diff:.3g} (95% CI "
        f"{largest.ci_low:.3g} to {largest.ci_high:.3g}, adjusted p < 0.001)."
    )


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ({"a": (0, 0.0, 0.0), "b": (3, 6.0, 14.0)}, "at least 2 groups with data; 1 have any"),
        ({"a": (1, 2.0, 4.0), "b": (1, 3.0, 9.0)}, "more observations than groups"),
        ({"a": (2, 4.0, 8.0), "b": (3, 9.0, 27.0)}, "no variation within any group"),
        ({"a": (2, 4.0, 9.0), "b": (3, float("nan"), 27.0)}, "b left out: a missing"),
    ],
    ids=["empty-group", "one-value-each", "no-spread", "nan"],
)
def test_tukey_edge_cases_return_a_note(groups, expected) -> None:
    result = tukey_hsd(groups)
    assert result.pairs == () and expected in (result.note or "")


def test_tukey_integration_warning_becomes_a_note() -> None:
    """scipy warns integrating the studentized range at q = 1 with k = 25, df = 8000."""
    n, variance = 321, 321.0  # standard error 1: neighbours differ by exactly q = 1
    groups = {f"s{i:02d}": (n, n * i, n * i * i + (n - 1) * variance) for i in range(25)}
    result = tukey_hsd(groups)
    assert result.df == 8000 and len(result.pairs) == 300
    assert "studentized range: The integral is probably divergent" in (result.note or "")


# -- results are plain data -----------------------------------------------------------------


def test_every_result_is_strict_json_even_when_undefined(sites, profiles) -> None:
    awkward = sites.assign(flat=1.0).head(6)
    results = [
        correlation_matrix(awkward, ["aht", "qa", "flat"]),
        linear_regression(awkward, "qa", ["aht", "flat"]),
        linear_regression(sites.head(2), "qa", ["aht"]),
        logit_binomial(cells(), "overturns", "appeals", ["queue"]),
        kmeans_clusters(profiles, ["aht", "qa"]),
        hierarchical_clusters(profiles, ["aht", "qa"]),
        tukey_hsd({"a": (3, 6.0, 14.0), "b": (4, 12.0, 40.0)}),
    ]
    for result in results:
        json.dumps(asdict(result), allow_nan=False)


# -- the demo data: cube-style frames vs the libraries on raw rows ----------------------------

WEEK = "2026-W47"


def week_bounds() -> tuple[datetime, datetime]:
    year, week = int(WEEK[:4]), int(WEEK[-2:])
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(), UTC)
    return start, start + pd.Timedelta(days=7)


def site_frame(raw, demo_dir: Path) -> pd.DataFrame:
    """Per-site AHT, QA accuracy and high-severity exposure for the week, as the cube has them."""
    start, end = week_bounds()
    decisions, staffing = demo_dir / "decisions" / "*.parquet", demo_dir / "staffing" / "*.parquet"
    return (
        raw.execute(
            f"""
        WITH d AS (
            SELECT site,
                   sum(handle_seconds) FILTER (WHERE NOT automated) AS handle_seconds,
                   count(*) FILTER (WHERE NOT automated) AS manual_decisions,
                   sum(handle_seconds * handle_seconds) FILTER (WHERE NOT automated) AS handle_sq,
                   count(*) FILTER (WHERE qa_sampled) AS qa_sampled,
                   count(*) FILTER (WHERE qa_sampled AND qa_correct) AS qa_correct
            FROM read_parquet('{decisions}')
            WHERE decided_at >= ? AND decided_at < ?
            GROUP BY site
        ), s AS (
            SELECT site, sum(high_severity_hours) / sum(productive_hours) AS hs_exposure
            FROM read_parquet('{staffing}')
            WHERE day >= ? AND day < ?
            GROUP BY site
        )
        SELECT d.*, handle_seconds / manual_decisions AS aht,
               qa_correct / qa_sampled AS qa_accuracy, s.hs_exposure
        FROM d JOIN s USING (site) ORDER BY site
        """,
            [start, end, start.date(), end.date()],
        )
        .df()
        .set_index("site")
    )


def raw_rows(raw, demo_dir: Path, table: str, where: str, params: list) -> pd.DataFrame:
    return raw.execute(
        f"SELECT * FROM read_parquet('{demo_dir / table / '*.parquet'}') WHERE {where}", params
    ).df()


@dataclass(frozen=True)
class DemoWeek:
    """The week's per-site frame from SQL, the same figures from raw rows, the raw AHT rows."""

    frame: pd.DataFrame
    by_site: pd.DataFrame
    manual: pd.DataFrame


@pytest.fixture(scope="module")
def demo_week(raw, demo_dir: Path) -> DemoWeek:
    manifest = json.loads((demo_dir / "manifest.json").read_text())
    assert manifest["latest_complete_week"] == WEEK
    start, end = week_bounds()
    decisions = raw_rows(
        raw, demo_dir, "decisions", "decided_at >= ? AND decided_at < ?", [start, end]
    )
    staffing = raw_rows(
        raw, demo_dir, "staffing", "day >= ? AND day < ?", [start.date(), end.date()]
    )
    manual = decisions[~decisions["automated"]]
    sampled = decisions[decisions["qa_sampled"]]
    by_site = pd.DataFrame(
        {
            "aht": manual.groupby("site")["handle_seconds"].mean(),
            "qa_accuracy": sampled.groupby("site")["qa_correct"].mean(),
            "qa_sampled": sampled.groupby("site").size().astype(float),
            "hs_exposure": staffing.groupby("site")["high_severity_hours"].sum()
            / staffing.groupby("site")["productive_hours"].sum(),
        }
    )
    frame = site_frame(raw, demo_dir)
    assert len(frame) == len(by_site) == 25
    return DemoWeek(frame, by_site, manual)


def test_demo_site_correlations_equal_scipy_on_raw_rows(demo_week: DemoWeek) -> None:
    result = correlation_matrix(demo_week.frame, ["aht", "qa_accuracy", "hs_exposure"])
    assert len(result.pairs) == 3
    for pair in result.pairs:
        x, y = demo_week.by_site[pair.x], demo_week.by_site[pair.y]
        pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
        close([pair.pearson_r, pair.pearson_p], [pearson.statistic, pearson.pvalue])
        close([pair.spearman_rho, pair.spearman_p], [spearman.statistic, spearman.pvalue])


def test_demo_site_regression_equals_statsmodels_wls_on_raw_rows(demo_week: DemoWeek) -> None:
    result = linear_regression(
        demo_week.frame, "qa_accuracy", ["aht", "hs_exposure"], weights="qa_sampled"
    )
    by_site = demo_week.by_site
    fitted = sm.WLS(
        by_site["qa_accuracy"],
        sm.add_constant(by_site[["aht", "hs_exposure"]]),
        weights=by_site["qa_sampled"],
    ).fit()
    assert_matches_statsmodels(result, fitted)


def test_demo_site_tukey_from_cube_sums_equals_pairwise_tukeyhsd_on_raw_rows(
    demo_week: DemoWeek,
) -> None:
    groups = {
        site: (row.manual_decisions, row.handle_seconds, row.handle_sq)
        for site, row in demo_week.frame.iterrows()
    }
    result = tukey_hsd(groups)
    with warnings.catch_warnings():  # the reference's own integration warnings
        warnings.simplefilter("ignore", IntegrationWarning)
        reference = pairwise_tukeyhsd(demo_week.manual["handle_seconds"], demo_week.manual["site"])
    assert len(result.pairs) == 300
    close([p.mean_diff for p in result.pairs], reference.meandiffs)
    close([p.ci_low for p in result.pairs], reference.confint[:, 0])
    close([p.p_adjusted for p in result.pairs], reference.pvalues, RANGE_RTOL)


def test_demo_overturn_logit_on_cube_counts_equals_logit_on_raw_rows(raw, demo_dir) -> None:
    """Appealed enforcement decisions: overturned on queue and region dummies."""
    appealed = "appealed AND action IN ('remove', 'restrict')"
    counts = raw.execute(
        f"""
        SELECT queue, region, count(*) AS appeals, count(*) FILTER (WHERE overturned) AS overturns
        FROM read_parquet('{demo_dir / "decisions" / "*.parquet"}')
        WHERE {appealed}
        GROUP BY queue, region
        """
    ).df()
    result = logit_binomial(counts, "overturns", "appeals", ["queue", "region"])
    rows = raw_rows(raw, demo_dir, "decisions", appealed, [])
    exog = dummies(rows, ["queue", "region"], [])
    fitted = sm.Logit(rows["overturned"].astype(float), exog).fit(disp=0)
    assert result.notes == () and result.total_trials == len(rows)
    assert [c.name for c in result.coefficients][1:] == list(exog.columns[1:])
    close([c.estimate for c in result.coefficients], fitted.params, 1e-6)
    close([c.std_error for c in result.coefficients], fitted.bse, 1e-6)
    close(result.log_likelihood, fitted.llf, 1e-6)


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Average handle time", "average handle time"),
        ("QA accuracy", "QA accuracy"),
        ("AHT", "AHT"),
    ],
)
def test_labels_read_naturally_inside_a_sentence(label: str, inside: str) -> None:
    from reportgen.analysis._deepdive_common import in_sentence

    assert in_sentence(label) == inside
