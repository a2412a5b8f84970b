"""The run ledger: every build and every send, and the keys that make delivery exactly-once.

A small SQL database (SQLite next to the output by default, any SQLAlchemy URL
otherwise) holds four things:

* ``reportgen_runs`` — one row per build-and-send run (who, what, when, status,
  error, artifact paths and hashes). A scheduled run is recorded *before* the
  scheduler advances its job, so a crash mid-build leaves a ``running`` row
  that the next scheduler resumes.
* ``reportgen_sends`` — the outbox. One row per idempotency key
  ``(report, period, audience, channel)`` under a unique constraint, holding
  the exact message to send. A row is claimed with a conditional ``UPDATE``
  before sending, so two processes never transmit the same key, and a ``sent``
  row is never sent again unless forced.
* ``reportgen_locks`` — a heartbeat lock so that only one scheduler acts.
* ``reportgen_alert_states`` — whether each alert subject is breached, so an
  alert fires once per breach and once on recovery.

Secrets never enter it: rows name the environment variables that hold them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from reportgen.errors import ReportgenError
from reportgen.ops.ledger_location import LEDGER_ENV_VAR, LEDGER_FILE


class LedgerError(ReportgenError):
    """The run ledger database cannot be opened or written."""


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

runs = Table(
    "reportgen_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(200), nullable=False),
    Column("period", String(40)),
    Column("audience", String(100), nullable=False),
    Column("trigger", String(20), nullable=False),  # manual | schedule | send
    Column("status", String(20), nullable=False),
    Column("job_id", String(300)),
    Column("scheduled_for", UtcDateTime),
    Column("config_path", Text),
    Column("out_dir", Text),
    Column("owner", String(200)),
    Column("attempts", Integer, nullable=False, default=1),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("error", Text),
    Column("artifacts", JSON),
    Column("options", JSON),
)

sends = Table(
    "reportgen_sends",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(200), nullable=False),
    Column("period", String(40), nullable=False),
    Column("audience", String(100), nullable=False),
    Column("channel", String(300), nullable=False),
    Column("kind", String(20), nullable=False),  # email | webhook
    Column("run_id", Integer),
    Column("status", String(20), nullable=False),  # pending|retrying|sending|sent|failed
    Column("generation", Integer, nullable=False, default=1),  # +1 per forced re-send
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("claimed_by", String(200)),
    Column("claimed_at", UtcDateTime),
    Column("last_error", Text),
    Column("detail", Text),
    Column("payload", LargeBinary, nullable=False),
    Column("transport", JSON, nullable=False),
    UniqueConstraint("report", "period", "audience", "channel", name="uq_reportgen_send_key"),
)

send_attempts = Table(
    "reportgen_send_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("send_id", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(20), nullable=False),  # sent | transient | permanent
    Column("error", Text),
)

locks = Table(
    "reportgen_locks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("hostname", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)

alert_states = Table(
    "reportgen_alert_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(200), nullable=False),
    Column("audience", String(100), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("state", String(20), nullable=False),  # breached | ok | notified
    Column("since", UtcDateTime, nullable=False),
    Column("value", Float),
    Column("last_checked", UtcDateTime, nullable=False),
    UniqueConstraint("report", "audience", "rule", "subject", name="uq_reportgen_alert_subject"),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


_OWNER: tuple[int, str] | None = None


def process_owner() -> str:
    """``host:pid:random`` naming this process in claims and locks (fresh after a fork)."""
    global _OWNER
    if _OWNER is None or _OWNER[0] != os.getpid():
        _OWNER = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _OWNER[1]


def default_url(out_dir: str | Path) -> str:
    """``$REPORTGEN_LEDGER_URL``, else a SQLite file beside the artifacts it describes."""
    env = os.environ.get(LEDGER_ENV_VAR)
    if env:
        return env
    return f"sqlite:///{(Path(out_dir) / LEDGER_FILE).resolve()}"


def open_tables(url: str, *schemas: MetaData, engine: Engine | None = None) -> Engine:
    """An engine on the ledger database with the tables of ``schemas`` created.

    Every store in the ledger (runs and sends, RCA items, commentary, shown figures)
    opens it here. Two processes opening a fresh ledger race between "is the table
    there" and CREATE TABLE: the loser's error is retried, and then finds the table.
    A failure names the ledger without its password.
    """
    try:
        engine = engine or make_engine(url)
        for schema in schemas:
            _retry_locked(lambda schema=schema: schema.create_all(engine))
    except (SQLAlchemyError, OSError) as exc:  # the URL may hold a password: never echo it
        raise LedgerError(
            f"cannot open the run ledger at {_safe_url(url)}: {exc.__class__.__name__}",
            fix=f"check --ledger / ${LEDGER_ENV_VAR} and that the database is reachable",
        ) from None
    return engine


def make_engine(url: str) -> Engine:
    """An engine that waits for SQLite's write lock instead of failing at once."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")  # first: WAL needs the lock too
            _retry_locked(lambda: cursor.execute("PRAGMA journal_mode=WAL"))
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True)
class SendKey:
    """The idempotency key: one delivery per report, period, audience and channel."""

    report: str
    period: str
    audience: str
    channel: str


