"""The metric kinds: one class per kind behind one protocol, and a package that stays pure.

Numbers of each kind are checked end to end against raw data elsewhere (test_figures,
test_insights, test_quantile_metrics …); these tests pin what the protocol promises.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.config.loader import load_catalog
from reportgen.config.models import MetricDef
from reportgen.semantics import KINDS, kind_class, kind_of
from reportgen.semantics.sketch import Histogram

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "reportgen" / "semantics"
CATALOG = ROOT / "configs" / "catalog.yaml"

#: what semantics/ may import: config models and the formula parser, the histogram, errors
ALLOWED = (
    "reportgen.semantics",
    "reportgen.config.models",
    "reportgen.config.formula",
    "reportgen.config._yaml",
    "reportgen.config",
    "reportgen.semantics.sketch",
    "reportgen.errors",
)


def _reportgen_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reportgen"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("reportgen")}
    return found


def test_semantics_imports_only_the_config_models_formulas_histogram_and_errors() -> None:
    for path in sorted(SEMANTICS.glob("*.py")):
        imports = _reportgen_imports(path)
        outside = {m for m in imports if m not in ALLOWED and not m.startswith(ALLOWED[0] + ".")}
        assert not outside, f"{path.name} imports {sorted(outside)}"


def test_every_metric_type_a_catalog_accepts_has_exactly_one_kind() -> None:
    (union, _) = typing.get_args(MetricDef)
    types = [
        t
        for model in typing.get_args(union)
        for t in typing.get_args(model.model_fields["type"].annotation)
    ]
    assert sorted(types) == sorted(t for kind in KINDS for t in kind.types)
    assert len(set(types)) == len(types)
    for name in types:
        assert name in kind_class(name).types


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG)


def _summed(catalog, measures: tuple[str, ...], seed: int) -> pd.DataFrame:
    """Three segments' summed measures, drawn so every kind's value is defined."""
    rng = np.random.default_rng(seed)
    rows = {}
    for m in measures:
        if catalog.measures[m].agg == "sketch":
            rows[m] = [
                Histogram(
                    np.arange(5, dtype=np.int64) + i, rng.integers(1, 50, 5).astype(float), 0.01
                )
                for i in range(3)
            ]
        elif catalog.measures[m].agg == "sum_squares":
            rows[m] = list(rng.uniform(1e6, 2e6, 3))
        else:
            rows[m] = list(rng.uniform(500, 1000, 3))
    return pd.DataFrame(rows, index=pd.Index(["a", "b", "c"], name="segment"))


@pytest.mark.parametrize("name", sorted(load_catalog(CATALOG).metrics))
def test_pooling_segments_gives_the_value_of_their_summed_measures(catalog, name: str) -> None:
    """The "Other" row is a true ratio of sums: pooled statistics = the value of Σ measures."""
    kind = kind_of(catalog.metrics[name])
    segments = _summed(catalog, kind.measures, seed=len(name))
    pooled = kind.pooled([kind.stats(row) for _, row in segments.iterrows()])
    whole = (
        segments.sum().to_frame().T if not kind.reads_sketch else segments.agg("sum").to_frame().T
    )
    expected = kind.values(whole).iloc[0]
    if pooled.value is None:  # a non-linear formula cannot be pooled from its parts
        assert kind.formula is not None
        return
    assert pooled.value == pytest.approx(expected, rel=1e-12)
    assert pooled.weight == pytest.approx(kind.weight(whole).iloc[0], rel=1e-12)


@pytest.mark.parametrize("name", sorted(load_catalog(CATALOG).metrics))
def test_a_kind_with_lmdi_parts_has_value_numerator_over_denominator(catalog, name: str) -> None:
    kind = kind_of(catalog.metrics[name])
    parts = kind.ratio_parts()
    if parts is None:
        assert kind.decomposition_refusal(name) is not None or kind.is_volume
        return
    segments = _summed(catalog, kind.measures, seed=3)
    numerator, denominator = parts(segments)
    assert np.allclose(numerator / denominator, kind.values(segments), rtol=1e-12)


def test_a_count_total_is_tested_as_a_rate_and_a_sum_total_is_not(catalog) -> None:
    decisions = kind_of(catalog.metrics["decisions"])
    backlog = kind_of(catalog.metrics["backlog"])
    assert decisions.test_kind(catalog.measures) == "rate"
    assert backlog.test_kind(catalog.measures) == "none"
    assert "snapshot" in backlog.untested_reason(catalog.measures)


def test_a_rate_is_events_per_unit_of_exposure_tested_as_a_poisson_rate(
    catalog, raw, demo_dir
) -> None:
    kind = kind_of(catalog.metrics["enforcements_per_million_views"])
    day = "DATE '2026-11-16' AND DATE '2026-11-22'"
    events, views = raw.execute(
        f"""SELECT
              (SELECT COUNT(*) FROM '{demo_dir}/decisions/*.parquet'
               WHERE action IN ('remove', 'restrict')
                 AND CAST(decided_at AS DATE) BETWEEN {day}),
              (SELECT SUM(content_views) FROM '{demo_dir}/views.parquet'
               WHERE day BETWEEN {day})"""
    ).fetchone()
    totals = pd.DataFrame({"enforcements": [events], "content_views": [views]})
    assert kind.values(totals).iloc[0] == pytest.approx(events / views * 1e6, rel=1e-12)
    assert kind.test_kind(catalog.measures) == "rate"
    assert kind.definition(catalog.measures) == "Σ enforcements per 1,000,000 of Σ content_views"


def test_a_scaled_rate_change_is_reported_on_the_metric_scale(catalog) -> None:
    """Enforcements per million views: the effect is the difference of the shown values."""
    from reportgen.analysis.significance import change_test

    kind = kind_of(catalog.metrics["enforcements_per_million_views"])
    now = pd.DataFrame({"enforcements": [2_600.0], "content_views": [9.1e9]})
    before = pd.DataFrame({"enforcements": [2_400.0], "content_views": [9.0e9]})
    test = change_test(
        kind.test_kind(catalog.measures),
        kind.stats(now.iloc[0]),
        kind.stats(before.iloc[0]),
        days=(7, 7),
        confidence=0.95,
        scale=kind.effect_scale,
    )
    shown = kind.values(now).iloc[0] - kind.values(before).iloc[0]
    assert test.result is not None
    assert test.result.effect == pytest.approx(shown, rel=1e-9)
    assert test.result.ci_low < shown < test.result.ci_high
