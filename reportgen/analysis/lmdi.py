"""Additive LMDI-I: split a metric's change exactly into mix, rate and activity effects.

Why LMDI-I. A ratio metric is ``R = Σ num_i / Σ den_i``. With the segment
share ``s_i = den_i / Σ den`` and the segment rate ``r_i = num_i / den_i`` it
is ``R = Σ_i w_i`` with ``w_i = s_i · r_i``. The additive logarithmic-mean
Divisia index (Ang 2005) splits ``ΔR = R^T − R^0`` into

* the **mix** (structure) effect ``Σ_i L(w_i^T, w_i^0) · ln(s_i^T / s_i^0)``
  — how much of the change comes from volume moving between segments, and
* the **rate** (intensity) effect ``Σ_i L(w_i^T, w_i^0) · ln(r_i^T / r_i^0)``
  — how much comes from segments getting faster, slower, better or worse,

with the logarithmic mean ``L(a, b) = (a − b) / (ln a − ln b)``, ``L(a, a) = a``.
Because ``L(a, b) · ln(a / b) = a − b``, every segment's LMDI-I terms add up to
its own change and the effects add up to ``ΔR`` with no residual — unlike
Laspeyres-style splits, whose "interaction" term the reader cannot act on. A
total such as handling hours ``H = Q · Σ_i s_i · r_i`` (``Q = Σ den``, the
activity) gets a third, **activity** effect ``Σ_i L(H_i^T, H_i^0) · ln(Q^T / Q^0)``,
with structure and intensity weighted by ``L(H_i^T, H_i^0)`` as well.

Zeros (Ang & Liu 2007, "Handling zero values in the LMDI decomposition
approach", Energy Policy 35). Operations data have segments that open, close
or record nothing, and ``ln 0`` is undefined, so we use the analytical limit
of the formulas as the zero is approached — not a small-value substitute,
which converges only like ``1/ln ε`` and leaves a residual:

* ``L(x, 0) = L(0, x) = 0``: a factor that is positive in both periods
  contributes nothing to a segment that is zero in one of them;
* the factor that *becomes* zero takes the whole of the segment's change,
  because ``L(x, ε) · ln(x / ε) → x``:

  - a segment that appears (``den^0 = 0``) or disappears (``den^T = 0``) has a
    zero share, so its change ``w^T − w^0`` is a **mix** effect (its rate in
    the period it is absent is undefined and reported as ``None``);
  - a segment with ``num = 0`` in one period (but volume in both) has a zero
    rate, so its change is a **rate** effect;
  - a segment that is zero in both periods contributes nothing; one with no
    volume in either period is dropped.

Each segment's LMDI-I terms therefore still sum to its own change, and the
decomposition stays exact. If a whole period has no volume (``Σ den = 0``)
the ratio is undefined and the shares do not exist: the result carries a
``note`` and ``None`` effects rather than raising, so a report can say so.

Numerics. ``L`` and the log-ratios use ``log1p`` when the two values are within
a factor of two, so that nearly equal values (the common case week over week)
do not lose their digits to cancellation; sums use :func:`math.fsum`. The
residual is floating-point rounding only: a few units in the last place of the
largest segment term, i.e. ``|residual| ≤ 1e-9 · max(1, |change|)`` at the
magnitudes operations data have.

Per-segment mix relative to the average. With shares that sum to one, a
segment's LMDI structure term ``L(w_i^T, w_i^0) · ln(s_i^T / s_i^0)`` has the
sign of its share change alone, whatever its rate: a queue at 30 % automation
that doubles its share shows a *positive* mix term although it pulls a 70 %
average down. Only the sum is meaningful. Each segment's mix term is therefore
reported relative to the average rate::

    mix_i = L(w_i^T, w_i^0) · ln(s_i^T / s_i^0) − R̄ · (s_i^T − s_i^0)

Because ``Σ_i (s_i^T − s_i^0) = 0`` the mix *total* is still the LMDI-I
structure effect, so mix + rate (+ activity) = ΔR stays exact; ``mix_lmdi``
keeps the textbook term. Which ``R̄``: with every rate fixed, ``w_i = s_i r_i``
gives ``L(w_i^T, w_i^0) = r_i L(s_i^T, s_i^0)``, so the LMDI term is exactly
``r_i Δs_i`` and the reported term ``(r_i − R̄) Δs_i`` — the sign rule (a
segment whose share rises while its rate is below average pulls the metric
down, and the reverse) holds for any constant. The constant that makes it the
Divisia integral is the path average of the overall rate: moving a segment's
share by ``ds`` moves ``R`` by ``(r_i − R(t)) ds`` when the other segments give
up the share in proportion (``Σ R(t) ds_i = 0``), and with fixed rates ``R`` is
linear in the shares, so along the straight path from ``s^0`` to ``s^T`` its
average is exactly the arithmetic mean ``R̄ = (R^0 + R^T) / 2`` (the
logarithmic mean would be off by a second-order amount, and is 0 if either
period's rate is 0). A segment at that rate contributes exactly 0 through mix.

For a total ``H = Q · Σ s_i r_i`` the same reasoning scales by the activity:
the subtracted amount is ``Q̄ · R̄ · Δs_i`` with ``Q̄ = (Q^0 + Q^T) / 2`` and
``R̄ = (H^0/Q^0 + H^T/Q^T) / 2`` (exactly ``Q (r_i − R̄) Δs_i`` when volume and
rates are fixed); the activity terms are untouched and the totals stay exact.
A segment that appears or disappears gets ``Δw_i − R̄ Δs_i``: a new queue below
the average rate dilutes it. ``LmdiResult.reference`` records the subtracted
``R̄`` (``Q̄ · R̄`` for a total).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

MISSING_LABEL = "(missing)"  # the cube's label for a NULL dimension value

Kind = Literal["ratio", "total"]


@dataclass(frozen=True)
class LmdiTerm:
    """One segment's share, rate and effects (its contribution to the change)."""

    segment: tuple[str, ...]  # one label per dimension
    share0: float  # s_i in period 0 (0.0 when absent)
    share1: float
    rate0: float | None  # r_i in period 0 (None when the segment is absent)
    rate1: float | None
    mix: float  # this segment's structure effect, relative to the average rate (see above)
    rate: float  # this segment's intensity effect
    activity: float  # 0.0 for ratio decompositions
    mix_lmdi: float = 0.0  # the textbook LMDI-I structure term L(w^T, w^0) · ln(s^T / s^0)
    volume0: float = 0.0  # the segment's denominator in period 0 (its sample size)
    volume1: float = 0.0

    @property
    def total(self) -> float:
        """The segment's whole contribution to the change."""
        return self.mix + self.rate + self.activity


