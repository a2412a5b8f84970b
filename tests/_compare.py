"""Comparing figures.json documents built from different engines or caches."""

from __future__ import annotations

import math
from typing import Any

#: A forecast is fitted by numerical optimisation (statsmodels ETS): two engines' sums that
#: differ in the last bit move its optimum by far more than rounding, never by more than this.
FITTED_REL_TOL = 1e-6


def _fitted(path: str) -> bool:
    return "forecast" in path.lower()


def assert_same_figures(left: Any, right: Any, path: str = "$") -> None:
    """Walk two figures.json documents: numbers equal to 1e-9 relative (fitted forecasts to
    the optimiser's tolerance, :data:`FITTED_REL_TOL`), everything else equal."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), path
        for key in left:
            assert_same_figures(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), path
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same_figures(a, b, f"{path}[{index}]")
    elif isinstance(left, bool) or left is None or isinstance(left, str):
        assert left == right, f"{path}: {left!r} != {right!r}"
    elif isinstance(left, int | float):
        assert isinstance(right, int | float) and not isinstance(right, bool), path
        if math.isnan(left):
            assert math.isnan(right), path
        else:
            rel = FITTED_REL_TOL if _fitted(path) else 1e-9
            assert math.isclose(left, right, rel_tol=rel, abs_tol=1e-12), (
                f"{path}: {left!r} != {right!r}"
            )
    else:  # pragma: no cover - JSON has no other types
        raise AssertionError(f"{path}: unexpected {type(left)}")
