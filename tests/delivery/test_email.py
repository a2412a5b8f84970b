"""Email delivery against a real SMTP server: the message, retries, rejections, exactly-once."""

from __future__ import annotations

import email
import re
import threading
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from reportgen.ops.ledger import Ledger, SendKey, utcnow
from reportgen.ops.outbox import drain
from reportgen.ops.runs import run_report

from .conftest import OWNER, PASSWORD, smtp_block

KEY = SendKey("weekly_leadership", "2026-W47", "leadership", "leaders")


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def run(config: Path, tmp_path: Path, builder, **kwargs):
    return run_report(
        config,
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        builder=builder,
        **kwargs,
    )


def test_message_has_headers_both_bodies_and_the_pdf(smtp, make_config, copy_builder, tmp_path):
    result = run(make_config(smtp.port), tmp_path, copy_builder)

    assert result.status == "succeeded"
    (received,) = smtp.messages
    assert sorted(received.rcpt_tos) == [
        "chief@example.com",
        "secret-bcc@example.com",
        "vp@example.com",
    ]
    message = parse(received.data)
    assert message["To"] == "vp@example.com"
    assert message["Cc"] == "chief@example.com"
    assert message["Subject"] == "Weekly T&S Operations Review — 2026-W47"
    assert message["Message-ID"].endswith("@example.com>")
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    assert "Bcc" not in headers and "secret-bcc" not in headers
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Average handle time" in text and "Average handle time" in html
    assert "<table" in html
    assert set(re.findall(r'<img src="([a-z]+):', html)) == {"cid"}  # no remote images
    # layout is inline; the one <style> only stacks the tiles on a phone (clients may drop it)
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert all(s.strip().startswith("@media only screen and (max-width: ") for s in styles)
    assert html.index("The bottom line") < html.index("Average handle time")  # brief first
    assert "robust z" not in text and "p < 0" not in text  # the brief, not the evidence
    assert "https://reports.example.com/weekly_leadership/2026-W47/leadership/" in text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == result.artifacts["pdf"].read_bytes()


def test_html_body_escapes_data_and_text_body_does_not(smtp, make_config, copy_builder, tmp_path):
    from dataclasses import replace

    from reportgen.config import load_report
    from reportgen.ops.channels.email import prepare
    from reportgen.ops.manifest import content_from_build

    build = copy_builder(None, out_dir=tmp_path / "out")
    content = content_from_build(build, None)
    tile = {**content.tiles[0], "label": "<script>alert(1)</script> T&S"}
    content = replace(content, tiles=(tile, *content.tiles[1:]))
    delivery = load_report(make_config(smtp.port)).config.delivery
    message = parse(prepare(delivery.channels[0], content, delivery).payload)

    html = message.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; T&amp;S" in html and "<script>" not in html
    assert "<script>alert(1)</script> T&S" in message.get_body(("plain",)).get_content()


def test_over_the_size_limit_links_instead_of_attaching(smtp, make_config, copy_builder, tmp_path):
    channel = {
        "type": "email",
        "name": "leaders",
        "to": ["vp@example.com"],
        "attach": ["pdf", "pptx"],
    }
    channel["max_attachment_mb"] = 0.01
    run(make_config(smtp.port, channels=[channel]), tmp_path, copy_builder)

    message = parse(smtp.messages[0].data)
    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",)).get_content()
    assert "larger than this channel's attachment limit" in text
    assert "https://reports.example.com/weekly_leadership/2026-W47/leadership/" in text


