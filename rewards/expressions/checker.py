"""Type checking against a context's catalogue: unknown names, type errors, bad arguments.

Every problem is collected (not just the first) with its position and, where a near name
exists, "did you mean" suggestions. The result records, per node, its type, whether it may be
missing, and for comparisons the domain in which operands are compared — the evaluators read
this instead of guessing at run time.
"""

import difflib
from dataclasses import dataclass
from decimal import Decimal

from rewards.expressions.catalogue import (
    ANY,
    BOOLEAN,
    CONTEXTS,
    FUNCTIONS,
    NUMBER,
    STRING,
    NameInfo,
    all_names,
)
from rewards.expressions.errors import ExpressionError, Problem, problem
from rewards.expressions.nodes import (
    ARITHMETIC,
    Binary,
    Call,
    Conditional,
    IsMissing,
    Literal,
    Membership,
    Name,
    Node,
    Unary,
    children,
)

NULL = "missing"  # the type of the `missing` literal: fits anywhere, always missing
MAX_SQL_COST = 20_000  # expanded size of the SQL (min/max repeat their arguments)
NUMERIC_FUNCTIONS = frozenset({"min", "max", "abs", "round", "floor", "ceil", "clamp"})
TYPE_WORDS = {NUMBER: "a number", STRING: "text", BOOLEAN: "true/false", ANY: "any value"}


@dataclass(frozen=True)
class Typed:
    type: str
    nullable: bool
    domain: str = ""  # comparisons and `in`: the type operands are compared as


def suggest(word: str, candidates, n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)


def _word(kind: str) -> str:
    return TYPE_WORDS.get(kind, "missing")


def _unify(a: str, b: str) -> str | None:
    """The common type of two operands, or None when they cannot meet."""
    if a == b:
        return a
    if a == NULL:
        return b
    if b == NULL:
        return a
    if a == ANY:
        return b
    if b == ANY:
        return a
    return None


