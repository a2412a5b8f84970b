"""A fan-out builds one audience after another in each worker process: what they share.

Each audience's build ends its chart-drawing process when its charts are
drawn (the JavaScript engine's heap must not sit beside a single build's PDF
layout). A fan-out's worker process holds one drawing process for all its
audiences instead: a fresh one costs ~0.9 s of CPU to start and warm up, once
or twice an audience. What outlives an audience is frozen out of the garbage
collector, so the next audience's collections do not walk it again.
"""

from __future__ import annotations

import gc
import json

import pytest

from reportgen import build as build_module
from reportgen.build import build_audiences
from reportgen.config import load_report
from reportgen.data.audiences import select_audiences
from reportgen.render.charts import svg as chart_svgs
from reportgen.render.charts import vega
from reportgen.render.charts.drawings import DrawingCache

REPORT = """\
title: Fan-out
metrics: [aht, qa_accuracy]
breakdowns: [region]
outputs: [html]
audiences:
  - name: everyone
  - name: europe
    filter: {region: Europe}
  - name: typo
    filter: {region: Europa}
  - name: north-america
    filter: {region: North America}
"""


@pytest.fixture
def fan_out_report(demo_configs):
    path = demo_configs / "reports" / "fan_out_workers.yaml"
    path.write_text(REPORT)
    return path


@pytest.fixture
def started_workers(monkeypatch, tmp_path):
    """Every drawing process started from now on; each chart drawn afresh (no kept drawing)."""
    started: list[vega._Worker] = []
    start = vega._Worker.__init__

    def recording(self, **kwargs):
        start(self, **kwargs)
        started.append(self)

    monkeypatch.setattr(vega._Worker, "__init__", recording)
    monkeypatch.setattr(
        build_module, "drawing_cache", lambda report, cache=True: DrawingCache(tmp_path / "drawn")
    )
    chart_svgs._chart_to_svg.cache_clear()  # drawn by an earlier test in this process
    chart_svgs._graphic_to_svg.cache_clear()
    vega.shut_down()
    yield started
    vega._POOL.held = False
    vega.shut_down()
    gc.unfreeze()


def _alive(workers: list) -> list:
    return [w for w in workers if w._process.poll() is None]


def test_one_drawing_process_draws_every_audience_of_a_fan_out(
    fan_out_report, started_workers, tmp_path
):
    result = build_audiences(fan_out_report, period="2026-W47", out_dir=tmp_path / "out", workers=1)

    assert set(result.results) == {"everyone", "europe", "north-america"}
    assert len(started_workers) == 1
    assert started_workers[0].drawn > 3  # the charts of all three built audiences


def test_the_drawing_process_ends_with_the_fan_out(fan_out_report, started_workers, tmp_path):
    build_audiences(fan_out_report, period="2026-W47", out_dir=tmp_path / "out", workers=1)

    assert started_workers and _alive(started_workers) == []
    assert vega._POOL.workers() == []


def test_a_failing_audience_leaves_the_drawing_process_to_the_others(
    fan_out_report, started_workers, tmp_path
):
    result = build_audiences(fan_out_report, period="2026-W47", out_dir=tmp_path / "out", workers=1)

    assert set(result.failures) == {"typo"}
    assert "matches no rows" in result.failures["typo"]
    figures = tmp_path / "out" / "fan_out_workers" / "2026-W47" / "north-america" / "figures.json"
    assert json.loads(figures.read_text())["audience"] == "north-america"  # built after the typo
    assert len(started_workers) == 1


def test_a_fan_out_in_this_process_leaves_nothing_frozen(fan_out_report, tmp_path):
    gc.unfreeze()
    build_audiences(fan_out_report, period="2026-W47", out_dir=tmp_path / "out", workers=1)

    assert gc.get_freeze_count() == 0


def test_each_audience_reports_its_time_and_stages(fan_out_report, tmp_path):
    said: list[str] = []

    build_audiences(
        fan_out_report, period="2026-W47", out_dir=tmp_path / "out", workers=1, progress=said.append
    )

    (europe,) = [m for m in said if m.startswith("europe: built in ")]
    assert "s CPU; Computing figures " in europe
    assert "Rendering HTML " in europe
    assert any(m.startswith("typo: FAILED") for m in said)


def test_a_pool_worker_holds_its_drawing_process_across_audiences(
    fan_out_report, started_workers, tmp_path
):
    """What each process of a ``--workers 2`` fan-out runs: _share_in_worker, then audiences."""
    from datetime import UTC, datetime

    report = load_report(fan_out_report)
    now = datetime.now(UTC)
    gated = build_module.gated_cube(report, "2026-W47", True, now, lambda _msg: None)
    build_module._share_in_worker(
        report, gated.cube, gated.period, None, tmp_path / "out", now, gated.quality
    )
    try:
        assert len(_alive(started_workers)) == 1  # started ahead of the first audience's charts
        for audience in select_audiences(report, "all"):
            if audience.name != "typo":
                build_module._build_shared(audience)
                assert len(_alive(started_workers)) == 1  # the build's own shut-downs end nothing
    finally:
        build_module._SHARED.clear()

    assert len(started_workers) == 1
    assert gc.get_freeze_count() > 0  # the shared cube and the modules, out of the collections


def test_a_held_drawing_process_survives_shut_down_until_released():
    spec = {
        "data": {"values": [{"x": 1, "y": 2}]},
        "mark": "point",
        "encoding": {"x": {"field": "x", "type": "quantitative"}},
    }
    with vega.workers_held():
        vega.vegalite_to_svg(spec)
        (worker,) = vega._POOL.workers()
        vega.shut_down()  # what each build (and each PDF) calls when its charts are drawn
        assert worker._process.poll() is None
        assert vega.vegalite_to_svg(spec).startswith("<svg")
        assert vega._POOL.workers() == [worker]

    assert worker._process.returncode == 0
    assert vega._POOL.workers() == []


def test_a_forked_renderer_does_not_inherit_the_hold():
    import multiprocessing

    context = multiprocessing.get_context("fork")
    verdict = context.Queue()

    def child() -> None:
        verdict.put(vega._POOL.held)

    with vega.workers_held():
        process = context.Process(target=child)
        process.start()
        process.join(timeout=60)

    assert verdict.get(timeout=10) is False