@dataclass(frozen=True)
class LmdiResult:
    """The change of one metric between two periods and its LMDI-I effects.

    ``note`` explains why the effects are ``None`` (a period with no volume);
    otherwise ``mix + rate + activity + residual == change`` and ``residual``
    is floating-point rounding only.
    """

    kind: Kind
    dimensions: tuple[str, ...]
    value0: float | None
    value1: float | None
    change: float | None
    mix: float | None
    rate: float | None
    activity: float | None
    residual: float | None
    terms: tuple[LmdiTerm, ...]  # sorted by |total| descending
    note: str | None = None
    reference: float | None = None  # the average subtracted from each mix term (R̄, or Q̄ · R̄)

    def by_dimension(self, dim: str) -> tuple[LmdiTerm, ...]:
        """The terms summed to the labels of one dimension, largest first.

        Meant for two-dimension decompositions ("which queues, whichever region"):
        each label's effects are the sums of its segments' effects, so they still
        add up to the totals. They are *not* the effects of a one-dimension
        decomposition by ``dim`` — mix within a label's segments counts as mix here.
        """
        if dim not in self.dimensions:
            raise ValueError(
                f"unknown dimension {dim!r}: this decomposition is by {list(self.dimensions)}"
            )
        index = self.dimensions.index(dim)
        groups: dict[str, list[LmdiTerm]] = {}
        for term in self.terms:
            groups.setdefault(term.segment[index], []).append(term)
        return _ranked(_merge((label,), members) for label, members in groups.items())

    def top(self, n: int) -> tuple[LmdiTerm, ...]:
        """The ``n`` segments that contribute most to the change (the drivers)."""
        if n < 0:
            raise ValueError(f"top(n) needs n ≥ 0, got {n}")
        return self.terms[:n]


