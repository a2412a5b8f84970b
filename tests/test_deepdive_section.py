"""The deep-dive section: site-level inputs come from the cube, statistics match scipy on raw rows."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from scipy import stats as sps

from reportgen import build_report

REPORT = """\
title: Deep dive
metrics: [aht, qa_accuracy, sla_attainment, high_severity_exposure]
breakdowns: [region]
sections: [summary, deep_dive]
outputs: [html]
insights:
  deep_dive:
    unit: site
    regression: {outcome: qa_accuracy, predictors: [aht, high_severity_exposure]}
    logit: {successes: overturns, trials: appeals, by: [queue, region]}
    tukey: [aht]
"""


@pytest.fixture(scope="module")
def deep(demo_configs, tmp_path_factory):
    config = demo_configs / "reports" / "deep.yaml"
    config.write_text(REPORT)
    return build_report(config, period="2026-W47", out_dir=tmp_path_factory.mktemp("deep"))


def test_site_correlation_matches_scipy_on_raw_rows(deep, raw, demo_dir):
    start = date(2026, 11, 16)
    rows = raw.execute(
        f"SELECT site, sum(handle_seconds) FILTER (WHERE NOT automated) / count(*) FILTER (WHERE NOT automated), "
        f"avg(qa_correct::INT) FILTER (WHERE qa_sampled) FROM read_parquet('{demo_dir}/decisions/*.parquet') "
        f"WHERE decided_at >= TIMESTAMPTZ '{start} 00:00:00+00' "
        f"AND decided_at < TIMESTAMPTZ '{start + timedelta(days=7)} 00:00:00+00' GROUP BY site ORDER BY site"
    ).fetchall()
    r, p = sps.pearsonr([a for _, a, _ in rows], [q for _, _, q in rows])
    pair = next(
        x for x in deep.insights.deep_dive.correlation.pairs if {x.x, x.y} == {"aht", "qa_accuracy"}
    )
    assert pair.n == len(rows)
    assert pair.pearson_r == pytest.approx(r, rel=1e-9)
    assert pair.pearson_p == pytest.approx(p, rel=1e-6)


def test_deep_dive_sections_render_and_reach_figures_json(deep):
    html = deep.artifacts["html"].read_text()
    assert "Deep dive across sites" in html
    assert "Correlations" in html
    assert "Tukey HSD" in html
    data = json.loads(deep.artifacts["figures"].read_text())["insights"]["deep_dive"]
    assert data["regression"]["outcome"] == "qa_accuracy"
    assert data["logit"]["cells"] > 0
    assert data["logit"]["coefficients"] or data["logit"]["notes"]  # estimated, or says why not
    assert data["clusters"]["k"] >= 2


def test_leadership_report_has_no_deep_dive(built_report):
    assert built_report.insights.deep_dive is None


def _pair(a: str, b: str, diff: float, reject: bool = True, half: float = 0.9):
    from reportgen.analysis._deepdive_tukey import TukeyPair

    return TukeyPair(a, b, diff, 1.0, abs(diff), 0.01, diff - half, diff + half, reject)


def _tukey(pairs):
    from reportgen.analysis._deepdive_tukey import TukeyResult

    return TukeyResult(("A",), (1.0,), (1.0,), tuple(pairs), 1.0, 10.0, 3.0, 0.05, 1.0, 0.1, ())


def test_tukey_table_lists_the_largest_differences_first_in_the_metrics_unit():
    from reportgen.compose._insights import TUKEY_ROWS, tukey_table

    pairs = [_pair(f"S{i:02d}", "Z", float(i)) for i in range(1, 20)] + [_pair("X", "Y", 50, False)]
    table = tukey_table(_tukey(pairs), "Average handle time", "Site", "seconds")
    diffs = [row[1].value for row in table.rows]
    assert diffs == sorted(diffs, reverse=True) and len(diffs) == TUKEY_ROWS
    assert diffs[0] == 19.0  # the non-significant 50 s pair is not listed
    assert table.rows[0][1].text == "+19 s"
    assert table.rows[0][2].text == "+18.1 s to +19.9 s"
    assert table.caption == f"19 of 20 pairs differ; the {TUKEY_ROWS} largest shown."
    assert table.columns[2].label == "95% CI (family-wise)"


def test_tukey_bounds_near_zero_keep_their_digits_and_proportions_read_in_pp():
    from reportgen.compose._insights import tukey_table

    pair = _pair("A", "B", -0.0096, half=0.009)
    table = tukey_table(_tukey([pair]), "QA accuracy", "Site", "percent")
    assert table.rows[0][1].text == "−0.96 pp"
    assert table.rows[0][2].text == "−1.86 pp to −0.06 pp"
    assert table.caption == "1 of 1 pairs differ; all shown, largest first."
