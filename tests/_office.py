"""LibreOffice headless as the real client that opens the decks and workbooks we write."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def soffice(args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``soffice --headless ARGS`` with a fresh profile (parallel runs must not share one)."""
    binary = shutil.which("soffice")
    if binary is None:
        pytest.skip(
            "LibreOffice (soffice) is not on PATH; install libreoffice-impress and libreoffice-calc"
        )
    profile = workdir / "lo-profile"
    return subprocess.run(
        [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def convert_to_pdf(document: Path, outdir: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """LibreOffice's PDF of ``document`` in ``outdir``; the process result says how it went."""
    result = soffice(["--convert-to", "pdf", "--outdir", str(outdir), str(document)], outdir)
    return result, outdir / f"{document.stem}.pdf"
