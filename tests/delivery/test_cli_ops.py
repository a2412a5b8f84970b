"""The operations commands are thin: `runs`, `runs show`, `send` and `build --send` over the library."""

from __future__ import annotations

from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.runs import run_report

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
