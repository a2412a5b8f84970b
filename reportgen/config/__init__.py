"""Config loading: YAML files → validated, immutable models with file:line errors."""

from reportgen.config.brand import load_brand
from reportgen.config.loader import ResolvedReport, load_catalog, load_report, load_sources

__all__ = ["ResolvedReport", "load_brand", "load_catalog", "load_report", "load_sources"]
