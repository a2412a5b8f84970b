"""Where the run ledger lives, without importing the database layer.

A build only needs the ledger when root causes were recorded; most ad-hoc
builds have none, and importing SQLAlchemy costs ~20 MB and half a second.
"""

from __future__ import annotations

import os
from pathlib import Path

LEDGER_ENV_VAR = "REPORTGEN_LEDGER_URL"
LEDGER_FILE = "ledger.sqlite"


def ledger_exists(out_dir: str | Path) -> bool:
    """A ledger is configured (``$REPORTGEN_LEDGER_URL``) or sits beside the artifacts."""
    return bool(os.environ.get(LEDGER_ENV_VAR)) or (Path(out_dir) / LEDGER_FILE).exists()
