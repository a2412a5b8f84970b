"""The report's statistics against scipy/statsmodels run on the raw demo rows.

The analysis layer only ever sees the cube's sufficient statistics; here every
test statistic, p-value and decomposition is recomputed from the raw decisions
and staffing rows with the reference libraries.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

REL = 1e-9
W47, W46 = date(2026, 11, 16), date(2026, 11, 9)


def window(start: date) -> str:
    end = start + timedelta(days=7)
    return f"decided_at >= TIMESTAMPTZ '{start} 00:00:00+00' AND decided_at < TIMESTAMPTZ '{end} 00:00:00+00'"


@pytest.fixture(scope="module")
def decisions(demo_dir):
    return f"read_parquet('{demo_dir}/decisions/*.parquet')"


@pytest.fixture(scope="module")
def insights(built_report):
    return built_report.insights


def handle_times(raw, decisions, start, extra: str = "") -> np.ndarray:
    sql = f"SELECT handle_seconds FROM {decisions} WHERE NOT automated AND {window(start)} {extra}"
    return raw.execute(sql).fetchnumpy()["handle_seconds"]


def test_aht_change_is_welch_t_on_raw_handle_times(raw, decisions, insights):
    expected = sps.ttest_ind(
        handle_times(raw, decisions, W47), handle_times(raw, decisions, W46), equal_var=False
    )
    result = insights.significance.metrics["aht"].result
    assert result.test == "Welch t-test"
    assert result.statistic == pytest.approx(expected.statistic, rel=REL)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert result.df == pytest.approx(expected.df, rel=REL)


def test_qa_accuracy_change_is_two_proportion_z_on_raw_counts(raw, decisions, insights):
    counts = [
        raw.execute(
            f"SELECT sum(qa_correct::INT), count(*) FROM {decisions} WHERE qa_sampled AND {window(w)}"
        ).fetchone()
        for w in (W47, W46)
    ]
    z, p = proportions_ztest([counts[0][0], counts[1][0]], [counts[0][1], counts[1][1]])
    result = insights.significance.metrics["qa_accuracy"].result
    assert result.statistic == pytest.approx(z, rel=REL)
    assert result.p_value == pytest.approx(p, rel=REL)


def test_throughput_change_is_poisson_score_test_on_raw_rows(raw, decisions, demo_dir, insights):
    staffing = f"read_parquet('{demo_dir}/staffing/*.parquet')"
    counts, hours = [], []
    for w in (W47, W46):
        counts.append(
            raw.execute(
                f"SELECT count(*) FROM {decisions} WHERE NOT automated AND {window(w)}"
            ).fetchone()[0]
        )
        hours.append(
            raw.execute(
                f"SELECT sum(productive_hours) FROM {staffing} WHERE day BETWEEN '{w}' AND '{w + timedelta(days=6)}'"
            ).fetchone()[0]
        )
    expected = sm_rates.test_poisson_2indep(
        counts[0], hours[0], counts[1], hours[1], method="score", compare="diff"
    )
    result = insights.significance.metrics["throughput"].result
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-7)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6)


def test_utilization_is_not_tested_because_hours_are_not_counts(insights):
    test = insights.significance.metrics["utilization"]
    assert test.result is None
    assert "hours" in test.reason


def test_aht_across_regions_is_one_way_anova_on_raw_rows(raw, decisions, insights):
    regions = [
        r for (r,) in raw.execute(f"SELECT DISTINCT region FROM {decisions} ORDER BY 1").fetchall()
    ]
    groups = [handle_times(raw, decisions, W47, f"AND region = '{r}'") for r in regions]
    expected = sps.f_oneway(*groups)
    result = insights.significance.segments[("aht", "region")].across
    assert result.statistic == pytest.approx(expected.statistic, rel=REL)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6)


def test_qa_accuracy_across_regions_is_chi_square_on_raw_counts(raw, decisions, insights):
    rows = raw.execute(
        f"SELECT region, sum(qa_correct::INT), count(*) FROM {decisions} WHERE qa_sampled AND {window(W47)} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    table = np.array([[x for _, x, _ in rows], [n - x for _, x, n in rows]])
    chi2, p, dof, _ = sps.chi2_contingency(table, correction=False)
    result = insights.significance.segments[("qa_accuracy", "region")].across
    assert result.statistic == pytest.approx(chi2, rel=REL)
    assert result.p_value == pytest.approx(p, rel=1e-6)
    assert result.df == dof


def test_segment_changes_are_benjamini_hochberg_adjusted(insights):
    tests = insights.significance.segments[("aht", "queue")].changes
    segments = [
        s for s, t in tests.items() if t.result is not None and t.result.p_value is not None
    ]
    p_values = [tests[s].result.p_value for s in segments]
    expected = multipletests(p_values, method="fdr_bh")[1]
    for segment, q in zip(segments, expected, strict=True):
        assert tests[segment].q_value == pytest.approx(q, rel=REL)


def test_aht_decomposition_adds_up_to_the_change(built_report):
    aht = built_report.figures.metrics["aht"]
    result = built_report.insights.decompositions["aht"].result
    assert result.change == pytest.approx(aht.delta, rel=REL)
    assert result.mix + result.rate == pytest.approx(aht.delta, rel=REL)
    assert sum(t.mix + t.rate for t in result.terms) == pytest.approx(aht.delta, rel=REL)


def test_aht_decomposition_matches_lmdi_on_raw_rows(raw, decisions, built_report):
    """Independent LMDI-I on per-queue sums straight from the raw rows."""
    rows = {}
    for key, w in (("1", W47), ("0", W46)):
        for queue, total, n in raw.execute(
            f"SELECT queue, sum(handle_seconds), count(*) FROM {decisions} WHERE NOT automated AND {window(w)} GROUP BY 1"
        ).fetchall():
            rows.setdefault(queue, {})[key] = (total, n)
    n1 = sum(v["1"][1] for v in rows.values())
    n0 = sum(v["0"][1] for v in rows.values())

    def log_mean(a, b):
        return a if a == b else (a - b) / (np.log(a) - np.log(b))

    mix = rate = 0.0
    for v in rows.values():
        (t1, c1), (t0, c0) = v["1"], v["0"]
        w1, w0 = t1 / n1, t0 / n0
        weight = log_mean(w1, w0)
        mix += weight * np.log((c1 / n1) / (c0 / n0))
        rate += weight * np.log((t1 / c1) / (t0 / c0))
    result = built_report.insights.decompositions["aht"].result
    assert result.mix == pytest.approx(mix, rel=1e-9)
    assert result.rate == pytest.approx(rate, rel=1e-9)


def test_aht_sentence_says_significance_and_drivers(built_report, analyst_report):
    """The analyst's metric section keeps the evidence; the leadership edition says it once."""
    from reportgen.analysis.significance import significance_phrase

    test = built_report.insights.significance.metrics["aht"]
    assert significance_phrase(test, 0.05) == "significant, p < 0.001"  # the analyst's words
    section = next(s for s in analyst_report.document.sections if s.id == "aht")
    text = " ".join(p for b in section.blocks if b.kind == "narrative" for p in b.paragraphs)
    assert "Average handle time was" in text
    assert "mix shift between queues" in text
    said = [
        p
        for s in built_report.document.sections
        for b in s.blocks
        if b.kind == "narrative"
        for p in b.paragraphs
        if "Average handle time was" in p
    ]
    assert len(said) == 1  # no sentence twice in the leadership edition
    assert "unlikely to be noise" in said[0]  # the leadership edition words the test
    assert "largest: toward Misinformation" in text


