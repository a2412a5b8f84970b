"""Restatements: a figure an earlier report of the same series showed has changed since."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from reportgen import build_report
from reportgen.config.loader import load_report
from reportgen.ops.ledger import Ledger, SendKey, default_url
from reportgen.ops.restatements import ShownStore, find_restatements

REPORT = """\
title: Restatement check
metrics: [overturn_rate, aht]
trailing_periods: 4
sections: [summary]
outputs: [html]
"""
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
W45 = ("2026-11-02", "2026-11-09")  # a closed week both builds show


@pytest.fixture(scope="module")
def project(demo_dir: Path, demo_configs: Path, tmp_path_factory: pytest.TempPathFactory):
    """A private copy of the demo data (the tests rewrite it) and configs pointing at it."""
    root = tmp_path_factory.mktemp("restated")
    data = root / "data"
    shutil.copytree(demo_dir, data)
    configs = root / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    sources = configs / "sources.yaml"
    sources.write_text(sources.read_text().replace(str(demo_dir), str(data)), encoding="utf-8")
    (configs / "reports" / "restated.yaml").write_text(REPORT, encoding="utf-8")
    return root


def rewrite_decisions(data: Path, sql_replace: str) -> None:
    """Rewrite the decisions fact with ``SELECT * REPLACE (…)``: a vendor's corrected file."""
    files = sorted((data / "decisions").glob("*.parquet"))
    target = data / "decisions" / "corrected.tmp"
    duckdb.sql(
        f"COPY (SELECT * REPLACE ({sql_replace}) FROM read_parquet({[str(f) for f in files]})) "
        f"TO '{target}' (FORMAT parquet)"
    )
    for f in files:
        f.unlink()
    target.rename(data / "decisions" / "part-00000.parquet")


def build(project: Path, out: Path, period: str, formats: tuple[str, ...] = ("html",)):
    return build_report(
        project / "configs" / "reports" / "restated.yaml",
        period=period,
        formats=list(formats),
        out_dir=out,
        now=NOW,
        cache=False,
    )


def series_value(result, metric: str, period: str) -> float:
    return next(p.value for p in result.figures.metrics[metric].series if p.period == period)


@pytest.fixture(scope="module")
def restated(project: Path, tmp_path_factory: pytest.TempPathFactory):
    """W46 built with a ledger; then late appeals and corrected handle times land in W45; W47."""
    out = tmp_path_factory.mktemp("restated-out")
    Ledger(default_url(out)).dispose()  # the ledger a delivery run would have created
    first = build(project, out, "2026-W46")
    in_w45 = f"decided_at >= TIMESTAMPTZ '{W45[0]}' AND decided_at < TIMESTAMPTZ '{W45[1]}'"
    late = f"{in_w45} AND action IN ('remove', 'restrict') AND decision_id % 7 = 0"
    rewrite_decisions(
        project / "data",
        f"appealed OR ({late}) AS appealed, overturned OR ({late}) AS overturned, "
        f"CASE WHEN {in_w45} THEN handle_seconds * 1.2 ELSE handle_seconds END AS handle_seconds",
    )
    second = build(project, out, "2026-W47", ("html", "csv"))  # csv: the exports' figures
    return out, first, second


def test_changed_closed_period_is_restated_with_was_and_now(restated):
    _, first, second = restated
    data = json.loads(second.artifacts["figures"].read_text())
    found = {(r["metric"], r["period"]): r for r in data["restatements"]}
    for metric in ("overturn_rate", "aht"):
        r = found[(metric, "2026-W45")]
        assert r["was"] == series_value(first, metric, "2026-W45")
        assert r["now"] == series_value(second, metric, "2026-W45")
        assert r["shown_in_period"] == "2026-W46" and r["sent"] is False
    assert found[("overturn_rate", "2026-W45")]["cause"] == "late appeals"
    assert found[("aht", "2026-W45")]["cause"] == "corrected source data"
    assert ("aht", "2026-W46") not in found  # untouched weeks are not news


