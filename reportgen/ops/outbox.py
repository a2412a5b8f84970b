"""The outbox: deliver queued sends exactly once, retrying transient failures with backoff.

A send is claimed in the ledger (a conditional ``UPDATE``) before its
channel transmits it, so concurrent workers never send the same key twice.
Transient failures (server down, 4xx, 429/5xx) are retried with exponential
backoff and jitter until the policy's attempts run out; permanent failures
(rejected recipient, bad credentials) stop at once. Either way a final
failure is recorded and the report's owners get a short notice — itself an
outbox send, keyed so it is sent once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reportgen.config.delivery import RetryPolicy
from reportgen.ops.channels import (
    Delivered,
    PermanentDeliveryError,
    TransientDeliveryError,
    UncertainDeliveryError,
    get_channel,
)
from reportgen.ops.ledger import Ledger, SendKey, claim_is_dead, utcnow

log = logging.getLogger(__name__)

#: A claim of another host older than this belongs to a process that died mid-send. It must
#: outlast a live send: connect and commands (30 s each) plus the final reply (10 minutes).
STALE_CLAIM = timedelta(minutes=30)

#: what a send's status says about its copies at the recipients
UNCERTAIN_NOTE = "may have been delivered — check before re-sending"


@dataclass(frozen=True)
class SendOutcome:
    send_id: int
    channel: str
    status: str  # sent | retrying | failed | uncertain | skipped
    detail: str


def backoff_seconds(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Delay before attempt ``attempt + 1``: exponential, capped, spread by ± jitter."""
    base = min(policy.max_seconds, policy.initial_seconds * policy.multiplier ** (attempt - 1))
    return max(0.0, base * (1.0 + policy.jitter * (2.0 * rand() - 1.0)))


def deliver(
    ledger: Ledger,
    send_id: int,
    *,
    now: datetime | None = None,
    rand: Callable[[], float] = random.random,
) -> SendOutcome | None:
    """Claim one due send and transmit it once; ``None`` if it is not ours to send now."""
    now = now or utcnow()
    row = ledger.claim(send_id, now)
    if row is None:
        return None
    channel = get_channel(row["kind"])
    log.info("attempt %d of send %s", row["attempts"], _label(row))
    try:
        delivered: Delivered = channel.transmit(row["payload"], row["transport"])
    except TransientDeliveryError as exc:
        return _transient(ledger, row, exc, now, rand)
    except UncertainDeliveryError as exc:
        return _uncertain(ledger, row, str(exc), now, rand)
    except PermanentDeliveryError as exc:
        return _failed(ledger, row, "permanent", str(exc), now)
    except Exception as exc:  # a channel bug: record its type only (its text may hold anything)
        log.error("channel %s crashed on send %s: %s", row["kind"], send_id, type(exc).__name__)
        return _failed(
            ledger,
            row,
            "permanent",
            f"the {row['kind']} channel crashed ({type(exc).__name__})",
            now,
        )
    detail = delivered.detail + ("; " + "; ".join(delivered.warnings) if delivered.warnings else "")
    outcome = "partial" if delivered.warnings else "sent"
    ledger.settle(send_id, outcome, status="sent", detail=detail, now=now)
    log.info("send %s: %s (attempt %d)", _label(row), detail, row["attempts"])
    if delivered.warnings:
        notify_send_failure(ledger, row, "partly failed: " + "; ".join(delivered.warnings), now)
    reconcile_run(ledger, row["run_id"], now)
    return SendOutcome(send_id, row["channel"], "sent", detail)


def _uncertain(
    ledger: Ledger, row: dict[str, Any], error: str, now: datetime, rand: Callable[[], float]
) -> SendOutcome:
    """The message may be at the server: hold it (default) or send it once more, never twice."""
    policy = RetryPolicy.model_validate(row["transport"].get("retry", {}))
    earlier = uncertain_attempts(ledger, row)
    if policy.on_uncertain == "retry_once" and earlier == 0 and row["attempts"] < policy.attempts:
        next_at = now + timedelta(seconds=backoff_seconds(row["attempts"], policy, rand))
        ledger.settle(
            row["id"], "uncertain", status="retrying", error=error, next_attempt_at=next_at, now=now
        )
        log.warning(
            "send %s: %s; on_uncertain: retry_once — sending the same message (same Message-ID) "
            "once more at %s",
            _label(row),
            error,
            next_at.isoformat(timespec="seconds"),
        )
        return SendOutcome(row["id"], row["channel"], "retrying", error)
    ledger.settle(row["id"], "uncertain", status="uncertain", error=error, now=now)
    log.error("send %s is uncertain: %s; held (%s)", _label(row), error, UNCERTAIN_NOTE)
    notify_send_failure(ledger, row, error, now, uncertain=True)
    reconcile_run(ledger, row["run_id"], now)
    return SendOutcome(row["id"], row["channel"], "uncertain", error)


