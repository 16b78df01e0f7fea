"""Text to tree: a Lark LALR grammar (SPEC §6) with exact positions and hard size bounds.

The grammar is Python-like: `x if c else y` binds loosest, then `or`, `and`, `not`, one
(non-chaining) comparison or `in [...]` / `is missing`, then `+ -`, `* / %` and unary signs.
There is no attribute access, no indexing, no `**` and no call of anything but the whitelisted
functions (checked later); names are plain identifiers, `event.<field>` or backtick-quoted.

The tree is built by Lark's inline transformer while parsing, so no step recurses over an
unbounded tree: depth and node count are checked at every reduction and parsing stops at the
first excess. Input length, numeric literal size and list length are bounded too.
"""

from decimal import Decimal, InvalidOperation

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from rewards.expressions.errors import ExpressionError, problem
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

MAX_LENGTH = 4000  # characters of source
MAX_DEPTH = 40  # nesting of the tree
MAX_NODES = 400  # nodes in the tree
MAX_LIST = 200  # items in an `in [...]` list
MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 10

GRAMMAR = r"""
?start: expr

?expr: or_expr
     | or_expr IF or_expr ELSE expr            -> conditional

?or_expr: and_expr
        | or_expr OR and_expr                  -> logical

?and_expr: not_expr
         | and_expr AND not_expr               -> logical

?not_expr: comparison
         | NOT not_expr                        -> negation

?comparison: sum
           | sum COMP_OP sum                   -> compare
           | sum IN list                       -> member
           | sum NOT IN list                   -> not_member
           | sum IS MISSING                    -> is_missing
           | sum IS NOT MISSING                -> is_not_missing

?sum: product
    | sum ADD_OP product                       -> arithmetic

?product: unary
        | product MUL_OP unary                 -> arithmetic

?unary: atom
      | ADD_OP unary                           -> sign

?atom: NUMBER                                  -> number
     | STRING                                  -> string
     | TRUE                                    -> true
     | FALSE                                   -> false
     | MISSING                                 -> missing
     | NAME                                    -> name
     | QUOTED_NAME                             -> quoted_name
     | NAME LPAR [expr ("," expr)*] RPAR       -> call
     | LPAR expr RPAR                          -> group

list: LSQB [expr ("," expr)* [","]] RSQB

IF.2: /if\b/i
ELSE.2: /else\b/i
OR.2: /or\b/i
AND.2: /and\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
IS.2: /is\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
MISSING.2: /(missing|null|none)\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/
QUOTED_NAME: /`[^`\n]{1,200}`/
NUMBER: /(\d+(\.\d*)?|\.\d+)(?![A-Za-z_0-9.])/
STRING: /"([^"\\\n]|\\.){0,1000}"|'([^'\\\n]|\\.){0,1000}'/
COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"

%import common.WS
%ignore WS
"""

FRIENDLY = {
    "COMP_OP": "a comparison (== != < <= > >=)",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/' or '%'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "NAME": "a name",
    "QUOTED_NAME": "a `quoted name`",
    "NUMBER": "a number",
    "STRING": "a string",
    "$END": "the end",
}
HINTS = {
    "=": "'=' is not a comparison — did you mean '=='?",
    "&": "use 'and' instead of '&&' or '&'",
    "|": "use 'or' instead of '||' or '|'",
    "!": "use 'not' (or '!=' for 'not equal')",
    "^": "there is no power operator",
    ".": "there is no attribute access; names are plain words, `quoted`, or event.<field>",
}


class _Limit(Exception):
    def __init__(self, offset: int, message: str):
        self.offset = offset
        self.message = message


def _start(item) -> int:
    return item.start_pos if isinstance(item, Token) else item.start


def _end(item) -> int:
    return item.end_pos if isinstance(item, Token) else item.end


def _measure(node: Node, *parts: Node) -> Node:
    depth = 1 + max((p.depth for p in parts), default=0)
    size = 1 + sum(p.size for p in parts)
    if depth > MAX_DEPTH:
        raise _Limit(node.start, f"expression is nested too deeply (more than {MAX_DEPTH})")
    if size > MAX_NODES:
        raise _Limit(node.start, f"expression is too long (more than {MAX_NODES} parts)")
    object.__setattr__(node, "depth", depth)
    object.__setattr__(node, "size", size)
    return node


def _unescape(body: str) -> str:
    out, chars = [], iter(body)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(char)
    return "".join(out)