@dataclass(frozen=True)
class Enqueued:
    send_id: int
    action: (
        str  # queued | requeued | already-sent | already-queued | failed-before | uncertain-before
    )


@dataclass(frozen=True)
class LockHolder:
    owner: str
    hostname: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime


class Ledger:
    """Typed access to the ledger tables; every method is one short transaction."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = open_tables(url, metadata, engine=engine)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # -- runs --------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        report: str,
        audience: str,
        trigger: str,
        period: str | None = None,
        config_path: str | None = None,
        out_dir: str | None = None,
        job_id: str | None = None,
        scheduled_for: datetime | None = None,
        options: dict[str, Any] | None = None,
        now: datetime | None = None,
        status: str = "running",
    ) -> int:
        values = {
            "report": report,
            "audience": audience,
            "trigger": trigger,
            "period": period,
            "status": status,
            "config_path": config_path,
            "out_dir": out_dir,
            "job_id": job_id,
            "scheduled_for": scheduled_for,
            "owner": process_owner(),
            "attempts": 0 if status == "queued" else 1,
            "started_at": now or utcnow(),
            "options": options or {},
        }
        with self._tx() as conn:
            return int(conn.execute(insert(runs).values(**values)).inserted_primary_key[0])

    def resume_run(self, run_id: int, now: datetime | None = None) -> None:
        """Take over a run whose process died: same row, one more attempt."""
        with self._tx() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status="running",
                    owner=process_owner(),
                    attempts=runs.c.attempts + 1,
                    started_at=now or utcnow(),
                    finished_at=None,
                    error=None,
                )
            )

    def update_run(self, run_id: int, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def finish_run(
        self, run_id: int, status: str, *, error: str | None = None, now: datetime | None = None
    ) -> None:
        self.update_run(run_id, status=status, error=error, finished_at=now or utcnow())

    def record_event(
        self, *, report: str, audience: str, status: str, error: str, **values: Any
    ) -> int:
        """A finished row for something that happened without a run (a missed schedule)."""
        run_id = self.start_run(report=report, audience=audience, trigger="schedule", **values)
        self.finish_run(run_id, status, error=error)
        return run_id

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return dict(row) if row else None

    def list_runs(self, limit: int = 20, report: str | None = None) -> list[dict[str, Any]]:
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if report:
            query = query.where(runs.c.report == report)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def abandoned_runs(self, exclude_owner: str) -> list[dict[str, Any]]:
        """Scheduled runs left queued or running by a scheduler that is gone (we hold the lock)."""
        query = (
            select(runs)
            .where(runs.c.status.in_(("queued", "running")), runs.c.trigger == "schedule")
            .where(runs.c.finished_at.is_(None))  # a finished run waits for its outbox only
            .where(runs.c.owner != exclude_owner)
            .order_by(runs.c.id)
        )
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def close_dead_runs(self, now: datetime | None = None) -> list[int]:
        """Mark ``abandoned`` the manual runs whose process on this host has died.

        A killed ``reportgen build --send`` leaves its start row at ``running``;
        nothing resumes manual runs (the scheduler resumes its own), so the next
        run on this host closes it, saying why, instead of leaving it running
        forever. Runs owned by live processes or by other hosts are left alone.
        """
        host = socket.gethostname()
        query = select(runs.c.id, runs.c.owner).where(
            runs.c.status == "running", runs.c.trigger != "schedule"
        )
        with self._tx() as conn:
            rows = list(conn.execute(query))
        dead = []
        for run_id, owner in rows:
            parts = str(owner).rsplit(":", 2)  # host:pid:nonce, see process_owner()
            ours = len(parts) == 3 and parts[0] == host and parts[1].isdigit()
            if ours and not _pid_alive(int(parts[1])):
                dead.append(run_id)
        for run_id in dead:
            self.finish_run(
                run_id,
                "abandoned",
                error="the process running it ended without finishing (killed or crashed); "
                "`reportgen runs show` lists what it sent, and `reportgen send` completes it",
                now=now,
            )
        return dead

    # -- sends (the outbox) ------------------------------------------------------------------

    def enqueue(
        self,
        key: SendKey,
        *,
        kind: str,
        payload: bytes,
        transport: dict[str, Any],
        run_id: int | None,
        force: bool = False,
        now: datetime | None = None,
    ) -> Enqueued:
        """Put a message in the outbox under its key, unless that key was handled already."""
        now = now or utcnow()
        values = {
            **key.__dict__,
            "kind": kind,
            "run_id": run_id,
            "status": "pending",
            "generation": 1,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
            "payload": payload,
            "transport": transport,
        }
        try:
            with self._tx() as conn:
                send_id = conn.execute(insert(sends).values(**values)).inserted_primary_key[0]
            return Enqueued(int(send_id), "queued")
        except IntegrityError:
            pass
        row = self.get_send(key)
        assert row is not None  # the unique constraint said it exists
        if not force:
            action = {
                "sent": "already-sent",
                "failed": "failed-before",
                "uncertain": "uncertain-before",
            }.get(row["status"], "already-queued")
            return Enqueued(row["id"], action)
        with self._tx() as conn:
            changed = conn.execute(
                update(sends)
                .where(sends.c.id == row["id"], sends.c.status != "sending")
                .values(
                    status="pending",
                    generation=sends.c.generation + 1,
                    attempts=0,
                    next_attempt_at=now,
                    updated_at=now,
                    run_id=run_id,
                    payload=payload,
                    transport=transport,
                    last_error=None,
                    detail=None,
                    sent_at=None,
                )
            ).rowcount
        return Enqueued(row["id"], "requeued" if changed else "already-queued")

    def get_send(self, key: SendKey) -> dict[str, Any] | None:
        query = select(sends).where(
            sends.c.report == key.report,
            sends.c.period == key.period,
            sends.c.audience == key.audience,
            sends.c.channel == key.channel,
        )
        with self._tx() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def send_by_id(self, send_id: int) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = conn.execute(select(sends).where(sends.c.id == send_id)).mappings().first()
        return dict(row) if row else None

    def sends_for_run(self, run_id: int) -> list[dict[str, Any]]:
        query = select(sends).where(sends.c.run_id == run_id).order_by(sends.c.id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def list_sends(self, status: str | None = None) -> list[dict[str, Any]]:
        query = select(sends).order_by(sends.c.id)
        if status:
            query = query.where(sends.c.status == status)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def claim(self, send_id: int, now: datetime | None = None) -> dict[str, Any] | None:
        """Atomically take a due send for this process; ``None`` if someone else has it."""
        now = now or utcnow()
        with self._tx() as conn:
            claimed = conn.execute(
                update(sends)
                .where(
                    sends.c.id == send_id,
                    sends.c.status.in_(("pending", "retrying")),
                    sends.c.next_attempt_at <= now,
                )
                .values(
                    status="sending",
                    claimed_by=process_owner(),
                    claimed_at=now,
                    attempts=sends.c.attempts + 1,
                    updated_at=now,
                )
            ).rowcount
        return self.send_by_id(send_id) if claimed else None

    def due_sends(self, now: datetime | None = None, limit: int = 100) -> list[int]:
        now = now or utcnow()
        query = (
            select(sends.c.id)
            .where(sends.c.status.in_(("pending", "retrying")), sends.c.next_attempt_at <= now)
            .order_by(sends.c.next_attempt_at)
            .limit(limit)
        )
        with self._tx() as conn:
            return [r[0] for r in conn.execute(query)]

    def release_stale_claims(self, older_than: datetime, now: datetime | None = None) -> int:
        """Claims of a process that died mid-send go back to the outbox (retried, same message)."""
        with self._tx() as conn:
            return conn.execute(
                update(sends)
                .where(sends.c.status == "sending", sends.c.claimed_at < older_than)
                .values(status="retrying", updated_at=now or utcnow(), claimed_by=None)
            ).rowcount

    def take_over_claim(self, send_id: int, claimed_by: str, now: datetime) -> bool:
        """Take a dead process's claim for this one (to settle it); ``False`` if it moved on."""
        with self._tx() as conn:
            return bool(
                conn.execute(
                    update(sends)
                    .where(
                        sends.c.id == send_id,
                        sends.c.status == "sending",
                        sends.c.claimed_by == claimed_by,
                    )
                    .values(claimed_by=process_owner(), updated_at=now)
                ).rowcount
            )

    def settle(
        self,
        send_id: int,
        outcome: str,
        *,
        status: str,
        error: str | None = None,
        detail: str | None = None,
        next_attempt_at: datetime | None = None,
        now: datetime | None = None,
    ) -> None:
        """Record an attempt's outcome and the send's new status in one transaction."""
        now = now or utcnow()
        values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": error}
        if detail is not None:
            values["detail"] = detail
        if status == "sent":
            values["sent_at"] = now
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self._tx() as conn:
            attempt = conn.execute(
                select(sends.c.attempts).where(sends.c.id == send_id)
            ).scalar_one()
            conn.execute(update(sends).where(sends.c.id == send_id).values(**values))
            conn.execute(
                insert(send_attempts).values(
                    send_id=send_id, attempt=attempt, at=now, outcome=outcome, error=error
                )
            )

    def attempts_of(self, send_id: int) -> list[dict[str, Any]]:
        query = select(send_attempts).where(send_attempts.c.send_id == send_id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query.order_by(send_attempts.c.id)).mappings()]

    # -- the scheduler lock --------------------------------------------------------------------

    def acquire_lock(
        self, name: str, ttl: float, now: datetime | None = None, owner: str | None = None
    ) -> LockHolder | None:
        """Take the lock; return the live holder instead if another owner has it."""
        now = now or utcnow()
        mine = {
            "owner": owner or process_owner(),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "acquired_at": now,
            "heartbeat_at": now,
        }
        try:
            with self._tx() as conn:
                conn.execute(insert(locks).values(name=name, **mine))
            return None
        except IntegrityError:
            pass
        with self._tx() as conn:
            row = conn.execute(select(locks).where(locks.c.name == name)).mappings().first()
            if row is None:  # released in between: try again from the top
                return self.acquire_lock(name, ttl, now, owner)
            holder = LockHolder(**{k: row[k] for k in LockHolder.__dataclass_fields__})
            if holder.owner != mine["owner"] and not _is_stale(holder, ttl, now):
                return holder
            taken = conn.execute(
                update(locks)
                .where(locks.c.name == name, locks.c.owner == holder.owner)
                .where(locks.c.heartbeat_at == row["heartbeat_at"])
                .values(**mine)
            ).rowcount
        return None if taken else self.lock_holder(name)

    def heartbeat(self, name: str, now: datetime | None = None, owner: str | None = None) -> bool:
        """Refresh our lock; ``False`` means we lost it and must stop acting."""
        with self._tx() as conn:
            return bool(
                conn.execute(
                    update(locks)
                    .where(locks.c.name == name, locks.c.owner == (owner or process_owner()))
                    .values(heartbeat_at=now or utcnow())
                ).rowcount
            )

    def release_lock(self, name: str, owner: str | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                locks.delete().where(
                    locks.c.name == name, locks.c.owner == (owner or process_owner())
                )
            )

    def lock_holder(self, name: str) -> LockHolder | None:
        with self._tx() as conn:
            row = conn.execute(select(locks).where(locks.c.name == name)).mappings().first()
        return LockHolder(**{k: row[k] for k in LockHolder.__dataclass_fields__}) if row else None

    # -- alert states --------------------------------------------------------------------------

    def alert_states_of(self, report: str, audience: str, rule: str) -> dict[str, dict[str, Any]]:
        query = select(alert_states).where(
            alert_states.c.report == report,
            alert_states.c.audience == audience,
            alert_states.c.rule == rule,
        )
        with self._tx() as conn:
            return {r["subject"]: dict(r) for r in conn.execute(query).mappings()}

    def set_alert_state(
        self,
        *,
        report: str,
        audience: str,
        rule: str,
        subject: str,
        state: str,
        value: float | None,
        now: datetime,
        since: datetime | None = None,
    ) -> None:
        key = {"report": report, "audience": audience, "rule": rule, "subject": subject}
        values = {"state": state, "value": value, "last_checked": now}
        if since is not None:
            values["since"] = since
        with self._tx() as conn:
            changed = conn.execute(
                update(alert_states)
                .where(*(alert_states.c[k] == v for k, v in key.items()))
                .values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(alert_states).values(**key, **{**values, "since": since or now})
                )


