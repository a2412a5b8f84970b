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

from reportgen.channels import (
    Delivered,
    PermanentDeliveryError,
    TransientDeliveryError,
    get_channel,
)
from reportgen.config.delivery import RetryPolicy
from reportgen.ledger import Ledger, SendKey, utcnow

log = logging.getLogger(__name__)

#: A claim older than this belongs to a process that died mid-send.
STALE_CLAIM = timedelta(minutes=15)


@dataclass(frozen=True)
class SendOutcome:
    send_id: int
    channel: str
    status: str  # sent | retrying | failed | skipped
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
    try:
        delivered: Delivered = channel.transmit(row["payload"], row["transport"])
    except TransientDeliveryError as exc:
        return _transient(ledger, row, exc, now, rand)
    except PermanentDeliveryError as exc:
        return _failed(ledger, row, "permanent", str(exc), now)
    except Exception as exc:  # a channel bug: record it, never leave the row claimed
        log.exception("channel %s crashed on send %s", row["kind"], send_id)
        return _failed(ledger, row, "permanent", f"{exc.__class__.__name__}: {exc}", now)
    detail = delivered.detail + ("; " + "; ".join(delivered.warnings) if delivered.warnings else "")
    ledger.settle(send_id, "sent", status="sent", detail=detail, now=now)
    log.info("sent %s (%s)", _label(row), delivered.detail)
    if delivered.warnings:
        notify_send_failure(ledger, row, "partly failed: " + "; ".join(delivered.warnings), now)
    return SendOutcome(send_id, row["channel"], "sent", detail)


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
    return SendOutcome(row["id"], row["channel"], "failed", error)


def notify_send_failure(ledger: Ledger, row: dict[str, Any], error: str, now: datetime) -> None:
    """Tell the owners a delivery failed (once per send and generation); notices never cascade."""
    notify = row["transport"].get("notify")
    if not notify or not notify.get("owners"):
        return
    from reportgen.channels.email import prepare_notice
    from reportgen.config.delivery import SmtpSettings

    prepared = prepare_notice(
        SmtpSettings.model_validate(notify["smtp"]),
        to=notify["owners"],
        subject=f"[reportgen] delivery failed: {row['report']} {row['period']} → {row['channel']}",
        template="failure.txt.j2",
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
    ledger.release_stale_claims(now - STALE_CLAIM, now)
    outcomes = []
    for send_id in ledger.due_sends(now, limit):
        outcome = deliver(ledger, send_id, now=now)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


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
