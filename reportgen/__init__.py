"""reportgen: Trust & Safety operations data → branded PDF, editable PPTX and HTML reports.

The public surface is small: :func:`build_report` and the error base class.
Attributes are imported lazily so that ``reportgen --help`` does not load
pandas, DuckDB or the renderers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BuildResult", "ReportgenError", "__version__", "build_report"]

if TYPE_CHECKING:
    from reportgen.build import BuildResult, build_report
    from reportgen.errors import ReportgenError


def __getattr__(name: str) -> Any:
    if name in ("BuildResult", "build_report"):
        from reportgen import build

        return getattr(build, name)
    if name == "ReportgenError":
        from reportgen.errors import ReportgenError

        return ReportgenError
    raise AttributeError(f"module 'reportgen' has no attribute {name!r}")
