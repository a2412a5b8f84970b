"""Email over SMTP: a multipart report message, and short owner notices.

The report message is ``multipart/mixed``: a ``multipart/alternative`` with the
plain-text body and a ``multipart/related`` HTML body — the bottom line, the
stories and up to six KPI cards (:mod:`reportgen.channels._email_brief`), each
with a small trend PNG embedded under a Content-ID and referenced as ``cid:``
(:mod:`reportgen.channels._trend_images`; no remote images) — plus the PDF (and
optionally PPTX) attached. Bcc
recipients go only into the SMTP envelope, never into a header. When the
attachments exceed the channel's limit, the message links to the artifact
folder instead, so a big deck never bounces.

Credentials are read at send time from the environment variables the config
names (or from a secrets file outside ``configs/``) and never logged, stored
or put in an error message.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import stat
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, make_msgid
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from reportgen.config.addresses import check_address, envelope_address
from reportgen.config.delivery import DeliveryConfig, EmailChannel, SmtpSettings
from reportgen.errors import ConfigError, DeliveryError
from reportgen.ops.channels import (
    Delivered,
    PermanentDeliveryError,
    Prepared,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from reportgen.ops.channels._email_brief import email_view
from reportgen.ops.channels._trend_images import draw_trends, embed
from reportgen.ops.manifest import ReportContent
from reportgen.render.html.templating import render_error, sandboxed_environment
from reportgen.text import keep_whole

log = logging.getLogger(__name__)

_MIME = {
    "pdf": ("application", "pdf"),
    "pptx": ("application", "vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
_ARROWS = {"up": "▲", "down": "▼", "flat": "▶"}


# -- templates ----------------------------------------------------------------------------------


def email_templates_dir() -> Path:
    """``$REPORTGEN_TEMPLATES/email`` or the repository's ``templates/email``."""
    override = os.environ.get("REPORTGEN_TEMPLATES")
    root = (
        Path(override).expanduser()
        if override
        else Path(__file__).resolve().parents[3] / "templates"
    )
    return root / "email"


@lru_cache(maxsize=4)
def _environment(folder: Path) -> ImmutableSandboxedEnvironment:
    # HTML templates escape everything (report text comes from data); plain-text ones must not,
    # or a reader would see "&amp;" in "T&S" — they go out as text/plain, never read as HTML.
    # Sandboxed: $REPORTGEN_TEMPLATES lets users replace these templates.
    env = sandboxed_environment(
        folder, autoescape=lambda name: bool(name and name.endswith(".html.j2"))
    )
    # a period, code or quantity never split at a line end on a phone ("2026-" / "W46")
    env.filters["keep_whole"] = partial(keep_whole, inline=True)
    return env


def render_template(name: str, **context: Any) -> str:
    """Render an email template; any template failure is a RenderError naming it."""
    try:
        return _environment(email_templates_dir()).get_template(name).render(**context)
    except TemplateError as error:
        raise render_error(error, name, templates=str(email_templates_dir())) from error


# -- composing --------------------------------------------------------------------------------


