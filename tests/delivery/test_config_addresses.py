"""Every address in a config is one RFC 5322 mailbox on one line; the report id is a safe slug.

A bad value is a config error with file:line and a fix (exit 2) in `validate` and
`build --send` alike — never a traceback, never something that reaches a mail header.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import load_report
from reportgen.errors import ConfigError

BAD = {
    "newline": "vp@example.com\n",
    "crlf": "vp@example.com\r\nBcc: thief@evil.example",
    "cr": "vp@example.com\rX",
    "comma-joined": "evil@x.com, other@y.com",
    "semicolon-joined": "evil@x.com; other@y.com",
    "not-an-address": "not-an-address",
    "no-domain": "vp@",
    "group": "team: a@x.com;",
    "too-long": "x" * 65 + "@example.com",
}

ALERT = {
    "name": "aht_high",
    "schedule": {"cron": "0 7 * * *", "timezone": "UTC"},
    "metric": "aht",
    "above": 600,
}


def _field_config(make_config, field: str, value: str) -> Path:
    channel = {"type": "email", "name": "leaders", "to": ["vp@example.com"]}
    extra: dict = {}
    smtp = None
    if field in ("to", "cc", "bcc"):
        channel[field] = [value]
    elif field == "recipients":
        extra["audience"] = {"name": "leadership", "label": "L", "recipients": [value]}
    elif field == "alert_to":
        extra["alerts"] = [{**ALERT, "to": [value]}]
    elif field == "sender":
        from .conftest import smtp_block

        smtp = smtp_block(2525, sender=value)
    config = make_config(2525, channels=[channel], smtp=smtp, **extra)
    if field == "owners":
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["delivery"]["owners"] = [value]
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return config


FIELDS = ["to", "cc", "bcc", "recipients", "owners", "sender", "alert_to"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", sorted(BAD))
def test_every_address_field_rejects_bad_values_with_file_line_and_fix(make_config, field, case):
    config = _field_config(make_config, field, BAD[case])
    with pytest.raises(ConfigError) as caught:
        load_report(config)
    error = caught.value
    assert error.context["file"] == str(config) and error.context.get("line")
    assert error.fix
    text = str(error)
    assert "address" in text


@pytest.mark.parametrize("command", [["validate"], ["build", "--send", "--period", "2026-W47"]])
def test_cli_exits_2_without_traceback(make_config, tmp_path, command):
    config = _field_config(make_config, "recipients", BAD["crlf"])
    args = [command[0], str(config), *command[1:]]
    if command[0] == "build":
        args += ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{config}:" in result.output and "control character" in result.output


def test_a_yaml_block_scalar_address_is_an_error_at_its_line(make_config):
    config = make_config(2525)
    text = config.read_text(encoding="utf-8")
    # `- |` then the address on the next line: YAML keeps a trailing newline
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "- vp@example.com")
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at : at + 1] = [f"{indent}- |", f"{indent}  vp@example.com"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_report(config)
    assert caught.value.context["line"] == at + 1
    assert "control character ('\\n')" in str(caught.value) and "block scalar" in str(caught.value)


def test_addresses_are_normalised_and_the_envelope_gets_bare_addresses(
    smtp, make_config, copy_builder, tmp_path
):
    from reportgen.ops.runs import run_report

    channel = {
        "type": "email",
        "name": "leaders",
        "to": ["  VP Ops <Vp@Example.COM> "],
        "bcc": ["<hidden@Example.com>"],
    }
    config = make_config(smtp.port, channels=[channel])
    delivery = load_report(config).config.delivery
    assert delivery.channels[0].to == ["VP Ops <Vp@example.com>"]
    assert delivery.channels[0].bcc == ["hidden@example.com"]
    result = run_report(
        config,
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        builder=copy_builder,
    )
    assert result.status == "succeeded"
    (received,) = smtp.messages
    assert sorted(received.rcpt_tos) == ["Vp@example.com", "hidden@example.com"]
    assert b"\r\nTo: VP Ops <Vp@example.com>\r\n" in received.data


@pytest.mark.parametrize("bad", ["../../x", "a/b", "..", "x\ny", "-x", "a b", ""])
def test_report_id_must_be_a_safe_slug(make_config, bad):
    config = make_config(2525, id=bad)
    with pytest.raises(ConfigError) as caught:
        load_report(config)
    assert caught.value.context.get("line") and "id" in caught.value.context.get("key", "")


def test_a_file_name_that_is_not_a_slug_needs_an_id(make_config, tmp_path):
    config = make_config(2525)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    del data["id"]
    odd = tmp_path / "configs" / "weekly report.yaml"
    odd.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a safe name"):
        load_report(odd)


def test_build_never_writes_outside_out(tmp_path):
    from reportgen.build import inside

    out = tmp_path / "out"
    assert inside(out, "r", "2026-W47", "leadership") == out / "r" / "2026-W47" / "leadership"
    for parts in (("..", "p", "a"), ("../../x", "p", "a"), ("a/b", "p", "a"), ("r", "..", "..")):
        with pytest.raises(ConfigError):
            inside(out, *parts)
