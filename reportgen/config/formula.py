"""Formulas of derived metrics: parse, resolve against the catalog, evaluate on summed measures.

A derived metric's ``formula`` is arithmetic over measure names and other
metric names, e.g. ``1000 * appeals / nullif(decisions, 0)``. It is parsed
with sqlglot (so it reads like the SQL the analysts already write) into a
tiny expression tree that allows only ``+ - * /``, parentheses, numbers,
names and ``nullif(x, 0)``. Resolving it against the catalog replaces each
metric name by that metric's definition (a ratio becomes
``numerator / nullif(denominator, 0) * scale``, a mean ``sum / nullif(count, 0)``,
a total its measure), so the resolved tree names measures only.

The tree is evaluated on *summed* measures — one row per period, or per
segment of a breakdown — never on per-row values, so a derived metric is a
ratio of sums at every grain, like every other metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

if TYPE_CHECKING:
    import pandas as pd

ALLOWED = "+ - * /, parentheses, numbers, measure and metric names, and nullif(x, 0)"


class FormulaError(ValueError):
    """A formula problem; ``fix`` says what to write instead."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


# -- the expression tree (frozen, so metrics stay immutable and pickle cleanly) ---------------


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Name:
    """A name as written: a measure or a metric, decided when the formula is resolved."""

    name: str


@dataclass(frozen=True)
class Ref:
    """A measure: its Σ over the rows of the period or segment."""

    measure: str


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * /
    left: Expr
    right: Expr
    text: str = ""  # the divisor as written (for '/'), for error messages


@dataclass(frozen=True)
class NullIfZero:
    """``nullif(x, 0)``: no value where ``x`` is zero."""

    operand: Expr


Expr = Num | Name | Ref | Neg | BinOp | NullIfZero

_OPS: dict[type[exp.Expression], str] = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}


def parse_formula(text: str) -> Expr:
    """Parse ``text`` into a tree of names; raise :class:`FormulaError` for anything else."""
    try:
        node = sqlglot.parse_one(text, read="duckdb")
    except (ParseError, TokenError) as exc:
        first = exc.errors[0]["description"] if getattr(exc, "errors", None) else str(exc)
        raise FormulaError(
            f"formula is not valid arithmetic: {first}", fix=f"a formula takes {ALLOWED}"
        ) from None
    return _convert(node)


def _convert(node: exp.Expression) -> Expr:
    if isinstance(node, exp.Paren):
        return _convert(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        return Num(float(node.this))
    if isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier):
        return Name(node.name)
    if isinstance(node, exp.Neg):
        return Neg(_convert(node.this))
    if type(node) in _OPS:
        op = _OPS[type(node)]
        divisor = node.expression.unnest() if op == "/" else None
        text = _sql(divisor) if divisor else ""
        return BinOp(op, _convert(node.this), _convert(node.expression), text)
    if isinstance(node, exp.Nullif):
        zero = node.expression
        if not (isinstance(zero, exp.Literal) and not zero.is_string and float(zero.this) == 0):
            raise FormulaError(
                f"'{_sql(node)}' is not allowed: nullif takes 0 as its second argument",
                fix="write nullif(x, 0)",
            )
        return NullIfZero(_convert(node.this))
    raise FormulaError(
        f"'{_sql(node)}' is not allowed in a formula",
        fix=f"a formula takes {ALLOWED}; aggregate, filter or compare in a measure instead",
    )


def _sql(node: exp.Expression) -> str:
    """A part of the formula, for messages (sqlglot upper-cases function names)."""
    return node.sql(dialect="duckdb").replace("NULLIF(", "nullif(")


# -- resolving names ---------------------------------------------------------------------------


def substitute(
    tree: Expr, resolve: Callable[[str], Expr], on_division: Callable[[BinOp, Expr], None]
) -> Expr:
    """Replace every :class:`Name` by ``resolve(name)``; call ``on_division`` for each '/'."""
    if isinstance(tree, Name):
        return resolve(tree.name)
    if isinstance(tree, Neg):
        return Neg(substitute(tree.operand, resolve, on_division))
    if isinstance(tree, NullIfZero):
        return NullIfZero(substitute(tree.operand, resolve, on_division))
    if isinstance(tree, BinOp):
        left = substitute(tree.left, resolve, on_division)
        right = substitute(tree.right, resolve, on_division)
        if tree.op == "/":
            on_division(tree, right)
        return BinOp(tree.op, left, right, tree.text)
    return tree


def names_in(tree: Expr) -> list[str]:
    if isinstance(tree, Name):
        return [tree.name]
    if isinstance(tree, Neg | NullIfZero):
        return names_in(tree.operand)
    if isinstance(tree, BinOp):
        return names_in(tree.left) + names_in(tree.right)
    return []


