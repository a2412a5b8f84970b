"""Sending one built report on its channels: the steps a run and an approved draft share.

:mod:`reportgen.ops.runs` builds and sends; :mod:`reportgen.ops.review` sends a
draft when it is approved or at its deadline. Both pick the audience's
variant and its channels and send each once through the outbox here, so
neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reportgen.config.delivery import DeliveryConfig, EmailChannel, WebhookChannel
from reportgen.errors import ConfigError
from reportgen.ops.ledger import Ledger, SendKey
from reportgen.ops.manifest import ReportContent
from reportgen.ops.outbox import SendOutcome, enqueue_and_deliver

if TYPE_CHECKING:
    from reportgen.config.loader import ResolvedReport

ChannelConfig = EmailChannel | WebhookChannel


def for_audience(report: ResolvedReport, audience: str | None) -> ResolvedReport:
    """The report with ``config.audience`` set to the chosen audience (default: the first)."""
    from dataclasses import replace

    from reportgen.data.audiences import select_audiences

    (chosen,) = select_audiences(report, audience)
    return replace(report, config=report.config.model_copy(update={"audience": chosen}))


def delivery_of(report: ResolvedReport) -> DeliveryConfig:
    delivery = report.config.delivery
    if delivery is None or not delivery.channels:
        raise ConfigError(
            f"report '{report.id}' has no delivery channels",
            file=report.path,
            key="delivery.channels",
            fix="add a 'delivery:' block with at least one channel (see README, Scheduling and delivery)",
        )
    return delivery


def select_channels(
    delivery: DeliveryConfig, names: Sequence[str] | None, audience: str | None = None
) -> list[ChannelConfig]:
    """The named channels (default: all) that deliver this audience's variant."""
    known = {c.name: c for c in delivery.channels}
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown channel(s) {', '.join(unknown)}",
            key="delivery.channels",
            fix=f"use one of: {', '.join(known)}",
        )
    chosen = [known[n] for n in names] if names else list(known.values())
    return [c for c in chosen if c.audiences is None or audience in c.audiences]


def send_on(
    led: Ledger,
    content: ReportContent,
    channel: ChannelConfig,
    delivery: DeliveryConfig,
    run_id: int,
    force: bool,
    now: datetime | None,
) -> SendOutcome:
    from reportgen.ops.channels import get_channel

    key = send_key(content.report, content.period, content.audience, channel.name)
    existing = led.get_send(key)
    if existing is not None and existing["status"] == "sent" and not force:
        return SendOutcome(existing["id"], channel.name, "skipped", "already-sent")
    prepared = get_channel(channel.type).prepare(channel, content, delivery)
    if existing is not None and existing["status"] == "uncertain" and prepared.kind == "email":
        from dataclasses import replace

        from reportgen.ops.channels.email import keep_message_id

        prepared = replace(prepared, payload=keep_message_id(prepared.payload, existing["payload"]))
    return enqueue_and_deliver(
        led,
        key,
        prepared,
        retry=delivery.retry.model_dump(),
        notify=notify_route(delivery),
        run_id=run_id,
        force=force,
        now=now,
    )


def notify_route(delivery: DeliveryConfig) -> dict[str, Any] | None:
    """Where failure notices for a send go (stored with it, so the outbox needs no config)."""
    if not delivery.owners or delivery.smtp is None:
        return None
    return {
        "owners": list(delivery.owners),
        "smtp": delivery.smtp.model_dump(),
        "retry": delivery.retry.model_dump(),
    }


def refreshed(led: Ledger, outcomes: list[SendOutcome]) -> list[SendOutcome]:
    fresh = []
    for o in outcomes:
        row = led.send_by_id(o.send_id)
        if row is None or o.status == "skipped":
            fresh.append(o)
        else:
            fresh.append(
                SendOutcome(
                    o.send_id, o.channel, row["status"], row["last_error"] or row["detail"] or ""
                )
            )
    return fresh


def run_status(outcomes: list[SendOutcome], led: Ledger, run_id: int) -> tuple[str, str | None]:
    """The run's state from its sends; ``queued`` until the outbox settles them all.

    A queued run takes its final state when its last send settles (see
    :func:`reportgen.ops.outbox.reconcile_run`).
    """
    failed = [o for o in outcomes if o.status == "failed" or o.detail == "failed-before"]
    uncertain = [o for o in outcomes if o.status == "uncertain" or o.detail == "uncertain-before"]
    error = "; ".join(f"{o.channel}: {o.detail}" for o in [*uncertain, *failed]) or None
    queued = [o for o in outcomes if o.status in ("retrying", "pending")]
    elsewhere = []  # still queued by another (earlier) run: it settles there, not here
    for o in outcomes:
        if o.detail == "already-queued":
            row = led.send_by_id(o.send_id)
            (queued if row is not None and row["run_id"] == run_id else elsewhere).append(o)
    if queued:
        return "queued", error
    if elsewhere and not (uncertain or failed):
        runs = sorted({str((led.send_by_id(o.send_id) or {}).get("run_id")) for o in elsewhere})
        return "skipped", f"already queued by run {', '.join(runs)}; it settles there"
    if uncertain:
        return "uncertain", error
    if failed:
        return ("failed" if len(failed) == len(outcomes) else "partly failed"), error
    partial = [o for o in outcomes if o.status == "sent" and partly_delivered(led, o.send_id)]
    if partial:
        return "partly failed", "; ".join(f"{o.channel}: {o.detail}" for o in partial)
    return "succeeded", None


def partly_delivered(led: Ledger, send_id: int) -> bool:
    attempts = led.attempts_of(send_id)
    return bool(attempts) and attempts[-1]["outcome"] == "partial"


def send_key(report: str, period: str, audience: str, channel: str) -> SendKey:
    return SendKey(report, period, audience, channel)
