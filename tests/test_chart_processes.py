"""Charts are drawn in a worker process that ends before the PDF is laid out.

The JavaScript engine inside vl-convert keeps its heap for the life of the
process; these tests pin down that the heap lives in a worker, that the
worker is gone once the PDF's charts are drawn, and that a worker dying is a
clear error rather than a hang.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from reportgen.errors import RenderError
from reportgen.render.charts import vega
from reportgen.render.html.pdf import render_pdf

SPEC = {
    "data": {"values": [{"day": 1, "value": 3}, {"day": 2, "value": 5}]},
    "mark": "line",
    "encoding": {"x": {"field": "day", "type": "quantitative"}},
}


def _workers() -> list:
    return list(vega._POOL._started)


@pytest.fixture(autouse=True)
def _no_workers_left():
    vega.shut_down()
    yield
    vega.shut_down()


def test_a_chart_is_drawn_in_a_separate_process():
    svg = vega.vegalite_to_svg(SPEC)

    assert svg.startswith("<svg")
    (worker,) = _workers()
    assert worker._process.pid != os.getpid()
    assert worker._process.poll() is None


def test_shut_down_ends_the_worker_processes():
    vega.vegalite_to_svg(SPEC)
    (worker,) = _workers()

    vega.shut_down()

    assert worker._process.returncode == 0
    assert _workers() == []


def test_a_chart_after_shut_down_starts_a_new_worker():
    vega.vegalite_to_svg(SPEC)
    vega.shut_down()

    assert vega.vegalite_to_svg(SPEC).startswith("<svg")
    assert len(_workers()) == 1


def test_vl_convert_errors_come_back_as_value_errors_and_keep_the_worker():
    with pytest.raises(ValueError, match="not allowed"):
        vega.vegalite_to_svg({**SPEC, "data": {"url": "http://192.0.2.1/rows.csv"}})

    assert vega.vegalite_to_svg(SPEC).startswith("<svg")
    assert len(_workers()) == 1


def test_a_worker_that_dies_is_a_render_error_and_is_replaced():
    vega.vegalite_to_svg(SPEC)
    (worker,) = _workers()
    os.kill(worker._process.pid, signal.SIGKILL)
    worker._process.wait()

    with pytest.raises(RenderError, match=r"chart drawing process exited \(code -9\)"):
        vega.vegalite_to_svg(SPEC)
    assert vega.vegalite_to_svg(SPEC).startswith("<svg")
    assert _workers() != [worker]


def test_no_worker_is_left_running_once_a_pdf_is_written(sample_document, tmp_path, monkeypatch):
    from reportgen.render.charts import svg as charts

    started = []
    start = vega._Worker.__init__
    monkeypatch.setattr(vega._Worker, "__init__", lambda self: started.append(start(self)))
    charts._chart_to_svg.cache_clear()  # drawn by an earlier test: draw again here

    render_pdf(sample_document, tmp_path / "report.pdf")

    assert started, "the charts were drawn by a worker"
    assert _workers() == []
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_charts_started_early_are_drawn_once_for_the_pdf(sample_document, monkeypatch):
    from reportgen.render.charts import svg as charts
    from reportgen.render.html.page import render_html, start_drawing

    specs = []
    draw = vega.vegalite_to_svg
    monkeypatch.setattr(vega, "vegalite_to_svg", lambda spec: specs.append(spec) or draw(spec))
    charts._chart_to_svg.cache_clear()
    charts._graphic_to_svg.cache_clear()

    start_drawing(sample_document)
    html = render_html(sample_document, for_pdf=True)

    assert specs, "the sample document has charts"
    assert len(specs) == html.count('class="chart-drawing"')  # the PDF's charts are SVG images


def test_chart_free_formats_render_first_so_the_charts_draw_meanwhile():
    from reportgen.build import render_order

    assert render_order(["pdf", "pptx", "html", "xlsx"]) == ["pptx", "xlsx", "pdf", "html"]
    assert render_order(["pdf"]) == ["pdf"]


def test_a_caller_waiting_for_a_worker_that_dies_gets_a_new_one():
    """The fuzz run once hung here: the only worker died while another chart waited for it."""
    import threading

    busy = vega._POOL._take()  # the pool's only worker, busy with a chart
    drawn: list[str] = []
    waiting = threading.Thread(target=lambda: drawn.append(vega.vegalite_to_svg(SPEC)), daemon=True)
    waiting.start()
    time.sleep(0.3)  # let it start waiting for the busy worker
    os.kill(busy._process.pid, signal.SIGKILL)
    busy._process.wait()
    vega._POOL._give_back(busy, broken=True)

    waiting.join(timeout=60)
    assert not waiting.is_alive()
    assert drawn and drawn[0].startswith("<svg")


def test_a_worker_is_replaced_after_its_share_of_charts(monkeypatch):
    """The engine's heap grows with each chart: a worn worker ends and a fresh one starts."""
    monkeypatch.setattr(vega, "CHARTS_PER_WORKER", 2)
    vega.vegalite_to_svg(SPEC)
    (first,) = _workers()
    vega.vegalite_to_svg(SPEC)

    assert _workers() == [] and first._process.returncode == 0
    assert vega.vegalite_to_svg(SPEC).startswith("<svg")
    assert _workers() != [first]


def test_prestarted_workers_warm_up_and_draw_the_first_chart():
    vega.prestart()
    started = _workers()
    vega.prestart()  # as many as the pool holds are running: no more
    assert len(started) == vega.WORKERS and _workers() == started

    svg = vega.vegalite_to_svg(SPEC)

    assert svg.startswith("<svg") and "<path" in svg  # the line, not the warm-up's bar
    assert 'aria-roledescription="bar"' not in svg
    assert _workers() == started and sum(w.drawn for w in started) == 1


def test_a_forked_child_does_not_keep_the_parents_worker_alive():
    import multiprocessing

    vega.prestart()
    workers = _workers()
    child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,))
    child.start()
    try:
        vega.shut_down()  # waits for each worker to see the end of its input
        assert [w._process.returncode for w in workers] == [0] * vega.WORKERS
        assert child.is_alive()
    finally:
        child.terminate()
        child.join()