def prepare(channel: EmailChannel, content: ReportContent, delivery: DeliveryConfig) -> Prepared:
    """The report email for ``channel``, ready for the outbox."""
    smtp = _require_smtp(delivery)
    link = format_link(delivery.link, content)
    attachments = _attachments(channel, content)
    total = sum(size for _, _, size in attachments)
    limit = int(channel.max_attachment_mb * 1024 * 1024)
    oversize = _mb(total) if total > limit else None
    if oversize:
        attachments = []
        link = link or content.folder.resolve().as_uri()
    context = _body_context(content, link, [p.name for p, _, _ in attachments], oversize)
    view = email_view(content)
    images = draw_trends(view.cards, content.brand, _domain(smtp.sender))
    context.update(view=view, cids={metric: image.cid for metric, image in images.items()})
    audience = [
        _checked(r, f"audience '{content.audience}' recipients") for r in content.recipients
    ]
    to = [*channel.to, *(r for r in audience if r not in channel.to)]
    recipients = [*to, *channel.cc, *channel.bcc]
    if not recipients:
        raise ConfigError(
            f"channel '{channel.name}' has no recipients for audience '{content.audience}'",
            key="delivery.channels",
            fix="add to/cc/bcc to the channel or 'recipients' to the audience",
        )
    message = _message(
        smtp,
        subject=_subject(channel, content),
        to=to,
        cc=channel.cc,
        text=render_template("report.txt.j2", **context),
        html=render_template("report.html.j2", **context),
    )
    embed(message, images)  # the cards' trends, as multipart/related parts of the HTML
    for path, fmt, _ in attachments:
        maintype, subtype = _MIME[fmt]
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    how = f"{', '.join(f for _, f, _ in attachments)} attached" if attachments else "link only"
    return Prepared(
        "email",
        message.as_bytes(policy=SMTP),
        transport_for(smtp, recipients),
        f"email to {len(recipients)} recipient(s), {how}",
    )


def keep_message_id(payload: bytes, earlier: bytes) -> bytes:
    """``payload`` with the Message-ID of ``earlier``: a re-send of a message that may have
    arrived is the same message to the recipients' mail systems, which can drop the copy."""
    import email as _email

    old = _email.message_from_bytes(earlier, policy=SMTP)["Message-ID"]
    message = _email.message_from_bytes(payload, policy=SMTP)
    if old:
        message.replace_header("Message-ID", str(old))
    return message.as_bytes(policy=SMTP)


def prepare_notice(
    smtp: SmtpSettings, *, to: list[str], subject: str, template: str, **context: Any
) -> Prepared:
    """A short plain-text email (failure notice, alert) for the outbox."""
    message = _message(
        smtp, subject=subject, to=to, cc=[], text=render_template(template, **context)
    )
    return Prepared(
        "email", message.as_bytes(policy=SMTP), transport_for(smtp, to), f"notice to {len(to)}"
    )


def transport_for(smtp: SmtpSettings, recipients: list[str]) -> dict[str, Any]:
    """What the outbox stores to send later: server settings and envelope, no secret values."""
    return {"smtp": smtp.model_dump(), "recipients": list(recipients)}


def _checked(address: str, where: str) -> str:
    """An address from a manifest (written by an older build) checked like a config's."""
    try:
        return check_address(address)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: {exc}", key="audiences.recipients", fix=getattr(exc, "fix", None)
        ) from None


def format_link(template: str | None, content: ReportContent) -> str | None:
    if not template:
        return None
    try:
        return template.format_map(
            {"report": content.report, "period": content.period, "audience": content.audience}
        )
    except (KeyError, ValueError, IndexError) as exc:
        raise ConfigError(
            f"delivery.link '{template}' has an unknown placeholder ({exc})",
            key="delivery.link",
            fix="use only {report}, {period} and {audience}",
        ) from None


def _subject(channel: EmailChannel, content: ReportContent) -> str:
    values = {
        "title": content.title,
        "period": content.period,
        "period_display": content.period_display,
        "audience": content.audience,
        "report": content.report,
    }
    try:
        subject = channel.subject.format_map(values)
    except (KeyError, ValueError, IndexError) as exc:
        raise ConfigError(
            f"channel '{channel.name}': subject '{channel.subject}' has an unknown placeholder ({exc})",
            key="delivery.channels.subject",
            fix=f"use only {', '.join('{' + k + '}' for k in values)}",
        ) from None
    return " ".join(subject.split())  # no header injection through newlines


def _attachments(channel: EmailChannel, content: ReportContent) -> list[tuple[Path, str, int]]:
    found = []
    for fmt in channel.attach:
        artifact = content.artifacts.get(fmt)
        if artifact is None:
            raise ConfigError(
                f"channel '{channel.name}' attaches {fmt.upper()}, but the build made no {fmt}",
                key="delivery.channels.attach",
                fix=f"add {fmt} to the report's 'outputs:' or remove it from 'attach:'",
            )
        found.append((artifact.path, fmt, artifact.bytes))
    return found


