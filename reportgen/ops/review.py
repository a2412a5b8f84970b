"""Review before send: a built report waits as a draft until it is approved or its deadline passes.

With ``delivery.review: {hold: true, until: …}`` a run builds the report but,
instead of sending it, freezes what it built into a **draft**: an immutable
snapshot folder (``OUT/.review/<report>/<period>/<audience>/v<N>/``, the
artifacts and their manifest) and one ledger row per (report, period,
audience) pointing at it. A rebuild while held (after commentary was added,
say — the cube cache makes it cheap) writes ``v<N+1>`` completely and then
moves the row's pointer in one conditional ``UPDATE``: an approval reads the
old draft or the new one, never half of each.

What happens to a draft is decided exactly once, by a conditional ``UPDATE``
of its row from ``held``: ``approved`` (``reportgen approve``), ``deadline``
(the scheduler, ``at_deadline: send`` — sent with a note that nobody
reviewed it), ``skipped`` (``at_deadline: skip``) or ``forced`` (an
operator's ``--force``). Whoever loses the race sees the decision and sends
nothing. The sends themselves go through the outbox under the usual
``(report, period, audience, channel)`` keys, so even a decision replayed
after a crash (the row decided, the sends not yet queued) sends each channel
once: completing a decided draft queues only the keys that are missing.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from reportgen.errors import ReportgenError
from reportgen.ops.ledger import Ledger, SendKey, UtcDateTime, _retry_locked, utcnow

if TYPE_CHECKING:
    from reportgen.config.delivery import DeliveryConfig
    from reportgen.config.loader import ResolvedReport
    from reportgen.config.review import ReviewPolicy
    from reportgen.ops.manifest import ReportContent
    from reportgen.ops.outbox import SendOutcome

log = logging.getLogger(__name__)

#: the line a deadline send carries at the top of the message
DEADLINE_NOTE = "Sent without review at the deadline"
#: decisions that send the draft
SENDING = ("approved", "deadline", "forced")
REVIEW_FOLDER = ".review"
#: a decided draft whose sends are still not queued after this was left by a process that died
STALLED = timedelta(minutes=10)

metadata = MetaData()

drafts = Table(
    "reportgen_review_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(200), nullable=False),
    Column("period", String(40), nullable=False),
    Column("audience", String(100), nullable=False),
    # held | approved | deadline | skipped | forced
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("folder", Text, nullable=False),  # the current snapshot
    Column("config_path", Text, nullable=False),
    Column("out_dir", Text, nullable=False),
    Column("channels", JSON, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("deadline_text", String(100), nullable=False),  # in the review's zone, for messages
    Column("at_deadline", String(10), nullable=False),  # send | skip
    Column("held_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("run_id", Integer),  # the run that built the current version
    Column("decided_at", UtcDateTime),
    Column("decided_by", String(200)),
    Column("send_run_id", Integer),  # the run that sent it
    Column("completed_at", UtcDateTime),  # every channel's send queued
    Column("error", Text),
    UniqueConstraint("report", "period", "audience", name="uq_reportgen_review_draft"),
)


class ReviewError(ReportgenError):
    """A review command cannot do what was asked (no draft, skipped at its deadline …)."""


@dataclass(frozen=True)
class Held:
    """What a run did instead of sending: ``held`` (a draft waits) or ``skipped`` (decided)."""

    run_status: str
    message: str
    draft: dict[str, Any]


@dataclass(frozen=True)
class ReviewOutcome:
    """What ``approve`` or a deadline did to one draft."""

    report: str
    period: str
    audience: str
    decision: str  # the draft's status after the call
    sent_now: bool  # this call queued at least one send
    message: str
    run_id: int | None = None
    sends: tuple[SendOutcome, ...] = ()


# -- the store --------------------------------------------------------------------------------


class DraftStore:
    """The ledger's table of drafts (created beside the ledger's own tables on first use)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        _retry_locked(lambda: metadata.create_all(ledger.engine))

    def get(self, report: str, period: str, audience: str) -> dict[str, Any] | None:
        query = select(drafts).where(
            drafts.c.report == report, drafts.c.period == period, drafts.c.audience == audience
        )
        with self.ledger.engine.begin() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def by_id(self, draft_id: int) -> dict[str, Any]:
        with self.ledger.engine.begin() as conn:
            row = conn.execute(select(drafts).where(drafts.c.id == draft_id)).mappings().one()
        return dict(row)

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        query = select(drafts).order_by(drafts.c.deadline)
        if status:
            query = query.where(drafts.c.status == status)
        with self.ledger.engine.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def insert(self, values: dict[str, Any]) -> int | None:
        """A new draft row; ``None`` when another process inserted the same key first."""
        try:
            with self.ledger.engine.begin() as conn:
                return int(conn.execute(insert(drafts).values(**values)).inserted_primary_key[0])
        except IntegrityError:
            return None

    def replace_version(self, draft_id: int, version: int, **values: Any) -> bool:
        """Point a held draft at a new snapshot, unless it was decided or replaced meanwhile."""
        with self.ledger.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(drafts)
                    .where(
                        drafts.c.id == draft_id,
                        drafts.c.status == "held",
                        drafts.c.version == version - 1,
                    )
                    .values(version=version, **values)
                ).rowcount
            )

    def decide(
        self,
        draft_id: int,
        decision: str,
        *,
        by: str,
        now: datetime,
        due_by: datetime | None = None,
    ) -> bool:
        """Take the one decision a held draft gets; ``False`` if it was already decided.

        ``due_by``: decide only if the deadline has passed by then (the deadline's own check
        and its decision are one statement, so a draft approved meanwhile stays approved).
        """
        query = update(drafts).where(drafts.c.id == draft_id, drafts.c.status == "held")
        if due_by is not None:
            query = query.where(drafts.c.deadline <= due_by)
        with self.ledger.engine.begin() as conn:
            return bool(
                conn.execute(
                    query.values(status=decision, decided_at=now, decided_by=by, updated_at=now)
                ).rowcount
            )

    def update(self, draft_id: int, **values: Any) -> None:
        with self.ledger.engine.begin() as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id).values(**values))


