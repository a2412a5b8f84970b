"""The operations commands are thin: `runs`, `runs show`, `send` and `build --send` over the library."""

from __future__ import annotations

from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.ops.runs import run_report

from .conftest import OWNER

runner = CliRunner()


def test_runs_lists_and_shows_a_run_with_its_artifacts_and_sends(
    smtp, make_config, copy_builder, tmp_path
):
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    result = run_report(
        make_config(smtp.port),
        period="2026-W47",
        out_dir=tmp_path,
        ledger=ledger,
        builder=copy_builder,
    )
    listed = runner.invoke(app, ["runs", "--ledger", ledger])
    assert listed.exit_code == 0
    assert "weekly_leadership" in listed.output and "succeeded" in listed.output

    shown = runner.invoke(app, ["runs", "--ledger", ledger, "show", str(result.run_id)])
    assert shown.exit_code == 0
    assert "artifact pdf" in shown.output and "sha256" in shown.output
    assert "leaders: sent after 1 attempt(s)" in shown.output

    missing = runner.invoke(app, ["runs", "--ledger", ledger, "show", "999"])
    assert missing.exit_code == 1 and "no run 999" in missing.output


def test_send_resends_a_built_report_only_with_force(smtp, make_config, copy_builder, tmp_path):
    config = make_config(smtp.port)
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    run_report(config, period="2026-W47", out_dir=tmp_path, ledger=ledger, builder=copy_builder)
    base = ["send", str(config), "--period", "2026-W47", "--out", str(tmp_path), "--ledger", ledger]

    again = runner.invoke(app, base)
    assert again.exit_code == 0 and "skipped" in again.output and len(smtp.messages) == 1
    forced = runner.invoke(app, [*base, "--force"])
    assert forced.exit_code == 0 and "sent" in forced.output and len(smtp.messages) == 2


def test_send_without_a_delivered_build_says_how_to_make_one(smtp, make_config, tmp_path):
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    result = runner.invoke(
        app, ["send", str(make_config(smtp.port)), "--out", str(tmp_path), "--ledger", ledger]
    )
    assert result.exit_code == 1
    assert "no delivered build" in result.output and "--send" in result.output


def test_build_has_send_and_force_flags():
    result = runner.invoke(app, ["build", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--send" in result.output and "--force" in result.output and "--period" in result.output


def _pdf_attachment_text(raw: bytes) -> str:
    import email
    import io
    from email import policy

    from pypdf import PdfReader

    message = email.message_from_bytes(raw, policy=policy.default)
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    reader = PdfReader(io.BytesIO(pdf.get_content()))
    return "\n".join(page.extract_text() for page in reader.pages[:2])


def test_build_send_builds_for_real_and_mails_the_pdf_once(smtp, make_config, tmp_path):
    """End to end through the CLI: a real build, a real SMTP conversation, the PDF attached."""
    config = make_config(smtp.port)
    out = tmp_path / "out"
    command = ["build", str(config), "--period", "2026-W47", "--format", "pdf", "--out", str(out)]

    first = runner.invoke(app, [*command, "--send"])
    assert first.exit_code == 0, first.output
    assert (out / "weekly_leadership" / "2026-W47" / "leadership").is_dir()
    (mail,) = smtp.to("vp@example.com")
    assert set(mail.rcpt_tos) == {"vp@example.com", "chief@example.com", "secret-bcc@example.com"}
    assert b"secret-bcc@example.com" not in mail.data  # Bcc is envelope-only
    text = _pdf_attachment_text(mail.data)
    assert "2026-W47" in text and "Trust & Safety" in text

    again = runner.invoke(app, [*command, "--send"])
    assert again.exit_code == 0 and "skipped" in again.output
    assert len(smtp.to("vp@example.com")) == 1  # built again, not sent again


def test_alerts_check_from_the_cli_mails_each_breach_once(smtp, make_config, tmp_path):
    rule = {"name": "sla_low", "metric": "sla_attainment", "below": 0.97, "by": "region"}
    schedule = {"cron": "0 8 * * *", "timezone": "UTC"}
    config = make_config(smtp.port, alerts=[{**rule, "grain": "week", "schedule": schedule}])
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    command = ["alerts", "check", str(config), "--out", str(tmp_path), "--ledger", ledger]

    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    alerted = [line for line in first.output.splitlines() if line.startswith("alert")]
    assert alerted and all("sla_low region=" in line for line in alerted)
    assert len(smtp.to(OWNER)) == len(alerted)

    again = runner.invoke(app, command)
    assert again.exit_code == 0 and "no change: nothing sent" in again.output
    assert len(smtp.to(OWNER)) == len(alerted)