def _body_context(
    content: ReportContent, link: str | None, attached: list[str], oversize: str | None
) -> dict[str, Any]:
    columns = 3 if len(content.tiles) > 4 else 2
    tiles = list(content.tiles)
    rows = [tiles[i : i + columns] for i in range(0, len(tiles), columns)]
    brand = content.brand

    def colour(sentiment: str) -> str:
        return brand.get(sentiment, brand["neutral"])

    return {
        "c": content,
        "b": brand,
        "rows": rows,
        "columns": columns,
        "link": link,
        "attached": attached,
        "oversize": oversize,
        "colour": colour,
        "arrow": lambda direction: _ARROWS.get(direction, ""),
    }


def _message(
    smtp: SmtpSettings,
    *,
    subject: str,
    to: list[str],
    cc: list[str],
    text: str,
    html: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    if to:
        message["To"] = ", ".join(to)
    else:  # everyone is in Bcc: an empty group says so without naming anyone
        message["To"] = "undisclosed-recipients:;"
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain(smtp.sender))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _domain(sender: str) -> str:
    addresses = getaddresses([sender])
    addr = addresses[0][1] if addresses else ""
    return addr.rpartition("@")[2] or "reportgen.invalid"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _require_smtp(delivery: DeliveryConfig) -> SmtpSettings:
    if delivery.smtp is None:
        raise ConfigError("email delivery needs delivery.smtp", key="delivery.smtp")
    return delivery.smtp


# -- sending ----------------------------------------------------------------------------------


def transmit(payload: bytes, transport: dict[str, Any]) -> Delivered:
    """Send one stored message; classify every failure as transient, permanent or uncertain.

    Until the message's final dot is written, any failure means the server has
    no message (it discards an unfinished one): transient or permanent. After
    it, a lost reply — a timeout (``data_timeout_seconds``, 10 minutes by
    default, RFC 5321 §4.5.3.2.6) or a closed connection — means the server
    may have accepted it: :class:`UncertainDeliveryError`, never "cannot reach".
    """
    smtp = SmtpSettings.model_validate(transport["smtp"])
    recipients: list[str] = [envelope_address(r) for r in transport["recipients"]]
    sender = envelope_address(smtp.sender)
    where = f"{smtp.host}:{smtp.port}"
    state = _Progress()
    try:
        client = _connect(smtp, where)
        try:
            refused = _transaction(client, sender, recipients, payload, smtp, state)
        finally:
            _quit(client)
    except DeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refused(exc.recipients, where) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentDeliveryError(
            f"the SMTP server {where} does not support what the config asks: {exc}",
            fix="check delivery.smtp.security (starttls, ssl or none) and the port",
            server=where,
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, _text(exc.smtp_error), where) from None
    except ssl.SSLError as exc:
        raise PermanentDeliveryError(
            f"TLS with {where} failed: {exc.reason or exc}",
            fix="check delivery.smtp.security, the port and ca_file for a private CA",
            server=where,
        ) from None
    except OSError as exc:  # refused, reset, timeout, disconnected
        if state.data_sent:
            raise _lost_reply(smtp, where, exc) from None
        verb = "reach" if not state.connected else "finish the SMTP dialogue with"
        raise TransientDeliveryError(
            f"cannot {verb} the SMTP server {where}: {exc.strerror or exc.__class__.__name__}"
            + ("" if not state.connected else " (before the message was sent)"),
            fix="the outbox retries with backoff; check the server if it persists",
            server=where,
        ) from None
    warnings = tuple(
        f"{addr} refused ({code} {_text(msg)})" for addr, (code, msg) in refused.items()
    )
    accepted = len(recipients) - len(refused)
    return Delivered(f"accepted by {where} for {accepted} recipient(s)", warnings)


