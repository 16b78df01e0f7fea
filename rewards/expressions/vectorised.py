"""Whole columns at a time (imports, simulations): numpy arrays with an explicit missing mask.

Every value is a `Column` — `values` plus a boolean `missing` mask — so missing-ness never
depends on NaN arithmetic. Numbers are float64: comparisons allow a relative 1e-12 and
`floor`/`ceil`/`round` snap values within 1e-10 of a whole step, so decimal results such as
`2.675 * 100` land where the exact Decimal path lands. Semantics are in `semantics.py`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from rewards.expressions.catalogue import ANY, BOOLEAN, NUMBER, STRING
from rewards.expressions.checker import Typed
from rewards.expressions.nodes import (
    Binary,
    Call,
    Conditional,
    IsMissing,
    Literal,
    Membership,
    Name,
    Node,
    Unary,
)
from rewards.expressions.semantics import as_boolean

COMPARE_TOLERANCE = 1e-12
SNAP_TOLERANCE = 1e-10
ZERO_TOLERANCE = 1e-12


@dataclass
class Column:
    values: np.ndarray
    missing: np.ndarray


def _number_column(series: pd.Series) -> Column:
    if series.dtype == object:
        series = pd.to_numeric(series.map(_plain), errors="coerce")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return Column(values, ~np.isfinite(values))


def _plain(value):
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else np.nan
    if isinstance(value, str):
        return value.strip()
    return value


def _text_column(series: pd.Series) -> Column:
    missing = (series.isna() | (series.astype(object) == "")).to_numpy(dtype=bool)
    values = series.astype(object).to_numpy()
    if series.dtype != object or not all(isinstance(v, str) for v in values[~missing][:1]):
        values = np.array([None if m else str(v) for v, m in zip(values, missing, strict=True)])
        values = values.astype(object)
    return Column(values, missing)


def _boolean_column(series: pd.Series) -> Column:
    if series.dtype == bool:
        return Column(series.to_numpy(), np.zeros(len(series), dtype=bool))
    parsed = [as_boolean(v) for v in series.astype(object)]
    missing = np.array([p is None for p in parsed], dtype=bool)
    return Column(np.array([bool(p) for p in parsed], dtype=bool), missing)


def _any_column(series: pd.Series) -> Column:
    missing = (series.isna() | (series.astype(object) == "")).to_numpy(dtype=bool)
    return Column(series.astype(object).to_numpy(), missing)


READ = {NUMBER: _number_column, STRING: _text_column, BOOLEAN: _boolean_column, ANY: _any_column}


def _snap(x: np.ndarray) -> np.ndarray:
    nearest = np.rint(x)
    close = np.abs(x - nearest) <= SNAP_TOLERANCE * np.maximum(1.0, np.abs(x))
    return np.where(close, nearest, x)


class VectorCompiler:
    def __init__(self, types: Mapping[int, Typed], frame: pd.DataFrame):
        self.types = types
        self.frame = frame
        self.n = len(frame)

    def typed(self, node: Node) -> Typed:
        return self.types[id(node)]

    def none(self) -> np.ndarray:
        return np.zeros(self.n, dtype=bool)

    def convert(self, column: Column, source: str, domain: str) -> Column:
        if source == domain or domain == ANY:
            return column
        series = pd.Series(column.values, dtype=object)
        series[column.missing] = None
        converted = READ[domain](series)
        converted.missing |= column.missing
        return converted

    def eval(self, node: Node, domain: str | None = None) -> Column:
        column = self._eval(node)
        if domain is not None:
            kind = self.typed(node).type
            if kind == "missing":
                return Column(np.zeros(self.n), np.ones(self.n, dtype=bool))
            column = self.convert(column, kind, domain)
        return column

    def truth(self, node: Node) -> np.ndarray:
        column = self.eval(node, BOOLEAN)
        return column.values.astype(bool) & ~column.missing

    def _eval(self, node: Node) -> Column:
        if isinstance(node, Literal):
            value = node.value
            if value is None:
                return Column(np.zeros(self.n), np.ones(self.n, dtype=bool))
            if isinstance(value, Decimal):
                return Column(np.full(self.n, float(value)), self.none())
            if isinstance(value, bool):
                return Column(np.full(self.n, value, dtype=bool), self.none())
            return Column(np.full(self.n, value, dtype=object), self.none())
        if isinstance(node, Name):
            if node.name not in self.frame:  # an absent column is missing, as an absent key
                return Column(np.zeros(self.n), np.ones(self.n, dtype=bool))
            return READ[self.typed(node).type](self.frame[node.name])
        if isinstance(node, Unary):
            if node.op == "not":
                return Column(~self.truth(node.operand), self.none())
            operand = self.eval(node.operand, NUMBER)
            values = operand.values if node.op == "+" else -operand.values
            return Column(values, operand.missing)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Membership):
            return self._membership(node)
        if isinstance(node, IsMissing):
            missing = self.eval(node.operand).missing
            return Column(~missing if node.negated else missing.copy(), self.none())
        if isinstance(node, Conditional):
            condition = self.truth(node.condition)
            kind = self.typed(node).type
            then, other = self.eval(node.then, kind), self.eval(node.otherwise, kind)
            values = np.where(condition, then.values, other.values)
            return Column(values, np.where(condition, then.missing, other.missing))
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def _binary(self, node: Binary) -> Column:
        if node.op == "and":
            return Column(self.truth(node.left) & self.truth(node.right), self.none())
        if node.op == "or":
            return Column(self.truth(node.left) | self.truth(node.right), self.none())
        if node.op in {"+", "-", "*", "/", "%"}:
            a, b = self.eval(node.left, NUMBER), self.eval(node.right, NUMBER)
            missing = a.missing | b.missing
            with np.errstate(all="ignore"):
                if node.op == "+":
                    values = a.values + b.values
                elif node.op == "-":
                    values = a.values - b.values
                elif node.op == "*":
                    values = a.values * b.values
                else:
                    # a divisor within 1e-12 of 0 is 0 (0.1 + 0.2 - 0.3 in floating point)
                    missing = missing | (np.abs(b.values) <= ZERO_TOLERANCE)
                    divisor = np.where(missing, 1.0, b.values)
                    values = a.values / divisor
                    if node.op == "%":  # remainder from the snapped, truncated quotient
                        values = a.values - divisor * np.trunc(_snap(values))
            missing = missing | ~np.isfinite(values)
            return Column(np.where(missing, 0.0, values), missing)
        domain = self.typed(node).domain
        a, b = self.eval(node.left, domain), self.eval(node.right, domain)
        present = ~(a.missing | b.missing)
        if domain == NUMBER:
            with np.errstate(all="ignore"):
                diff = a.values - b.values
                tolerance = COMPARE_TOLERANCE * np.maximum(
                    1.0, np.maximum(np.abs(a.values), np.abs(b.values))
                )
            result = {
                "==": np.abs(diff) <= tolerance,
                "!=": np.abs(diff) > tolerance,
                "<": diff < -tolerance,
                "<=": diff <= tolerance,
                ">": diff > tolerance,
                ">=": diff >= -tolerance,
            }[node.op]
        else:
            equal = np.asarray(a.values == b.values, dtype=bool)
            result = equal if node.op == "==" else ~equal
        return Column(result & present, self.none())

    def _membership(self, node: Membership) -> Column:
        domain = self.typed(node).domain
        operand = self.eval(node.operand, domain)
        if domain == NUMBER:
            found = np.zeros(self.n, dtype=bool)
            for item in node.items:
                value = float(item.value)
                tolerance = COMPARE_TOLERANCE * max(1.0, abs(value))
                with np.errstate(all="ignore"):
                    found |= np.abs(operand.values - value) <= tolerance
        elif domain == BOOLEAN:
            items = {bool(i.value) for i in node.items}
            found = np.isin(operand.values.astype(bool), list(items))
        else:
            items = [i.value if isinstance(i.value, str) else str(i.value) for i in node.items]
            found = pd.Series(operand.values, dtype=object).isin(items).to_numpy(dtype=bool)
        if node.negated:
            found = ~found
        return Column(found & ~operand.missing, self.none())

    def _call(self, node: Call) -> Column:
        name = node.function
        if name == "coalesce":
            kind = self.typed(node).type
            result = self.eval(node.args[0], kind)
            values, missing = result.values.copy(), result.missing.copy()
            if kind in (STRING, ANY):
                values = values.astype(object)
            for arg in node.args[1:]:
                nxt = self.eval(arg, kind)
                take = missing & ~nxt.missing
                values = np.where(take, nxt.values, values)
                missing = missing & nxt.missing
            return Column(values, missing)
        if name == "round":
            x = self.eval(node.args[0], NUMBER)
            places = int(node.args[1].value) if len(node.args) > 1 else 0
            scale = 10.0**places
            with np.errstate(all="ignore"):
                rounded = np.floor(_snap(np.abs(x.values) * scale + 0.5)) / scale
            return Column(np.sign(x.values) * rounded, x.missing)
        args = [self.eval(a, NUMBER) for a in node.args]
        missing = np.logical_or.reduce([a.missing for a in args])
        values = [a.values for a in args]
        if name == "min":
            result = np.minimum.reduce(values)
        elif name == "max":
            result = np.maximum.reduce(values)
        elif name == "abs":
            result = np.abs(values[0])
        elif name == "floor":
            result = np.floor(_snap(values[0]))
        elif name == "ceil":
            result = np.ceil(_snap(values[0]))
        elif name == "clamp":
            result = np.minimum(np.maximum(values[0], values[1]), values[2])
        else:  # pragma: no cover - the checker admits only known functions
            raise TypeError(name)
        return Column(result, missing)


def evaluate_frame(
    tree: Node, types: Mapping[int, Typed], result: Typed, frame: pd.DataFrame, boolean: bool
) -> pd.Series:
    """Evaluate the checked tree over every row of `frame` (columns named as in the tree)."""
    compiler = VectorCompiler(types, frame)
    if boolean:
        return pd.Series(compiler.truth(tree), index=frame.index, dtype=bool)
    column = compiler.eval(tree)
    kind = result.type
    if kind == NUMBER:
        values = np.where(column.missing, np.nan, column.values.astype("float64"))
        return pd.Series(values, index=frame.index, dtype="float64")
    if kind == BOOLEAN:
        series = pd.Series(column.values.astype(bool), index=frame.index, dtype="boolean")
        series[column.missing] = pd.NA
        return series
    values = column.values.astype(object).copy()
    values[column.missing] = None
    return pd.Series(values, index=frame.index, dtype=object)
