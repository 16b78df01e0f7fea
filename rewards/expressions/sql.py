"""Set-based evaluation: the tree compiled to one Django ORM expression (SQL).

Each node becomes a small `Func` with a template per database (PostgreSQL NUMERIC, SQLite
REAL); names are whatever expressions the caller's `resolve(name)` returns. The result can be
annotated, filtered on (boolean expressions are conditional), or used in `INSERT … SELECT`.
Numbers are cast once where they enter (names and literals), so integer columns never divide
as integers. Semantics are in `semantics.py`; missing is SQL NULL:
- arithmetic and functions propagate NULL (`x / NULLIF(y, 0)` gives missing for y = 0);
- a comparison is `COALESCE(a < b, FALSE)` when either side may be NULL;
- `and`/`or`/`not` see only TRUE/FALSE (nullable booleans are coalesced to FALSE).
"""

import re
from collections.abc import Callable, Mapping
from decimal import Decimal

from django.db.models import BooleanField, CharField, DecimalField, Expression, Func
from django.db.models import Value as V

from rewards.expressions.catalogue import BOOLEAN, NUMBER
from rewards.expressions.checker import NULL, Typed
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

_SLOT = re.compile(r"(\{\d+\})")


def output_field(kind: str):
    if kind == BOOLEAN:
        return BooleanField()
    if kind == NUMBER:
        return DecimalField(max_digits=40, decimal_places=12)
    return CharField()


class Sql(Func):
    """A SQL template over source expressions: `{0}`, `{1}` … may each appear any number of
    times; `pg` is used on PostgreSQL and `lite` elsewhere (SQLite)."""

    def __init__(self, pg: str, lite: str | None, *expressions, output_field):
        super().__init__(*expressions, output_field=output_field)
        self.pg = pg
        self.lite = pg if lite is None else lite

    def as_sql(self, compiler, connection, **extra_context):
        template = self.pg if connection.vendor == "postgresql" else self.lite
        compiled = [compiler.compile(e) for e in self.get_source_expressions()]
        parts, params = [], []
        for piece in _SLOT.split(template):
            if _SLOT.fullmatch(piece):
                sql, piece_params = compiled[int(piece[1:-1])]
                parts.append(sql)
                params.extend(piece_params)
            else:
                parts.append(piece)
        return "".join(parts), params


def number(expression) -> Sql:
    """Cast a numeric column to the evaluation type (NUMERIC / REAL) once, at the leaf."""
    return Sql("CAST({0} AS NUMERIC)", "CAST({0} AS REAL)", expression, output_field=DecimalField())


def _literal_number(value: Decimal) -> Sql:
    text = format(value, "f")  # digits, '.', '-': nothing else can reach the SQL
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):  # pragma: no cover - parser guarantees it
        raise ValueError(text)
    return Sql(f"CAST({text} AS NUMERIC)", f"CAST({text} AS REAL)", output_field=DecimalField())


