"""What builds left in an output folder: ``<report>/<period>/<audience>/figures.json``.

The site is drawn from this inventory alone. A folder without a readable
``figures.json`` (a build in progress has only a hidden staging folder; a
foreign folder has none) is not a built report and is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from reportgen.errors import ConfigError

#: Artifacts a page offers for download, in the order shown, by file suffix.
DOWNLOADS: tuple[tuple[str, str], ...] = (
    (".pdf", "PDF"),
    (".pptx", "PowerPoint"),
    (".xlsx", "Excel workbook"),
)


@dataclass(frozen=True)
class BuiltReport:
    """One built (report, period, audience): its figures and the files beside them."""

    report: str
    period: str
    audience: str
    folder: Path
    figures: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.report, self.period, self.audience)

    @property
    def title(self) -> str:
        return str(self.figures.get("title") or self.report)

    @property
    def start(self) -> date:
        return date.fromisoformat(self.figures["period"]["start"])

    @property
    def grain(self) -> str:
        return str(self.figures["period"]["grain"])

    @property
    def complete(self) -> bool:
        return bool(self.figures["period"].get("complete", True))

    def downloads(self) -> list[tuple[str, Path]]:
        """(label, file) for each artifact present, figures.json last."""
        found = []
        for suffix, label in DOWNLOADS:
            files = sorted(self.folder.glob(f"*{suffix}"))
            found += [(label, f) for f in files if not f.name.startswith(".")]
        found.append(("figures.json", self.folder / "figures.json"))
        return found


def scan_output(out_dir: Path, audience: str | None = None) -> list[BuiltReport]:
    """Every built report under ``out_dir`` (one audience's only, if named), oldest first."""
    root = Path(out_dir)
    if not root.is_dir():
        raise ConfigError(
            f"output folder {root} does not exist",
            fix="build a report first (`reportgen build CONFIG`) or pass the folder it wrote to",
        )
    found = []
    for path in sorted(root.glob("*/*/*/figures.json")):
        folder = path.parent
        if any(part.startswith(".") for part in folder.relative_to(root).parts):
            continue  # a staging or set-aside folder
        if audience is not None and folder.name != audience:
            continue
        try:
            figures = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(figures, dict) or "period" not in figures:
            continue
        found.append(
            BuiltReport(folder.parent.parent.name, folder.parent.name, folder.name, folder, figures)
        )
    return sorted(found, key=lambda b: (b.audience, b.report, b.start))


def series_neighbours(
    built: list[BuiltReport], item: BuiltReport
) -> tuple[BuiltReport | None, BuiltReport | None]:
    """The previous and next built period of the same report, audience and grain."""
    same = [
        b
        for b in built
        if (b.report, b.audience, b.grain) == (item.report, item.audience, item.grain)
    ]
    same.sort(key=lambda b: b.start)
    index = same.index(item)
    before = same[index - 1] if index > 0 else None
    after = same[index + 1] if index + 1 < len(same) else None
    return before, after
