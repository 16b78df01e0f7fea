"""The Pitboss expression language (SPEC §6): one language for rule conditions, reward
amounts, custom segments and computed import fields.

    expression = compile_expression('segment == "losing" and net_loss_7d >= 50',
                                    context="condition")
    expression.evaluate({"segment": "losing", "net_loss_7d": Decimal("80")})  # True
    expression.evaluate_frame(frame)                  # a pandas Series, one value per row
    Player.objects.filter(expression.to_django(resolve))  # set-based, in SQL

`compile_expression` parses (parser.py), checks against the context's catalogue (checker.py,
catalogue.py) and returns an immutable `Expression` with three evaluators that agree:
scalar.py (one value at a time), vectorised.py (pandas/numpy) and sql.py (Django ORM). The
value rules they share are in semantics.py; players.py binds names to player columns.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from rewards.expressions.catalogue import BOOLEAN, CONTEXTS, catalogue
from rewards.expressions.checker import Typed, check
from rewards.expressions.errors import ExpressionError, Problem
from rewards.expressions.nodes import Name, Node, walk
from rewards.expressions.parser import parse

__all__ = [
    "CONTEXTS",
    "Expression",
    "ExpressionError",
    "Problem",
    "compile_expression",
    "validate_expression",
]


@dataclass(frozen=True, eq=False)
class Expression:
    """A parsed, checked expression. Immutable; safe to cache and share between threads."""

    text: str
    context: str
    tree: Node = field(repr=False)
    types: Mapping[int, Typed] = field(repr=False)

    @property
    def result(self) -> Typed:
        return self.types[id(self.tree)]

    @property
    def is_condition(self) -> bool:
        return CONTEXTS[self.context].result == BOOLEAN

    @cached_property
    def names(self) -> frozenset[str]:
        """Every name the expression reads."""
        return frozenset(n.name for n in walk(self.tree) if isinstance(n, Name))

    @cached_property
    def _scalar(self):
        from rewards.expressions.scalar import ScalarCompiler

        compiler = ScalarCompiler(self.types)
        return compiler.truth(self.tree) if self.is_condition else compiler.compile(self.tree)

    def evaluate(self, values: Mapping[str, object]):
        """One value: True/False for conditions, a Decimal (or None if missing) for amounts."""
        return self._scalar(values)

    def evaluate_frame(self, frame):
        """One value per row of a pandas DataFrame whose columns are the names."""
        from rewards.expressions.vectorised import evaluate_frame

        return evaluate_frame(self.tree, self.types, self.result, frame, self.is_condition)

    def to_django(self, resolve: Callable[[str], object]):
        """A Django expression; `resolve(name)` gives the expression for each name."""
        from rewards.expressions.sql import to_django

        return to_django(self.tree, self.types, resolve, self.is_condition)


@lru_cache(maxsize=2048)
def _compile(text: str, context: str, columns: tuple) -> Expression:
    tree = parse(text)
    names = catalogue(
        context, dict(columns) if columns and isinstance(columns[0], tuple) else columns
    )
    types = check(text, tree, names, context)
    return Expression(text=text, context=context, tree=tree, types=types)


def compile_expression(
    text: str, *, context: str, columns: Sequence[str] | Mapping[str, str] = ()
) -> Expression:
    """Parse and check `text` for `context`; raise ExpressionError (with positions)."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown expression context {context!r}; one of {sorted(CONTEXTS)}")
    key = tuple(sorted(columns.items())) if isinstance(columns, Mapping) else tuple(columns)
    return _compile(text, context, key)


def validate_expression(
    text: str, *, context: str, columns: Sequence[str] | Mapping[str, str] = ()
) -> None:
    """Raise ExpressionError if `text` is not a valid expression for `context`."""
    compile_expression(text, context=context, columns=columns)
