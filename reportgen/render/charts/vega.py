"""Vega-Lite → SVG in short-lived worker processes, so the JavaScript engine's memory goes away.

vl-convert embeds a JavaScript engine whose heap (~110 MB after a report's
charts) stays with the process that drew them: glibc never gets it back.
Drawn in the build process, that heap sat under WeasyPrint's layout
(~140 MB) and pushed a whole build's peak RSS past 600 MB. Drawn here, it
lives in worker processes that exit (:func:`shut_down`) before the PDF is
laid out. A process that builds many audiences in turn (a fan-out's worker)
holds its worker instead (:func:`hold_workers`): one warmed-up engine draws
every audience's charts.

The workers run ``_vega_worker.py`` as a script: it imports vl-convert and
nothing else (a spawned multiprocessing worker would re-import the CLI and
pandas). A worker that dies mid-chart is a :class:`RenderError` carrying the
end of its stderr.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from reportgen.errors import RenderError
from reportgen.render.charts.drawings import DrawingCache

#: Drawing processes at once. One: each holds its own engine (~90 MB warmed up, ~130 MB
#: after a report's charts); a second drew a report's charts ~0.5 s sooner but lifted a cold
#: all-formats build's process tree to 616 MB, past the 600 MB budget.
WORKERS = 1
#: A worker is replaced after this many charts. The engine's heap grows with the first
#: charts and then levels off (RSS ~87 MB after one chart, ~131 MB after 12, ~137 MB after
#: the weekly report's 32, ~139 MB after 564 charts of six audiences), while a fresh worker
#: costs ~0.9 s of CPU to start and warm up: one worker draws a whole fan-out's charts
#: (:func:`hold_workers`) or at least a whole report's.
CHARTS_PER_WORKER = 1000
#: Drawn by a worker started ahead of need (:func:`prestart`), so the JavaScript engine
#: compiles Vega while the build is still analysing: an axis, labels and a mark.
WARM_UP = {
    "data": {"values": [{"x": 1, "y": "a"}]},
    "mark": "bar",
    "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y"}},
}
_SCRIPT = Path(__file__).with_name("_vega_worker.py")
_STDERR_TAIL = 2000


class _Worker:
    """One drawing process; used by one thread at a time (the pool hands it out)."""

    def __init__(self, *, warm_up: bool = False) -> None:
        self.drawn = 0
        # lives as long as the worker: closed in close()
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, str(_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        #: the warm-up's answer is still to be read (sent without waiting for it)
        self._warming = warm_up
        if warm_up:
            self._send(WARM_UP)

    def _send(self, spec: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"spec": spec}).encode("utf-8") + b"\n")
        self._process.stdin.flush()

    def draw(self, spec: dict[str, Any]) -> str:
        """The SVG of one spec; vl-convert's own error as a ValueError."""
        assert self._process.stdout is not None
        try:
            self._send(spec)
            if self._warming:  # the warm-up's drawing: not wanted
                self._process.stdout.readline()
                self._warming = False
            line = self._process.stdout.readline()
        except OSError:
            line = b""
        if not line:
            raise RenderError(
                f"the chart drawing process exited (code {self._process.wait()}): "
                f"{self._stderr_tail() or 'no message'}",
                fix="run with --verbose and report it",
            )
        self.drawn += 1
        answer = json.loads(line)
        if "error" in answer:
            raise ValueError(answer["error"])
        return answer["svg"]

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-_STDERR_TAIL:].strip()

    def forget_pipes(self) -> None:
        """In a forked child: close this process's copies of the worker's pipes, nothing else."""
        for pipe in (self._process.stdin, self._process.stdout):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()

    def close(self) -> None:
        """End of input ends the worker; wait so its memory is gone when this returns."""
        with contextlib.suppress(OSError):  # a dead worker's pipe is broken: nothing to flush
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()


