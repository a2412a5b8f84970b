"""The README's CLI reference stays true: generated from the commands' own help, checked here."""

from __future__ import annotations

import re
import subprocess
import sys

from typer.testing import CliRunner

from reportgen.cli import _reference as reference
from reportgen.cli import app

from .conftest import ROOT


def test_every_cli_command_is_in_the_readme():
    help_text = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    commands = re.findall(r"^│ ([a-z][a-z-]+)\s{2,}", help_text, flags=re.MULTILINE)
    readme = (ROOT / "README.md").read_text()
    assert len(commands) >= 10
    missing = [c for c in commands if f"reportgen {c}" not in readme]
    assert missing == []


def _readme_block(text: str) -> str:
    start, end = text.index(reference.BEGIN), text.index(reference.END)
    return text[start : end + len(reference.END)]


def test_the_readme_command_reference_is_generated_from_the_commands():
    """The README's reference block is exactly what the Typer app's own help generates."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _readme_block(readme) == reference.render(app), (
        f"README.md's CLI reference is out of date: run `{reference.REGENERATE}` and commit it"
    )


def test_the_reference_lists_every_option_with_its_default():
    block = reference.render(app)
    assert "| `--out`, `-o` | path | `output` | Output folder. |" in block
    assert "| `--send` | flag |  | Also deliver on the report's channels, once each. |" in block
    assert "| `--lock-ttl` | number | `60.0` |" in block
    assert "| `--rule` | text, repeatable |  | Only these rules. |" in block
    assert "| `CONFIG` | path | required |" in block
    assert "#### reportgen rca add" in block and "reportgen rca add [OPTIONS] ANOMALY_ID" in block


def test_the_script_rewrites_a_stale_reference_and_check_fails_on_it(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    readme.write_text(
        text.replace("Build a report for one period.", "Builds.", 1), encoding="utf-8"
    )
    script = [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--readme", str(readme)]

    stale = subprocess.run([*script, "--check"], capture_output=True, text=True, check=False)
    assert stale.returncode == 1 and "run: python scripts/cli_reference.py" in stale.stdout
    subprocess.run(script, check=True, capture_output=True)
    assert readme.read_text(encoding="utf-8") == text
