"""The expression tree: small immutable nodes, each knowing where it starts in the source.

`start`/`end` are 0-based offsets into the expression text (end exclusive). The parser builds
these nodes; the checker annotates nothing in place — it returns a `Typed` per node by id.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, eq=False)
class Node:
    start: int
    end: int


@dataclass(frozen=True, eq=False)
class Literal(Node):
    value: Decimal | str | bool | None  # None is `missing`


@dataclass(frozen=True, eq=False)
class Name(Node):
    name: str


@dataclass(frozen=True, eq=False)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Node


@dataclass(frozen=True, eq=False)
class Binary(Node):
    op: str  # + - * / %  == != < <= > >=  and or
    left: Node
    right: Node
    op_start: int = 0


@dataclass(frozen=True, eq=False)
class Membership(Node):
    operand: Node
    items: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True, eq=False)
class IsMissing(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True, eq=False)
class Conditional(Node):
    then: Node
    condition: Node
    otherwise: Node


@dataclass(frozen=True, eq=False)
class Call(Node):
    function: str
    args: tuple[Node, ...]


ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
COMPARISON = frozenset({"==", "!=", "<", "<=", ">", ">="})
LOGICAL = frozenset({"and", "or"})


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Membership):
        return (node.operand, *node.items)
    if isinstance(node, IsMissing):
        return (node.operand,)
    if isinstance(node, Conditional):
        return (node.then, node.condition, node.otherwise)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node):
    """Every node of the tree, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