class _Pool:
    """Up to :data:`WORKERS` workers, started on first use; callers wait for an idle one.

    A caller waits on a condition, not on a queue of idle workers: when a
    worker dies (or the pool is shut down) while others wait, one of them
    must start a replacement rather than wait for a worker that will never
    come back.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._idle: list[_Worker] = []
        self._started: list[_Worker] = []
        self._changed = threading.Condition()
        #: while True, :meth:`shut_down` leaves the workers running (:func:`hold_workers`)
        self.held = False

    def draw(self, spec: dict[str, Any]) -> str:
        worker = self._take()
        broken = False
        try:
            return worker.draw(spec)
        except RenderError:
            broken = True
            raise
        finally:
            self._give_back(worker, broken)

    def prestart(self) -> None:
        """Start (and warm up) the workers not running yet, for the charts to come."""
        with self._changed:
            while len(self._started) < self._size:
                worker = _Worker(warm_up=True)
                self._started.append(worker)
                self._idle.append(worker)
            self._changed.notify_all()

    def _take(self) -> _Worker:
        with self._changed:
            while True:
                if self._idle:
                    return self._idle.pop()
                if len(self._started) < self._size:
                    worker = _Worker()
                    self._started.append(worker)
                    return worker
                self._changed.wait()

    def _give_back(self, worker: _Worker, broken: bool) -> None:
        """An idle worker goes back; a broken or worn one, or one shut down while busy, ends."""
        with self._changed:
            worn = worker.drawn >= CHARTS_PER_WORKER
            keep = not broken and not worn and worker in self._started
            if keep:
                self._idle.append(worker)
            elif worker in self._started:
                self._started.remove(worker)
            self._changed.notify()
        if not keep:
            worker.close()

    def workers(self) -> list[_Worker]:
        return list(self._started)

    def shut_down(self, *, even_held: bool = False) -> None:
        """End the idle workers now; a busy one ends when its chart is done.

        A held pool keeps its workers unless ``even_held``: the builds of a
        fan-out each end their drawing at the end of their charts, and the
        next audience's charts would pay ~0.9 s for a new worker.
        """
        if self.held and not even_held:
            return
        with self._changed:
            idle, self._idle, self._started = self._idle, [], []
            self._changed.notify_all()
        for worker in idle:
            worker.close()


_POOL = _Pool(WORKERS)


def _end_at_exit() -> None:
    _POOL.shut_down(even_held=True)


atexit.register(_end_at_exit)


def _forget_workers_after_fork() -> None:
    """A forked child (a renderer's process) must not talk to its parent's drawing processes.

    It starts its own when it draws. Its copies of the pipes to the parent's
    workers are closed: a worker ends when its input ends, which must not
    wait for a renderer's process to exit.
    """
    global _POOL
    for worker in _POOL.workers():
        worker.forget_pipes()
    _POOL = _Pool(WORKERS)


os.register_at_fork(after_in_child=_forget_workers_after_fork)


#: Where drawings are kept between builds (set by the build: :func:`keep_drawings`).
_DRAWINGS: DrawingCache | None = None


@contextlib.contextmanager
def keep_drawings(cache: DrawingCache | None) -> Iterator[DrawingCache | None]:
    """Serve and keep drawings in ``cache`` while the block runs (forked renderers inherit it)."""
    global _DRAWINGS
    previous, _DRAWINGS = _DRAWINGS, cache
    try:
        yield cache
    finally:
        _DRAWINGS = previous
        if cache is not None:
            cache.prune()


def kept_drawings() -> DrawingCache | None:
    """Where this build keeps its drawings (:func:`keep_drawings`), if anywhere."""
    return _DRAWINGS


def vegalite_to_svg(spec: dict[str, Any]) -> str:
    """Draw one Vega-Lite spec: a kept drawing, else in a worker process (started if none is idle)."""
    drawings = _DRAWINGS
    if drawings is not None and (kept := drawings.get(spec)) is not None:
        return kept
    svg = _POOL.draw(spec)
    if drawings is not None:
        drawings.put(spec, svg)
    return svg


def prestart() -> None:
    """Start a drawing process ahead of the charts, so its start-up overlaps other work."""
    _POOL.prestart()


def shut_down() -> None:
    """End the drawing processes, returning their memory; the next chart starts new ones.

    While they are held (:func:`hold_workers`, :func:`workers_held`) this ends nothing.
    """
    _POOL.shut_down()


def hold_workers() -> None:
    """Keep this process's drawing workers across builds until it exits (a fan-out's worker).

    Every build ends its drawing process when its charts are drawn, so that
    the JavaScript engine's heap is not beside the PDF's layout. A process
    that builds one audience after another would then start and warm up a
    worker per audience (~0.9 s of CPU each, twice a build: the PDF's and the
    build's own shut-downs), so it holds them instead, at the price of the
    engine's ~140 MB staying beside each layout.
    """
    _POOL.held = True


@contextlib.contextmanager
def workers_held() -> Iterator[None]:
    """:func:`hold_workers` while the block runs; its end ends the workers (unless held before)."""
    pool = _POOL
    before, pool.held = pool.held, True
    try:
        yield
    finally:
        pool.held = before
        pool.shut_down()