def uncertain_attempts(ledger: Ledger, row: dict[str, Any]) -> int:
    """Earlier attempts of this generation whose message may have arrived.

    A send's attempts of the current generation are its last ``attempts - 1`` rows
    (the claim counted the attempt in flight; ``--force`` starts again from 0).
    """
    settled = row["attempts"] - 1
    if settled <= 0:
        return 0
    recent = ledger.attempts_of(row["id"])[-settled:]
    return sum(1 for a in recent if a["outcome"] == "uncertain")


def _transient(
    ledger: Ledger,
    row: dict[str, Any],
    exc: TransientDeliveryError,
    now: datetime,
    rand: Callable[[], float],
) -> SendOutcome:
    policy = RetryPolicy.model_validate(row["transport"].get("retry", {}))
    if row["attempts"] >= policy.attempts:
        error = f"{exc} (gave up after {row['attempts']} attempts)"
        return _failed(ledger, row, "transient", error, now)
    delay = backoff_seconds(row["attempts"], policy, rand)
    if exc.retry_after is not None:
        delay = max(delay, exc.retry_after)
    next_at = now + timedelta(seconds=delay)
    ledger.settle(
        row["id"], "transient", status="retrying", error=str(exc), next_attempt_at=next_at, now=now
    )
    log.warning(
        "send %s failed (%s); retry %d at %s", _label(row), exc, row["attempts"] + 1, next_at
    )
    return SendOutcome(row["id"], row["channel"], "retrying", str(exc))


def _failed(
    ledger: Ledger, row: dict[str, Any], outcome: str, error: str, now: datetime
) -> SendOutcome:
    ledger.settle(row["id"], outcome, status="failed", error=error, now=now)
    log.error("send %s failed for good: %s", _label(row), error)
    notify_send_failure(ledger, row, error, now)
    reconcile_run(ledger, row["run_id"], now)
    return SendOutcome(row["id"], row["channel"], "failed", error)


def notify_send_failure(
    ledger: Ledger, row: dict[str, Any], error: str, now: datetime, *, uncertain: bool = False
) -> None:
    """Tell the owners a delivery failed (once per send and generation); notices never cascade."""
    notify = row["transport"].get("notify")
    if not notify or not notify.get("owners"):
        return
    from reportgen.config.delivery import SmtpSettings
    from reportgen.ops.channels.email import prepare_notice

    what = f"{row['report']} {row['period']} → {row['channel']}"
    subject = (
        f"[reportgen] delivery uncertain, {UNCERTAIN_NOTE}: {what}"
        if uncertain
        else f"[reportgen] delivery failed: {what}"
    )
    prepared = prepare_notice(
        SmtpSettings.model_validate(notify["smtp"]),
        to=notify["owners"],
        subject=subject,
        template="uncertain.txt.j2" if uncertain else "failure.txt.j2",
        what=f"Delivery of {row['report']} {row['period']} to channel '{row['channel']}'",
        report=row["report"],
        audience=row["audience"],
        period=row["period"],
        run_id=row["run_id"],
        when=now.isoformat(timespec="seconds"),
        error=error,
        next_run=None,
    )
    key = SendKey(
        row["report"],
        row["period"],
        row["audience"],
        f"notice:send-{row['id']}-{row['generation']}",
    )
    enqueue_and_deliver(
        ledger, key, prepared, retry=notify.get("retry"), notify=None, run_id=row["run_id"], now=now
    )


def enqueue_and_deliver(
    ledger: Ledger,
    key: SendKey,
    prepared: Any,
    *,
    retry: dict[str, Any] | None,
    notify: dict[str, Any] | None,
    run_id: int | None,
    force: bool = False,
    now: datetime | None = None,
) -> SendOutcome:
    """Queue a prepared message under its key and try it once right away."""
    transport = {**prepared.transport, "retry": retry or {}, "notify": notify}
    queued = ledger.enqueue(
        key,
        kind=prepared.kind,
        payload=prepared.payload,
        transport=transport,
        run_id=run_id,
        force=force,
        now=now,
    )
    if queued.action not in ("queued", "requeued"):
        return SendOutcome(queued.send_id, key.channel, "skipped", queued.action)
    outcome = deliver(ledger, queued.send_id, now=now)
    return outcome or SendOutcome(queued.send_id, key.channel, "skipped", "claimed elsewhere")


