"""The README's CLI reference stays true: every command `reportgen --help` lists is documented."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from reportgen.cli import app

from .conftest import ROOT


def test_every_cli_command_is_in_the_readme():
    help_text = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    commands = re.findall(r"^│ ([a-z][a-z-]+)\s{2,}", help_text, flags=re.MULTILINE)
    readme = (ROOT / "README.md").read_text()
    assert len(commands) >= 10
    missing = [c for c in commands if f"reportgen {c}" not in readme]
    assert missing == []