def test_anomaly_ids_are_stable_across_rebuilds(weekly_config, built_report, tmp_path):
    from reportgen import build_report

    again = build_report(weekly_config, period="2026-W47", formats=["html"], out_dir=tmp_path)
    assert [a.id for a in again.insights.anomalies] == [
        a.id for a in built_report.insights.anomalies
    ]


def test_figures_json_carries_tests_anomalies_and_decompositions(built_report):
    import json

    data = json.loads(built_report.artifacts["figures"].read_text())["insights"]
    assert data["tests"]["aht"]["test"] == "Welch t-test"
    assert (
        data["tests"]["aht"]["p_value"]
        == built_report.insights.significance.metrics["aht"].result.p_value
    )
    assert {a["id"] for a in data["anomalies"]} == {a.id for a in built_report.insights.anomalies}
    assert (
        data["decompositions"]["aht"]["mix"]
        == built_report.insights.decompositions["aht"].result.mix
    )


# -- the report finds what the generator planted ----------------------------------------------


@pytest.fixture(scope="module")
def analysis(weekly_config):
    """Insights for any week from one cube (no rendering): what the report would flag.

    Each week is analysed once per module (three planted incidents share W47); tests only read."""
    from functools import cache

    from reportgen.analysis.insights import analyze
    from reportgen.config import load_report
    from reportgen.data.plan import needed_measures
    from reportgen.data.scan import compute_cube
    from reportgen.figures import Targets, compute_figures
    from reportgen.periods import parse_period

    report = load_report(weekly_config)
    cube = compute_cube(report, needed_measures(report))
    targets = Targets.load(report)

    @cache
    def run(week: str):
        figures = compute_figures(report, cube, parse_period(week), targets)
        return analyze(report, cube, figures)

    return run


