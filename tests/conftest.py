"""Shared fixtures: the shipped configs, demo data generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.config.brand import load_brand
from reportgen.document import Brand, Document

from ._sample import sample_document as _sample_document

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"


@pytest.fixture(scope="session")
def brand() -> Brand:
    return load_brand(CONFIGS / "brands" / "default.yaml")


@pytest.fixture
def sample_document(brand: Brand) -> Document:
    """A hand-built document with every block type (renderer tests)."""
    return _sample_document(brand)