def test_restatement_note_is_in_the_report_and_the_email_summary(restated):
    from reportgen.ops.manifest import summary_of

    _, _, second = restated
    html = second.artifacts["html"].read_text()
    assert "Restated since last report" in html
    assert "likely late appeals" in html and "likely corrected source data" in html
    _, headlines = summary_of(second.document)  # what the email body lists
    assert any("Appeal overturn rate, 2026-W45:" in h for h in headlines)


def test_no_note_when_nothing_changed_beyond_display_precision(project, restated):
    out, _, second = restated
    in_w45 = f"decided_at >= TIMESTAMPTZ '{W45[0]}' AND decided_at < TIMESTAMPTZ '{W45[1]}'"
    # one second more on a few W45 decisions: AHT moves by far less than the 1 s it is shown to
    rewrite_decisions(
        project / "data",
        f"CASE WHEN {in_w45} AND decision_id % 500 = 0 THEN handle_seconds + 1 "
        "ELSE handle_seconds END AS handle_seconds",
    )
    again = build(project, out, "2026-W47")
    assert series_value(again, "aht", "2026-W45") != series_value(second, "aht", "2026-W45")
    data = json.loads(again.artifacts["figures"].read_text())
    assert data["restatements"] == []
    assert "Restated since last report" not in again.artifacts["html"].read_text()


def test_the_last_sent_report_is_the_reference(project, restated):
    """A later build that was never sent does not hide what readers were sent."""
    out, first, second = restated
    report = load_report(project / "configs" / "reports" / "restated.yaml")
    store = ShownStore.for_output(out)
    try:
        earlier = store.earlier(report.id, "leadership")
    finally:
        store.dispose()
    sent_w46 = next(r for r in earlier if r["period"] == "2026-W46")
    newer_build = next(r for r in earlier if r["period"] == "2026-W47")
    earlier = [newer_build, {**sent_w46, "sent": True, "run_id": 7}]
    found = find_restatements(report, "leadership", second.figures, earlier)
    w45 = next(r for r in found if r.metric == "aht" and r.period == "2026-W45")
    assert (w45.shown_in_run, w45.was) == (7, series_value(first, "aht", "2026-W45"))
    assert all(r.period != "2026-W47" for r in found)  # the W47 build showed today's figures
    assert replace(w45, sent=False).sentence().count("built") == 1


def test_a_sent_run_marks_its_figures_as_sent(restated):
    out, first, _ = restated
    ledger = Ledger(default_url(out))
    store = ShownStore.for_output(out)
    try:
        run_id = ledger.start_run(report="restated", audience="leadership", trigger="manual")
        store.link_run(first.shown_id, run_id)
        key = SendKey("restated", "2026-W46", "leadership", "mail")
        sent = ledger.enqueue(key, kind="email", payload=b"x", transport={}, run_id=run_id)
        ledger.claim(sent.send_id)
        ledger.settle(sent.send_id, "sent", status="sent")
        rows = {r["id"]: r for r in store.earlier(first.report, "leadership")}
    finally:
        store.dispose()
        ledger.dispose()
    assert rows[first.shown_id]["sent"] is True and rows[first.shown_id]["run_id"] == run_id


def test_the_workbook_has_a_restatements_sheet(tmp_path, restated):
    from openpyxl import load_workbook

    from reportgen.render import get_renderer

    _, first, second = restated
    render, suffix = get_renderer("xlsx")
    render(second.document, tmp_path / f"book{suffix}")
    sheet = load_workbook(tmp_path / f"book{suffix}")["Restatements"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header, body = rows[0], rows[1:]
    row = next(dict(zip(header, r, strict=True)) for r in body if r[1:3] == ["aht", "2026-W45"])
    assert row["Metric"] == "Average handle time"  # the label first, then the id
    assert row["Was"] == series_value(first, "aht", "2026-W45")
    assert row["Likely cause"] == "corrected source data"
