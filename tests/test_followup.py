"""The follow-up loop: week N flags, an RCA is recorded, week N+1 reports on it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest
from typer.testing import CliRunner

from reportgen import build_report
from reportgen.cli import app
from reportgen.ops.rca import RcaStore, find_anomaly

REPORT = """\
title: Follow-up check
metrics:
  - metric: sla_attainment
    breakdowns: [region]
sections: [summary, anomalies, follow_up, metrics]
outputs: [html]
"""


@pytest.fixture(scope="module")
def loop(demo_configs, tmp_path_factory, demo_dir):
    """Week N (the SLA breach) built, an RCA recorded from the CLI, week N+1 built."""
    incident = next(
        i
        for i in json.loads((demo_dir / "manifest.json").read_text())["incidents"]
        if i["id"] == "sla_breach_week"
    )
    config = demo_configs / "reports" / "followup.yaml"
    config.write_text(REPORT)
    out = tmp_path_factory.mktemp("followup")
    week_n = build_report(config, period=incident["week"], out_dir=out)
    flagged = next(
        a
        for a in week_n.insights.anomalies
        if (a.metric, a.segment) == ("sla_attainment", incident["segment"])
    )
    result = CliRunner().invoke(
        app,
        [
            "rca",
            "add",
            flagged.id,
            "--cause",
            "pipeline outage",
            "--owner",
            "latam-ops",
            "--action",
            "add failover",
            "--due",
            "2026-12-01",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    next_week = week_n.period.shift(1).label
    week_n1 = build_report(config, period=next_week, out_dir=out)
    return {
        "config": config,
        "out": out,
        "flagged": flagged,
        "week_n1": week_n1,
        "next_week": next_week,
    }


def test_rca_is_stored_with_the_anomaly_snapshot(loop):
    (item,) = RcaStore.for_output(loop["out"]).items()
    assert item.anomaly_id == loop["flagged"].id
    assert item.owner == "latam-ops"
    assert item.observed == loop["flagged"].observed
    assert item.status == "open"


def test_next_week_shows_the_open_item_with_measured_recovery(loop):
    (followup,) = loop["week_n1"].insights.followups
    assert followup.item.status == "open"
    assert followup.recovered is True  # SLA came back after the outage week
    assert followup.test is not None and followup.test.result.p_value < 0.05
    html = loop["week_n1"].artifacts["html"].read_text()
    # the leadership edition tells the follow-up as "Actions & asks": owner, action, due, status
    assert "Actions &amp; asks" in html
    for cell in ("latam-ops, due Tue 01 Dec 2026", "add failover", "open, recovered"):
        assert f">{cell}</td>" in html
    data = json.loads(loop["week_n1"].artifacts["figures"].read_text())
    assert data["insights"]["follow_up"][0]["recovered"] is True


def test_an_anomaly_that_recurs_links_to_its_earlier_rca(loop):
    """The same metric and segment flagged again: the anomaly row points at the recorded cause."""
    again = build_report(loop["config"], period=loop["flagged"].period, out_dir=loop["out"])
    same_place = {
        a.id
        for a in again.insights.anomalies
        if (a.metric, a.segment) == (loop["flagged"].metric, loop["flagged"].segment)
    }
    (followup,) = again.insights.followups
    assert same_place and set(followup.recurring) == same_place  # flagged by history and peers
    html = again.artifacts["html"].read_text()
    # the leadership edition names no anomaly ids, but says the anomaly is a followed-up one
    assert f"recurs, see RCA #{followup.item.id}" in html
    data = json.loads(again.artifacts["figures"].read_text())
    links = {a["id"]: a["earlier_rca"] for a in data["insights"]["anomalies"]}
    assert {k for k, v in links.items() if v} == same_place
    assert all(links[k] == [followup.item.id] for k in same_place)


def test_closing_moves_the_item_to_closed_with_its_outcome(loop):
    result = CliRunner().invoke(
        app, ["rca", "close", "1", "--outcome", "failover live", "--out", str(loop["out"])]
    )
    assert result.exit_code == 0, result.output
    rebuilt = build_report(loop["config"], period=loop["next_week"], out_dir=loop["out"])
    (followup,) = rebuilt.insights.followups
    assert followup.item.status == "closed"
    assert "closed: failover live" in rebuilt.artifacts["html"].read_text()


def test_unknown_anomaly_id_is_a_clear_error(loop):
    result = CliRunner().invoke(
        app,
        [
            "rca",
            "add",
            "A-0000000000",
            "--cause",
            "x",
            "--owner",
            "y",
            "--action",
            "z",
            "--out",
            str(loop["out"]),
        ],
    )
    assert result.exit_code == 1
    assert "no anomaly 'A-0000000000'" in result.output


def test_csv_import_records_items(loop, tmp_path):
    sheet = tmp_path / "rca.csv"
    sheet.write_text(
        f"anomaly_id,cause,owner,action,due\n{loop['flagged'].id},staffing gap,vendor,hire,2026-12-15\n"
    )
    added = RcaStore.for_output(loop["out"]).import_csv(sheet, loop["out"])
    assert [a.owner for a in added] == ["vendor"]
    assert find_anomaly(loop["out"], loop["flagged"].id)["metric"] == "sla_attainment"


def test_a_cause_closed_long_ago_resurfaces_when_its_anomaly_recurs(loop, tmp_path):
    """Closed before the period began, so normally not shown — but the issue is back."""
    from datetime import timedelta

    from reportgen.periods import parse_period

    flagged = loop["flagged"]
    week_n = parse_period(flagged.period)
    long_ago = datetime.combine(week_n.start - timedelta(days=60), time(9), tzinfo=UTC)
    store = RcaStore.for_output(tmp_path)
    try:
        anomaly = find_anomaly(loop["out"], flagged.id)
        item = store.add(anomaly, cause="x", owner="ops", action="fix", now=long_ago)
        store.close(item.id, "fixed", now=long_ago + timedelta(days=7))
    finally:
        store.dispose()
    again = build_report(loop["config"], period=flagged.period, out_dir=tmp_path)
    (followup,) = again.insights.followups
    assert followup.item.status == "closed" and flagged.id in followup.recurring
    quiet = build_report(loop["config"], period=loop["next_week"], out_dir=tmp_path)
    assert quiet.insights.followups == ()  # closed, long ago, and not flagged this week


def test_age_is_counted_to_when_the_report_was_generated(loop, tmp_path):
    flagged = loop["flagged"]
    recorded = datetime(2026, 11, 16, 9, tzinfo=UTC)
    store = RcaStore.for_output(tmp_path)
    try:
        store.add(
            find_anomaly(loop["out"], flagged.id), cause="x", owner="o", action="a", now=recorded
        )
    finally:
        store.dispose()
    generated = datetime(2026, 11, 26, 7, tzinfo=UTC)  # after the data: no future rows
    built = build_report(loop["config"], period=flagged.period, out_dir=tmp_path, now=generated)
    assert [f.age_days for f in built.insights.followups] == [10]
