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