def measures_in(tree: Expr) -> tuple[str, ...]:
    """The measures a resolved tree reads, in order of first use."""

    def walk(t: Expr) -> list[str]:
        if isinstance(t, Ref):
            return [t.measure]
        if isinstance(t, Neg | NullIfZero):
            return walk(t.operand)
        if isinstance(t, BinOp):
            return walk(t.left) + walk(t.right)
        return []

    return tuple(dict.fromkeys(walk(tree)))


def constant(tree: Expr) -> float | None:
    """The value of a tree without measures, or None."""
    if isinstance(tree, Num):
        return tree.value
    if isinstance(tree, Neg):
        inner = constant(tree.operand)
        return None if inner is None else -inner
    if isinstance(tree, NullIfZero):
        inner = constant(tree.operand)
        return None if inner is None or inner == 0 else inner
    if isinstance(tree, BinOp):
        a, b = constant(tree.left), constant(tree.right)
        if a is None or b is None:
            return None
        if tree.op == "/":
            return a / b if b else math.nan
        return {"+": a + b, "-": a - b, "*": a * b}[tree.op]
    return None


def may_be_zero(tree: Expr) -> bool:
    """Whether a (resolved) expression can be zero in some period or segment.

    A count or a sum is zero wherever there are no rows, so any measure can be;
    ``nullif(x, 0)`` never is (it has no value instead); a product is zero when
    a factor is; a quotient when its dividend is; a sum or difference of
    measures can always cancel.
    """
    value = constant(tree)
    if value is not None:
        return value == 0 or math.isnan(value)
    if isinstance(tree, NullIfZero):
        return False
    if isinstance(tree, Neg):
        return may_be_zero(tree.operand)
    if isinstance(tree, BinOp) and tree.op == "*":
        return may_be_zero(tree.left) or may_be_zero(tree.right)
    if isinstance(tree, BinOp) and tree.op == "/":
        return may_be_zero(tree.left)
    return True  # a measure, or + / - over measures


# -- shape: is it a quotient of additive parts? ------------------------------------------------


@dataclass(frozen=True)
class Quotient:
    """``scale · numerator / denominator`` with both parts additive across segments."""

    numerator: Expr
    denominator: Expr  # without its outer nullif
    scale: float


def is_additive(tree: Expr) -> bool:
    """A homogeneous linear combination of measures: its segment values add up to the total."""
    if isinstance(tree, Ref):
        return True
    if isinstance(tree, Neg):
        return is_additive(tree.operand)
    if isinstance(tree, BinOp) and tree.op in "+-":
        return is_additive(tree.left) and is_additive(tree.right)
    if isinstance(tree, BinOp) and tree.op == "*":
        return (constant(tree.left) is not None and is_additive(tree.right)) or (
            constant(tree.right) is not None and is_additive(tree.left)
        )
    if isinstance(tree, BinOp) and tree.op == "/":
        return constant(tree.right) not in (None, 0.0) and is_additive(tree.left)
    return False


def as_quotient(tree: Expr) -> Quotient | None:
    """``tree`` as scale · N / D with additive N and D, or None (then it is not a ratio of sums)."""
    scale = 1.0
    while isinstance(tree, BinOp):  # peel k · (…), (…) · k and (…) / k
        if tree.op == "*" and (c := constant(tree.left)) is not None:
            scale, tree = scale * c, tree.right
        elif tree.op == "*" and (c := constant(tree.right)) is not None:
            scale, tree = scale * c, tree.left
        elif tree.op == "/" and (c := constant(tree.right)) not in (None, 0.0):
            scale, tree = scale / c, tree.left
        else:
            break
    if not (isinstance(tree, BinOp) and tree.op == "/"):
        return None
    num, den = tree.left, tree.right
    if isinstance(den, NullIfZero):
        den = den.operand
    while isinstance(num, BinOp) and num.op == "*":  # 1000 * appeals / decisions
        if (c := constant(num.left)) is not None:
            scale, num = scale * c, num.right
        elif (c := constant(num.right)) is not None:
            scale, num = scale * c, num.left
        else:
            break
    if is_additive(num) and is_additive(den):
        return Quotient(num, den, scale)
    return None


# -- evaluating on summed measures -------------------------------------------------------------


def evaluate(tree: Expr, totals: pd.DataFrame) -> pd.Series:
    """The expression per row of ``totals`` (summed measures); NaN where a divisor is zero."""
    import pandas as pd

    if isinstance(tree, Ref):
        return totals[tree.measure].astype(float)
    if isinstance(tree, Num):
        return pd.Series(tree.value, index=totals.index, dtype=float)
    if isinstance(tree, Neg):
        return -evaluate(tree.operand, totals)
    if isinstance(tree, NullIfZero):
        inner = evaluate(tree.operand, totals)
        return inner.where(inner != 0)
    if isinstance(tree, BinOp):
        left, right = evaluate(tree.left, totals), evaluate(tree.right, totals)
        if tree.op == "+":
            return left + right
        if tree.op == "-":
            return left - right
        if tree.op == "*":
            return left * right
        return left / right.where(right != 0)
    raise TypeError(f"unresolved name in formula: {tree!r}")
