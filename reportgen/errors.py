"""The package's own exceptions.

Every error a user can cause derives from :class:`ReportgenError` and carries
the context needed to act on it (config file and line, report, metric,
period) plus a ``fix`` hint. The CLI prints ``str(error)`` as one paragraph;
the scheduler pickles errors across worker processes, so every subclass keeps
its constructor arguments in ``args``-compatible keyword form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ReportgenError(Exception):
    """Base class: a failure the user can understand and fix."""

    def __init__(self, message: str, *, fix: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.context = {k: v for k, v in context.items() if v is not None}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.fix, self.context))

    def __str__(self) -> str:
        parts = [_sentence(self.message)]
        if self.fix:
            parts.append(_sentence(f"Fix: {self.fix}"))
        return " ".join(parts)


def _sentence(text: str) -> str:
    """End with one full stop — unless the text already ends a question ("did you mean 'x'?")."""
    text = text.rstrip().rstrip(".")
    return text if text.endswith(("?", "!")) else text + "."


def _rebuild(cls: type[ReportgenError], message: str, fix: str | None, context: dict[str, Any]):
    error = cls.__new__(cls)
    ReportgenError.__init__(error, message, fix=fix, **context)
    return error


class ConfigError(ReportgenError):
    """A config file is malformed or refers to something that does not exist."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        fix: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(
            message, fix=fix, file=str(file) if file else None, line=line, key=key, **context
        )

    @property
    def location(self) -> str:
        file, line = self.context.get("file"), self.context.get("line")
        if file and line:
            return f"{file}:{line}"
        return file or ""

    def __str__(self) -> str:
        where = self.location
        key = self.context.get("key")
        prefix = f"{where}: " if where else ""
        if key:
            prefix += f"{key}: "
        return prefix + super().__str__()


class PeriodError(ReportgenError):
    """A period string cannot be parsed or is outside the data."""


class SourceError(ReportgenError):
    """A data source is missing, unreadable or lacks a required column."""


class DataQualityError(ReportgenError):
    """The data fails a quality check; building would produce a wrong number."""


class RenderError(ReportgenError):
    """A renderer failed to produce its artifact."""


class DeliveryError(ReportgenError):
    """Writing or sending an artifact failed."""
