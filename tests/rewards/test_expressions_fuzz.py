"""Fuzzing: random text, token soup and random trees never crash, hang or reach Python.

Whatever the input, `compile_expression` either returns an Expression or raises
ExpressionError; compiled expressions evaluate without error; every call returns within a
time bound; and for the classic escape attempts nothing calls eval/exec or imports a module
(checked with a tripwire outside Hypothesis, which itself uses exec).
"""

import builtins
import sys
import time
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewards.expressions.scalar  # noqa: F401 - loaded before the tripwire is set
import rewards.expressions.vectorised  # noqa: F401
from rewards.expressions import ExpressionError, compile_expression
from rewards.expressions.catalogue import CONTEXTS

TIME_LIMIT = 2.0  # seconds for one compile + evaluate, far above the normal ~1 ms
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

TOKENS = [
    "net_loss_7d", "deposits_30d", "rtp_30d", "segment", "country", "event.amount", "`Bet`",
    "__class__", "__import__", "__builtins__", "x.__class__", "os.system", "eval", "exec",
    "getattr", "lambda", "import", "min", "max", "abs", "round", "floor", "ceil", "clamp",
    "coalesce", "and", "or", "not", "in", "is", "missing", "null", "if", "else", "true",
    "false", "(", ")", "[", "]", ",", ".", "+", "-", "*", "/", "%", "**", "==", "!=", "<",
    "<=", ">", ">=", "=", "'losing'", '"vip"', "0", "1", "0.5", "999999999999999", "1e308",
    "9**9**9", ";", ":", "{", "}", "@", "\\", "`", "'", '"', "\n",
]  # fmt: skip


class Tripwire:
    """Fail if eval/exec run or a module not yet loaded is imported while fuzzing."""

    def __init__(self, monkeypatch):
        self.hits: list[str] = []
        real_import = builtins.__import__

        def guarded_import(name, *args, **kwargs):
            if name not in sys.modules and not name.startswith(("rewards", "players")):
                self.hits.append(f"import {name}")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", guarded_import)
        monkeypatch.setattr(builtins, "eval", lambda *a, **k: self.hits.append("eval"))
        monkeypatch.setattr(builtins, "exec", lambda *a, **k: self.hits.append("exec"))


def _values() -> dict:
    return {
        "net_loss_7d": Decimal("12.5"),
        "deposits_30d": Decimal("0"),
        "rtp_30d": None,
        "segment": "losing",
        "country": "DE",
        "event.amount": Decimal("20"),
        "Bet": "3",
    }


def _exercise(text: str) -> None:
    started = time.perf_counter()
    for context in CONTEXTS:
        try:
            expression = compile_expression(text, context=context, columns=["Bet"])
        except ExpressionError as exc:
            assert exc.problems and all(p.offset >= 0 and p.line >= 1 for p in exc.problems)
            continue
        values = _values()
        expression.evaluate(values)
        frame = pd.DataFrame(
            {name: [values.get(name)] * 3 for name in expression.names} or None, index=range(3)
        )
        if expression.names:
            expression.evaluate_frame(frame)
    assert time.perf_counter() - started < TIME_LIMIT, text


@pytest.fixture
def tripwire(monkeypatch):
    wire = Tripwire(monkeypatch)
    yield wire
    assert wire.hits == []


@FUZZ
@given(st.text(max_size=300))
def test_random_text_never_crashes(text):
    _exercise(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_token_soup_never_crashes(text):
    _exercise(text)


@st.composite
def tree(draw, depth: int = 4) -> str:
    """A random, usually ill-typed tree written as text."""
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(
            st.sampled_from(["net_loss_7d", "rtp_30d", "segment", "country", "event.amount",
                             "`Bet`", "__class__", "missing", "true", "'losing'", "0", "2.5"])
        )  # fmt: skip
    sub = tree(depth=depth - 1)
    kind = draw(st.integers(0, 5))
    if kind == 0:
        op = draw(st.sampled_from(["+", "-", "*", "/", "%", "==", "<", "and", "or", "!="]))
        return f"({draw(sub)} {op} {draw(sub)})"
    if kind == 1:
        return f"{draw(st.sampled_from(['not ', '-']))}({draw(sub)})"
    if kind == 2:
        name = draw(st.sampled_from(["min", "max", "abs", "round", "floor", "ceil", "clamp",
                                     "coalesce", "getattr", "__import__", "eval"]))  # fmt: skip
        args = draw(st.lists(sub, min_size=0, max_size=4))
        return f"{name}({', '.join(args)})"
    if kind == 3:
        return f"({draw(sub)} if {draw(sub)} else {draw(sub)})"
    if kind == 4:
        return f"({draw(sub)} {draw(st.sampled_from(['is missing', 'is not missing']))})"
    return f"({draw(sub)} in [1, 'a', true])"


@FUZZ
@given(tree())
def test_random_trees_never_crash(text):
    _exercise(text)


def test_fuzzing_never_reaches_python(tripwire):
    for text in [
        "__import__('os').system('true')",
        "().__class__.__bases__[0].__subclasses__()",
        "x.__class__.__mro__",
        "net_loss_7d.__class__ == 1",
        "eval('1')",
        "exec('x = 1')",
        "getattr(net_loss_7d, 'real')",
        "open('/etc/passwd')",
        "lambda: 1",
        "[x for x in ()]",
        "9 ** 9 ** 9",
        "'a' * 99999999999",
        "net_loss_7d * 999999999999999 * 999999999999999 * 999999999999999 > 1",
        "{'a': 1}",
        "f'{1}'",
    ]:
        _exercise(text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 3000 + "1" + ")" * 3000,
        "not " * 1000 + "true",
        "-" * 3000 + "net_loss_7d",
        " + ".join(["net_loss_7d"] * 1000),
        "x in [" + ", ".join(["1"] * 1500) + "]",
        "a" * 5000,
        "'" + "a" * 3990 + "'",
    ],
    ids=["parens", "nots", "signs", "sum", "list", "name", "string"],
)
def test_huge_and_deep_inputs_are_refused_quickly(text):
    started = time.perf_counter()
    with pytest.raises(ExpressionError):
        compile_expression(text, context="amount")
    assert time.perf_counter() - started < TIME_LIMIT
