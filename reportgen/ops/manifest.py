"""The delivery manifest: what a build produced, with hashes and the summary to mail.

``build_report`` writes the artifacts; a run then writes ``manifest.json``
beside them (atomically: temp file + rename) with each artifact's size and
SHA-256 and the report's summary (KPI tiles and headlines, as plain data).
That lets ``reportgen send`` re-send a built report without recomputing
anything, and lets it refuse when the files changed after the manifest was
written — so what is sent is always what the ledger recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.errors import DeliveryError

if TYPE_CHECKING:
    from reportgen.build import BuildResult
    from reportgen.document import Document

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ReportContent:
    """Everything a channel needs to describe a built report, without the document model."""

    report: str
    period: str
    audience: str  # the audience's name (output folder, idempotency key)
    audience_label: str
    title: str
    subtitle: str
    period_display: str
    status_note: str | None
    generated_at: str
    tiles: tuple[dict[str, Any], ...]
    headlines: tuple[str, ...]
    brand: dict[str, str]
    artifacts: dict[str, Artifact]
    folder: Path
    run_id: int | None = None
    recipients: tuple[str, ...] = ()  # the audience's own recipients (added to email To:)
    # the email's bottom line, stories, unusual KPIs and trailing series (channels._email_brief)
    brief: dict[str, Any] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_info(path: Path) -> Artifact:
    return Artifact(path, sha256_of(path), path.stat().st_size)


def summary_of(document: Document) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
    """KPI tiles and headline sentences of the document's summary section (if it has one)."""
    from reportgen.document import LEAD_MARK, KpiGrid, Narrative

    tiles: list[dict[str, Any]] = []
    headlines: list[str] = []
    # the summary itself (the brief) and what was restated since the last report, when there
    # is a summary; else every summary-role section (never the anomaly and driver evidence)
    brief = ("summary", "restatements")
    chosen = [s for s in document.sections if s.id in brief]
    if not any(s.id == "summary" for s in chosen):
        chosen = [s for s in document.sections if s.role == "summary"]
    for section in chosen:
        for block in section.blocks:
            if isinstance(block, KpiGrid):
                tiles.extend(asdict(tile) for tile in block.tiles)
            elif isinstance(block, Narrative):  # a story's bold lead is plain text here
                headlines.extend(p.replace(LEAD_MARK, "") for p in block.paragraphs)
    return tuple(tiles), tuple(headlines)


def brand_of(document: Document) -> dict[str, str]:
    """The brand colours and texts an email uses; colours re-checked, they go into style attributes."""
    b = document.brand
    colours = {
        key: value if _HEX.match(value) else "#333333"
        for key, value in {
            "primary": b.primary,
            "text": b.text,
            "muted": b.muted,
            "background": b.background,
            "good": b.good,
            "bad": b.bad,
            "neutral": b.neutral,
        }.items()
    }
    return {**colours, "name": b.name, "footer": b.footer, "classification": b.classification}


def content_from_build(
    result: BuildResult, run_id: int | None, recipients: Sequence[str] = ()
) -> ReportContent:
    from reportgen.ops.channels._email_brief import email_brief

    doc = result.document
    tiles, headlines = summary_of(doc)
    return ReportContent(
        report=result.report,
        period=result.period.label,
        audience=result.out_dir.name,
        audience_label=doc.audience,
        title=doc.title,
        subtitle=doc.subtitle,
        period_display=doc.period_label,
        status_note=doc.status_note,
        generated_at=doc.generated_at.isoformat(),
        tiles=tiles,
        headlines=headlines,
        brand=brand_of(doc),
        artifacts={fmt: artifact_info(path) for fmt, path in result.artifacts.items()},
        folder=result.out_dir,
        run_id=run_id,
        recipients=tuple(recipients),
        brief=email_brief(result),
    )


def write_manifest(content: ReportContent) -> Path:
    """Write ``manifest.json`` into the artifact folder atomically."""
    data = {
        "schema_version": SCHEMA_VERSION,
        **{k: v for k, v in asdict(content).items() if k not in ("artifacts", "folder")},
        "artifacts": {
            fmt: {"file": a.path.name, "sha256": a.sha256, "bytes": a.bytes}
            for fmt, a in content.artifacts.items()
        },
    }
    target = content.folder / MANIFEST
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=content.folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DeliveryError(
            f"cannot write {target}: {exc.strerror or exc}", fix="check the output folder"
        ) from None
    return target


def read_manifest(folder: Path) -> ReportContent:
    """The manifest of a built report; refuses when an artifact changed since it was written."""
    path = folder / MANIFEST
    if not path.is_file():
        raise DeliveryError(
            f"no {MANIFEST} in {folder}: this folder was not built by a delivery run",
            fix="build and send it once with `reportgen build CONFIG --period P --send`",
            folder=str(folder),
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    artifacts: dict[str, Artifact] = {}
    for fmt, entry in data["artifacts"].items():
        file = folder / entry["file"]
        if not file.is_file() or sha256_of(file) != entry["sha256"]:
            raise DeliveryError(
                f"{file.name} changed or vanished since {MANIFEST} was written "
                "(rebuilt without --send?)",
                fix="rebuild and send with `reportgen build CONFIG --period P --send --force`",
                folder=str(folder),
            )
        artifacts[fmt] = Artifact(file, entry["sha256"], entry["bytes"])
    fields = {k: data[k] for k in ReportContent.__dataclass_fields__ if k in data}
    fields.update(
        tiles=tuple(data["tiles"]),
        headlines=tuple(data["headlines"]),
        recipients=tuple(data.get("recipients", ())),
        artifacts=artifacts,
        folder=folder,
    )
    return ReportContent(**fields)
