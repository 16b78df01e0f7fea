"""One value at a time: the tree compiled once into nested closures over a values mapping.

This is the per-event path (a rule triggered by one deposit): no tree walking per call, just
closure calls with Decimal arithmetic. Semantics are in `semantics.py`.
"""

from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

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
from rewards.expressions.semantics import DECIMAL, as_any, as_boolean, as_number, as_text

Compiled = Callable[[Mapping[str, object]], object]
COERCE = {NUMBER: as_number, STRING: as_text, BOOLEAN: as_boolean, ANY: as_any}


def _divide(a, b):
    if a is None or b is None or not b:
        return None
    return DECIMAL.divide(a, b)


def _remainder(a, b):
    if a is None or b is None or not b:
        return None
    return DECIMAL.remainder(a, b)


ARITHMETIC = {
    "+": lambda a, b: None if a is None or b is None else DECIMAL.add(a, b),
    "-": lambda a, b: None if a is None or b is None else DECIMAL.subtract(a, b),
    "*": lambda a, b: None if a is None or b is None else DECIMAL.multiply(a, b),
    "/": _divide,
    "%": _remainder,
}
COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _round(x: Decimal | None, places: int = 0) -> Decimal | None:
    if x is None:
        return None
    try:
        return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=DECIMAL)
    except InvalidOperation:  # pragma: no cover - beyond 60 digits; already whole
        return x


def _strict(function):
    def apply(*args):
        return None if any(a is None for a in args) else function(*args)

    return apply


FUNCTIONS = {
    "min": _strict(lambda *a: min(a)),
    "max": _strict(lambda *a: max(a)),
    "abs": _strict(abs),
    "floor": _strict(lambda x: x.to_integral_value(rounding=ROUND_FLOOR)),
    "ceil": _strict(lambda x: x.to_integral_value(rounding=ROUND_CEILING)),
    "clamp": _strict(lambda x, low, high: min(max(x, low), high)),
}


class ScalarCompiler:
    def __init__(self, types: Mapping[int, Typed]):
        self.types = types

    def typed(self, node: Node) -> Typed:
        return self.types[id(node)]

    def truth(self, node: Node) -> Compiled:
        """A closure giving True/False (missing counts as false)."""
        inner = self.compile(node)
        if not self.typed(node).nullable and self.typed(node).type == BOOLEAN:
            return inner
        return lambda v: as_boolean(inner(v)) is True

    def as_domain(self, node: Node, domain: str) -> Compiled:
        inner = self.compile(node)
        if self.typed(node).type == domain:
            return inner
        coerce = COERCE[domain]
        return lambda v: coerce(inner(v))

    def compile(self, node: Node) -> Compiled:
        if isinstance(node, Literal):
            value = node.value
            return lambda v: value
        if isinstance(node, Name):
            name, coerce = node.name, COERCE[self.typed(node).type]
            return lambda v: coerce(v.get(name))
        if isinstance(node, Unary):
            if node.op == "not":
                operand = self.truth(node.operand)
                return lambda v: not operand(v)
            number = self.as_domain(node.operand, NUMBER)
            if node.op == "+":
                return number
            return lambda v: None if (x := number(v)) is None else -x
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Membership):
            domain = self.typed(node).domain
            operand = self.as_domain(node.operand, domain)
            items = frozenset(COERCE[domain](i.value) for i in node.items) - {None}
            if node.negated:
                return lambda v: (x := operand(v)) is not None and x not in items
            return lambda v: (x := operand(v)) is not None and x in items
        if isinstance(node, IsMissing):
            operand = self.compile(node.operand)
            if node.negated:
                return lambda v: operand(v) is not None
            return lambda v: operand(v) is None
        if isinstance(node, Conditional):
            condition = self.truth(node.condition)
            kind = self.typed(node).type
            then = self.as_domain(node.then, kind) if kind != ANY else self.compile(node.then)
            other = (
                self.as_domain(node.otherwise, kind)
                if kind != ANY
                else self.compile(node.otherwise)
            )
            return lambda v: then(v) if condition(v) else other(v)
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def _binary(self, node: Binary) -> Compiled:
        if node.op == "and":
            left, right = self.truth(node.left), self.truth(node.right)
            return lambda v: left(v) and right(v)
        if node.op == "or":
            left, right = self.truth(node.left), self.truth(node.right)
            return lambda v: left(v) or right(v)
        if node.op in ARITHMETIC:
            left, right = self.as_domain(node.left, NUMBER), self.as_domain(node.right, NUMBER)
            op = ARITHMETIC[node.op]
            return lambda v: op(left(v), right(v))
        domain = self.typed(node).domain
        left, right = self.as_domain(node.left, domain), self.as_domain(node.right, domain)
        compare = COMPARE[node.op]

        def comparison(v):
            a, b = left(v), right(v)
            return a is not None and b is not None and compare(a, b)

        return comparison

    def _call(self, node: Call) -> Compiled:
        if node.function == "coalesce":
            kind = self.typed(node).type
            args = [self.as_domain(a, kind) if kind != ANY else self.compile(a) for a in node.args]

            def coalesce(v):
                for arg in args:
                    value = arg(v)
                    if value is not None:
                        return value
                return None

            return coalesce
        if node.function == "round":
            x = self.as_domain(node.args[0], NUMBER)
            places = int(node.args[1].value) if len(node.args) > 1 else 0
            return lambda v: _round(x(v), places)
        args = [self.as_domain(a, NUMBER) for a in node.args]
        function = FUNCTIONS[node.function]
        if len(args) == 1:
            (only,) = args
            return lambda v: function(only(v))
        return lambda v: function(*(a(v) for a in args))


def compile_scalar(tree: Node, types: Mapping[int, Typed]) -> Compiled:
    """A closure evaluating the checked `tree` over one mapping of name → value."""
    return ScalarCompiler(types).compile(tree)
