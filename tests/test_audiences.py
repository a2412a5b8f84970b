"""Audience variants: access is enforced on the rows, not on the rendering."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from pypdf import PdfReader

from reportgen import build_report
from reportgen.build import build_audiences
from reportgen.errors import ConfigError

REL = 1e-9


@pytest.fixture(scope="module")
def org(demo_dir):
    return json.loads((demo_dir / "manifest.json").read_text())["org"]


@pytest.fixture(scope="module")
def europe(weekly_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("europe")
    return build_report(
        weekly_config,
        period="2026-W47",
        audience="europe",
        formats=["pdf", "pptx", "html"],
        out_dir=out,
    )


def pptx_text(path) -> str:
    """Every XML part of the deck, including the workbooks embedded behind native charts."""
    parts = []
    with zipfile.ZipFile(path) as deck:
        for name in deck.namelist():
            data = deck.read(name)
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as book:
                    parts += [book.read(n).decode("utf-8", "replace") for n in book.namelist()]
            elif name.endswith((".xml", ".rels")):
                parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def all_output_text(result) -> str:
    pdf = "\n".join(page.extract_text() for page in PdfReader(result.artifacts["pdf"]).pages)
    return "\n".join(
        [
            pdf,
            pptx_text(result.artifacts["pptx"]),
            result.artifacts["html"].read_text(),
            result.artifacts["figures"].read_text(),
        ]
    )


def foreign_labels(org, region: str) -> list[str]:
    regions = [r for r in org["regions"] if r != region]
    sites = [s["code"] for s in org["sites"] if s["region"] != region]
    return regions + sites


def test_europe_outputs_name_no_other_region_or_site(europe, org):
    text = all_output_text(europe)
    leaked = [label for label in foreign_labels(org, "Europe") if label in text]
    assert leaked == []
    assert "Europe" in text


def test_europe_figures_come_from_european_rows_only(europe, raw, demo_dir):
    start = europe.period.start
    window = (
        f"decided_at >= TIMESTAMPTZ '{start} 00:00:00+00' "
        f"AND decided_at < TIMESTAMPTZ '{start + timedelta(days=7)} 00:00:00+00'"
    )
    table = f"read_parquet('{demo_dir}/decisions/*.parquet')"
    aht, decisions = raw.execute(
        f"SELECT sum(handle_seconds) FILTER (WHERE NOT automated) / count(*) FILTER (WHERE NOT automated), "
        f"count(*) FROM {table} WHERE region = 'Europe' AND {window}"
    ).fetchone()
    metrics = europe.figures.metrics
    assert metrics["aht"].value == pytest.approx(aht, rel=REL)
    assert metrics["decisions"].value == decisions


def test_europe_peers_are_european_sites_only(europe, org):
    european = {s["code"] for s in org["sites"] if s["region"] == "Europe"}
    for anomaly in europe.insights.anomalies:
        if anomaly.dimension == "site":
            assert anomaly.segment in european


def test_no_moderator_id_appears_in_any_output(europe):
    assert not re.search(r"\bM\d{5}\b", all_output_text(europe))


def test_vendor_audience_sees_only_its_metrics_and_sites(weekly_config, tmp_path, org):
    result = build_report(
        weekly_config,
        period="2026-W47",
        audience="vendor-manila-cebu",
        formats=["html"],
        out_dir=tmp_path,
    )
    assert set(result.figures.metrics) == {
        "decisions",
        "backlog",
        "aht",
        "throughput",
        "sla_attainment",
        "time_to_action_p50",
        "time_to_action_p90",
        "qa_accuracy",
        "high_severity_exposure",
    }
    html = result.artifacts["html"].read_text()
    others = [s["code"] for s in org["sites"] if s["code"] not in ("MNL-2", "CEB-1")]
    assert [code for code in others if code in html] == []
    regions = {s.segment for s in result.figures.metrics["aht"].breakdowns["region"]}
    assert regions == {"Southeast Asia"}  # derived from the two sites' rows only


def test_hidden_dimension_is_not_shown(demo_configs, tmp_path):
    report = demo_configs / "reports" / "hidden_queue.yaml"
    report.write_text(
        "title: T\nmetrics: [aht]\nbreakdowns: [region, queue]\noutputs: [html]\n"
        "audiences:\n  - name: no-queues\n    hidden_dimensions: [queue]\n"
    )
    result = build_report(report, period="2026-W47", out_dir=tmp_path)
    assert set(result.figures.metrics["aht"].breakdowns) == {"region"}
    assert all(a.dimension != "queue" for a in result.insights.anomalies)
    assert "Misinformation" not in result.artifacts["html"].read_text()


def test_fan_out_reports_a_failing_audience_and_builds_the_others(demo_configs, tmp_path):
    report = demo_configs / "reports" / "fan_out.yaml"
    report.write_text(
        "title: T\nmetrics: [aht, qa_accuracy]\nbreakdowns: [region]\noutputs: [html]\n"
        "audiences:\n"
        "  - name: everyone\n"
        "  - name: europe\n    filter: {region: Europe}\n"
        "  - name: typo\n    filter: {region: Europa}\n"
    )
    result = build_audiences(report, period="2026-W47", out_dir=tmp_path, workers=2)
    assert set(result.results) == {"everyone", "europe"}
    assert set(result.failures) == {"typo"}
    assert "matches no rows" in result.failures["typo"]
    assert (tmp_path / "fan_out" / "2026-W47" / "europe" / "figures.json").is_file()
    assert not (tmp_path / "fan_out" / "2026-W47" / "typo").exists() or not any(
        (tmp_path / "fan_out" / "2026-W47" / "typo").iterdir()
    )


def test_unknown_audience_name_suggests_the_closest(weekly_config, tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'europe'"):
        build_report(weekly_config, audience="eurpe", formats=["html"], out_dir=tmp_path)


def test_unknown_filter_dimension_is_a_config_error(demo_configs, tmp_path):
    from reportgen.config import load_report

    report = demo_configs / "reports" / "bad_audience.yaml"
    report.write_text(
        "title: T\nmetrics: [aht]\naudiences:\n  - name: x\n    filter: {regoin: Europe}\n"
    )
    with pytest.raises(ConfigError, match="unknown dimension 'regoin' — did you mean 'region'"):
        load_report(report)


def test_restricted_anomalies_have_their_own_stable_ids(europe, built_report):
    europe_ids = {a.id for a in europe.insights.anomalies}
    leadership_ids = {a.id for a in built_report.insights.anomalies}
    assert europe_ids and not europe_ids & leadership_ids


def test_a_dimension_pinned_to_one_value_is_not_broken_down(europe):
    assert all("region" not in m.breakdowns for m in europe.figures.metrics.values())
    assert all(a.dimension != "region" for a in europe.insights.anomalies)


MODERATOR_REPORT = """\
title: Coaching
metrics: [aht]
breakdowns: [moderator_id]
outputs: [html]
sections: [summary, metrics]
insights: {anomalies: {dimensions: []}}
audiences:
  - name: leadership
  - name: coaches
    show_individuals: true