def drain(ledger: Ledger, *, now: datetime | None = None, limit: int = 100) -> list[SendOutcome]:
    """Deliver every send that is due now (the scheduler runs this every minute)."""
    now = now or utcnow()
    outcomes = recover_dead_claims(ledger, now)
    for send_id in ledger.due_sends(now, limit):
        outcome = deliver(ledger, send_id, now=now)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def recover_dead_claims(
    ledger: Ledger, now: datetime | None = None, rand: Callable[[], float] = random.random
) -> list[SendOutcome]:
    """Settle the sends whose claimant died while sending: their attempt is uncertain.

    A claim names its process (``host:pid:…``): a dead pid on this host is seen at
    once; another host's claim is trusted for :data:`STALE_CLAIM`. The attempt in
    flight may have reached the server, so it is recorded as uncertain and the
    ``on_uncertain`` policy applies (by default: hold and tell the owners).
    """
    now = now or utcnow()
    outcomes = []
    for row in ledger.list_sends(status="sending"):
        if not claim_is_dead(row["claimed_by"], row["claimed_at"], now - STALE_CLAIM):
            continue
        if not ledger.take_over_claim(row["id"], row["claimed_by"], now):
            continue  # someone else took it over first
        fresh = ledger.send_by_id(row["id"])
        assert fresh is not None
        error = (
            f"the process sending it ({row['claimed_by']}) ended during the attempt; "
            f"the message {UNCERTAIN_NOTE}"
        )
        log.warning("send %s: %s", _label(fresh), error)
        outcomes.append(_uncertain(ledger, fresh, error, now, rand))
    return outcomes


RUN_STATES = ("succeeded", "partly failed", "failed", "uncertain")


def run_state(rows: list[dict[str, Any]], ledger: Ledger) -> str | None:
    """A run's final state from its sends, or ``None`` while one is still pending."""
    rows = [r for r in rows if not r["channel"].startswith("notice:")]
    if not rows or any(r["status"] in ("pending", "retrying", "sending") for r in rows):
        return None
    statuses = [r["status"] for r in rows]
    partial = any(
        r["status"] == "sent"
        and (ledger.attempts_of(r["id"]) or [{}])[-1].get("outcome") == "partial"
        for r in rows
    )
    if "uncertain" in statuses:
        return "uncertain"
    if all(s == "failed" for s in statuses):
        return "failed"
    if "failed" in statuses or partial:
        return "partly failed"
    return "succeeded"


def reconcile_run(ledger: Ledger, run_id: int | None, now: datetime | None = None) -> None:
    """A run left ``queued`` (its sends were retrying) takes its final state once they settle."""
    if run_id is None:
        return
    run = ledger.get_run(run_id)
    if run is None or run["status"] != "queued" or run["finished_at"] is None:
        return  # still building, or already final
    state = run_state(ledger.sends_for_run(run_id), ledger)
    if state is None:
        return
    errors = [
        f"{r['channel']}: {r['last_error']}"
        for r in ledger.sends_for_run(run_id)
        if r["status"] in ("failed", "uncertain") and not r["channel"].startswith("notice:")
    ]
    ledger.update_run(
        run_id, status=state, error="; ".join(errors) or None, finished_at=now or utcnow()
    )
    log.info("run %s: %s (its sends settled)", run_id, state)


def wait_for(
    ledger: Ledger,
    send_ids: list[int],
    *,
    budget_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Retry these sends in-process while they are due within the budget (CLI sends)."""
    deadline = clock() + timedelta(seconds=budget_seconds)
    while True:
        waiting = [ledger.send_by_id(i) for i in send_ids]
        waiting = [r for r in waiting if r and r["status"] in ("pending", "retrying")]
        if not waiting:
            return
        next_at = min(r["next_attempt_at"] for r in waiting)
        if next_at > deadline:
            return
        pause = (next_at - clock()).total_seconds()
        if pause > 0:
            sleep(pause)
        for row in waiting:
            deliver(ledger, row["id"], now=clock())


def _label(row: dict[str, Any]) -> str:
    return f"#{row['id']} {row['report']}/{row['period']}/{row['audience']}→{row['channel']}"