def test_server_down_then_up_delivers_once_after_retries(
    smtp_down, make_config, copy_builder, tmp_path
):
    result = run(make_config(smtp_down.port), tmp_path, copy_builder)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    row = ledger.get_send(KEY)
    assert result.status == "queued" and row["status"] == "retrying" and row["attempts"] == 1
    first_retry = row["next_attempt_at"]
    assert 48 <= (first_retry - row["updated_at"]).total_seconds() <= 72  # 60 s ± 20 % jitter

    assert drain(ledger, now=utcnow()) == []  # not due yet: backoff is respected
    still_down = drain(ledger, now=first_retry + timedelta(seconds=1))
    assert [o.status for o in still_down] == ["retrying"]
    second = ledger.get_send(KEY)
    assert second["next_attempt_at"] - first_retry > timedelta(seconds=90)  # exponential

    smtp_down.start()
    delivered = drain(ledger, now=second["next_attempt_at"] + timedelta(seconds=1))
    assert [o.status for o in delivered] == ["sent"]
    assert drain(ledger, now=utcnow() + timedelta(days=1)) == []
    assert len(smtp_down.messages) == 1
    outcomes = [a["outcome"] for a in ledger.attempts_of(row["id"])]
    assert outcomes == ["transient", "transient", "sent"]
    assert ledger.get_run(result.run_id)["status"] == "succeeded"  # reconciled with its send


def test_rejected_recipient_fails_permanently_and_tells_the_owners(
    smtp, make_config, copy_builder, tmp_path
):
    channel = {"type": "email", "name": "leaders", "to": ["bounce@example.com"]}
    result = run(make_config(smtp.port, channels=[channel]), tmp_path, copy_builder)

    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    row = ledger.get_send(KEY)
    assert result.status == "failed"
    assert row["status"] == "failed" and row["attempts"] == 1
    assert "550" in row["last_error"] and "bounce@example.com" in row["last_error"]
    assert [a["outcome"] for a in ledger.attempts_of(row["id"])] == ["permanent"]
    (notice,) = smtp.to(OWNER)
    body = parse(notice.data).get_body(("plain",)).get_content()
    assert "bounce@example.com" in body and f"Run id:   {result.run_id}" in body

    assert drain(ledger, now=utcnow() + timedelta(days=1)) == []  # never retried
    assert ledger.get_send(KEY)["attempts"] == 1


def test_a_second_run_does_not_send_again_unless_forced(smtp, make_config, copy_builder, tmp_path):
    config = make_config(smtp.port)
    first = run(config, tmp_path, copy_builder)
    again = run(config, tmp_path, copy_builder)
    assert (first.status, again.status) == ("succeeded", "skipped")
    assert len(copy_builder.calls) == 1  # the key was done: not even rebuilt
    assert len(smtp.messages) == 1

    forced = run(config, tmp_path, copy_builder, force=True)
    assert forced.status == "succeeded" and len(smtp.messages) == 2
    row = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}").get_send(KEY)
    assert row["generation"] == 2


def test_concurrent_runs_for_one_key_send_once(smtp, make_config, copy_builder, tmp_path):
    """Two schedulers (or a scheduler and a person) racing on the same key: one sends."""
    config = make_config(smtp.port)
    run(config, tmp_path, copy_builder, channels=["leaders"], force=False)
    smtp.messages.clear()
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    # a fresh key: a second channel, sent by two racing senders from the existing build
    channels = [
        {"type": "email", "name": "leaders", "to": ["vp@example.com"]},
        {"type": "email", "name": "ops", "to": ["ops@example.com"]},
    ]
    config = make_config(smtp.port, channels=channels)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            barrier.wait()
            run_report(
                config,
                period="2026-W47",
                out_dir=tmp_path / "out",
                ledger=ledger_url,
                rebuild=False,
                channels=["ops"],
            )
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert [m.rcpt_tos for m in smtp.messages] == [["ops@example.com"]]


def test_send_reuses_the_build_without_rebuilding(smtp, make_config, copy_builder, tmp_path):
    config = make_config(smtp.port)
    built = run(config, tmp_path, copy_builder)
    resent = run(config, tmp_path, copy_builder, rebuild=False, force=True)
    assert resent.status == "succeeded" and len(copy_builder.calls) == 1
    attachments = [next(parse(m.data).iter_attachments()).get_content() for m in smtp.messages]
    assert attachments[0] == attachments[1] == built.artifacts["pdf"].read_bytes()


def test_send_refuses_artifacts_changed_after_the_manifest(
    smtp, make_config, copy_builder, tmp_path
):
    from reportgen.errors import DeliveryError

    config = make_config(smtp.port)
    built = run(config, tmp_path, copy_builder)
    built.artifacts["pdf"].write_bytes(b"%PDF-1.7 tampered")
    with pytest.raises(DeliveryError, match="changed or vanished"):
        run(config, tmp_path, copy_builder, rebuild=False, force=True)
    assert len(smtp.messages) == 1