@pytest.fixture(scope="module")
def manifest_incidents(demo_dir):
    import json

    return json.loads((demo_dir / "manifest.json").read_text())["incidents"]


def test_every_planted_incident_is_flagged_in_its_week(analysis, manifest_incidents):
    for incident in manifest_incidents:
        flagged = analysis(incident["week"]).anomalies
        hits = [
            a
            for a in flagged
            if (a.metric, a.dimension, a.segment)
            == (incident["metric"], incident["dimension"], incident["segment"])
        ]
        assert hits, f"{incident['id']} not flagged in {incident['week']}"
        assert all(a.period == incident["week"] for a in hits)


@pytest.mark.parametrize("week", [f"2026-W{w}" for w in range(38, 45)])
def test_incident_free_weeks_raise_few_anomalies(analysis, week):
    assert len(analysis(week).anomalies) <= 4


def test_a_metric_without_a_test_says_why_in_its_own_terms(weekly_config):
    from reportgen.analysis.significance import (
        DERIVED_UNTESTED,
        UNTESTABLE,
        no_test_reason,
        test_kind,
    )
    from reportgen.config.loader import load_report

    report = load_report(weekly_config)
    assert test_kind(report, "utilization") == "none"
    assert no_test_reason(report, "utilization") == UNTESTABLE  # hours over hours
    assert test_kind(report, "decisions_per_paid_hour") == "none"
    assert no_test_reason(report, "decisions_per_paid_hour") == DERIVED_UNTESTED


# -- the formatting rules every sentence, tile and table follows (reportgen.formatting) --------


def _agrees(value: str, previous: str, change: str) -> bool:
    """Does the change read as the difference of the two values as shown?"""

    def number(text: str) -> float:
        return float(re.sub(r"[^\d.-]", "", text.replace("−", "-")))

    return abs((number(value) - number(previous)) - number(change)) < 1e-9


@pytest.mark.parametrize(
    ("current", "previous"),
    [(0.8345, 0.8349), (0.6836, 0.7094), (0.970, 0.940), (0.1649, 0.2374), (0.5, 0.5)],
)
def test_a_change_agrees_with_the_rounded_values_beside_it(current, previous):
    from reportgen.formatting import comparison_decimals, format_change, format_value

    d = comparison_decimals(current, previous, "percent")
    value, before = format_value(current, "percent", d), format_value(previous, "percent", d)
    change = format_change(current - previous, "percent", d)
    assert _agrees(value.rstrip("%"), before.rstrip("%"), change), (value, before, change)
    assert change not in ("−0.0 pp", "+0.0 pp", "-0.0 pp")
    if current != previous:
        assert not change.startswith("±")


def test_the_83_5_to_83_4_case_is_neither_zero_nor_unchanged():
    from reportgen.formatting import comparison_decimals, format_change

    d = comparison_decimals(0.83438, 0.83454, "percent")
    assert d > 1
    assert format_change(0.83438 - 0.83454, "percent", d) == "−0.016 pp"


