"""The formats of one build render at the same time, each in a process of its own.

What must hold whatever the timing: every format is written by a child of
the build process, no more than ``processes`` of them run at once, each
chart is drawn once and shared by the PDF and the HTML, the files are those
a render in turn makes, and a renderer that fails — or whose process dies —
fails the build with its format named and leaves no artifact behind.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportgen.build import PreparedAudience, write_artifacts
from reportgen.document import Chart, Document, Graphic
from reportgen.errors import RenderError
from reportgen.periods import parse_period
from reportgen.render import get_renderer, processes
from reportgen.render.charts import svg, vega
from reportgen.render.processes import RemoteTraceback, render_concurrently

WAIT_SECONDS = 20  # a test renderer waiting for another gives up after this (never in a pass)


def _log(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def _fake_renderers(monkeypatch: pytest.MonkeyPatch, behaviour: dict) -> None:
    """Replace the renderers the processes module looks up (forked children inherit it)."""

    def lookup(fmt: str):
        return behaviour[fmt], f".{fmt}"

    monkeypatch.setattr(processes, "get_renderer", lookup)


def _writes_its_pid(log: Path):
    def render(document: Document, path: Path) -> None:
        _log(log, f"{path.suffix} {os.getpid()}")
        path.write_text(str(os.getpid()))

    return render


def _waits_for(other: Path, log: Path):
    """A renderer that finishes only once ``other`` exists: proof that both ran at once."""

    def render(document: Document, path: Path) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not other.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        _log(log, f"{path.suffix} saw {other.name}: {other.exists()}")
        path.write_text("done")

    return render


def _prepared(document: Document, out_dir: Path) -> PreparedAudience:
    report = SimpleNamespace(id="weekly", config=SimpleNamespace(outputs=["pdf", "pptx"]))
    period = parse_period("2026-W47")
    return PreparedAudience(report, period, "leadership", out_dir, None, None, {}, document)  # type: ignore[arg-type]


def test_each_format_is_written_by_a_process_of_its_own(sample_document, tmp_path, monkeypatch):
    log = tmp_path / "log"
    _fake_renderers(monkeypatch, {f: _writes_its_pid(log) for f in ("pptx", "xlsx", "pdf")})
    targets = {f: tmp_path / f"out.{f}" for f in ("pptx", "xlsx", "pdf")}

    render_concurrently(sample_document, targets, processes=2)

    pids = {line.split()[0]: int(line.split()[1]) for line in log.read_text().splitlines()}
    assert set(pids) == {".pptx", ".xlsx", ".pdf"}
    assert os.getpid() not in pids.values()
    assert len(set(pids.values())) == 3
    assert all(targets[f].read_text() == str(pids[f".{f}"]) for f in targets)


def test_two_formats_render_at_the_same_time(sample_document, tmp_path, monkeypatch):
    log = tmp_path / "log"
    first, second = tmp_path / "out.pptx", tmp_path / "out.xlsx"
    _fake_renderers(monkeypatch, {"pptx": _waits_for(second, log), "xlsx": _writes_its_pid(log)})

    render_concurrently(sample_document, {"pptx": first, "xlsx": second}, processes=2)

    assert "pptx saw out.xlsx: True" in log.read_text()


def test_no_more_formats_run_at_once_than_processes(sample_document, tmp_path, monkeypatch):
    log = tmp_path / "log"
    first, second = tmp_path / "out.pptx", tmp_path / "out.xlsx"
    quick = _waits_for_briefly(second, log)
    _fake_renderers(monkeypatch, {"pptx": quick, "xlsx": _writes_its_pid(log)})

    render_concurrently(sample_document, {"pptx": first, "xlsx": second}, processes=1)

    assert "pptx saw out.xlsx: False" in log.read_text()  # xlsx only started after pptx ended


def _waits_for_briefly(other: Path, log: Path):
    def render(document: Document, path: Path) -> None:
        deadline = time.monotonic() + 1.0
        while not other.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        _log(log, f"{path.suffix} saw {other.name}: {other.exists()}")
        path.write_text("done")

    return render


def _fails(document: Document, path: Path) -> None:
    path.write_text("half a file")
    raise ZeroDivisionError("a renderer bug")


def _dies(document: Document, path: Path) -> None:
    path.write_text("half a file")
    os.kill(os.getpid(), signal.SIGKILL)


def _sleeps(log: Path):
    def render(document: Document, path: Path) -> None:
        _log(log, str(os.getpid()))
        time.sleep(60)

    return render


def test_a_failing_renderer_fails_the_build_naming_its_format(
    sample_document, tmp_path, monkeypatch
):
    _fake_renderers(monkeypatch, {"pptx": _fails, "pdf": _writes_its_pid(tmp_path / "log")})

    with pytest.raises(RenderError, match="rendering pptx failed: a renderer bug") as failed:
        render_concurrently(
            sample_document, {"pptx": tmp_path / "a.pptx", "pdf": tmp_path / "a.pdf"}, processes=2
        )

    assert isinstance(failed.value.__cause__, RemoteTraceback)
    assert "ZeroDivisionError" in str(failed.value.__cause__)  # the child's traceback, for -v
    assert failed.value.context["report"] == sample_document.report_id


def test_a_renderer_process_that_dies_is_a_clear_error(sample_document, tmp_path, monkeypatch):
    _fake_renderers(monkeypatch, {"xlsx": _dies, "pptx": _writes_its_pid(tmp_path / "log")})

    with pytest.raises(RenderError, match=r"rendering xlsx failed: its process ended with exit"):
        render_concurrently(
            sample_document, {"xlsx": tmp_path / "a.xlsx", "pptx": tmp_path / "a.pptx"}, processes=2
        )


def _fails_once_started(log: Path):
    """Fails only once the other renderer is under way (its pid logged): on a loaded machine
    a failure that came first would end the other process before it ever started."""

    def render(document: Document, path: Path) -> None:
        deadline = time.monotonic() + 30.0
        while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.01)
        _fails(document, path)

    return render


def test_a_failure_stops_the_formats_still_rendering(sample_document, tmp_path, monkeypatch):
    log = tmp_path / "log"
    _fake_renderers(monkeypatch, {"pptx": _sleeps(log), "xlsx": _fails_once_started(log)})

    with pytest.raises(RenderError, match="rendering xlsx failed"):
        render_concurrently(
            sample_document, {"pptx": tmp_path / "a.pptx", "xlsx": tmp_path / "a.xlsx"}, processes=2
        )

    sleeper = int(log.read_text().split()[0])
    with pytest.raises(ProcessLookupError):
        os.kill(sleeper, 0)  # ended and reaped, not left rendering into a removed folder


def test_a_failed_concurrent_build_leaves_no_artifact(sample_document, tmp_path, monkeypatch):
    _fake_renderers(monkeypatch, {"pptx": _writes_its_pid(tmp_path / "log"), "pdf": _fails})
    prepared = _prepared(sample_document, tmp_path / "out")

    with pytest.raises(RenderError, match="rendering pdf failed"):
        write_artifacts(prepared, ["pdf", "pptx"], processes=2)

    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_one_process_renders_the_formats_in_turn_in_the_build_process(
    sample_document, tmp_path, monkeypatch
):
    log = tmp_path / "log"
    _fake_renderers(monkeypatch, {"pdf": _writes_its_pid(log), "pptx": _writes_its_pid(log)})
    prepared = _prepared(sample_document, tmp_path / "out")

    result = write_artifacts(prepared, ["pdf", "pptx"], processes=1)

    assert {int(line.split()[1]) for line in log.read_text().splitlines()} == {os.getpid()}
    assert sorted(result.artifacts) == ["figures", "pdf", "pptx"]


def test_a_renderer_inherits_its_library_imported_while_the_charts_were_drawn(
    sample_document, tmp_path, monkeypatch
):
    library = f"renderer_library_{os.getpid()}_{time.monotonic_ns()}"  # imported nowhere else
    (tmp_path / f"{library}.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(processes.RENDERER_LIBRARIES, "pdf", (library,))
    log = tmp_path / "log"

    def pdf(document: Document, path: Path) -> None:
        _log(log, f"pdf found {library} imported: {library in sys.modules}")
        path.write_text("done")

    _fake_renderers(monkeypatch, {"pdf": pdf, "pptx": _writes_its_pid(log)})

    render_concurrently(
        sample_document, {"pdf": tmp_path / "out.pdf", "pptx": tmp_path / "o.pptx"}, processes=2
    )

    assert f"pdf found {library} imported: True" in log.read_text()


def test_the_pdf_and_html_share_charts_drawn_once_in_the_build_process(
    sample_document, tmp_path, monkeypatch
):
    log = tmp_path / "drawn"
    draw = vega.vegalite_to_svg

    def counted(spec):
        _log(log, str(os.getpid()))
        return draw(spec)

    monkeypatch.setattr(vega, "vegalite_to_svg", counted)
    svg._chart_to_svg.cache_clear()
    svg._graphic_to_svg.cache_clear()
    targets = {"pdf": tmp_path / "r.pdf", "html": tmp_path / "r.html"}

    render_concurrently(sample_document, targets, processes=2)

    drawn = log.read_text().split()
    charts = [
        b for s in sample_document.sections for b in s.blocks if isinstance(b, Chart | Graphic)
    ]
    assert set(drawn) == {str(os.getpid())}  # none drawn again in a renderer's process
    assert len(drawn) == len(charts)
    assert targets["pdf"].read_bytes().startswith(b"%PDF")
    assert "<svg" in targets["html"].read_text()


def test_concurrent_files_match_those_rendered_in_turn(sample_document, tmp_path):
    together = {f: tmp_path / f"together.{f}" for f in ("pptx", "html")}
    render_concurrently(sample_document, together, processes=2)

    for fmt, path in together.items():
        render, _ = get_renderer(fmt)
        alone = tmp_path / f"alone.{fmt}"
        render(sample_document, alone)
        if fmt == "html":
            assert path.read_text() == alone.read_text()
        else:
            assert _pptx_xml(path) == _pptx_xml(alone)


def _pptx_xml(path: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as deck:
        return {n: deck.read(n) for n in deck.namelist() if n.endswith(".xml")}
