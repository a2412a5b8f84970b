"""Root-cause follow-up: causes, owners and actions recorded against flagged anomalies.

Items live in the run ledger's database (``$REPORTGEN_LEDGER_URL`` or
``<out>/ledger.sqlite``) so the scheduler, the CLI and the next build share
them. An item keeps a snapshot of the anomaly it was raised against (metric,
segment, period, values), so the next report can measure whether the metric
recovered, and a new anomaly on the same metric and segment links back to it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from reportgen.errors import ReportgenError
from reportgen.ops.ledger import UtcDateTime, default_url
from reportgen.ops.ledger_location import ledger_exists


class RcaError(ReportgenError):
    """An RCA command refers to something that does not exist or is malformed."""


metadata = MetaData()
rca_items = Table(
    "reportgen_rca",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("anomaly_id", String(32), nullable=False, index=True),
    Column("report", String(200), nullable=False),
    Column("audience", String(200), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("dimension", String(200)),
    Column("segment", Text),
    Column("method", String(40), nullable=False),
    Column("period", String(20), nullable=False),
    Column("observed", Float),
    Column("baseline", Float),
    Column("direction", String(10)),
    Column("detail", Text),
    Column("cause", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("action", Text, nullable=False),
    Column("due", Date),
    Column("status", String(10), nullable=False, default="open"),
    Column("outcome", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
)


@dataclass(frozen=True)
class RcaItem:
    id: int
    anomaly_id: str
    report: str
    audience: str
    metric: str
    dimension: str | None
    segment: str | None
    method: str
    period: str
    observed: float | None
    baseline: float | None
    direction: str | None
    detail: str | None
    cause: str
    owner: str
    action: str
    due: date | None
    status: str
    outcome: str | None
    created_at: datetime
    closed_at: datetime | None

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What makes a later anomaly a recurrence of this one."""
        return (self.metric, self.dimension, self.segment)


class RcaStore:
    def __init__(self, url: str) -> None:
        from reportgen.ops.ledger import open_tables

        self.engine = open_tables(url, metadata)

    @classmethod
    def for_output(cls, out_dir: str | Path) -> RcaStore:
        return cls(default_url(out_dir))

    def dispose(self) -> None:
        self.engine.dispose()

    def add(
        self,
        anomaly: dict[str, Any],
        *,
        cause: str,
        owner: str,
        action: str,
        due: date | None = None,
        now: datetime | None = None,
    ) -> RcaItem:
        for name, value in (("cause", cause), ("owner", owner), ("action", action)):
            if not value or not value.strip():
                raise RcaError(f"--{name} is empty", fix=f"say the {name} in a few words")
        row = {
            "anomaly_id": anomaly["id"],
            "report": anomaly["report"],
            "audience": anomaly["audience"],
            "metric": anomaly["metric"],
            "dimension": anomaly.get("dimension"),
            "segment": anomaly.get("segment"),
            "method": anomaly["method"],
            "period": anomaly["period"],
            "observed": anomaly.get("observed"),
            "baseline": anomaly.get("baseline"),
            "direction": anomaly.get("direction"),
            "detail": anomaly.get("detail"),
            "cause": cause.strip(),
            "owner": owner.strip(),
            "action": action.strip(),
            "due": due,
            "status": "open",
            "created_at": now or datetime.now(UTC),
        }
        with self.engine.begin() as con:
            item_id = con.execute(insert(rca_items).values(**row)).inserted_primary_key[0]
        return self.get(item_id)

    def get(self, item_id: int) -> RcaItem:
        with self.engine.connect() as con:
            row = con.execute(select(rca_items).where(rca_items.c.id == item_id)).mappings().first()
        if row is None:
            raise RcaError(f"no RCA item #{item_id}", fix="`reportgen rca list` shows the items")
        return RcaItem(**row)

    def close(self, item_id: int, outcome: str, now: datetime | None = None) -> RcaItem:
        item = self.get(item_id)
        if item.status == "closed":
            raise RcaError(
                f"RCA item #{item_id} is already closed",
                fix="add a new item if the issue came back",
            )
        if not outcome.strip():
            raise RcaError("--outcome is empty", fix="say what the action achieved")
        with self.engine.begin() as con:
            con.execute(
                update(rca_items)
                .where(rca_items.c.id == item_id)
                .values(
                    status="closed", outcome=outcome.strip(), closed_at=now or datetime.now(UTC)
                )
            )
        return self.get(item_id)

    def items(
        self, *, report: str | None = None, audience: str | None = None, open_only: bool = False
    ) -> list[RcaItem]:
        query = select(rca_items).order_by(rca_items.c.id)
        if report:
            query = query.where(rca_items.c.report == report)
        if audience:
            query = query.where(rca_items.c.audience == audience)
        if open_only:
            query = query.where(rca_items.c.status == "open")
        with self.engine.connect() as con:
            return [RcaItem(**row) for row in con.execute(query).mappings()]

    def import_csv(self, path: Path, out_dir: Path) -> list[RcaItem]:
        """Rows ``anomaly_id,cause,owner,action,due`` (due optional, YYYY-MM-DD) from a team's sheet."""
        added = []
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"anomaly_id", "cause", "owner", "action"} - set(reader.fieldnames or ())
            if missing:
                raise RcaError(
                    f"{path} lacks columns {sorted(missing)}",
                    fix="header: anomaly_id,cause,owner,action,due",
                )
            for line, row in enumerate(reader, start=2):
                try:
                    due = date.fromisoformat(row["due"]) if row.get("due") else None
                except ValueError:
                    raise RcaError(
                        f"{path}:{line}: due '{row['due']}' is not a date", fix="use YYYY-MM-DD"
                    ) from None
                anomaly = find_anomaly(out_dir, row["anomaly_id"].strip())
                added.append(
                    self.add(
                        anomaly,
                        cause=row["cause"],
                        owner=row["owner"],
                        action=row["action"],
                        due=due,
                    )
                )
        return added


def find_anomaly(out_dir: str | Path, anomaly_id: str) -> dict[str, Any]:
    """The anomaly with this id in any figures.json under the output folder (newest period first)."""
    for path in sorted(Path(out_dir).glob("*/*/*/figures.json"), reverse=True):
        data = json.loads(path.read_text(encoding="utf-8"))
        for anomaly in (data.get("insights") or {}).get("anomalies", []):
            if anomaly["id"] == anomaly_id:
                return {**anomaly, "report": data["report"], "audience": data.get("audience", "")}
    raise RcaError(
        f"no anomaly '{anomaly_id}' in the reports under {out_dir}",
        fix="copy the ID from a report's anomaly table, or pass --out with the folder the report was built in",
    )


def recorded_causes(out_dir: str | Path, report: str, audience: str) -> list[RcaItem]:
    """RCA items for a report's audience, if a ledger exists (a build never creates one)."""
    if not ledger_exists(out_dir):
        return []
    store = RcaStore(default_url(out_dir))
    try:
        return store.items(report=report, audience=audience)
    finally:
        store.dispose()
