"""Config models for scheduling, delivery channels and alert rules.

They live apart from :mod:`reportgen.config.models` because nothing in the
build pipeline reads them: only :mod:`reportgen.ops.runs`, :mod:`reportgen.ops.schedule`
and :mod:`reportgen.ops.alerts` do. Secrets never appear here: the models name the
environment variables (or a secrets file outside ``configs/``) that hold them,
so a config can be committed, diffed and printed without leaking a password.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reportgen.config.addresses import EmailAddress
from reportgen.config.review import ReviewPolicy
from reportgen.config.timezones import check_timezone

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Invalid(ValueError):
    """A validation error that knows its fix (the YAML loader shows it as the error's fix)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


_check_timezone = check_timezone

_CRON_FIX = (
    "write five fields — minute hour day-of-month month day-of-week — in the schedule's "
    "timezone, e.g. '0 7 * * MON' for 07:00 every Monday"
)


def _check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            f"'{value}' is not an environment variable name (use UPPER_SNAKE_CASE, "
            "e.g. REPORTGEN_SMTP_PASSWORD); put the secret itself in the environment"
        )
    return value


class ScheduleConfig(_Model):
    """When a job runs: a 5-field crontab read in an explicit IANA timezone."""

    cron: str  # minute hour day-of-month month day-of-week, e.g. "0 7 * * MON"
    timezone: str  # required: a schedule without a zone changes meaning with the server's
    period: Literal["last_complete", "latest_in_data"] = "last_complete"
    misfire_grace_hours: float = Field(default=6.0, gt=0, le=168)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        if len(value.split()) != 5:
            raise Invalid(f"'{value}' is not a 5-field crontab", fix=_CRON_FIX)
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise Invalid(f"invalid crontab '{value}': {exc}", fix=_CRON_FIX) from None
        return value


class RetryPolicy(_Model):
    """Exponential backoff with jitter for transient failures; then give up and tell the owners."""

    attempts: int = Field(default=8, ge=1, le=100)
    initial_seconds: float = Field(default=60.0, gt=0)
    max_seconds: float = Field(default=3600.0, gt=0)
    multiplier: float = Field(default=2.0, ge=1.0)
    jitter: float = Field(default=0.2, ge=0.0, le=1.0)  # ± fraction of the delay
    # a send whose final reply was lost may have been delivered: hold it and tell the owners,
    # or send it once more (same Message-ID) — never more than two copies either way
    on_uncertain: Literal["hold", "retry_once"] = "hold"


class SmtpSettings(_Model):
    """How to reach the mail server. Credentials come from the environment or a secrets file."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    sender: EmailAddress  # the From: address, e.g. "T&S Reports <reports@example.com>"
    username_env: str | None = None
    password_env: str | None = None
    secrets_file: str | None = None  # YAML with username/password; must be outside configs/
    ca_file: str | None = None  # a private CA bundle for the server's certificate
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)  # connect and each command
    # the wait for the final reply after the message data (RFC 5321 §4.5.3.2.6: 10 minutes)
    data_timeout_seconds: float = Field(default=600.0, gt=0, le=3600)

    @field_validator("username_env", "password_env")
    @classmethod
    def _env_names(cls, value: str | None) -> str | None:
        return _check_env_name(value)

    @field_validator("secrets_file")
    @classmethod
    def _absolute_secrets(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("/") or value.startswith("~")):
            raise ValueError(
                "secrets_file must be an absolute path (or start with ~) outside configs/, "
                "e.g. /etc/reportgen/smtp.yaml, so secrets are never committed with the configs"
            )
        return value


class EmailChannel(_Model):
    """A report email: HTML summary + plain text, artifacts attached up to a size limit.

    Recipients are ``to``/``cc``/``bcc`` plus the audience's own ``recipients`` (in To:).
    """

    type: Literal["email"]
    name: str = "email"
    audiences: list[str] | None = None  # which audiences' variants it gets; default: all
    to: list[EmailAddress] = Field(default_factory=list)
    cc: list[EmailAddress] = Field(default_factory=list)
    bcc: list[EmailAddress] = Field(default_factory=list)
    attach: list[Literal["pdf", "pptx", "xlsx"]] = Field(default_factory=lambda: ["pdf"])
    max_attachment_mb: float = Field(default=10.0, gt=0, le=100)
    subject: str = "{title} — {period}"


class WebhookChannel(_Model):
    """A chat incoming webhook (Slack or Teams): summary text and a link to the artifacts."""

    type: Literal["webhook"]
    name: str = "webhook"
    audiences: list[str] | None = None  # which audiences' variants it gets; default: all
    url_env: str | None = None  # the webhook URL is a secret: name the variable holding it
    url: str | None = None  # only for hooks that are not secret (e.g. a local relay)
    style: Literal["slack", "teams"] = "slack"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return _check_env_name(value)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if bool(self.url) == bool(self.url_env):
            raise ValueError("give exactly one of 'url_env' (recommended) or 'url'")
        if self.url and not self.url.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http:// for a local relay)")
        return self


Channel = Annotated[EmailChannel | WebhookChannel, Field(discriminator="type")]


class DeliveryConfig(_Model):
    """Where a built report goes, who hears about failures, and how hard to retry."""

    owners: list[EmailAddress] = Field(default_factory=list)  # failure and alert emails
    smtp: SmtpSettings | None = None
    link: str | None = None  # e.g. "https://reports.example.com/{report}/{period}/{audience}/"
    channels: list[Channel] = Field(default_factory=list)
    retry: RetryPolicy = RetryPolicy()
    review: ReviewPolicy | None = None  # hold built reports as drafts until approved

    @model_validator(mode="after")
    def _consistent(self) -> DeliveryConfig:
        names = [c.name for c in self.channels]
        for name in names:
            if not _CHANNEL_NAME.match(name):
                raise ValueError(
                    f"channel name '{name}' must be lower-case letters, digits, - or _"
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"channel names must be unique (they key exactly-once delivery): {', '.join(duplicates)}"
            )
        needs_smtp = self.owners or any(c.type == "email" for c in self.channels)
        if needs_smtp and self.smtp is None:
            raise ValueError("email channels and owner notifications need an 'smtp' block")
        return self


class AnomalyAlert(_Model):
    """Alert on new anomalies of the report's detector that are at least this strong."""

    min_z: float = Field(default=6.0, gt=0)  # |robust z|: "high severity"
    sentiment: Literal["bad", "any"] = "bad"
    metrics: list[str] | None = None  # default: every metric of the report


class AlertRule(_Model):
    """A condition checked on its own schedule; one email per breach and one on recovery."""

    name: str
    schedule: ScheduleConfig
    metric: str | None = None
    below: float | None = None
    above: float | None = None
    by: str | None = None  # a breakdown dimension: check every segment
    grain: Literal["day", "week", "month", "quarter"] = "day"  # the last complete one
    anomalies: AnomalyAlert | None = None
    to: list[EmailAddress] = Field(default_factory=list)  # default: delivery.owners

    @model_validator(mode="after")
    def _one_condition(self) -> AlertRule:
        if not _CHANNEL_NAME.match(self.name):
            raise ValueError(f"alert name '{self.name}' must be lower-case letters, digits, - or _")
        if (self.metric is None) == (self.anomalies is None):
            raise ValueError(
                "an alert checks exactly one of 'metric' (with below/above) or 'anomalies'"
            )
        if self.metric is not None and (self.below is None) == (self.above is None):
            raise ValueError(f"alert '{self.name}': give exactly one of 'below' or 'above'")
        return self
