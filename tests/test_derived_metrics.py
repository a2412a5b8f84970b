"""Derived metrics (``type: derived`` with a ``formula``) on the demo data.

Each figure is recomputed from the raw rows with hand-written DuckDB SQL, so
an average of per-segment ratios, a lost filter or a wrong inlining of a
referenced metric would show; the report that shows them builds and renders.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.analysis.significance import DERIVED_UNTESTED
from reportgen.config import load_catalog
from reportgen.config.formula import evaluate, parse_formula

REL = 1e-9
W47 = date(2026, 11, 16)
W46 = date(2026, 11, 9)

EXTRA_METRICS = """
  appeals_per_1k:
    label: Appeals per 1,000 decisions
    type: derived
    formula: 1000 * appeals / nullif(decisions, 0)
    format: decimal
    direction: lower_is_better
    description: Appeals of enforcement decisions per thousand decisions taken.
  paid_productivity_via_metrics:
    label: Paid productivity (from metrics)
    type: derived
    formula: throughput * utilization
    format: rate
    direction: higher_is_better
    description: Throughput times utilization; equals manual decisions per paid hour.
"""

REPORT = """\
title: Derived metrics test
period: {grain: week, timezone: UTC}
metrics:
  - metric: decisions_per_paid_hour
    breakdowns: [region, site]
  - metric: appeals_per_1k
    breakdowns: [region]
  - metric: paid_productivity_via_metrics
    breakdowns: [region]
trailing_periods: 8
sections: [summary, anomalies, decomposition, metrics, significance, definitions]
insights:
  decomposition: {dimensions: [region]}
