"""Fixtures for delivery tests: a real SMTP server, report configs with delivery, a fast builder.

The SMTP server is aiosmtpd on 127.0.0.1 at a free port; it records every
accepted message with its envelope, rejects recipients whose local part is
``bounce`` with 550, and checks AUTH against :data:`PASSWORD`.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USERNAME = "reports-bot"
PASSWORD = "pw-Zq8!never-in-logs"
OWNER = "owner@example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Recorder:
    """aiosmtpd handler: keeps accepted messages, rejects bounce@ recipients."""

    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 <" + address + ">: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """A startable/stoppable local SMTP server on a fixed port (so 'down then up' can be tested)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.recorder = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages

    def to(self, address: str) -> list[Received]:
        return self.recorder.to(address)


@pytest.fixture
def smtp_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A server that is not listening yet: call ``.start()`` to bring it up."""
    monkeypatch.setenv("RG_TEST_SMTP_USER", USERNAME)
    monkeypatch.setenv("RG_TEST_SMTP_PASSWORD", PASSWORD)
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down: SmtpServer) -> SmtpServer:
    smtp_down.start()
    return smtp_down


def smtp_block(port: int, **overrides: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "T&S Reports <reports@example.com>",
        "username_env": "RG_TEST_SMTP_USER",
        "password_env": "RG_TEST_SMTP_PASSWORD",
        "timeout_seconds": 5,
        **overrides,
    }


ConfigFactory = Callable[..., Path]


@pytest.fixture
def make_config(weekly_config: Path, tmp_path: Path) -> ConfigFactory:
    """Write a copy of the shipped weekly config with delivery (and optional schedule/alerts)."""
    base = yaml.safe_load(weekly_config.read_text(encoding="utf-8"))
    root = weekly_config.parent

    def make(
        port: int,
        *,
        channels: list[dict[str, Any]] | None = None,
        name: str = "delivery",
        smtp: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Path:
        data = {
            k: v
            for k, v in base.items()
            if k not in ("audiences", "schedule", "delivery", "alerts")
        }
        data.update(
            id="weekly_leadership",
            catalog=str((root / base.get("catalog", "../catalog.yaml")).resolve()),
            sources=str((root / base.get("sources", "../sources.yaml")).resolve()),
            brand=str((root / base.get("brand", "../brands/default.yaml")).resolve()),
            audience={"name": "leadership", "label": "Leadership"},
        )
        data["delivery"] = {
            "owners": [OWNER],
            "smtp": smtp or smtp_block(port),
            "retry": {"attempts": 4, "initial_seconds": 60, "max_seconds": 600, "jitter": 0.2},
            "link": "https://reports.example.com/{report}/{period}/{audience}/",
            "channels": channels
            or [
                {
                    "type": "email",
                    "name": "leaders",
                    "to": ["vp@example.com"],
                    "cc": ["chief@example.com"],
                    "bcc": ["secret-bcc@example.com"],
                    "attach": ["pdf"],
                }
            ],
        }
        data.update(extra)
        path = tmp_path / "configs" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return make


@pytest.fixture
def copy_builder(built_report) -> Callable[..., Any]:
    """A builder that 'builds' by copying the session's built report into the requested folder.

    Delivery tests are about sending, not rendering: this keeps each one fast
    while the artifacts are real (the SIGKILL test runs a real build).
    """
    calls: list[dict[str, Any]] = []

    def build(
        config_path,
        *,
        period=None,
        formats=None,
        out_dir="output",
        audience=None,
        now=None,
        progress=None,
    ):
        calls.append({"period": period, "audience": audience})
        final = (
            Path(out_dir)
            / built_report.report
            / built_report.period.label
            / built_report.out_dir.name
        )
        final.mkdir(parents=True, exist_ok=True)
        artifacts = {}
        for fmt, src in built_report.artifacts.items():
            shutil.copy2(src, final / src.name)
            artifacts[fmt] = final / src.name
        return replace(built_report, out_dir=final, artifacts=artifacts)

    build.calls = calls  # type: ignore[attr-defined]
    return build