def test_the_smtp_password_is_never_logged_or_stored(
    smtp, make_config, copy_builder, tmp_path, caplog
):
    caplog.set_level("DEBUG")
    run(make_config(smtp.port), tmp_path, copy_builder)
    wrong = make_config(
        smtp.port, name="wrong", smtp=smtp_block(smtp.port, password_env="RG_WRONG")
    )
    import os

    os.environ["RG_WRONG"] = PASSWORD + "-wrong"
    try:
        failed = run(wrong, tmp_path, copy_builder, force=True)
    finally:
        del os.environ["RG_WRONG"]
    assert failed.status == "failed" and "rejected the credentials" in failed.sends[0].detail

    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("reportgen"))
    assert "rejected the credentials" in ours  # the failure was logged...
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for secret in (PASSWORD, PASSWORD + "-wrong"):
        assert secret not in ours  # ...without the password
        assert secret.encode() not in stored  # nor in the ledger, outbox or output files


def test_secrets_file_inside_configs_is_refused(smtp, make_config, copy_builder, tmp_path):
    from reportgen.errors import ConfigError

    inside = tmp_path / "configs" / "smtp-secrets.yaml"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_text(f"username: u\npassword: {PASSWORD}\n")
    config = make_config(
        smtp.port,
        smtp=smtp_block(smtp.port, username_env=None, password_env=None, secrets_file=str(inside)),
    )
    with pytest.raises(ConfigError, match="inside the configs folder"):
        run(config, tmp_path, copy_builder)
    assert smtp.messages == []


def test_secrets_file_outside_configs_authenticates(smtp, make_config, copy_builder, tmp_path):
    secrets = tmp_path / "private" / "smtp.yaml"
    secrets.parent.mkdir()
    secrets.write_text(f"username: reports-bot\npassword: '{PASSWORD}'\n")
    secrets.chmod(0o600)
    config = make_config(
        smtp.port,
        smtp=smtp_block(smtp.port, username_env=None, password_env=None, secrets_file=str(secrets)),
    )
    assert run(config, tmp_path, copy_builder).status == "succeeded"
    assert len(smtp.messages) == 1


@pytest.fixture
def tls_smtp(tmp_path, monkeypatch):
    """The recording server behind STARTTLS, with a self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller

    from .conftest import USERNAME, Recorder, _authenticate, free_port

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("RG_TEST_SMTP_USER", USERNAME)
    monkeypatch.setenv("RG_TEST_SMTP_PASSWORD", PASSWORD)
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
    )
    controller.start()
    yield controller.port, cert, recorder
    controller.stop()


def test_starttls_with_a_private_ca_authenticates_and_delivers(
    tls_smtp, make_config, copy_builder, tmp_path
):
    port, cert, recorder = tls_smtp
    secure = smtp_block(port, security="starttls", ca_file=str(cert))
    assert run(make_config(port, smtp=secure), tmp_path, copy_builder).status == "succeeded"
    assert len(recorder.messages) == 1

    plain = smtp_block(port, security="none")  # AUTH before STARTTLS: the server refuses
    refused = run(make_config(port, name="plain", smtp=plain), tmp_path, copy_builder, force=True)
    assert refused.status == "failed" and len(recorder.messages) == 1


def test_the_analyst_workbook_can_be_attached(smtp, make_config, copy_builder, tmp_path):
    channel = {
        "type": "email",
        "name": "leaders",
        "to": ["vp@example.com"],
        "attach": ["pdf", "xlsx"],
    }
    result = run(make_config(smtp.port, channels=[channel]), tmp_path, copy_builder)

    attachments = {a.get_filename(): a for a in parse(smtp.messages[0].data).iter_attachments()}
    workbook = attachments[result.artifacts["xlsx"].name]
    assert (
        workbook.get_content_type()
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert workbook.get_content() == result.artifacts["xlsx"].read_bytes()
