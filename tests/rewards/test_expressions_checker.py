"""Checking against the catalogue: names per context, types, positions and suggestions."""

import pytest

from players.metrics import METRICS, WINDOWS, Metric
from rewards.expressions import ExpressionError, compile_expression
from rewards.expressions.catalogue import CONTEXTS, catalogue


def errors(text: str, context: str = "condition", **kwargs) -> list[dict]:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, context=context, **kwargs)
    assert caught.value.code == "invalid_expression"
    assert caught.value.status_code == 400
    return caught.value.details["errors"]


def test_unknown_name_has_position_and_suggestion():
    (error,) = errors("segment == 'losing' and net_los_7d >= 50")
    assert error["message"] == "unknown name 'net_los_7d' — did you mean 'net_loss_7d'?"
    assert error["suggestions"][0] == "net_loss_7d"
    assert (error["line"], error["column"], error["offset"]) == (1, 25, 24)


def test_every_problem_is_reported_in_order():
    found = errors("depost_30d > 1 and turnovr_7d > 2")
    assert [e["suggestions"][0] for e in found] == ["deposits_30d", "turnover_7d"]
    assert [e["offset"] for e in found] == [0, 19]


def test_unknown_function_suggests():
    (error,) = errors("clmap(net_loss_7d, 1, 2) > 0")
    assert "did you mean 'clamp'" in error["message"]


def test_no_python_internals_are_names():
    for text in ("__import__('os') == 1", "x.__class__ == 1", "net_loss_7d.real > 1"):
        assert errors(text)[0]["message"].startswith("unknown")


@pytest.mark.parametrize(
    ("text", "context", "fragment"),
    [
        ('segment > "a"', "condition", "can only be compared with == and !="),
        ("segment == 5", "condition", "cannot compare text with a number"),
        ('net_loss_7d + "a" > 1', "condition", "right side of '+' must be a number"),
        ("net_loss_7d", "condition", "must be true or false"),
        ("net_loss_7d > 1", "amount", "amount must be a number"),
        ("net_loss_7d", "segment", "must be true or false"),
        ("not net_loss_7d", "condition", "operand of 'not' must be true/false"),
        ("net_loss_7d and true", "condition", "left side of 'and' must be true/false"),
        ("1 if net_loss_7d else 2", "amount", "condition after 'if' must be true/false"),
        ('1 if true else "a"', "amount", "both branches"),
        ("rtp_30d == missing", "condition", "use 'is missing'"),
        ('net_loss_7d in [1, "a"]', "condition", "list item is text"),
        ("missing", "amount", "always missing"),
        ("round(net_loss_7d, 9)", "amount", "whole number from 0 to 8"),
        ("round(net_loss_7d, rtp_30d)", "amount", "whole number from 0 to 8"),
        ("clamp(net_loss_7d, 1)", "amount", "takes 3 arguments, not 2"),
        ("abs()", "amount", "takes 1 arguments, not 0"),
        ('coalesce(rtp_30d, "x")', "amount", "one type"),
        ('segment == "loosing"', "condition", "did you mean 'losing'"),
        ('status in ["active", "blokced"]', "condition", "did you mean 'blocked'"),
        ("event.amount > 5", "condition", "only available in event-triggered rules"),
        ("`Bet` > 5", "condition", "unknown name 'Bet'"),
        ("net_loss_7d", "import_field", "unknown column 'net_loss_7d'"),
        ("max(" * 16 + "net_loss_7d" + ", 1)" * 16, "amount", "too complex"),
    ],
)
def test_type_and_name_errors(text, context, fragment):
    found = errors(text, context, columns=["Bet"] if context == "import_field" else ())
    assert any(fragment in e["message"] for e in found), found


def test_choice_error_suggestions_are_listed():
    (error,) = errors('segment == "loosing"')
    assert error["suggestions"] == ["losing"]
    assert error["offset"] == 11


def test_contexts_name_sets():
    assert "event.amount" in catalogue("event_condition")
    assert "event.amount" in catalogue("event_amount")
    assert "event.amount" not in catalogue("condition")
    assert "net_loss_7d" not in catalogue("import_field", ["Bet"])
    assert set(catalogue("import_field", ["Bet", "Win"])) == {"Bet", "Win"}
    assert set(CONTEXTS) == {
        "condition",
        "amount",
        "event_condition",
        "event_amount",
        "segment",
        "import_field",
    }


def test_catalogue_is_generated_from_the_metrics():
    names = catalogue("condition")
    for metric in METRICS:
        for window in WINDOWS:
            info = names[f"{metric.name}_{window}"]
            assert info.type == "number"
            assert info.nullable == metric.nullable


def test_a_new_metric_is_usable_without_touching_the_language(monkeypatch):
    monkeypatch.setattr(
        "players.metrics.METRICS", (*METRICS, Metric("free_spins_used", "count", "Spins."))
    )
    expression = compile_expression("free_spins_used_30d >= 10", context="segment")
    assert expression.names == {"free_spins_used_30d"}


def test_typed_import_columns():
    expression = compile_expression(
        "`Amount` * 2", context="import_field", columns={"Amount": "number"}
    )
    assert expression.result.type == "number"
    assert (
        "cannot compare"
        in errors('`Amount` == "x"', "import_field", columns={"Amount": "number"})[0]["message"]
    )


def test_result_type_and_names():
    expression = compile_expression("coalesce(rtp_30d, 1) * 2", context="amount")
    assert expression.result.type == "number"
    assert expression.names == {"rtp_30d"}
    assert compile_expression("coalesce(rtp_30d, 1) * 2", context="amount") is expression


def test_unknown_context():
    with pytest.raises(ValueError):
        compile_expression("1", context="nope")
