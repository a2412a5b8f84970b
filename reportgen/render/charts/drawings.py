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


@lru_cache(maxsize=1)
def _drawer_version() -> str:
    try:
        return version("vl-convert-python")
    except PackageNotFoundError:  # pragma: no cover - a broken install cannot draw either
        return "unknown"


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

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{_SUFFIX}"

    def get(self, spec: dict[str, Any]) -> str | None:
        """The kept drawing of ``spec``, or None (not kept, not readable, or damaged)."""
        if not self.read:
            self.misses += 1
            return None
        path = self._path(drawing_key(spec))
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
        path = self._path(drawing_key(spec))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(svg)
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
        """Drop the least recently used drawings beyond :attr:`keep`; returns how many went."""
        try:
            entries = [(p.stat().st_mtime, p) for p in self.root.glob(f"*/*{_SUFFIX}")]
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
