"""Figures and insights → the neutral document model (sections, tiles, tables, charts, narrative)."""

from reportgen.compose._core import compose_document

__all__ = ["compose_document"]