class _Progress:
    """How far a transaction got: a failure after ``data_sent`` leaves the outcome unknown."""

    connected = False
    data_sent = False


class _Utf8Auth(smtplib.SMTP):
    """AUTH with UTF-8 credentials (smtplib encodes them as ASCII and raises, naming a character).

    Servers compare the decoded bytes; RFC 4616 (PLAIN) defines them as UTF-8.
    """

    def auth(self, mechanism, authobject, *, initial_response_ok=True):  # type: ignore[no-untyped-def]
        import base64
        from email.base64mime import body_encode

        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        if initial is not None:
            response = body_encode(initial.encode("utf-8"), eol="")
            code, resp = self.docmd("AUTH", mechanism + " " + response)
        else:
            code, resp = self.docmd("AUTH", mechanism)
        for _ in range(5):
            if code != 334:
                break
            answer = authobject(base64.decodebytes(resp))
            code, resp = self.docmd(body_encode(answer.encode("utf-8"), eol=""))
        if code in (235, 503):
            return code, resp
        raise smtplib.SMTPAuthenticationError(code, resp)

    def auth_cram_md5(self, challenge=None):  # type: ignore[no-untyped-def]
        import hmac

        if challenge is None:
            return None
        digest = hmac.HMAC(self.password.encode("utf-8"), challenge, "md5").hexdigest()
        return self.user + " " + digest


class _SMTP(_Utf8Auth, smtplib.SMTP):
    pass


class _SMTPS(_Utf8Auth, smtplib.SMTP_SSL):
    pass


def _connect(smtp: SmtpSettings, where: str) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=_expand(smtp.ca_file))
    if smtp.security == "ssl":
        client: smtplib.SMTP = _SMTPS(
            smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context
        )
    else:
        client = _SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        credentials = resolve_credentials(smtp)
        if credentials:
            _login(client, credentials, smtp, where)
    except BaseException:
        client.close()
        raise
    return client


#: the only thing said about a failed login: server texts and encoder errors can echo the secret
LOGIN_FAILED = "the SMTP server {where} rejected the credentials (code {code})"


def _login(
    client: smtplib.SMTP, credentials: tuple[str, str], smtp: SmtpSettings, where: str
) -> None:
    fix = f"check ${smtp.username_env or 'username'} / ${smtp.password_env or 'password'}" + (
        f" or {smtp.secrets_file}" if smtp.secrets_file else ""
    )
    try:
        client.login(*credentials)
    except smtplib.SMTPServerDisconnected:
        raise
    except (smtplib.SMTPException, UnicodeError, ValueError) as exc:
        code = getattr(exc, "smtp_code", None) or "none"
        error = (
            TransientDeliveryError
            if isinstance(code, int) and code < 500
            else PermanentDeliveryError
        )
        raise error(LOGIN_FAILED.format(where=where, code=code), fix=fix, server=where) from None


def _transaction(
    client: smtplib.SMTP,
    sender: str,
    recipients: list[str],
    payload: bytes,
    smtp: SmtpSettings,
    state: _Progress,
) -> dict[str, tuple[int, bytes]]:
    """``smtplib.sendmail`` with the final reply after DATA awaited under its own timeout."""
    state.connected = True
    options = [f"size={len(payload)}"] if client.has_extn("size") else []
    code, reply = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = client.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    data = smtplib._quote_periods(payload)  # type: ignore[attr-defined]
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    client.send(data + b".\r\n")
    state.data_sent = True  # from here on, the server may have the message
    if client.sock is not None:
        client.sock.settimeout(smtp.data_timeout_seconds)
    code, reply = client.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _quit(client: smtplib.SMTP) -> None:
    """Say goodbye without letting QUIT's reply change what happened to the message."""
    try:
        if client.sock is not None:
            client.sock.settimeout(5)
            client.docmd("QUIT")
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        client.close()


