"""Safe arithmetic over source columns, for derived fields such as `total_attendances - attendances_over_4hours`.

The catalogue is edited by analysts, so expressions are parsed with `ast` and only names, numbers, + - * /
and brackets are allowed: nothing is ever handed to eval(). Column names with spaces go in backticks.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["Expression", "parse_expression"]

_BACKTICK = re.compile(r"`([^`]+)`")
# What an expression evaluates to: a column, or a number when it names no column.
_Value = pd.Series | float
_OPS: dict[type[ast.operator], Callable[[_Value, _Value], _Value]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class Expression:
    """A parsed expression: the columns it reads, and a vectorised evaluation over a frame of numbers."""

    def __init__(self, text: str, tree: ast.expr, names: dict[str, str]) -> None:
        self.text, self._tree, self._names = text, tree, names

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for node in ast.walk(self._tree):
            if isinstance(node, ast.Name):
                seen[self._names.get(node.id, node.id)] = None
        return tuple(seen)

    def evaluate(self, columns: Mapping[str, pd.Series]) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = self._eval(self._tree, columns)
        if not isinstance(result, pd.Series):
            index = next(iter(columns.values())).index if columns else pd.RangeIndex(0)
            result = pd.Series(float(result), index=index)
        return result.astype("float64")

    def _eval(self, node: ast.expr, columns: Mapping[str, pd.Series]) -> _Value:
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](self._eval(node.left, columns), self._eval(node.right, columns))
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, columns)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name):
            return columns[self._names.get(node.id, node.id)]
        assert isinstance(node, ast.Constant) and isinstance(node.value, int | float)  # parse_expression checked
        return float(node.value)


@lru_cache(maxsize=512)
def parse_expression(text: str) -> Expression:
    """Parse and check an expression; raises ValueError with the reason (the caller adds file and line)."""
    names: dict[str, str] = {}

    def _quote(match: re.Match[str]) -> str:
        key = f"__col{len(names)}"
        names[key] = match.group(1)
        return key

    source = _BACKTICK.sub(_quote, text.strip())
    if not source:
        raise ValueError("expression is empty")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"cannot read expression {text!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) not in _OPS:
            raise ValueError(f"expression {text!r}: only + - * / are allowed")
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.USub | ast.UAdd):
            raise ValueError(f"expression {text!r}: only + - * / are allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"expression {text!r}: only column names and numbers are allowed")
        if not isinstance(
            node, ast.BinOp | ast.UnaryOp | ast.Name | ast.Constant | ast.operator | ast.unaryop | ast.Load
        ):
            raise ValueError(
                f"expression {text!r}: only column names, numbers, + - * / and brackets are allowed "
                f"(found {type(node).__name__})"
            )
    return Expression(text, tree, names)
