"""What a metric means: one class per metric kind behind one protocol (:class:`MetricKind`).

Every stage asks :func:`kind_of` instead of branching on the config model's
class, so adding a kind is one module here, its config model and its docs.
This package imports only the config models, the formula parser, the
histogram and ``errors`` (a test reads the imports to keep it so).
"""

from __future__ import annotations

from reportgen.semantics.base import (
    EMPTY,
    STOCK_UNTESTED,
    UNTESTABLE,
    MetricKind,
    Pooled,
    RatioParts,
    Stats,
    TestKind,
)
from reportgen.semantics.derived import DERIVED_UNTESTED, Derived
from reportgen.semantics.mean import Mean
from reportgen.semantics.quantile import Quantile
from reportgen.semantics.rate import Rate
from reportgen.semantics.ratio import Proportion, Ratio
from reportgen.semantics.total import SUM_UNTESTED, Total

KINDS: tuple[type[MetricKind], ...] = (Total, Ratio, Proportion, Mean, Derived, Quantile, Rate)
_BY_TYPE = {name: kind for kind in KINDS for name in kind.types}

__all__ = [
    "DERIVED_UNTESTED",
    "EMPTY",
    "KINDS",
    "STOCK_UNTESTED",
    "SUM_UNTESTED",
    "UNTESTABLE",
    "MetricKind",
    "Pooled",
    "RatioParts",
    "Stats",
    "TestKind",
    "kind_class",
    "kind_of",
]


def kind_class(type_name: str) -> type[MetricKind]:
    """The kind a figure's ``type`` names (figures keep the type, not the definition)."""
    return _BY_TYPE[type_name]


def kind_of(metric: object) -> MetricKind:
    """The semantics of one metric definition (a config model with a ``type``)."""
    kind = _BY_TYPE.get(getattr(metric, "type", None))  # type: ignore[arg-type]
    if kind is None:
        raise TypeError(f"no metric kind for type {getattr(metric, 'type', None)!r}")
    return kind(metric)