def lmdi_ratio(
    frame: pd.DataFrame,
    dimensions: Sequence[str],
    num0: str,
    den0: str,
    num1: str,
    den1: str,
) -> LmdiResult:
    """Split the change of ``Σ num / Σ den`` into mix and rate effects by segment.

    ``frame`` has one row per segment: the dimension columns and the summed
    numerator and denominator of period 0 and period T. Missing values (a
    segment absent from one period after an outer join) count as 0; duplicate
    segment rows are summed, since the measures are additive.
    """
    return _decompose("ratio", frame, dimensions, (num0, den0, num1, den1))


def lmdi_total(
    frame: pd.DataFrame,
    dimensions: Sequence[str],
    num0: str,
    den0: str,
    num1: str,
    den1: str,
) -> LmdiResult:
    """Split the change of the total ``Σ num`` into activity, mix and rate effects.

    The activity is ``Σ den`` (e.g. handling seconds = decisions × share × AHT).
    Input conventions are those of :func:`lmdi_ratio`.
    """
    return _decompose("total", frame, dimensions, (num0, den0, num1, den1))


# -- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segments:
    """Validated per-segment sums of both periods, one array entry per segment."""

    labels: tuple[tuple[str, ...], ...]
    num0: np.ndarray
    den0: np.ndarray
    num1: np.ndarray
    den1: np.ndarray


def _dimension_list(dimensions: Sequence[str]) -> list[str]:
    """A bare string is one dimension, not a sequence of one-letter ones."""
    dims = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    if not dims:
        raise ValueError("an LMDI decomposition needs at least one dimension column")
    if len(set(dims)) != len(dims):
        raise ValueError(f"dimension columns repeat: {dims}")
    return dims


