"""Delivery channels, looked up by type name (``email``, ``webhook``).

A channel module has two functions, split so the outbox can sit between them:

* ``prepare(channel, content, delivery) -> Prepared`` turns a built report into
  the exact bytes to send plus the (secret-free) settings needed to send them.
  The outbox stores both, so every retry sends the identical message (same
  Message-ID), and a retry after a restart needs no config and no rebuild.
* ``transmit(payload, transport) -> Delivered`` sends once. It raises
  :class:`TransientDeliveryError` for failures worth retrying (connection
  refused, 4xx, timeouts) and :class:`PermanentDeliveryError` for those that
  will never succeed by themselves (5xx recipient, bad credentials, bad config).

Adding a channel is one new module and one line in :data:`CHANNELS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from reportgen.errors import ConfigError, DeliveryError

#: channel type → module implementing ``prepare`` and ``transmit``
CHANNELS: dict[str, str] = {
    "email": "reportgen.ops.channels.email",
    "webhook": "reportgen.ops.channels.webhook",
}


class TransientDeliveryError(DeliveryError):
    """A send failed for a reason that may go away (server down, 4xx, timeout): retry later."""

    @property
    def retry_after(self) -> float | None:
        return self.context.get("retry_after")


class PermanentDeliveryError(DeliveryError):
    """A send can never succeed as configured (rejected recipient, bad credentials): stop."""


class UncertainDeliveryError(DeliveryError):
    """The whole message reached the server but its final reply was lost (timeout, disconnect).

    The server may have accepted it and be delivering it: sending again blindly
    would deliver a second copy, so the outbox holds it (``on_uncertain``).
    """


@dataclass(frozen=True)
class Prepared:
    """A message ready for the outbox: what to send and how, with no secret inside."""

    kind: str
    payload: bytes
    transport: dict[str, Any]
    description: str


@dataclass(frozen=True)
class Delivered:
    """A transmission the other side accepted; ``warnings`` lists partial problems."""

    detail: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


def get_channel(kind: str) -> ModuleType:
    """The module implementing channel type ``kind``."""
    try:
        return importlib.import_module(CHANNELS[kind])
    except KeyError:
        raise ConfigError(
            f"unknown delivery channel type '{kind}'",
            fix=f"use one of: {', '.join(sorted(CHANNELS))}",
        ) from None


__all__ = [
    "CHANNELS",
    "Delivered",
    "PermanentDeliveryError",
    "Prepared",
    "TransientDeliveryError",
    "UncertainDeliveryError",
    "get_channel",
]
