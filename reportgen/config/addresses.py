"""Email addresses in configs: parsed as RFC 5322 at load time, one per entry, normalised.

Every address a config names — a channel's ``to``/``cc``/``bcc``, an audience's
``recipients``, ``delivery.owners``, an alert's ``to`` and ``smtp.sender`` —
goes through :func:`check_address`. A value that is not exactly one mailbox
on one line is a config error with its fix, never something that reaches a
mail header: a trailing newline from a YAML block scalar (``- |``) would end
the header block, a comma would hide a second recipient in To: that the
envelope never gets, and a bare word would be sent as a recipient.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


class Invalid(ValueError):
    """An address error that knows its fix (the YAML loader shows it as the error's fix)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_ONE_LINE_FIX = (
    "write one address per entry on one line, as a plain or quoted scalar "
    "(e.g. - vp@example.com); a YAML block scalar ('- |') adds a newline"
)


def check_address(value: str) -> str:
    """The address normalised (``Name <local@domain>`` or ``local@domain``, domain lower-case).

    Raises :class:`Invalid` (a ``ValueError`` carrying its fix) for anything else.
    """
    from email.headerregistry import Address, HeaderRegistry

    if not isinstance(value, str):
        raise Invalid("an email address must be text", fix=_ONE_LINE_FIX)
    control = next((ch for ch in value if ord(ch) < 32 or ord(ch) == 127), None)
    if control is not None:
        raise Invalid(
            f"email address {value!r} contains a control character ({control!r})",
            fix=_ONE_LINE_FIX,
        )
    text = value.strip()
    try:
        header = HeaderRegistry()("To", text)
        mailboxes = list(header.addresses)
        defects = list(header.defects)
    except Exception:  # the stdlib parser raises IndexError & co. on some garbage
        mailboxes, defects = [], ["unparseable"]
    if len(mailboxes) > 1:
        raise Invalid(
            f"{text!r} holds {len(mailboxes)} addresses; an entry is one address",
            fix="give each address its own list entry: to: [a@example.com, b@example.com]",
        )
    if (
        defects
        or len(mailboxes) != 1
        or len(header.groups) != 1
        or header.groups[0].display_name is not None
    ):
        raise Invalid(
            f"{text!r} is not an email address (expected name@domain or 'Name <name@domain>')",
            fix="write an address such as vp@example.com or 'T&S Reports <reports@example.com>'",
        )
    mailbox = mailboxes[0]
    local, domain = mailbox.username, mailbox.domain
    labels = domain.split(".")
    if (
        not local
        or not domain
        or not local.isascii()
        or not all(_LABEL.match(label) for label in labels)
        or len(local) > 64  # RFC 5321 §4.5.3.1: local part and path limits
        or len(mailbox.addr_spec) > 254
    ):
        raise Invalid(
            f"{text!r} is not an email address (expected name@domain, ASCII)",
            fix="write an address such as vp@example.com; an international domain in its xn-- form",
        )
    normal = Address(display_name=mailbox.display_name, username=local, domain=domain.lower())
    return str(normal)


def envelope_address(value: str) -> str:
    """The bare ``local@domain`` of a checked address (for the SMTP envelope)."""
    from email.headerregistry import HeaderRegistry

    return HeaderRegistry()("To", value).addresses[0].addr_spec


#: a config field holding one email address (checked and normalised at load time)
EmailAddress = Annotated[str, AfterValidator(check_address)]