"""


@pytest.fixture(scope="module")
def moderator_config(demo_configs):
    path = demo_configs / "reports" / "coaching.yaml"
    path.write_text(MODERATOR_REPORT)
    return path


def test_moderators_are_never_named_without_permission(moderator_config, tmp_path):
    result = build_report(
        moderator_config, period="2026-W47", audience="leadership", out_dir=tmp_path
    )
    assert "moderator_id" not in result.figures.metrics["aht"].breakdowns
    assert not re.search(
        r"\bM\d{5}\b",
        result.artifacts["html"].read_text() + result.artifacts["figures"].read_text(),
    )


def test_allowed_audience_sees_consistent_pseudonyms_only(moderator_config, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTGEN_PSEUDONYM_KEY", "a-test-secret-of-enough-length")
    first = build_report(
        moderator_config, period="2026-W47", audience="coaches", out_dir=tmp_path / "a"
    )
    second = build_report(
        moderator_config, period="2026-W47", audience="coaches", out_dir=tmp_path / "b"
    )
    segments = [s.segment for s in first.figures.metrics["aht"].breakdowns["moderator_id"]]
    assert segments and all(s.startswith("P-") for s in segments)
    assert segments == [s.segment for s in second.figures.metrics["aht"].breakdowns["moderator_id"]]
    text = first.artifacts["html"].read_text() + first.artifacts["figures"].read_text()
    assert not re.search(r"\bM\d{5}\b", text)


def test_pseudonyms_need_a_secret_key(moderator_config, tmp_path, monkeypatch):
    monkeypatch.delenv("REPORTGEN_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError, match="REPORTGEN_PSEUDONYM_KEY"):
        build_report(moderator_config, period="2026-W47", audience="coaches", out_dir=tmp_path)
