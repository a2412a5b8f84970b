"""The planted incidents of the demo manifest are visible in the report's figures."""

from __future__ import annotations

import json

import pytest

from reportgen import build_report

REPORT = """\
title: Incident check
metrics:
  - metric: qa_accuracy
    breakdowns: [site]
  - metric: aht
    breakdowns: [queue]
  - metric: sla_attainment
    breakdowns: [region]
sections: [summary, metrics]
outputs: [html]
"""


@pytest.fixture(scope="module")
def incidents(demo_dir):
    manifest = json.loads((demo_dir / "manifest.json").read_text())
    return {i["id"]: i for i in manifest["incidents"]}


@pytest.fixture(scope="module")
def incident_config(demo_configs):
    path = demo_configs / "reports" / "incident_check.yaml"
    path.write_text(REPORT)
    return path


@pytest.fixture(scope="module")
def figures_by_week(incident_config, incidents, tmp_path_factory):
    out = tmp_path_factory.mktemp("incidents")
    weeks = {i["week"] for i in incidents.values()}
    return {w: build_report(incident_config, period=w, out_dir=out).figures for w in weeks}


def segment(figures, incident):
    segments = figures.metrics[incident["metric"]].breakdowns[incident["dimension"]]
    return next(s for s in segments if s.segment == incident["segment"])


def test_site_accuracy_drop_shows_in_site_breakdown(incidents, figures_by_week):
    incident = incidents["site_accuracy_drop"]
    site = segment(figures_by_week[incident["week"]], incident)
    assert site.delta <= -0.08


def test_queue_aht_spike_shows_in_queue_breakdown(incidents, figures_by_week):
    incident = incidents["queue_aht_spike"]
    queue = segment(figures_by_week[incident["week"]], incident)
    assert queue.delta_pct >= 0.30


def test_mix_shift_raises_the_slow_queues_share(incidents, figures_by_week):
    incident = incidents["mix_shift_slow_queue"]
    figures = figures_by_week[incident["week"]]
    queue = segment(figures, incident)
    previous_total = sum(s.previous_stats.count for s in figures.metrics["aht"].breakdowns["queue"])
    previous_share = queue.previous_stats.count / previous_total
    assert queue.share >= 1.6 * previous_share
    assert figures.metrics["aht"].delta > 0


def test_sla_breach_week_shows_in_region_breakdown(incidents, figures_by_week):
    incident = incidents["sla_breach_week"]
    region = segment(figures_by_week[incident["week"]], incident)
    assert region.value <= 0.80