outputs: [pdf, pptx, html, xlsx, csv]
"""


@pytest.fixture(scope="module")
def derived_report(demo_configs: Path, tmp_path_factory: pytest.TempPathFactory):
    from reportgen import build_report

    root = tmp_path_factory.mktemp("derived")
    configs = root / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    catalog = configs / "catalog.yaml"
    catalog.write_text(catalog.read_text() + EXTRA_METRICS, encoding="utf-8")
    path = configs / "reports" / "derived.yaml"
    path.write_text(REPORT, encoding="utf-8")
    return build_report(
        path,
        period="2026-W47",
        formats=["pdf", "pptx", "html", "xlsx", "csv"],
        out_dir=root / "output",
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


def decisions_in(demo_dir: Path, start: date) -> str:
    end = start + timedelta(days=7)
    return (
        f"read_parquet('{demo_dir}/decisions/*.parquet') WHERE decided_at >= "
        f"TIMESTAMPTZ '{start} 00:00:00+00' AND decided_at < TIMESTAMPTZ '{end} 00:00:00+00'"
    )


def staffing_in(demo_dir: Path, start: date) -> str:
    end = start + timedelta(days=6)
    return f"read_parquet('{demo_dir}/staffing/*.parquet') WHERE day BETWEEN DATE '{start}' AND DATE '{end}'"


def paid_productivity_sql(demo_dir: Path, start: date, by: str | None = None) -> str:
    """Σ manual decisions / Σ paid hours, overall or per ``by``, from the raw rows."""
    key = f"{by}, " if by else ""
    group = f"GROUP BY {by}" if by else ""
    join = f"USING ({by})" if by else "ON TRUE"
    return f"""
        WITH d AS (SELECT {key}count(*) FILTER (WHERE NOT automated) AS manual
                   FROM {decisions_in(demo_dir, start)} {group}),
             s AS (SELECT {key}sum(paid_hours) AS paid FROM {staffing_in(demo_dir, start)} {group})
        SELECT {key}manual / paid FROM d JOIN s {join}
    """


def test_derived_total_is_ratio_of_sums(raw, demo_dir, derived_report):
    m = derived_report.figures.metrics["decisions_per_paid_hour"]
    (expected,) = raw.execute(paid_productivity_sql(demo_dir, W47)).fetchone()
    (previous,) = raw.execute(paid_productivity_sql(demo_dir, W46)).fetchone()
    assert m.type == "derived"
    assert m.formula == "manual_decisions / nullif(paid_hours, 0)"
    assert m.value == pytest.approx(expected, rel=REL)
    assert m.previous == pytest.approx(previous, rel=REL)
    assert m.stats.numerator / m.stats.denominator == pytest.approx(expected, rel=REL)


def test_derived_breakdown_matches_raw_sql(raw, demo_dir, derived_report):
    m = derived_report.figures.metrics["decisions_per_paid_hour"]
    for dim in ("region", "site"):
        expected = dict(raw.execute(paid_productivity_sql(demo_dir, W47, dim)).fetchall())
        shown = {s.segment: s.value for s in m.breakdowns[dim]}
        assert set(shown) == {str(k) for k in expected}
        for segment, value in expected.items():
            assert shown[str(segment)] == pytest.approx(value, rel=REL)
        # never the average of the segments' ratios
        mean_of_ratios = sum(expected.values()) / len(expected)
        assert abs(m.value - mean_of_ratios) > 1e-6


def test_scaled_derived_breakdown(raw, demo_dir, derived_report):
    m = derived_report.figures.metrics["appeals_per_1k"]
    rows = raw.execute(
        "SELECT region, 1000.0 * count(*) FILTER (WHERE appealed AND action IN ('remove', 'restrict')) "
        f"/ count(*) FROM {decisions_in(demo_dir, W47)} GROUP BY region"
    ).fetchall()
    shown = {s.segment: s.value for s in m.breakdowns["region"]}
    for region, value in rows:
        assert shown["(missing)" if region is None else region] == pytest.approx(value, rel=REL)
    (total,) = raw.execute(
        "SELECT 1000.0 * count(*) FILTER (WHERE appealed AND action IN ('remove', 'restrict')) "
        f"/ count(*) FROM {decisions_in(demo_dir, W47)}"
    ).fetchone()
    assert m.value == pytest.approx(total, rel=REL)


def test_metric_references_are_inlined_as_ratios_of_sums(derived_report):
    via = derived_report.figures.metrics["paid_productivity_via_metrics"]
    direct = derived_report.figures.metrics["decisions_per_paid_hour"]
    assert via.value == pytest.approx(direct.value, rel=REL)
    for a, b in zip(via.series, direct.series, strict=True):
        assert a.value == pytest.approx(b.value, rel=REL)
    shown = {s.segment: s.value for s in direct.breakdowns["region"]}
    for s in via.breakdowns["region"]:
        assert s.value == pytest.approx(shown[s.segment], rel=REL)


def test_derived_metrics_are_not_tested_and_say_why(derived_report):
    tests = derived_report.insights.significance.metrics
    assert tests["decisions_per_paid_hour"].kind == "none"
    assert tests["decisions_per_paid_hour"].reason == DERIVED_UNTESTED


def test_quotient_is_decomposed_exactly_other_shapes_are_not(derived_report):
    decompositions = derived_report.insights.decompositions
    result = decompositions["decisions_per_paid_hour"].result
    m = derived_report.figures.metrics["decisions_per_paid_hour"]
    assert result.change == pytest.approx(m.value - m.previous, rel=1e-9)
    assert result.mix + result.rate == pytest.approx(result.change, rel=1e-9, abs=1e-12)
    assert "appeals_per_1k" in decompositions  # 1000 · appeals / decisions is a quotient
    assert "paid_productivity_via_metrics" not in decompositions  # a product of quotients


def test_derived_metric_renders_with_its_formula(derived_report):
    pdf = derived_report.artifacts["pdf"]
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Decisions per paid hour" in text
    assert "Appeals per 1,000 decisions" in text
    assert "nullif(paid_hours, 0)" in text  # the definitions appendix shows the formula


def test_figures_json_carries_the_formula(derived_report):
    path = derived_report.artifacts["figures"]
    data = json.loads(path.read_text())
    assert "1000 * appeals" in json.dumps(data)


def test_evaluation_leaves_zero_divisors_empty():
    import pandas as pd

    catalog = load_catalog(Path(__file__).parent.parent / "configs" / "catalog.yaml")
    metric = catalog.metrics["decisions_per_paid_hour"]
    totals = pd.DataFrame({"manual_decisions": [10.0, 5.0], "paid_hours": [4.0, 0.0]})
    values = evaluate(metric.expression, totals)
    assert values.iloc[0] == 2.5
    assert pd.isna(values.iloc[1])
    assert parse_formula("(a + b) / nullif(c, 0)").op == "/"


def test_every_renderer_takes_a_derived_metric(derived_report):
    from pptx import Presentation

    deck = Presentation(str(derived_report.artifacts["pptx"]))
    texts = [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    assert any("Decisions per paid hour" in t for t in texts)
    assert "Decisions per paid hour" in derived_report.artifacts["html"].read_text()
    assert derived_report.artifacts["xlsx"].stat().st_size > 0


def resolved(text: str):
    """A formula with every name taken as a measure."""
    from reportgen.config.formula import Ref, substitute

    return substitute(parse_formula(text), Ref, lambda node, divisor: None)


@pytest.mark.parametrize(
    ("text", "scale", "numerator", "denominator"),
    [
        ("1000 * appeals / nullif(decisions, 0)", 1000.0, ("appeals",), ("decisions",)),
        ("appeals / nullif(decisions, 0) * 1000", 1000.0, ("appeals",), ("decisions",)),
        ("(paid - productive) / nullif(paid, 0)", 1.0, ("paid", "productive"), ("paid",)),
        ("a / nullif(b + c, 0) / 2", 0.5, ("a",), ("b", "c")),
        ("a / nullif(b, 0) + 1", None, None, None),
        ("throughput_num / nullif(b, 0) * c", None, None, None),
    ],
)
def test_quotient_shapes(text, scale, numerator, denominator):
    from reportgen.config.formula import as_quotient, measures_in

    quotient = as_quotient(resolved(text))
    if scale is None:
        assert quotient is None
        return
    assert quotient is not None and quotient.scale == scale
    assert measures_in(quotient.numerator) == numerator
    assert measures_in(quotient.denominator) == denominator


@pytest.mark.parametrize(
    ("text", "zero"),
    [
        ("decisions", True),
        ("nullif(decisions, 0)", False),
        ("2 * nullif(decisions, 0)", False),
        ("nullif(a, 0) - nullif(b, 0)", True),  # a difference can cancel
        ("a / nullif(b, 0)", True),  # zero when a is
        ("3 - 3", True),
        ("1000", False),
    ],
)
def test_which_divisors_can_be_zero(text, zero):
    from reportgen.config.formula import may_be_zero

    assert may_be_zero(resolved(text)) is zero
