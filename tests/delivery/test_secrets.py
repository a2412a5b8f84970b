"""A non-ASCII SMTP password works (AUTH as UTF-8) or fails with a fixed sentence — and neither
it nor any piece of it, nor a character's position, appears in any output, log, ledger row or email."""

from __future__ import annotations

import re
import sqlite3

from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.ops.runs import run_report

from . import conftest

SECRET = "Ünïcødƌ-ключ-密码-Zq9§x"


def _run(config, tmp_path, builder, **kwargs):
    return run_report(
        config,
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        builder=builder,
        **kwargs,
    )


def test_a_non_ascii_password_authenticates(smtp, make_config, copy_builder, tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "PASSWORD", SECRET)  # what the server accepts (as UTF-8)
    monkeypatch.setenv("RG_TEST_SMTP_PASSWORD", SECRET)
    result = _run(make_config(smtp.port), tmp_path, copy_builder)
    assert result.status == "succeeded" and len(smtp.messages) == 1


def test_a_rejected_non_ascii_password_leaves_no_trace(
    smtp, make_config, copy_builder, tmp_path, monkeypatch, caplog
):
    caplog.set_level("DEBUG")
    monkeypatch.setenv("RG_TEST_SMTP_PASSWORD", SECRET)  # the server expects another one
    config = make_config(smtp.port)
    result = _run(config, tmp_path, copy_builder, notify_failure=True, trigger="schedule")
    assert result.status == "failed"
    assert "rejected the credentials" in result.sends[0].detail

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    runner = CliRunner()
    outputs = [
        runner.invoke(app, ["runs", "--ledger", url]).output,
        runner.invoke(app, ["runs", "--ledger", url, "show", str(result.run_id)]).output,
        runner.invoke(
            app, ["send", str(config), "--period", "2026-W47", "--out", str(tmp_path / "out"),
                  "--ledger", url, "--force", "--wait", "0"],
        ).output,
        repr(result),
        "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records),
    ]  # fmt: skip
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        outputs.append("\n".join(db.iterdump()))
    outputs += [m.data.decode("utf-8", "replace") for m in smtp.messages]  # owner notices
    said = "\n".join(outputs).lower()  # CLI, logs, ledger rows, emails: no encoder error either
    assert not re.search(r"position \d|codec|can't encode", said)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    texts = [p for p in files if p.suffix in (".json", ".yaml", ".txt", ".html", ".log", ".csv")]
    outputs += [p.read_text(encoding="utf-8", errors="replace") for p in texts]
    everything = "\n".join(outputs)
    raw = b"".join(p.read_bytes() for p in files)  # PDFs, decks, the SQLite file itself
    secret = SECRET.encode()
    assert not [secret[i : i + 6] for i in range(len(secret) - 5) if secret[i : i + 6] in raw]
    assert "rejected the credentials" in everything
    pieces = {SECRET[i : i + 3] for i in range(len(SECRET) - 2)}
    pieces |= {ch for ch in SECRET if not ch.isascii()}
    found = sorted(p for p in pieces if p in everything)
    assert found == [], found
