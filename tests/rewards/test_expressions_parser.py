"""Grammar: precedence, associativity, literals, names, positions of syntax errors, bounds."""

from decimal import Decimal

import pytest

from rewards.expressions import ExpressionError
from rewards.expressions.nodes import Binary, Call, Conditional, Literal, Membership, Name, Unary
from rewards.expressions.parser import MAX_DEPTH, MAX_LENGTH, parse


def shape(node) -> str:
    """The tree written with every group in parentheses."""
    if isinstance(node, Literal):
        return repr(node.value) if isinstance(node.value, str) else str(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return f"({node.op} {shape(node.operand)})"
    if isinstance(node, Binary):
        return f"({shape(node.left)} {node.op} {shape(node.right)})"
    if isinstance(node, Conditional):
        return f"({shape(node.then)} if {shape(node.condition)} else {shape(node.otherwise)})"
    if isinstance(node, Call):
        return f"{node.function}({', '.join(shape(a) for a in node.args)})"
    if isinstance(node, Membership):
        items = ", ".join(shape(i) for i in node.items)
        return f"({shape(node.operand)} {'not in' if node.negated else 'in'} [{items}])"
    return f"({shape(node.operand)} is {'not ' if node.negated else ''}missing)"


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 * 2 + 3", "((1 * 2) + 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("8 % 3 * 2", "((8 % 3) * 2)"),
        ("-a * b", "((- a) * b)"),
        ("- -a", "(- (- a))"),
        ("-3", "-3"),
        ("a + b < c * d", "((a + b) < (c * d))"),
        ("a or b and c", "(a or (b and c))"),
        ("a and b or c", "((a and b) or c)"),
        ("a or b or c", "((a or b) or c)"),
        ("not a and b", "((not a) and b)"),
        ("not a == b", "(not (a == b))"),
        ("not not a", "(not (not a))"),
        ("a if b else c if d else e", "(a if b else (c if d else e))"),
        ("a or b if c or d else e", "((a or b) if (c or d) else e)"),
        ("x + 1 in [1, 2]", "((x + 1) in [1, 2])"),
        ("x not in ['a']", "(x not in ['a'])"),
        ("x + 1 is missing", "((x + 1) is missing)"),
        ("x is not null", "(x is not missing)"),
        ("MAX(a, b) AND TRUE", "(max(a, b) and True)"),
        ("clamp(a * 0.10, 5, 100)", "clamp((a * 0.10), 5, 100)"),
        ("`Bet Amount` + `€ won`", "(Bet Amount + € won)"),
        ("event.amount >= 20", "(event.amount >= 20)"),
        ('"it\\"s" == \'x\'', "('it\"s' == 'x')"),
        (".5 + 1.", "(0.5 + 1)"),
        ("andy or orange", "(andy or orange)"),
        ("a\n  and\n  b", "(a and b)"),
    ],
)
def test_precedence_and_associativity(text, tree):
    assert shape(parse(text)) == tree


def test_literals():
    assert parse("12.50").value == Decimal("12.50")
    assert parse("true").value is True
    assert parse("False").value is False
    assert parse("missing").value is None
    assert parse("null").value is None
    assert parse("'losing'").value == "losing"


def test_positions_of_nodes():
    tree = parse('segment == "losing" and net_loss_7d >= 50')
    assert (tree.right.left.start, tree.right.left.end) == (24, 35)


def _error(text: str) -> dict:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.code == "invalid_expression"
    return caught.value.details["errors"][0]


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("x = 1", 2, "did you mean '=='"),
        ("a < b < c", 6, "do not chain"),
        ("1 +", 3, "ends too early"),
        ("max(1, ", 7, "ends too early"),
        ("(1 + 2", 6, "ends too early"),
        ('"abc', 0, "unterminated string"),
        ("`abc", 0, "unterminated `quoted name`"),
        ("a ** 2", 3, "no power operator"),
        ("a && b", 2, "use 'and'"),
        ("a $ b", 2, "unexpected character '$'"),
        ("1 2", 2, "unexpected '2'"),
        ("x[0]", 1, "unexpected '['"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("1e5", 0, "numbers are written like"),
        ("7d > 1", 0, "numbers are written like"),
        ("x in [y]", 6, "list items must be"),
        ("x in [missing]", 6, "list items must be"),
    ],
)
def test_syntax_errors_point_at_the_position(text, offset, fragment):
    error = _error(text)
    assert fragment in error["message"]
    assert error["offset"] == offset
    assert error["column"] == offset + 1 and error["line"] == 1


def test_line_and_column_on_later_lines():
    error = _error("net_loss_7d > 5\nand = 3")
    assert (error["line"], error["column"], error["offset"]) == (2, 5, 20)


def test_bounds():
    assert "longer than" in _error("1" * (MAX_LENGTH + 1))["message"]
    assert "too large" in _error("1" + "0" * 20)["message"]
    assert "decimal places" in _error("0.12345678901")["message"]
    assert (
        "nested too deeply"
        in _error("-x" if False else "+".join(["a"] * (MAX_DEPTH + 2)))["message"]
    )
    assert "nested too deeply" in _error("not " * (MAX_DEPTH + 1) + "a")["message"]
    assert "at most" in _error("x in [" + ",".join(["1"] * 201) + "]")["message"]
    deep_parens = "(" * 1000 + "1" + ")" * 1000
    assert parse(deep_parens).value == Decimal(1)  # LALR: no recursion, so no crash


def test_no_attribute_access_only_dotted_names():
    tree = parse("x.__class__")
    assert isinstance(tree, Name) and tree.name == "x.__class__"  # a name, never getattr
