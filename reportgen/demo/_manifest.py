"""The demo data's manifest: a frozen mirror of ``manifest.json``.

Consumers (the CLI, tests, the insight checks) read the manifest rather than
re-deriving the org or the incidents, so the dataclasses here are the contract;
the key names and meanings are documented in :mod:`reportgen.demo`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    files: tuple[str, ...]  # paths relative to the data folder, POSIX separators


@dataclass(frozen=True)
class SiteInfo:
    code: str
    city: str
    region: str
    teams: tuple[str, ...]
    moderators: int


@dataclass(frozen=True)
class QueueInfo:
    name: str
    policy: str
    high_severity: bool
    sla_hours: float
    base_aht_seconds: float
    automation_rate: float
    volume_share: float


@dataclass(frozen=True)
class ModeratorBlock:
    """A contiguous range of moderator ids that all belong to one site and team."""

    site: str
    team: str
    first_id: str
    last_id: str
    count: int


@dataclass(frozen=True)
class OrgInfo:
    regions: tuple[str, ...]
    sites: tuple[SiteInfo, ...]
    teams: tuple[str, ...]
    queues: tuple[QueueInfo, ...]
    policies: tuple[str, ...]
    languages: tuple[str, ...]
    moderator_count: int
    moderators: tuple[ModeratorBlock, ...]


@dataclass(frozen=True)
class Incident:
    """An anomaly planted in the data, with what a good report should say about it."""

    id: str
    kind: str
    description: str
    metric: str  # catalog metric id
    dimension: str  # breakdown dimension that localises it
    segment: str  # value of that dimension
    week: str  # ISO week, e.g. "2026-W47"
    direction: str  # "up" or "down": expected move of the metric
    magnitude: float  # see magnitude_kind
    magnitude_kind: str  # "absolute" (metric units; 0.15 = 15 pp) or "relative" (0.45 = +45 %)
    share_ratio: float | None = (
        None  # for mix shifts: factor on the segment's share of the denominator
    )


@dataclass(frozen=True)
class DemoManifest:
    format_version: int
    generator: str
    generator_version: str
    seed: int
    rows: int
    weeks: int
    start: date
    end: datetime
    timezone: str
    latest_complete_week: str
    partial_week: str
    tables: tuple[TableInfo, ...]
    org: OrgInfo
    incidents: tuple[Incident, ...]

    def table(self, name: str) -> TableInfo:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat().replace("+00:00", "Z")
        data["tables"] = {t.name: {"rows": t.rows, "files": list(t.files)} for t in self.tables}
        return _lists(data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoManifest:
        org = data["org"]
        return cls(
            **{
                **_plain(cls, data),
                "start": date.fromisoformat(data["start"]),
                "end": datetime.fromisoformat(data["end"].replace("Z", "+00:00")),
                "tables": tuple(
                    TableInfo(name, t["rows"], tuple(t["files"]))
                    for name, t in data["tables"].items()
                ),
                "org": OrgInfo(
                    **{
                        **_plain(OrgInfo, org),
                        "sites": tuple(
                            SiteInfo(**{**s, "teams": tuple(s["teams"])}) for s in org["sites"]
                        ),
                        "queues": tuple(QueueInfo(**q) for q in org["queues"]),
                        "moderators": tuple(ModeratorBlock(**m) for m in org["moderators"]),
                    }
                ),
                "incidents": tuple(Incident(**i) for i in data["incidents"]),
            }
        )

    @classmethod
    def load(cls, folder_or_file: str | Path) -> DemoManifest:
        path = Path(folder_or_file)
        if path.is_dir():
            path = path / MANIFEST_NAME
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _plain(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``cls`` found in ``data``, lists turned into tuples."""
    return {
        f.name: tuple(data[f.name]) if isinstance(data[f.name], list) else data[f.name]
        for f in fields(cls)
        if f.name in data
    }


def _lists(value: Any) -> Any:
    """Tuples to lists, recursively, so the JSON is plain."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value
