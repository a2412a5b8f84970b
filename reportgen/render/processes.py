"""Rendering the formats of one build at the same time, each in a process of its own.

The renderers share nothing but the document and the drawn charts, and each
spends seconds in pure Python (WeasyPrint's layout, openpyxl's cells,
python-pptx's XML), so on a machine with more than one core they overlap
well. Each format is rendered in a child forked from the build process: the
child sees the document (and, for the PDF and HTML, the charts already
drawn) without copying or pickling it, writes its one file and exits, so
its memory goes back to the system when its file is written.

Order matters for time and memory alike:

1. the build process first has every chart not drawn before drawn once,
   by the vl-convert process (:mod:`reportgen.render.charts.vega`), and then
   ends it, so its JavaScript heap never sits beside a layout;
2. then the renderers are forked, the chart formats (PDF, HTML) first: the
   PDF's layout is the longest of them, so it starts as soon as it can, and
   the children inherit the drawn charts: each chart is drawn once per
   build, whatever number of formats shows it.

While the charts are drawn, the build process imports the renderers'
libraries (:data:`RENDERER_LIBRARIES`) on a thread: it mostly waits on the
drawing process then, and each child inherits the modules instead of
importing them itself (WeasyPrint takes ~0.6 s to import, on the PDF's
critical path).

Drawing before any renderer starts (rather than beside the chart-free
formats) costs no time: the PPTX, XLSX and CSV then run beside the PDF's
layout, which takes longer than any of them, and no renderer's memory sits
beside the drawing process's.

At most ``processes`` renderers run at once. The objects of the build
process are frozen out of the garbage collector before forking
(:func:`gc.freeze`), so a child's collections do not touch, and copy, the
pages it shares with its parent.

A renderer that fails (or a child that dies) fails the build with the
format named; the other children are stopped and, because every file is
written into the build's staging folder, nothing half-written is left.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import os
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from reportgen.document import Document
from reportgen.errors import RenderError, ReportgenError
from reportgen.render import get_renderer

#: Formats whose renderer draws Vega-Lite charts (the PPTX's charts are native).
CHART_FORMATS = frozenset({"pdf", "html"})
#: The libraries a format's renderer imports when it starts, slowest first.
RENDERER_LIBRARIES = {"pdf": ("weasyprint",), "pptx": ("pptx",), "xlsx": ("openpyxl",)}

Progress = Callable[[str], None]


def render_one(fmt: str, document: Document, target: Path) -> None:
    """Render one format to ``target``; any failure is a :class:`RenderError` naming it."""
    render, _suffix = get_renderer(fmt)
    try:
        render(document, target)
    except ReportgenError:
        raise
    except Exception as exc:  # a renderer bug must still name the report, period and format
        raise RenderError(
            f"rendering {fmt} failed: {exc}",
            report=document.report_id,
            period=document.period_label,
            fix="run with --verbose for the traceback and report it",
        ) from exc


class RemoteTraceback(Exception):
    """The traceback of an error raised in a renderer's process, as text (its ``__cause__``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass
class _Child:
    """One renderer's process and the pipe its verdict comes back on."""

    fmt: str
    process: BaseProcess
    verdict: Connection


def render_concurrently(
    document: Document,
    targets: Mapping[str, Path],
    *,
    processes: int,
    say: Progress | None = None,
) -> None:
    """Render every format of ``targets`` (format → file) in forked processes, ``processes`` at once.

    Returns when every file is written; raises the first failure's
    :class:`RenderError` (the format named) after stopping the other children.
    """
    say = say or (lambda _msg: None)
    with_charts = [fmt for fmt in targets if fmt in CHART_FORMATS]
    if with_charts:
        say("Drawing the charts")
        importing = _import_renderers(targets)
        try:
            _draw_charts(document)
        finally:
            importing.join()  # before forking: an import in progress holds the import lock
    running: list[_Child] = []
    gc.collect()
    gc.freeze()  # the children's collections must not write to the pages they share with this one
    try:
        waiting = with_charts + [fmt for fmt in targets if fmt not in CHART_FORMATS]
        while running or waiting:
            _fill(running, waiting, document, targets, processes, say)
            _reap(running, wait([c.verdict for c in running]), say)
    except BaseException:
        _stop(running)
        raise
    finally:
        gc.unfreeze()


