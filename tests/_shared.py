"""Session data made once per test run, also when pytest-xdist runs the tests on several workers.

Each xdist worker is its own process with its own session fixtures: without help
every worker would generate the demo data and build the shared reports again.
This follows the pattern in the pytest-xdist docs: the first worker to ask makes
the thing in a folder all workers of the run share
(``tmp_path_factory.getbasetemp().parent``) while holding an exclusive lock; the
others wait on the lock, then reuse what it made. Without xdist it is plain
``mktemp``. A build that fails leaves no ``.done`` mark, so the next worker tries
again and reports its own error.
"""

from __future__ import annotations

import fcntl
import pickle
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def run_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The folder every worker of this test run sees (the session's base temp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def made_once(folder: Path, make: Callable[[Path], None]) -> Path:
    """``folder`` as ``make(folder)`` left it, made by whichever worker of the run asks first."""
    done = folder.with_name(folder.name + ".done")
    with _exclusive(folder.with_name(folder.name + ".lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # half-made by a worker whose build failed
            folder.mkdir(parents=True)
            make(folder)
            done.touch()
    return folder


def result_once(folder: Path, make: Callable[[Path], T]) -> T:
    """``make(folder)``'s result (a build's, say), computed by one worker and unpickled by the rest.

    ``make`` writes its files into ``folder``; every worker then reads the same
    files, so a test sees one build whichever worker it runs on. The pickle sits
    beside ``folder``, which holds only what ``make`` wrote.
    """
    pickled = folder.with_name(folder.name + ".pickle")

    def make_and_keep(into: Path) -> None:
        pickled.write_bytes(pickle.dumps(make(into)))

    made_once(folder, make_and_keep)
    return pickle.loads(pickled.read_bytes())
