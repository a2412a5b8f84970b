"""Config loading: YAML files → validated, immutable models with file:line errors.

The loaders are imported on first use, so the pure parts of this package (the
models, the formula parser) can be imported by :mod:`reportgen.semantics`,
which the loader itself uses, without an import cycle.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportgen.config.brand import load_brand
    from reportgen.config.loader import ResolvedReport, load_catalog, load_report, load_sources

_EXPORTS = {
    "load_brand": "reportgen.config.brand",
    "ResolvedReport": "reportgen.config.loader",
    "load_catalog": "reportgen.config.loader",
    "load_report": "reportgen.config.loader",
    "load_sources": "reportgen.config.loader",
}

__all__ = ["ResolvedReport", "load_brand", "load_catalog", "load_report", "load_sources"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'reportgen.config' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