@v_args(inline=True)
class _Build(Transformer):
    """Lark callbacks, run at each reduction: tokens and nodes in, a measured node out."""

    def number(self, tok: Token) -> Literal:
        text = str(tok)
        whole, _, frac = text.partition(".")
        if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
            raise _Limit(tok.start_pos, f"number {text} is too large")
        if len(frac) > MAX_DECIMAL_PLACES:
            raise _Limit(tok.start_pos, f"number {text} has more than 10 decimal places")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise _Limit(tok.start_pos, f"not a number: {text}") from exc
        return _measure(Literal(tok.start_pos, tok.end_pos, value))

    def string(self, tok: Token) -> Literal:
        return _measure(Literal(tok.start_pos, tok.end_pos, _unescape(str(tok)[1:-1])))

    def true(self, tok: Token) -> Literal:
        return _measure(Literal(tok.start_pos, tok.end_pos, True))

    def false(self, tok: Token) -> Literal:
        return _measure(Literal(tok.start_pos, tok.end_pos, False))

    def missing(self, tok: Token) -> Literal:
        return _measure(Literal(tok.start_pos, tok.end_pos, None))

    def name(self, tok: Token) -> Name:
        return _measure(Name(tok.start_pos, tok.end_pos, str(tok)))

    def quoted_name(self, tok: Token) -> Name:
        return _measure(Name(tok.start_pos, tok.end_pos, str(tok)[1:-1]))

    def group(self, lpar: Token, inner: Node, rpar: Token) -> Node:
        return inner

    def call(self, name: Token, lpar: Token, *rest) -> Call:
        args = tuple(a for a in rest[:-1] if a is not None)
        node = Call(name.start_pos, rest[-1].end_pos, str(name).lower(), args)
        return _measure(node, *args)

    def sign(self, op: Token, operand: Node) -> Node:
        if isinstance(operand, Literal) and isinstance(operand.value, Decimal):
            value = operand.value if op == "+" else -operand.value
            return _measure(Literal(op.start_pos, operand.end, value))
        return _measure(Unary(op.start_pos, operand.end, str(op), operand), operand)

    def negation(self, op: Token, operand: Node) -> Node:
        return _measure(Unary(op.start_pos, operand.end, "not", operand), operand)

    def arithmetic(self, left: Node, op: Token, right: Node) -> Node:
        node = Binary(left.start, right.end, str(op), left, right, op.start_pos)
        return _measure(node, left, right)

    def compare(self, left: Node, op: Token, right: Node) -> Node:
        node = Binary(left.start, right.end, str(op), left, right, op.start_pos)
        return _measure(node, left, right)

    def logical(self, left: Node, op: Token, right: Node) -> Node:
        node = Binary(left.start, right.end, str(op).lower(), left, right, op.start_pos)
        return _measure(node, left, right)

    def list(self, lsqb: Token, *rest) -> tuple:
        items = tuple(i for i in rest[:-1] if i is not None)
        if len(items) > MAX_LIST:
            raise _Limit(lsqb.start_pos, f"a list may hold at most {MAX_LIST} items")
        for item in items:
            if not isinstance(item, Literal) or item.value is None:
                raise _Limit(item.start, "list items must be numbers, strings or true/false")
        return (items, rest[-1].end_pos)

    def member(self, operand: Node, _in: Token, items: tuple) -> Node:
        values, end = items
        return _measure(Membership(operand.start, end, operand, values, False), operand, *values)

    def not_member(self, operand: Node, _not: Token, _in: Token, items: tuple) -> Node:
        values, end = items
        return _measure(Membership(operand.start, end, operand, values, True), operand, *values)

    def is_missing(self, operand: Node, _is: Token, word: Token) -> Node:
        return _measure(IsMissing(operand.start, word.end_pos, operand, False), operand)

    def is_not_missing(self, operand: Node, _is: Token, _not: Token, word: Token) -> Node:
        return _measure(IsMissing(operand.start, word.end_pos, operand, True), operand)

    def conditional(self, then: Node, _if: Token, cond: Node, _else: Token, other: Node) -> Node:
        node = Conditional(then.start, other.end, then, cond, other)
        return _measure(node, then, cond, other)


# Nodes carry their measured depth and size as attributes set once, in _measure (a leaf
# keeps these class defaults).
Node.depth = 1
Node.size = 1

_PARSER = Lark(GRAMMAR, parser="lalr", lexer="contextual", transformer=_Build(), cache=False)


def _expected(expected) -> str:
    names = sorted({FRIENDLY.get(e, e.lower()) for e in expected if not e.startswith("__")})
    if len(names) > 8:
        return ""
    return "; expected " + ", ".join(names) if names else ""


def parse(text: str) -> Node:
    """Parse expression text into a tree, or raise ExpressionError with the position."""
    if not isinstance(text, str):
        raise ExpressionError([problem("", 0, "an expression must be text")])
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            [problem(text, MAX_LENGTH, f"expression is longer than {MAX_LENGTH} characters")]
        )
    if not text.strip():
        raise ExpressionError([problem(text, 0, "the expression is empty")])
    try:
        return _PARSER.parse(text)
    except VisitError as exc:  # a callback raised: unwrap our limit
        if isinstance(exc.orig_exc, _Limit):
            raise ExpressionError(
                [problem(text, exc.orig_exc.offset, exc.orig_exc.message)]
            ) from None
        raise
    except _Limit as exc:
        raise ExpressionError([problem(text, exc.offset, exc.message)]) from None
    except UnexpectedCharacters as exc:
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        hint = HINTS.get(char)
        message = hint or f"unexpected character {char!r}"
        if char.isdigit():
            message = "numbers are written like 12.50 (no exponent, no letters after digits)"
        elif char in "\"'":
            message = "unterminated string"
        elif char == "`":
            message = "unterminated `quoted name`"
        raise ExpressionError([problem(text, exc.pos_in_stream, message)]) from None
    except UnexpectedEOF as exc:
        message = "the expression ends too early" + _expected(exc.expected)
        raise ExpressionError([problem(text, len(text), message)]) from None
    except UnexpectedToken as exc:
        token = exc.token
        offset = token.start_pos if token.start_pos is not None else len(text)
        if token.type == "$END":
            offset = len(text)
            message = "the expression ends too early" + _expected(exc.expected)
        elif str(token) == "*" and text[offset - 1 : offset] == "*":
            message = "there is no power operator '**'"
        elif token.type == "COMP_OP" and token.start_pos:
            message = "comparisons do not chain; join them with 'and'"
        else:
            message = f"unexpected {str(token)!r}" + _expected(exc.expected)
        raise ExpressionError([problem(text, offset, message)]) from None
    except (UnexpectedInput, LarkError, RecursionError) as exc:  # pragma: no cover - defensive
        raise ExpressionError(
            [problem(text, 0, f"cannot parse: {exc.__class__.__name__}")]
        ) from None


__all__ = ["parse", "MAX_LENGTH", "MAX_DEPTH", "MAX_NODES"]