def _lost_reply(smtp: SmtpSettings, where: str, exc: OSError) -> UncertainDeliveryError:
    timed_out = "timed out" in str(exc) or isinstance(exc, TimeoutError)
    how = (
        f"no reply within {smtp.data_timeout_seconds:g} s"
        if timed_out
        else "the connection closed before its reply"
    )
    return UncertainDeliveryError(
        f"{where} received the whole message, then {how}: it may have been delivered",
        fix="check with a recipient before re-sending (`reportgen send --force` sends "
        "another copy with the same Message-ID)",
        server=where,
    )


def resolve_credentials(smtp: SmtpSettings) -> tuple[str, str] | None:
    """Username and password: the environment first, then the secrets file; ``None`` = no auth."""
    if not (smtp.username_env or smtp.password_env or smtp.secrets_file):
        return None
    from_file = _read_secrets_file(smtp.secrets_file) if smtp.secrets_file else {}
    username = (smtp.username_env and os.environ.get(smtp.username_env)) or from_file.get(
        "username"
    )
    password = (smtp.password_env and os.environ.get(smtp.password_env)) or from_file.get(
        "password"
    )
    if not username or not password:
        missing = [
            name for name, value in (("username", username), ("password", password)) if not value
        ]
        sources = [f"${v}" for v in (smtp.username_env, smtp.password_env) if v]
        if smtp.secrets_file:
            sources.append(smtp.secrets_file)
        raise PermanentDeliveryError(
            f"SMTP {' and '.join(missing)} not set",
            fix=f"set {' / '.join(sources) or 'username_env and password_env'} for the process that sends",
        )
    return str(username), str(password)


def _read_secrets_file(name: str) -> dict[str, Any]:
    import yaml

    path = Path(_expand(name) or "")
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PermanentDeliveryError(
            f"cannot read the SMTP secrets file {path}: {exc.strerror}",
            fix="create it (YAML with 'username' and 'password') readable by this user only",
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermanentDeliveryError(
            f"the SMTP secrets file {path} is readable by other users",
            fix=f"chmod 600 {path}",
        )
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise PermanentDeliveryError(
            f"the SMTP secrets file {path} is not a mapping",
            fix="write it as YAML with 'username:' and 'password:' keys",
        )
    return data


def check_secrets_location(smtp: SmtpSettings, configs_root: Path) -> None:
    """Refuse a secrets file inside the configs tree: configs get committed and shared."""
    if not smtp.secrets_file:
        return
    path = Path(_expand(smtp.secrets_file) or "").resolve()
    root = configs_root.resolve()
    if path == root or root in path.parents:
        raise ConfigError(
            f"the SMTP secrets file {path} is inside the configs folder {root}",
            key="delivery.smtp.secrets_file",
            fix="move it outside configs/ (e.g. /etc/reportgen/smtp.yaml, chmod 600)",
        )


def _expand(name: str | None) -> str | None:
    return os.path.expanduser(name) if name else None


def _refused(recipients: dict[str, tuple[int, bytes]], where: str) -> Exception:
    codes = [code for code, _ in recipients.values()]
    listed = "; ".join(f"{a}: {c} {_text(m)}" for a, (c, m) in recipients.items())
    if all(code >= 500 for code in codes):
        return PermanentDeliveryError(
            f"{where} refused every recipient ({listed})",
            fix="correct the addresses in the channel's to/cc/bcc",
            server=where,
        )
    return TransientDeliveryError(
        f"{where} deferred the recipients ({listed})", fix="the outbox retries", server=where
    )


def _by_code(code: int, text: str, where: str) -> Exception:
    if 400 <= code < 500:
        return TransientDeliveryError(
            f"{where} deferred the message ({code} {text})", fix="the outbox retries", server=where
        )
    return PermanentDeliveryError(
        f"{where} rejected the message ({code} {text})",
        fix="read the server's reason; fix the message or the account, then `reportgen send --force`",
        server=where,
    )


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