def _fill(
    running: list[_Child],
    waiting: list[str],
    document: Document,
    targets: Mapping[str, Path],
    processes: int,
    say: Progress,
) -> None:
    """Start waiting formats while fewer than ``processes`` run."""
    while waiting and len(running) < max(processes, 1):
        fmt = waiting.pop(0)
        say(f"Rendering {fmt.upper()} (in its own process)")
        running.append(_start(fmt, document, targets[fmt]))


def _draw_charts(document: Document) -> None:
    """Draw every chart of the document in this process (memoised), then end the drawing process."""
    from reportgen.render.charts import vega
    from reportgen.render.html.page import finish_drawing, start_drawing

    try:
        start_drawing(document)
        finish_drawing()
    finally:
        vega.shut_down()


def _import_renderers(formats: Iterable[str]) -> threading.Thread:
    """Import the formats' renderer libraries on a thread, for the children to inherit."""
    names = [name for fmt in formats for name in RENDERER_LIBRARIES.get(fmt, ())]
    thread = threading.Thread(
        target=_import_quietly, args=(names,), name="reportgen-renderer-imports", daemon=True
    )
    thread.start()
    return thread


def _import_quietly(names: list[str]) -> None:
    for name in names:
        # a library that fails to import fails again, with its traceback, in its renderer
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _start(fmt: str, document: Document, target: Path) -> _Child:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_child_main, args=(fmt, document, target, send), name=f"reportgen-render-{fmt}"
    )
    process.start()
    send.close()  # the child holds the sending end: its exit closes the pipe
    return _Child(fmt, process, receive)


def _child_main(fmt: str, document: Document, target: Path, verdict: Connection) -> None:
    """In the child: render, then send its seconds, or the error (pickled, with its traceback)."""
    started = time.perf_counter()
    try:
        render_one(fmt, document, target)
        message: float | tuple[BaseException, str] = time.perf_counter() - started
    except BaseException as error:  # everything goes back to the build process
        message = (error, "".join(traceback.format_exception(error)))
    try:
        verdict.send(message)
    except (pickle.PicklingError, TypeError, AttributeError):  # an error that cannot travel
        assert isinstance(message, tuple)
        verdict.send((RenderError(f"rendering {fmt} failed: {message[0]}"), message[1]))
    verdict.close()


def _reap(running: list[_Child], ready: list, say: Progress) -> None:
    """Collect the children whose pipes are ready; raise the first failure."""
    for child in [c for c in running if c.verdict in ready]:
        running.remove(child)
        try:
            message = child.verdict.recv()
        except EOFError:  # died without a word: killed, out of memory, a crash in C
            child.process.join()
            raise RenderError(
                f"rendering {child.fmt} failed: its process ended with exit code "
                f"{child.process.exitcode} before writing the file",
                fix="run with --verbose; if the machine ran out of memory, build one format at a "
                "time (--format)",
            ) from None
        finally:
            child.verdict.close()
        child.process.join()
        if isinstance(message, float):
            say(f"{child.fmt.upper()} written ({message:.2f} s in its process)")
        else:
            error, remote = message
            if not isinstance(error, ReportgenError):
                error = RenderError(
                    f"rendering {child.fmt} failed: {error}",
                    fix="run with --verbose for the traceback and report it",
                )
            raise error from RemoteTraceback(remote)


def _stop(running: list[_Child]) -> None:
    """End the children still rendering (their files are in the staging folder, discarded)."""
    for child in running:
        with contextlib.suppress(OSError, ValueError):
            child.process.terminate()
    for child in running:
        child.process.join()
        child.verdict.close()
    running.clear()


def default_processes() -> int:
    """Renderers at once: one per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