def held_drafts(ledger: Ledger) -> list[dict[str, Any]]:
    """Drafts waiting for review, soonest deadline first (for ``runs`` and ``schedule list``)."""
    return DraftStore(ledger).list("held")


def describe(row: dict[str, Any]) -> str:
    """One line for a held draft: what, since when, until when, and how to approve it."""
    then = "send with a note" if row["at_deadline"] == "send" else "skip"
    return (
        f"{row['report']}  {row['period']}  {row['audience']}  held for review (draft "
        f"v{row['version']}) until {row['deadline_text']}, then {then}; approve: "
        f"reportgen approve {row['config_path']} --period {row['period']} "
        f"--audience {row['audience']}"
    )


# -- holding ------------------------------------------------------------------------------------


def review_policy(delivery: DeliveryConfig) -> ReviewPolicy | None:
    review = delivery.review
    return review if review is not None and review.hold else None


def hold_if_reviewed(
    ledger: Ledger,
    report: ResolvedReport,
    delivery: DeliveryConfig,
    content: ReportContent,
    channels: list[str],
    *,
    run_id: int,
    force: bool,
    config_path: str | Path,
    out_dir: str | Path,
    scheduled_for: datetime | None,
    now: datetime | None,
) -> Held | None:
    """Hold the built report as a draft instead of sending it; ``None``: send it now.

    A forced run (an operator's explicit re-send) sends at once and closes a
    held draft as ``forced``, so its deadline sends nothing more.
    """
    policy = review_policy(delivery)
    if policy is None:
        return None
    now = now or utcnow()
    store = DraftStore(ledger)
    existing = store.get(content.report, content.period, content.audience)
    if force:
        if existing is not None and store.decide(existing["id"], "forced", by="--force", now=now):
            store.update(existing["id"], completed_at=now, send_run_id=run_id)
        return None
    if existing is not None and existing["status"] != "held":
        return Held("skipped", _decided_text(existing), existing)
    zone = policy.timezone or _zone_of(report)
    start = scheduled_for or now
    deadline = policy.deadline.after(start, zone)
    for _ in range(5):  # a concurrent rebuild moved the version: take the next one
        version = 1 if existing is None else existing["version"] + 1
        snapshot = _snapshot(Path(out_dir), content, version)
        values = {
            "folder": str(snapshot),
            "config_path": str(Path(config_path).resolve()),
            "out_dir": str(Path(out_dir).resolve()),
            "channels": list(channels),
            "at_deadline": policy.at_deadline,
            "updated_at": now,
            "run_id": run_id,
        }
        if existing is None:
            draft_id = store.insert(
                {
                    "report": content.report,
                    "period": content.period,
                    "audience": content.audience,
                    "status": "held",
                    "version": 1,
                    "deadline": deadline,
                    "deadline_text": _local_text(deadline, zone),
                    "held_at": now,
                    **values,
                }
            )
            placed = draft_id is not None
        else:
            placed = store.replace_version(existing["id"], version, **values)
        if placed:
            row = store.get(content.report, content.period, content.audience)
            assert row is not None
            _prune(snapshot.parent, keep={version, version - 1})
            _notify_reviewers(ledger, delivery, policy, row, run_id, now)
            what = "held for review" if version == 1 else f"draft replaced by v{version}"
            return Held("held", f"{what} until {row['deadline_text']}", row)
        shutil.rmtree(snapshot, ignore_errors=True)
        existing = store.get(content.report, content.period, content.audience)
        if existing is not None and existing["status"] != "held":
            return Held("skipped", _decided_text(existing), existing)
    raise ReviewError(
        f"the draft of {content.report} {content.period} kept changing while this run replaced it",
        fix="run the build again once the other builds have finished",
    )