def claim_is_dead(
    claimed_by: str | None, claimed_at: datetime | None, lease_start: datetime
) -> bool:
    """A send claim whose process is gone: a dead pid on this host, or an expired lease."""
    parts = str(claimed_by or "").split(":")  # host:pid:nonce, see process_owner()
    if len(parts) >= 2 and parts[0] == socket.gethostname() and parts[1].isdigit():
        pid = int(parts[1])
        if pid == os.getpid():  # ours, unless an earlier process had our pid
            return claimed_by != process_owner()
        return not _pid_alive(pid)
    return claimed_at is None or claimed_at < lease_start


def _retry_locked(action: Any, tries: int = 40) -> Any:
    """Run a schema or pragma statement, retrying while another process holds SQLite's lock."""
    import random
    import sqlite3
    import time

    from sqlalchemy.exc import OperationalError

    for attempt in range(tries):
        try:
            return action()
        except (OperationalError, sqlite3.OperationalError) as exc:
            text = str(exc).lower()
            if attempt == tries - 1 or not (
                "locked" in text or "already exists" in text or "busy" in text
            ):
                raise
            time.sleep(0.05 + random.random() * 0.1 * (attempt + 1))
    return None


def _is_stale(holder: LockHolder, ttl: float, now: datetime) -> bool:
    """A holder is gone when its heartbeat is older than ``ttl`` or its process is dead here."""
    if now - holder.heartbeat_at > timedelta(seconds=ttl):
        return True
    return holder.hostname == socket.gethostname() and not _pid_alive(holder.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def open_ledger(ledger: Ledger | str | None, out_dir: str | Path = "output") -> Ledger:
    if isinstance(ledger, Ledger):
        return ledger
    return Ledger(ledger or default_url(out_dir))