def _measure(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A measure column as non-negative finite floats, missing values as 0."""
    try:
        values = pd.to_numeric(frame[column], errors="raise")
        array = values.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"measure column {column!r} is not numeric: {exc}") from None
    array[np.isnan(array)] = 0.0
    if not np.isfinite(array).all():
        raise ValueError(f"measure column {column!r} has infinite values")
    if (array < 0).any():
        raise ValueError(
            f"measure column {column!r} has negative values (first: {array[array < 0][0]!r}); "
            "LMDI needs non-negative sums because it takes logarithms of shares and rates"
        )
    return array


def _labels(column: pd.Series) -> list[str]:
    """Segment labels as text, a missing one as the cube's ``(missing)``."""
    missing = column.isna().to_numpy()
    return [
        MISSING_LABEL if absent else str(x)
        for x, absent in zip(column.tolist(), missing, strict=True)
    ]


def _read_segments(
    frame: pd.DataFrame, dims: list[str], columns: tuple[str, str, str, str]
) -> _Segments:
    """Validate the frame and sum it to one row per segment (dropping empty ones)."""
    missing = [c for c in (*dims, *columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the frame (it has {list(frame.columns)})")
    measures = np.column_stack([_measure(frame, c) for c in columns]).reshape(len(frame), 4)
    keys = list(zip(*(_labels(frame[d]) for d in dims), strict=True))
    position: dict[tuple[str, ...], int] = {}
    rows = np.fromiter((position.setdefault(k, len(position)) for k in keys), np.intp, len(keys))
    sums = np.zeros((len(position), 4))
    np.add.at(sums, rows, measures)  # duplicate segment rows: the measures are additive
    labels = sorted(position)
    num0, den0, num1, den1 = sums[[position[k] for k in labels]].T
    for num, den, period, name in ((num0, den0, "0", columns[0]), (num1, den1, "T", columns[2])):
        orphan = (num > 0) & (den == 0)
        if orphan.any():
            raise ValueError(
                f"segment {labels[int(np.argmax(orphan))]} has {name} > 0 but no denominator "
                f"in period {period}: its rate is infinite, so its change cannot be split "
                "into mix and rate"
            )
    keep = (den0 > 0) | (den1 > 0)
    return _Segments(
        tuple(label for label, k in zip(labels, keep, strict=True) if k),
        num0[keep],
        den0[keep],
        num1[keep],
        den1[keep],
    )


# -- the decomposition ------------------------------------------------------------------------


def _log_ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``ln(x / y)`` for positive arrays, accurate when ``x ≈ y``.

    ``log1p((x − y) / y)`` keeps the digits that ``ln x − ln y`` cancels away when
    the values are close (``x − y`` is exact within a factor of two); far apart,
    ``ln x − ln y`` cannot overflow the way ``x / y`` can.
    """
    out = np.log(x) - np.log(y)
    close = (0.5 * x <= y) & (0.5 * y <= x)
    out[close] = np.log1p((x[close] - y[close]) / y[close])
    return out


def _log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The logarithmic mean ``L(a, b)`` with ``L(a, a) = a`` and ``L(a, 0) = L(0, b) = 0``."""
    out = np.zeros_like(a)
    equal = (a > 0) & (a == b)
    out[equal] = a[equal]
    differ = (a > 0) & (b > 0) & (a != b)
    out[differ] = (a[differ] - b[differ]) / _log_ratio(a[differ], b[differ])
    return out


def _weighted_log_ratio(weight: np.ndarray, x1: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """``weight · ln(x1 / x0)`` where ``weight > 0`` (then both ``x`` are positive), else 0."""
    out = np.zeros_like(weight)
    on = weight > 0
    out[on] = weight[on] * _log_ratio(x1[on], x0[on])
    return out


def _safe_divide(num: np.ndarray, den: np.ndarray | float) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0 (a share or rate of an absent segment)."""
    den = np.broadcast_to(np.asarray(den, dtype="float64"), num.shape)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


@dataclass(frozen=True)
class _Effects:
    mix: np.ndarray  # relative to the average: mix_lmdi − reference · Δs
    rate: np.ndarray
    activity: np.ndarray
    mix_lmdi: np.ndarray
    reference: float


def _effects(kind: Kind, seg: _Segments, q0: float, q1: float) -> _Effects:
    """Per-segment effects, with the analytical limit where a weight is zero.

    The weights are the segments' contributions ``w_i = num_i / Σ den`` for a
    ratio and ``H_i = num_i`` for a total. Where a weight is zero in exactly
    one period, the factor that is zero there takes the segment's whole change:
    the share if the segment has no volume in that period, else the rate.
    """
    s0, s1 = _safe_divide(seg.den0, q0), _safe_divide(seg.den1, q1)
    r0, r1 = _safe_divide(seg.num0, seg.den0), _safe_divide(seg.num1, seg.den1)
    if kind == "ratio":
        v0, v1 = seg.num0 / q0, seg.num1 / q1
    else:
        v0, v1 = seg.num0, seg.num1
    weight = _log_mean(v1, v0)
    mix = _weighted_log_ratio(weight, s1, s0)
    rate = _weighted_log_ratio(weight, r1, r0)
    activity = np.zeros_like(weight)
    if kind == "total":
        activity = weight * _log_ratio(np.array([q1]), np.array([q0]))[0]

    change = v1 - v0
    limit = (weight == 0) & (change != 0)  # zero in exactly one period
    share_vanishes = np.where(v0 == 0, seg.den0 == 0, seg.den1 == 0)
    mix[limit & share_vanishes] = change[limit & share_vanishes]
    rate[limit & ~share_vanishes] = change[limit & ~share_vanishes]
    reference = _mix_reference(kind, seg, q0, q1)
    shift = reference * (s1 - s0)
    # Σ Δsᵢ is 0 only to rounding; a large reference would carry that rounding into the total
    shift = shift - math.fsum(shift) / len(shift) if len(shift) else shift
    relative = mix - shift
    return _Effects(relative, rate, activity, mix, reference)


def _mix_reference(kind: Kind, seg: _Segments, q0: float, q1: float) -> float:
    """``R̄ = (R^0 + R^T) / 2`` for a ratio, ``Q̄ · R̄`` for a total (module docstring)."""
    average_rate = (math.fsum(seg.num0) / q0 + math.fsum(seg.num1) / q1) / 2.0
    return average_rate if kind == "ratio" else average_rate * (q0 + q1) / 2.0


def _decompose(
    kind: Kind,
    frame: pd.DataFrame,
    dimensions: Sequence[str],
    columns: tuple[str, str, str, str],
) -> LmdiResult:
    dims = _dimension_list(dimensions)
    seg = _read_segments(frame, dims, columns)
    n0, q0 = math.fsum(seg.num0), math.fsum(seg.den0)
    n1, q1 = math.fsum(seg.num1), math.fsum(seg.den1)
    if q0 == 0 or q1 == 0:
        return _no_volume(kind, tuple(dims), columns, n0, q0, n1, q1)

    if kind == "ratio":
        value0, value1 = n0 / q0, n1 / q1
        change = value1 - value0
    else:
        value0, value1 = n0, n1
        change = math.fsum([*seg.num1, *(-seg.num0)])  # correctly rounded Σ num1 − Σ num0

    eff = _effects(kind, seg, q0, q1)
    terms = _ranked(
        LmdiTerm(
            segment=label,
            share0=float(seg.den0[i] / q0),
            share1=float(seg.den1[i] / q1),
            rate0=float(seg.num0[i] / seg.den0[i]) if seg.den0[i] > 0 else None,
            rate1=float(seg.num1[i] / seg.den1[i]) if seg.den1[i] > 0 else None,
            mix=float(eff.mix[i]),
            rate=float(eff.rate[i]),
            activity=float(eff.activity[i]),
            mix_lmdi=float(eff.mix_lmdi[i]),
            volume0=float(seg.den0[i]),
            volume1=float(seg.den1[i]),
        )
        for i, label in enumerate(seg.labels)
    )
    mix, rate, activity = math.fsum(eff.mix), math.fsum(eff.rate), math.fsum(eff.activity)
    residual = change - math.fsum([*eff.mix, *eff.rate, *eff.activity])
    return LmdiResult(
        kind,
        tuple(dims),
        value0,
        value1,
        change,
        mix,
        rate,
        activity,
        residual,
        terms,
        reference=eff.reference,
    )


def _no_volume(
    kind: Kind,
    dims: tuple[str, ...],
    columns: tuple[str, str, str, str],
    n0: float,
    q0: float,
    n1: float,
    q1: float,
) -> LmdiResult:
    """A period without volume has no shares, so there is nothing to decompose: say why."""
    if q0 == 0 and q1 == 0:
        note = f"no volume in period 0 or period T ({columns[1]!r} and {columns[3]!r} sum to 0)"
    elif q0 == 0:
        note = f"no volume in period 0 ({columns[1]!r} sums to 0)"
    else:
        note = f"no volume in period T ({columns[3]!r} sums to 0)"
    if kind == "ratio":
        value0 = n0 / q0 if q0 > 0 else None
        value1 = n1 / q1 if q1 > 0 else None
    else:
        value0, value1 = n0, n1
    change = value1 - value0 if value0 is not None and value1 is not None else None
    return LmdiResult(kind, dims, value0, value1, change, None, None, None, None, (), note)


# -- ranking and roll-up ----------------------------------------------------------------------


def _ranked(terms: Iterable[LmdiTerm]) -> tuple[LmdiTerm, ...]:
    """Largest contribution first; ties by label, so reports are reproducible."""
    return tuple(sorted(terms, key=lambda t: (-abs(t.total), t.segment)))


def merge_terms(segment: tuple[str, ...], members: Iterable[LmdiTerm]) -> LmdiTerm:
    """Several segments as one (e.g. "Other"): shares, volumes and effects add."""
    return _merge(segment, list(members))


def _merge(segment: tuple[str, ...], members: list[LmdiTerm]) -> LmdiTerm:
    """Several segments as one: shares and effects add, the rate is Σ num / Σ den."""
    share0 = math.fsum(t.share0 for t in members)
    share1 = math.fsum(t.share1 for t in members)
    weighted0 = math.fsum(t.share0 * t.rate0 for t in members if t.rate0 is not None)
    weighted1 = math.fsum(t.share1 * t.rate1 for t in members if t.rate1 is not None)
    return LmdiTerm(
        segment=segment,
        share0=share0,
        share1=share1,
        rate0=weighted0 / share0 if share0 > 0 else None,
        rate1=weighted1 / share1 if share1 > 0 else None,
        mix=math.fsum(t.mix for t in members),
        rate=math.fsum(t.rate for t in members),
        activity=math.fsum(t.activity for t in members),
        mix_lmdi=math.fsum(t.mix_lmdi for t in members),
        volume0=math.fsum(t.volume0 for t in members),
        volume1=math.fsum(t.volume1 for t in members),
    )