def test_70_9_to_68_4_is_not_minus_2_6_pp():
    from reportgen.formatting import comparison_decimals, format_change, format_value

    current, previous = 0.68361, 0.70938
    d = comparison_decimals(current, previous, "percent")
    texts = [format_value(current, "percent", d), format_value(previous, "percent", d)]
    assert texts == ["68.36%", "70.94%"]
    assert format_change(current - previous, "percent", d) == "−2.58 pp"


def test_no_signed_zero_and_one_minus_sign():
    from reportgen.formatting import MINUS, format_change, format_relative, format_value

    assert format_change(0.0, "percent") == "±0.0 pp"
    assert format_change(-0.00004, "percent") == "−0.004 pp"  # more digits, never "−0.0 pp"
    assert format_relative(0.00009) == "+0.01%"
    assert format_value(-0.00001, "rate") == "0.0"
    assert format_value(-1.5, "rate") == f"{MINUS}1.5"
    assert format_change(-7.1, "seconds") == f"{MINUS}7.1 s"
    for text in (format_value(-3, "count"), format_change(-3, "count"), format_relative(-0.2)):
        assert "-" not in text and text.startswith(MINUS)


def test_changes_shown_together_share_a_precision():
    from reportgen.formatting import format_change

    assert [format_change(v, "seconds") for v in (10.2, 3.2, -0.6)] == [
        "+10.2 s",
        "+3.2 s",
        "−0.6 s",
    ]


def test_office_number_formats_sign_negatives_with_u2212():
    from reportgen.formatting import office_number_format, signed_office_format

    for fmt in ("count", "percent", "seconds", "minutes", "rate", "hours", "decimal"):
        code = office_number_format(fmt)  # type: ignore[arg-type]
        assert '"−"' in code and ";-" not in code, code
    assert signed_office_format("0.0%") == '+0.0%;"−"0.0%;0.0%'


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.053, "p = 0.053"),
        (0.047, "p = 0.047"),
        (0.0501, "p = 0.0501"),
        (0.41, "p = 0.41"),
        (0.004, "p = 0.004"),
        (0.0004, "p < 0.001"),
        (0.06, "p = 0.06"),
    ],
)
def test_p_values_never_contradict_the_verdict_at_the_threshold(p, text):
    from reportgen.formatting import format_p

    assert format_p(p, 0.05) == text
    shown = float(text.split()[-1])
    assert text.startswith("p <") or (shown < 0.05) == (p < 0.05)


def test_rates_carry_their_unit_and_intervals_have_one_unit():
    from reportgen.formatting import format_interval, format_value

    assert (
        format_value(49.04, "rate", unit="decisions per productive hour")
        == "49.0 decisions / productive hour"
    )
    assert format_interval(-2.3, -0.93, "hours") == "−2.3 h to −0.9 h"
    assert format_interval(-0.16, 0.07, "minutes") == "−0.2 min to +0.1 min"


def test_hours_metric_is_shown_in_one_unit(built_report):
    """The median time to action (catalog unit hours) reads in minutes on every page."""
    from reportgen.wording import display_format, interval_text, value_text

    m = built_report.figures.metrics["time_to_action_p50"]
    assert display_format(m) == "minutes"
    assert value_text(m, m.value).endswith(" min")
    assert value_text(m, 2.0).endswith(" min")  # even a segment over an hour
    assert interval_text(m, -0.0025, 0.0012).count(" min") == 2
    p90 = built_report.figures.metrics["time_to_action_p90"]
    assert display_format(p90) == "hours"
    assert value_text(p90, 0.5) == "0.5 h"  # a fast segment of an hours metric stays in hours
    details = [a.detail for a in built_report.insights.anomalies if a.metric == m.metric]
    assert all(" h " not in d for d in details), details


def test_outputs_show_config_paths_relative_to_the_configs_folder():
    from reportgen.build import shown_path

    assert shown_path("/work/x/configs/reports/weekly.yaml") == "reports/weekly.yaml"
    assert shown_path("/srv/elsewhere/weekly.yaml") == "weekly.yaml"
    assert shown_path("../data/demo/views.parquet") == "../data/demo/views.parquet"