COMPARE = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class SqlCompiler:
    def __init__(self, types: Mapping[int, Typed], resolve: Callable[[str], Expression]):
        self.types = types
        self.resolve = resolve

    def typed(self, node: Node) -> Typed:
        return self.types[id(node)]

    def nullable(self, node: Node) -> bool:
        return self.typed(node).nullable

    def truth(self, node: Node):
        expression = self.compile(node)
        if self.nullable(node):
            return Sql(
                "COALESCE({0}, FALSE)", "COALESCE({0}, 0)", expression, output_field=BooleanField()
            )
        return expression

    def number(self, node: Node):
        """A numeric operand; an always-missing one gets a type, or PostgreSQL cannot pick an
        operator or function (`-NULL`, `round(NULL, 2)` are ambiguous)."""
        expression = self.compile(node)
        if self.typed(node).type == NULL:
            return Sql("CAST({0} AS NUMERIC)", "{0}", expression, output_field=DecimalField())
        return expression

    def compile(self, node: Node):
        if isinstance(node, Literal):
            return self._literal(node.value, self.typed(node).type)
        if isinstance(node, Name):
            expression = self.resolve(node.name)
            if self.typed(node).type == NUMBER:
                return number(expression)
            return expression
        if isinstance(node, Unary):
            if node.op == "not":
                return Sql("(NOT {0})", None, self.truth(node.operand), output_field=BooleanField())
            operand = self.number(node.operand)
            if node.op == "+":
                return operand
            return Sql("(-{0})", None, operand, output_field=DecimalField())
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Membership):
            operand = self.compile(node.operand)
            items = [self._literal(i.value, self.typed(i).type) for i in node.items]
            if not items:
                template = "({0} IS NOT NULL)" if node.negated else "(FALSE)"
                return Sql(template, None, operand, output_field=BooleanField())
            slots = ", ".join(f"{{{i + 1}}}" for i in range(len(items)))
            op = "NOT IN" if node.negated else "IN"
            template = f"({{0}} {op} ({slots}))"
            if self.nullable(node.operand):
                template = f"COALESCE({template}, FALSE)"
            return Sql(template, None, operand, *items, output_field=BooleanField())
        if isinstance(node, IsMissing):
            template = "({0} IS NOT NULL)" if node.negated else "({0} IS NULL)"
            return Sql(template, None, self.compile(node.operand), output_field=BooleanField())
        if isinstance(node, Conditional):
            return Sql(
                "(CASE WHEN {0} THEN {1} ELSE {2} END)",
                None,
                self.truth(node.condition),
                self.compile(node.then),
                self.compile(node.otherwise),
                output_field=output_field(self.typed(node).type),
            )
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def _literal(self, value, kind: str):
        if value is None:  # untyped NULL: PostgreSQL infers the type from its neighbours
            return Sql("NULL", None, output_field=output_field(kind))
        if isinstance(value, bool):
            return Sql(
                "TRUE" if value else "FALSE", "1" if value else "0", output_field=BooleanField()
            )
        if isinstance(value, Decimal):
            return _literal_number(value)
        return V(value, output_field=CharField())

    def _binary(self, node: Binary):
        if node.op in {"and", "or"}:
            template = f"({{0}} {node.op.upper()} {{1}})"
            return Sql(
                template,
                None,
                self.truth(node.left),
                self.truth(node.right),
                output_field=BooleanField(),
            )
        if node.op in {"+", "-", "*", "/", "%"}:
            left, right = self.number(node.left), self.number(node.right)
        else:
            left, right = self.compile(node.left), self.compile(node.right)
        # SQLite computes in REAL: results are rounded to 10 places so that 0.1 + 0.2 is the
        # same double as the literal 0.3 (PostgreSQL NUMERIC is exact and needs no help).
        if node.op in {"+", "-", "*"}:
            pg = f"({{0}} {node.op} {{1}})"
            return Sql(pg, f"ROUND({pg}, 10)", left, right, output_field=DecimalField())
        if node.op == "/":
            return Sql("({0} / NULLIF({1}, 0))", None, left, right, output_field=DecimalField())
        if node.op == "%":
            return Sql(
                "MOD({0}, NULLIF({1}, 0))",
                # fmod(0.3, 0.1) is 0.0999…: take the remainder from the rounded quotient.
                "ROUND({0} - {1} * CAST(ROUND({0} / NULLIF({1}, 0), 9) AS INTEGER), 10)",
                left,
                right,
                output_field=DecimalField(),
            )
        template = f"({{0}} {COMPARE[node.op]} {{1}})"
        if self.nullable(node.left) or self.nullable(node.right):
            template = f"COALESCE({template}, FALSE)"
        return Sql(template, None, left, right, output_field=BooleanField())

    def _call(self, node: Call):
        name = node.function
        kind = self.typed(node).type
        if name == "coalesce":
            args = [self.compile(a) for a in node.args]
        else:
            args = [self.number(a) for a in node.args]
        if name == "coalesce":
            slots = ", ".join(f"{{{i}}}" for i in range(len(args)))
            return Sql(f"COALESCE({slots})", None, *args, output_field=output_field(kind))
        if name == "round":
            places = int(node.args[1].value) if len(node.args) > 1 else 0
            return Sql(f"ROUND({{0}}, {places})", None, args[0], output_field=DecimalField())
        if name == "abs":
            return Sql("ABS({0})", None, args[0], output_field=DecimalField())
        if name in {"floor", "ceil"}:
            pg = f"{name.upper()}({{0}})"
            lite = f"{name.upper()}(ROUND({{0}}, 9))"  # 2.9999999999999996 is 3
            return Sql(pg, lite, args[0], output_field=DecimalField())
        nullable = self.typed(node).nullable
        if name in {"min", "max"}:
            return self._extreme(name, args, nullable)
        if name == "clamp":
            low = self._extreme("max", args[:2], nullable)
            return self._extreme("min", [low, args[2]], nullable)
        raise TypeError(name)  # pragma: no cover

    def _extreme(self, name: str, args: list, nullable: bool):
        """Strict min/max: missing if any argument is. SQLite's MIN/MAX(a, b) already are;
        PostgreSQL's LEAST/GREATEST skip NULLs, so NULL is put back explicitly."""
        slots = ", ".join(f"{{{i}}}" for i in range(len(args)))
        nulls = " OR ".join(f"{{{i}}} IS NULL" for i in range(len(args)))
        function = "LEAST" if name == "min" else "GREATEST"
        pg = f"{function}({slots})"
        if nullable:
            pg = f"(CASE WHEN {nulls} THEN NULL ELSE {pg} END)"
        lite = f"{name.upper()}({slots})"
        return Sql(pg, lite, *args, output_field=DecimalField())


def to_django(
    tree: Node, types: Mapping[int, Typed], resolve: Callable[[str], Expression], boolean: bool
):
    """The checked tree as one Django expression; `resolve` maps a name to an expression."""
    compiler = SqlCompiler(types, resolve)
    if boolean:
        return compiler.truth(tree)
    return compiler.compile(tree)


__all__ = ["Sql", "number", "output_field", "to_django"]
