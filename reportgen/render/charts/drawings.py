"""Drawn charts kept on disk, keyed by everything that decides the drawing.

Drawing is the slowest step before the PDF's layout (~0.1–0.4 s a chart in
vl-convert's JavaScript engine, ~30 charts a weekly report), and a rebuild
of the same week on the same data draws the very same charts: before a
review an analyst rebuilds to fix a config typo, a fan-out draws the shared
org-wide charts once per audience, a scheduled run re-sends what an ad-hoc
build already drew.

The key is a SHA-256 of the Vega-Lite spec itself (data values inline,
sizes, colours, labels) and of the vl-convert version, so a drawing can
never be served for data that changed since: a corrected number is a
different spec and a new drawing. What is kept is vl-convert's own output;
the SVG is sanitised after the cache as before (:mod:`.svg`), so a change to
that step needs no cache change.

Building a spec costs time too (~25 ms a chart in Altair, ~0.9 s of a
cached weekly build), so each drawing is also found from what the spec is
built from: a small pointer file named by :func:`source_key` (the chart
block with its data, the brand, the size, and a digest of reportgen's own
code and of Altair's, pandas', numpy's and vl-convert's versions) holds the drawing's spec
key. A rebuild on the same data under the same code then draws and builds
nothing; a corrected number changes the block, and a code change the
digest, so neither can be served an old drawing.

Writes are atomic (a temporary file renamed into place) and a damaged entry
is redrawn, so an interrupted build or two builds drawing at once never
serve half a drawing. The folder is pruned to :data:`KEEP` entries, least
recently used first; ``reportgen cache clear`` empties it with the cube cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

logger = logging.getLogger("reportgen.render")

#: The folder under a report's cache folder (a cube scan's folder is a 12-hex hash: no clash).
FOLDER = "drawn-charts"
#: Entries kept after a build (~30 kB each: ~60 MB), least recently used dropped first.
KEEP = 2000
#: Bumped when what is stored, or how it is keyed, changes.
FORMAT = 1
_SUFFIX = ".svg"
_POINTER_SUFFIX = ".source"
_KEY = re.compile(r"[0-9a-f]{64}")


@lru_cache(maxsize=1)
def _drawer_version() -> str:
    try:
        return version("vl-convert-python")
    except PackageNotFoundError:  # pragma: no cover - a broken install cannot draw either
        return "unknown"


def source_digest(package: Path) -> str:
    """A digest of every Python file under ``package``: its names and its bytes."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


#: Libraries the spec building goes through (Altair writes the spec; its data passes pandas).
_BUILDERS = ("altair", "pandas", "numpy")


@lru_cache(maxsize=1)
def _builder_version() -> str:
    """reportgen's source and its spec-building libraries' versions: block → spec."""
    versions = []
    for name in _BUILDERS:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:  # pragma: no cover - a broken install cannot draw either
            versions.append(f"{name} unknown")
    return " ".join([source_digest(Path(__file__).resolve().parents[2]), *versions])


def source_key(source: object) -> str:
    """The hex digest naming a drawing by what its spec is built from (frozen dataclasses).

    ``repr`` of the chart block, brand and size holds every value the spec is
    built from (the dataclasses hold tuples, strings and numbers, no sets).
    """
    text = f"{FORMAT}\n{_drawer_version()}\n{_builder_version()}\n{source!r}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def drawing_key(spec: dict[str, Any]) -> str:
    """The hex digest naming a spec's drawing: the spec, the drawer's version, this format."""
    text = json.dumps(
        {"format": FORMAT, "drawer": _drawer_version(), "spec": spec},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DrawingCache:
    """A folder of drawn charts; ``read=False`` (``--no-cache``) redraws and rewrites them all."""

    def __init__(self, root: Path, *, read: bool = True, keep: int = KEEP) -> None:
        self.root = root
        self.read = read
        self.keep = keep
        self.hits = 0
        self.misses = 0
        self._warned = False

    def _path(self, key: str, suffix: str = _SUFFIX) -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, spec: dict[str, Any]) -> str | None:
        """The kept drawing of ``spec``, or None (not kept, not readable, or damaged)."""
        return self._read(drawing_key(spec))

    def get_for(self, source: object) -> str | None:
        """The drawing last kept for ``source`` (see :func:`source_key`), or None.

        None is not counted as a miss: the caller builds the spec and asks :meth:`get`.
        """
        if not self.read:
            return None
        pointer = self._path(source_key(source), _POINTER_SUFFIX)
        try:
            key = pointer.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not _KEY.fullmatch(key) or not self._path(key).exists():
            return None  # damaged, or its drawing pruned: built and drawn again
        with contextlib.suppress(OSError):
            os.utime(pointer)
        return self._read(key)

    def point(self, source: object, spec: dict[str, Any]) -> None:
        """Remember that ``source`` is drawn as ``spec`` (kept by :meth:`put`)."""
        self._write(self._path(source_key(source), _POINTER_SUFFIX), drawing_key(spec))

    def _read(self, key: str) -> str | None:
        if not self.read:
            self.misses += 1
            return None
        path = self._path(key)
        try:
            svg = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            self.misses += 1
            return None
        if not svg.rstrip().endswith("</svg>"):  # damaged on disk: draw it again
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept longest by prune()
        self.hits += 1
        return svg

    def put(self, spec: dict[str, Any], svg: str) -> None:
        """Keep a drawing; a cache that cannot be written is logged, never fails the build."""
        self._write(self._path(drawing_key(spec)), svg)

    def _write(self, path: Path, text: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(text)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as error:
            if not self._warned:  # once a build: the next chart would fail the same way
                logger.warning("could not keep a drawn chart in %s: %s", self.root, error)
            self._warned = True

    def held(self) -> tuple[int, int]:
        """How many drawings are kept, and their bytes (for ``reportgen cache status``)."""
        sizes = []
        for path in self.root.glob(f"*/*{_SUFFIX}"):
            with contextlib.suppress(OSError):
                sizes.append(path.stat().st_size)
        return len(sizes), sum(sizes)

    def prune(self) -> int:
        """Drop the least recently used drawings beyond :attr:`keep`; returns how many went.

        Their pointers (:meth:`point`) are pruned alike; one left pointing at a
        dropped drawing is a miss, never an error.
        """
        return self._prune(_SUFFIX) + self._prune(_POINTER_SUFFIX)

    def _prune(self, suffix: str) -> int:
        try:
            entries = [(p.stat().st_mtime, p) for p in self.root.glob(f"*/*{suffix}")]
        except OSError:
            return 0
        if len(entries) <= self.keep:
            return 0
        entries.sort()
        dropped = 0
        for _when, path in entries[: len(entries) - self.keep]:
            with contextlib.suppress(OSError):
                path.unlink()
                dropped += 1
        return dropped