class Checker:
    def __init__(self, text: str, names: dict[str, NameInfo], context: str):
        self.text = text
        self.names = names
        self.context = context
        self.problems: list[Problem] = []
        self.types: dict[int, Typed] = {}

    def error(self, at: int, message: str, suggestions=()) -> None:
        self.problems.append(problem(self.text, at, message, suggestions))

    def check(self, node: Node) -> Typed:
        typed = self._check(node)
        self.types[id(node)] = typed
        return typed

    def expect(self, node: Node, kind: str, what: str) -> Typed:
        typed = self.check(node)
        if _unify(typed.type, kind) is None:
            self.error(node.start, f"{what} must be {_word(kind)}, not {_word(typed.type)}")
        return typed

    def _check(self, node: Node) -> Typed:
        if isinstance(node, Literal):
            value = node.value
            if value is None:
                return Typed(NULL, True)
            if isinstance(value, bool):
                return Typed(BOOLEAN, False)
            if isinstance(value, Decimal):
                return Typed(NUMBER, False)
            return Typed(STRING, False)
        if isinstance(node, Name):
            return self._name(node)
        if isinstance(node, Unary):
            if node.op == "not":
                self.expect(node.operand, BOOLEAN, "the operand of 'not'")
                return Typed(BOOLEAN, False)
            operand = self.expect(node.operand, NUMBER, f"the operand of unary '{node.op}'")
            return Typed(NUMBER, operand.nullable)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Membership):
            return self._membership(node)
        if isinstance(node, IsMissing):
            self.check(node.operand)
            return Typed(BOOLEAN, False)
        if isinstance(node, Conditional):
            self.expect(node.condition, BOOLEAN, "the condition after 'if'")
            then, other = self.check(node.then), self.check(node.otherwise)
            kind = _unify(then.type, other.type)
            if kind is None:
                self.error(
                    node.otherwise.start,
                    f"both branches of 'if … else' must have one type: "
                    f"{_word(then.type)} vs {_word(other.type)}",
                )
                kind = then.type
            return Typed(kind, then.nullable or other.nullable)
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def _name(self, node: Name) -> Typed:
        info = self.names.get(node.name)
        if info is not None:
            return Typed(info.type, info.nullable)
        elsewhere = all_names().get(node.name)
        if elsewhere is not None and elsewhere.group == "event":
            self.error(node.start, f"'{node.name}' is only available in event-triggered rules")
        else:
            near = suggest(node.name, self.names)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            kind = "column" if CONTEXTS[self.context].groups == ("column",) else "name"
            self.error(node.start, f"unknown {kind} '{node.name}'{hint}", near)
        return Typed(ANY, True)

    def _binary(self, node: Binary) -> Typed:
        if node.op in ARITHMETIC:
            left = self.expect(node.left, NUMBER, f"the left side of '{node.op}'")
            right = self.expect(node.right, NUMBER, f"the right side of '{node.op}'")
            nullable = left.nullable or right.nullable or node.op in {"/", "%"}
            return Typed(NUMBER, nullable)
        if node.op in {"and", "or"}:
            self.expect(node.left, BOOLEAN, f"the left side of '{node.op}'")
            self.expect(node.right, BOOLEAN, f"the right side of '{node.op}'")
            return Typed(BOOLEAN, False)
        left, right = self.check(node.left), self.check(node.right)
        if NULL in (left.type, right.type):
            self.error(node.op_start, "nothing equals missing; use 'is missing' to test for it")
            return Typed(BOOLEAN, False, NUMBER)
        domain = _unify(left.type, right.type)
        if domain is None:
            self.error(
                node.op_start,
                f"cannot compare {_word(left.type)} with {_word(right.type)} using '{node.op}'",
            )
            return Typed(BOOLEAN, False, NUMBER)
        if domain == ANY:
            domain = NUMBER if node.op not in {"==", "!="} else STRING
        if domain != NUMBER and node.op not in {"==", "!="}:
            self.error(node.op_start, f"{_word(domain)} can only be compared with == and !=")
        self._choices(node.left, node.right)
        self._choices(node.right, node.left)
        return Typed(BOOLEAN, False, domain)

    def _choices(self, name: Node, literal: Node) -> None:
        """`segment == "loosing"`: a value the name can never take is a mistake."""
        if not (isinstance(name, Name) and isinstance(literal, Literal)):
            return
        info = self.names.get(name.name)
        if info is None or not info.choices or not isinstance(literal.value, str):
            return
        if literal.value not in info.choices:
            near = suggest(literal.value, info.choices)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            self.error(
                literal.start,
                f"'{literal.value}' is never a value of {name.name}{hint} "
                f"(values: {', '.join(info.choices)})",
                near,
            )

    def _membership(self, node: Membership) -> Typed:
        operand = self.check(node.operand)
        domain = operand.type if operand.type not in (ANY, NULL) else None
        for item in node.items:
            typed = self.check(item)
            if domain is None:
                domain = typed.type
            elif _unify(domain, typed.type) is None:
                self.error(item.start, f"list item is {_word(typed.type)}, not {_word(domain)}")
            self._choices(node.operand, item)
        return Typed(BOOLEAN, False, domain or STRING)

    def _call(self, node: Call) -> Typed:
        info = FUNCTIONS.get(node.function)
        if info is None:
            near = suggest(node.function, FUNCTIONS)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            self.error(node.start, f"unknown function '{node.function}'{hint}", near)
            for arg in node.args:
                self.check(arg)
            return Typed(ANY, True)
        count = len(node.args)
        if not info.min_args <= count <= info.max_args:
            wanted = (
                f"{info.min_args}"
                if info.min_args == info.max_args
                else f"{info.min_args} to {info.max_args}"
            )
            self.error(node.start, f"{info.signature} takes {wanted} arguments, not {count}")
        if node.function == "coalesce":
            kinds = [self.check(arg) for arg in node.args]
            kind = NULL
            for arg, typed in zip(node.args, kinds, strict=True):
                unified = _unify(kind, typed.type)
                if unified is None:
                    self.error(arg.start, "coalesce arguments must all have one type")
                else:
                    kind = unified
            return Typed(kind, all(t.nullable for t in kinds))
        nullable = False
        for position, arg in enumerate(node.args):
            if node.function == "round" and position == 1:
                self.check(arg)
                value = arg.value if isinstance(arg, Literal) else None
                if not (
                    isinstance(value, Decimal) and value == value.to_integral() and 0 <= value <= 8
                ):
                    self.error(arg.start, "round places must be a whole number from 0 to 8")
                continue
            typed = self.expect(arg, NUMBER, f"argument {position + 1} of {node.function}")
            nullable = nullable or typed.nullable
        return Typed(NUMBER, nullable)


def sql_cost(node: Node) -> int:
    """The size of the generated SQL: min/max/clamp (and `%` on SQLite) repeat arguments."""
    if isinstance(node, Call) and node.function in {"min", "max"}:
        return 1 + 2 * sum(sql_cost(a) for a in node.args)
    if isinstance(node, Call) and node.function == "clamp":
        return 1 + 4 * sum(sql_cost(a) for a in node.args)
    if isinstance(node, Binary) and node.op == "%":
        return 1 + 2 * (sql_cost(node.left) + sql_cost(node.right))
    return 1 + sum(sql_cost(c) for c in children(node))


def check(text: str, tree: Node, names: dict[str, NameInfo], context: str) -> dict[int, Typed]:
    """Type-check `tree` for `context`; raise ExpressionError listing every problem."""
    checker = Checker(text, names, context)
    result = checker.check(tree)
    wanted = CONTEXTS[context].result
    if not checker.problems:
        if result.type == NULL:
            checker.error(tree.start, "the expression is always missing")
        elif wanted != ANY and _unify(result.type, wanted) is None:
            what = {"condition": "a condition", "segment": "a segment"}.get(context, "it")
            if wanted == BOOLEAN:
                message = (
                    f"{what} must be true or false, not {_word(result.type)} "
                    "(compare it, e.g. '… > 0')"
                )
            else:
                message = f"an amount must be a number, not {_word(result.type)}"
            checker.error(tree.start, message)
    if wanted != ANY and sql_cost(tree) > MAX_SQL_COST:
        checker.error(tree.start, "expression is too complex (nested min/max/clamp)")
    if checker.problems:
        raise ExpressionError(sorted(checker.problems, key=lambda p: p.offset))
    return checker.types