def _zone_of(report: ResolvedReport) -> str:
    schedule = report.config.schedule
    return schedule.timezone if schedule is not None else report.config.period.timezone


def _local_text(moment: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return f"{moment.astimezone(ZoneInfo(zone)):%a %d %b %Y %H:%M %Z}"


def _snapshot(out_dir: Path, content: ReportContent, version: int) -> Path:
    """Freeze the built artifacts and their manifest into ``v<version>``, all or nothing."""
    from reportgen.ops.manifest import Artifact, write_manifest

    parent = out_dir / REVIEW_FOLDER / content.report / content.period / content.audience
    parent.mkdir(parents=True, exist_ok=True)
    # a unique name: two rebuilds racing for one version never share (or delete) a folder
    final = parent / f"v{version}-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=parent))
    try:
        artifacts = {}
        for fmt, artifact in content.artifacts.items():
            target = work / artifact.path.name
            try:  # a hard link costs nothing; the build replaces files by rename, never in place
                os.link(artifact.path, target)
            except OSError:
                shutil.copy2(artifact.path, target)
            artifacts[fmt] = Artifact(target, artifact.sha256, artifact.bytes)
        write_manifest(replace(content, artifacts=artifacts, folder=work))
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def _prune(parent: Path, keep: set[int]) -> None:
    """Older versions go; the previous one stays for an approval reading it right now."""
    for child in parent.iterdir():
        number = child.name.split("-")[0][1:]
        if child.name.startswith("v") and number.isdigit() and int(number) not in keep:
            shutil.rmtree(child, ignore_errors=True)


def _decided_text(row: dict[str, Any]) -> str:
    when = f"{row['decided_at']:%Y-%m-%d %H:%M} UTC" if row["decided_at"] else "earlier"
    return {
        "approved": f"already approved by {row['decided_by']} at {when}; not held again",
        "deadline": f"already sent without review at its deadline ({row['deadline_text']})",
        "skipped": f"skipped at its review deadline ({row['deadline_text']}, at_deadline: skip)",
        "forced": f"already sent with --force at {when}",
    }.get(row["status"], f"already decided ({row['status']})")


def _notify_reviewers(
    ledger: Ledger,
    delivery: DeliveryConfig,
    policy: ReviewPolicy,
    row: dict[str, Any],
    run_id: int,
    now: datetime,
) -> None:
    """Tell the reviewers a draft (or a new version of it) waits: once per version."""
    reviewers = list(policy.reviewers if policy.reviewers is not None else delivery.owners)
    if not policy.notify or not reviewers or delivery.smtp is None:
        return
    from reportgen.ops.channels.email import prepare_notice
    from reportgen.ops.outbox import enqueue_and_deliver

    prepared = prepare_notice(
        delivery.smtp,
        to=reviewers,
        subject=f"[reportgen] for review: {row['report']} {row['period']} "
        f"({row['audience']}), draft v{row['version']}",
        template="review.txt.j2",
        row=row,
        then="sent with a note that nobody reviewed it"
        if row["at_deadline"] == "send"
        else "not sent",
        folder=row["folder"],
    )
    key = SendKey(row["report"], row["period"], row["audience"], f"notice:review-v{row['version']}")
    try:
        enqueue_and_deliver(
            ledger, key, prepared, retry=delivery.retry.model_dump(), notify=None, run_id=run_id
        )
    except ReportgenError as exc:  # the draft is held either way; the notice is a courtesy
        log.error("could not tell the reviewers of %s: %s", row["report"], exc)


# -- deciding and sending ----------------------------------------------------------------------


def approve(
    config_path: str | Path,
    *,
    period: str,
    audience: str | None = None,
    out_dir: str | Path = "output",
    ledger: Ledger | str | None = None,
    by: str | None = None,
    now: datetime | None = None,
) -> ReviewOutcome:
    """Send a held draft now. Approving twice, or after the deadline sent it, sends nothing."""
    from reportgen.config.loader import load_report
    from reportgen.ops.ledger import open_ledger
    from reportgen.ops.sending import for_audience
    from reportgen.periods import parse_period

    report = for_audience(load_report(config_path), audience)
    label = parse_period(period).label
    led = open_ledger(ledger, out_dir)
    store = DraftStore(led)
    name = report.config.audience.name
    row = store.get(report.id, label, name)
    if row is None:
        raise ReviewError(
            f"no draft of {report.id} {label} ({name}) is held for review",
            fix=f"build it first: reportgen build {config_path} --period {label} --send "
            "(with delivery.review in the config, the build holds it for review)",
        )
    now = now or utcnow()
    who = by or _whoami()
    ours = row["status"] == "held" and store.decide(row["id"], "approved", by=who, now=now)
    row = store.by_id(row["id"])
    if row["status"] == "skipped":
        raise ReviewError(
            f"{report.id} {label} ({name}) was {_decided_text(row)}",
            fix=f"to send it anyway: reportgen send {config_path} --period {label} "
            f"--audience {name} --force",
        )
    outcome = complete(led, row, trigger="approve", now=now)
    if ours:
        return replace(outcome, message=f"approved by {who}: {outcome.message}")
    if outcome.sent_now:  # decided earlier, its sends never queued (a crash): queued now
        return replace(outcome, message=f"{_decided_text(row)}; {outcome.message}")
    return replace(outcome, message=f"nothing sent: {_decided_text(row)}")


def settle_deadlines(ledger: Ledger, *, now: datetime | None = None) -> list[ReviewOutcome]:
    """Decide every held draft whose deadline has passed; finish decided drafts left unsent.

    The scheduler calls this every minute. A draft approved a moment ago is
    not touched (the decision is conditional on ``held``); a decided draft
    whose sends were never queued (its process died between the decision and
    the queue) is completed here — its keys make that a first and only send.
    """
    now = now or utcnow()
    store = DraftStore(ledger)
    outcomes = []
    for row in store.list("held"):
        if row["deadline"] > now:
            continue
        decision = "deadline" if row["at_deadline"] == "send" else "skipped"
        if not store.decide(row["id"], decision, by="deadline", now=now, due_by=now):
            continue  # approved (or decided by another scheduler) in the meantime
        row = store.by_id(row["id"])
        if decision == "skipped":
            store.update(row["id"], completed_at=now)
            log.warning("%s %s %s: %s", row["report"], row["period"], row["audience"], "skipped")
            outcomes.append(
                ReviewOutcome(
                    row["report"], row["period"], row["audience"], "skipped", False, "skipped"
                )
            )
            continue
        outcomes.append(_complete_logged(ledger, row, now))
    stalled = now - STALLED
    for row in store.list():
        if row["status"] in SENDING and row["completed_at"] is None and row["decided_at"] < stalled:
            outcomes.append(_complete_logged(ledger, row, now))
    return outcomes


def _complete_logged(ledger: Ledger, row: dict[str, Any], now: datetime) -> ReviewOutcome:
    try:
        outcome = complete(ledger, row, trigger="deadline", now=now)
    except ReportgenError as exc:  # recorded; the next approve or deadline check retries
        DraftStore(ledger).update(row["id"], error=str(exc), completed_at=now)
        log.error("draft of %s %s could not be sent: %s", row["report"], row["period"], exc)
        return ReviewOutcome(
            row["report"], row["period"], row["audience"], row["status"], False, str(exc)
        )
    log.info("%s %s %s: %s", row["report"], row["period"], row["audience"], outcome.message)
    return outcome


def complete(
    ledger: Ledger, row: dict[str, Any], *, trigger: str, now: datetime | None = None
) -> ReviewOutcome:
    """Queue and send the decided draft on every channel whose key has no send yet."""
    from reportgen.config.loader import load_report
    from reportgen.ops.manifest import read_manifest
    from reportgen.ops.sending import (
        delivery_of,
        for_audience,
        run_status,
        select_channels,
        send_on,
    )

    now = now or utcnow()
    store = DraftStore(ledger)
    keys = [SendKey(row["report"], row["period"], row["audience"], c) for c in row["channels"]]
    missing = [k.channel for k in keys if ledger.get_send(k) is None]
    if not missing:
        store.update(row["id"], completed_at=row["completed_at"] or now)
        states = ", ".join(f"{k.channel} {(ledger.get_send(k) or {}).get('status')}" for k in keys)
        return ReviewOutcome(
            row["report"], row["period"], row["audience"], row["status"], False, states
        )
    report = for_audience(load_report(row["config_path"]), row["audience"])
    delivery = delivery_of(report)
    chosen = select_channels(delivery, missing, report.config.audience.name)
    content = read_manifest(Path(row["folder"]))
    if row["status"] == "deadline":
        note = f"{DEADLINE_NOTE} ({row['deadline_text']}): nobody approved this draft in time."
        joined = f"{note} {content.status_note}" if content.status_note else note
        content = replace(content, status_note=joined)
    run_id = ledger.start_run(
        report=row["report"],
        audience=row["audience"],
        trigger=trigger,
        period=row["period"],
        config_path=row["config_path"],
        out_dir=row["out_dir"],
        options={"draft": row["id"], "version": row["version"], "channels": missing},
        now=now,
    )
    ledger.update_run(run_id, artifacts=_artifact_record(content))
    content = replace(content, run_id=run_id)
    outcomes = [send_on(ledger, content, c, delivery, run_id, False, now) for c in chosen]
    status, error = run_status(outcomes, ledger, run_id)
    ledger.finish_run(run_id, status, error=error)
    store.update(row["id"], completed_at=now, send_run_id=run_id, error=error)
    states = ", ".join(f"{o.channel} {o.status}" for o in outcomes)
    return ReviewOutcome(
        row["report"],
        row["period"],
        row["audience"],
        row["status"],
        True,
        f"sent draft v{row['version']} (run {run_id}): {states}",
        run_id,
        tuple(outcomes),
    )


def _artifact_record(content: ReportContent) -> dict[str, Any]:
    return {
        fmt: {"path": str(a.path), "sha256": a.sha256, "bytes": a.bytes}
        for fmt, a in content.artifacts.items()
    }


def _whoami() -> str:
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


__all__ = [
    "DEADLINE_NOTE",
    "DraftStore",
    "Held",
    "ReviewError",
    "ReviewOutcome",
    "approve",
    "complete",
    "held_drafts",
    "hold_if_reviewed",
    "settle_deadlines",
]
