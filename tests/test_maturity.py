"""Maturing metrics: a period younger than the metric's matures_after is provisional."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen import build_report
from reportgen.config.loader import load_report
from reportgen.config.models import Maturity
from reportgen.errors import ConfigError

REPORT = """\
title: Maturity check
metrics: [overturn_rate, aht]
trailing_periods: 4
sections: [summary]
outputs: [pdf]
"""


@pytest.mark.parametrize(("after", "days"), [("14d", 14), ("2w", 14), ("36h", 2), ("24h", 1)])
def test_durations_read_as_whole_days(after, days):
    assert Maturity(after=after).days == days


def test_a_bad_duration_names_the_catalog_line(tmp_path):
    configs = Path(__file__).resolve().parent.parent / "configs"
    shutil.copytree(configs, tmp_path / "configs")
    catalog = tmp_path / "configs" / "catalog.yaml"
    text = catalog.read_text().replace("after: 7d,", "after: 7 days,")
    catalog.write_text(text)
    line = text[: text.index("after: 7 days,")].count("\n") + 1
    with pytest.raises(ConfigError) as info:
        load_report(tmp_path / "configs" / "reports" / "weekly_leadership.yaml")
    assert f"catalog.yaml:{line}:" in str(info.value)
    assert "'7 days' is not a duration" in str(info.value) and "14d" in str(info.value)


def test_shorthand_string_sets_the_default_reason():
    from reportgen.config.models import RatioMetric

    metric = RatioMetric(
        label="x",
        type="proportion",
        numerator="a",
        denominator="b",
        format="percent",
        direction="neutral",
        description="x",
        matures_after="7d",
    )
    assert metric.matures_after == Maturity(after="7d")


@pytest.fixture(scope="module")
def young(demo_configs: Path, tmp_path_factory: pytest.TempPathFactory):
    """2026-W47 built the Wednesday after (data through Tue 24 Nov): appeals still arriving."""
    config = demo_configs / "reports" / "maturity_check.yaml"
    config.write_text(REPORT, encoding="utf-8")
    return build_report(
        config,
        period="2026-W47",
        out_dir=tmp_path_factory.mktemp("maturity"),
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
        cache=False,
    )


def test_figures_json_marks_the_young_period_provisional(young):
    metrics = json.loads(young.artifacts["figures"].read_text())["metrics"]
    overturn = metrics["overturn_rate"]
    assert overturn["provisional"] is True and overturn["matures_on"] == "2026-12-06"
    assert overturn["provisional_reason"] == "appeals still arriving"
    flags = {p["period"]: p["provisional"] for p in overturn["series"]}
    assert flags == {"2026-W44": False, "2026-W45": False, "2026-W46": True, "2026-W47": True}
    assert metrics["aht"]["provisional"] is False and metrics["aht"]["matures_on"] is None


def test_pdf_labels_the_tile_and_qualifies_the_sentence(young):
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(young.artifacts["pdf"]).pages
    )
    assert "provisional — appeals still arriving" in text  # the KPI tile's note
    # the brief names what not to act on yet
    assert (
        "Still provisional: Appeal overturn rate (appeals still arriving until 06 Dec 2026)" in text
    )


def test_a_sentence_on_a_provisional_figure_claims_no_test(young):
    from reportgen.wording import metric_sentence

    m = young.figures.metrics["overturn_rate"]
    phrase = young.insights.phrase("overturn_rate")
    sentence = metric_sentence(m, "2026-W47", "2026-W46", phrase)
    assert "provisional: appeals still arriving until 06 Dec 2026" in sentence
    assert "significant" not in sentence  # no test claimed on a figure still filling up


def test_an_anomaly_on_a_provisional_figure_is_kept_but_qualified(young):
    from reportgen.analysis.anomalies import Anomaly
    from reportgen.analysis.insights import qualify_provisional

    common = {
        "dimension": None,
        "segment": None,
        "period": "2026-W47",
        "method": "history",
        "observed": 0.05,
        "baseline": 0.12,
        "robust_z": -6.0,
        "delta": -0.07,
        "direction": "down",
        "sentiment": "good",
        "volume": 900.0,
        "threshold": 3.5,
        "detail": "Appeal overturn rate was 5.0% vs a median of 12.0%.",
    }
    young_one = Anomaly(id="A-1", metric="overturn_rate", **common)
    mature_one = Anomaly(id="A-2", metric="aht", **common)
    qualified, untouched = qualify_provisional((young_one, mature_one), young.figures)
    assert qualified.provisional and qualified.id == "A-1"
    assert "Provisional: appeals still arriving until 06 Dec 2026" in qualified.detail
    assert "may be late data, not a change" in qualified.detail
    assert untouched == mature_one


def test_the_catalog_schema_accepts_the_shorthand_and_rejects_other_text():
    import jsonschema

    from reportgen.config.models import Catalog

    metric = Catalog.model_json_schema()["$defs"]["RatioMetric"]["properties"]["matures_after"]
    for good in ("14d", "2w", "36h", {"after": "14d", "reason": "appeals still arriving"}, None):
        jsonschema.validate(good, metric)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("2 weeks", metric)
