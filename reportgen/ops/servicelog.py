"""Log lines of the scheduler service: timestamped text, or one JSON object a line.

``reportgen schedule run`` logs each fire, catch-up, build, send attempt, retry
and outcome at INFO on stderr (``--log-format json`` for log shippers). Secrets
never reach these lines: channel errors are rewritten before they are logged.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        return f"{when.replace('+00:00', 'Z')} {record.levelname:<7} {record.getMessage()}"


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        return json.dumps(
            {
                "time": when.replace("+00:00", "Z"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send ``reportgen.*`` records at ``level`` to stderr in ``fmt`` (text or json), once."""
    logger = logging.getLogger("reportgen")
    for handler in list(logger.handlers):
        if getattr(handler, "_reportgen", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._reportgen = True  # type: ignore[attr-defined]
    handler.setFormatter(_Json() if fmt == "json" else _Text())
    logger.addHandler(handler)
    logger.setLevel(level)
