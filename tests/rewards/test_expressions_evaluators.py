"""Every operator and function, and the missing/zero rules, through all three evaluators."""

from decimal import Decimal as D

import pytest

from rewards.expressions import compile_expression
from tests.rewards import three

ROW = {
    "net_loss_7d": D("80"),
    "deposits_30d": D("600"),
    "rtp_30d": None,  # missing
    "bet_count_7d": 0,
    "risk_score": 12,
    "segment": "losing",
    "country": None,  # missing
    "days_since_registration": 3,
}

AMOUNTS = [
    ("net_loss_7d + 20", D("100")),
    ("net_loss_7d - 100", D("-20")),
    ("net_loss_7d * 0.15", D("12")),
    ("net_loss_7d / 3", D("26.666666666666666667")),
    ("net_loss_7d % 7", D("3")),
    ("-net_loss_7d % 7", D("-3")),  # % keeps the dividend's sign
    ("-net_loss_7d", D("-80")),
    ("+net_loss_7d", D("80")),
    ("2 + 3 * 4", D("14")),
    ("(2 + 3) * 4", D("20")),
    ("10 - 4 - 3", D("3")),  # left-associative
    ("100 / 10 / 2", D("5")),
    ("2 * 10 % 3", D("2")),  # same precedence, left to right
    ("-2 * -3", D("6")),
    ("min(net_loss_7d, 50, 70)", D("50")),
    ("max(net_loss_7d, 50)", D("80")),
    ("abs(-2.5)", D("2.5")),
    ("round(2.345, 2)", D("2.35")),  # half away from zero
    ("round(-2.5)", D("-3")),
    ("round(2.5)", D("3")),
    ("round(net_loss_7d / 3, 2)", D("26.67")),
    ("floor(-2.5)", D("-3")),
    ("ceil(2.1)", D("3")),
    ("floor(2.675 * 100)", D("267")),
    ("clamp(net_loss_7d * 0.10, 5, 100)", D("8")),
    ("clamp(net_loss_7d * 0.01, 5, 100)", D("5")),
    ("clamp(net_loss_7d * 10, 5, 100)", D("100")),
    ("coalesce(rtp_30d, 1)", D("1")),
    ("coalesce(rtp_30d, missing, 2)", D("2")),
    ('net_loss_7d if segment == "losing" else 0', D("80")),
    ('net_loss_7d if segment == "vip" else 0', D("0")),
    ("1 if rtp_30d > 0 else 2", D("2")),  # comparison with missing is false
    # missing and zero
    ("net_loss_7d / bet_count_7d", None),
    ("net_loss_7d % bet_count_7d", None),
    ("net_loss_7d / 0", None),
    ("rtp_30d + 1", None),
    ("rtp_30d * 0", None),
    ("-rtp_30d", None),
    ("min(rtp_30d, 1)", None),
    ("abs(rtp_30d)", None),
    ("round(rtp_30d, 2)", None),
    ("clamp(rtp_30d, 0, 1)", None),
    ("coalesce(rtp_30d, missing)", None),
    ("coalesce(net_loss_7d / bet_count_7d, 0)", D("0")),
    ("risk_score + days_since_registration", D("15")),
    # the `missing` literal wherever a number goes
    ("-missing", None),
    ("missing + 1", None),
    ("round(missing, 2)", None),
    ("abs(missing) + floor(missing)", None),
    ("max(missing, 1)", None),
    ("(missing if true else missing) + 1", None),
    ("coalesce(missing, missing) * 2", None),
    ("coalesce(missing, 3)", D("3")),
]

CONDITIONS = [
    ("net_loss_7d == 80", True),
    ("net_loss_7d != 80", False),
    ("net_loss_7d < 80", False),
    ("net_loss_7d <= 80", True),
    ("net_loss_7d > 79.99", True),
    ("net_loss_7d >= 80.01", False),
    ("0.1 + 0.2 == 0.3", True),
    ('segment == "losing"', True),
    ('segment != "losing"', False),
    ('segment in ["losing", "vip"]', True),
    ('segment not in ["losing", "vip"]', False),
    ("net_loss_7d in [1, 80]", True),
    ("net_loss_7d in [-80]", False),
    ("true and false", False),
    ("true or false", True),
    ("not false", True),
    ("false or true and false", False),  # and binds tighter than or
    ("not true or true", True),  # not binds tighter than or
    ("not net_loss_7d > 100", True),  # comparison binds tighter than not
    ("true if false else false or true", True),  # if/else binds loosest
    ('segment == "losing" and net_loss_7d >= 50', True),
    # missing
    ("rtp_30d is missing", True),
    ("rtp_30d is not missing", False),
    ("net_loss_7d is missing", False),
    ("country is missing", True),
    ("rtp_30d < 1", False),
    ("rtp_30d >= 1", False),
    ("rtp_30d == 0", False),
    ("rtp_30d != 0", False),  # every comparison with missing is false …
    ("not (rtp_30d == 0)", True),  # … and `not` of a false comparison is true
    ("rtp_30d in [1, 2]", False),
    ("rtp_30d not in [1, 2]", False),
    ('country == "DE"', False),
    ('country != "DE"', False),
    ('country not in ["DE"]', False),
    ("net_loss_7d / bet_count_7d > 0", False),
    ("net_loss_7d / bet_count_7d is missing", True),
    ('coalesce(country, "XX") == "XX"', True),
    ("(true if rtp_30d > 0 else missing) or false", False),  # missing counts as false
    ("not missing", True),
    ("missing or true", True),
    ("missing and true", False),
    ("missing in [1, 2]", False),
    ("missing is missing", True),
    ("(missing if true else 1) is missing", True),
]


def _cases(cases, context):
    return [pytest.param(text, context, want, id=text) for text, want in cases]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "context", "want"), _cases(AMOUNTS, "amount") + _cases(CONDITIONS, "condition")
)
def test_three_evaluators_give_the_documented_value(text, context, want):
    expression = compile_expression(text, context=context)
    results = {
        "scalar": three.scalar(expression, [ROW])[0],
        "vectorised": three.vectorised(expression, [ROW])[0],
        "sql": three.sql(expression, [ROW])[0],
    }
    for evaluator, got in results.items():
        assert three.same(got, want), f"{evaluator}: {got!r} != {want!r}"


def test_scalar_numbers_are_exact_decimals():
    expression = compile_expression("net_loss_7d * 0.1 + 0.2", context="amount")
    assert expression.evaluate({"net_loss_7d": D("1")}) == D("0.3")
    assert isinstance(expression.evaluate({"net_loss_7d": 1}), D)


def test_scalar_absent_names_and_nan_are_missing():
    expression = compile_expression("rtp_30d is missing", context="condition")
    assert expression.evaluate({}) is True
    assert expression.evaluate({"rtp_30d": float("nan")}) is True
    assert expression.evaluate({"rtp_30d": 0.5}) is False


def test_import_fields_over_text_columns():
    expression = compile_expression(
        "`Bet` + `Profit` if `Profit` is not missing else 0",
        context="import_field",
        columns=["Bet", "Profit"],
    )
    rows = [{"Bet": "1.5", "Profit": "0.5"}, {"Bet": "2", "Profit": ""}, {"Bet": "", "Profit": "3"}]
    assert three.scalar(expression, rows) == [D("2.0"), D("0"), None]
    assert three.vectorised(expression, rows) == [2.0, 0.0, None]


def test_import_field_text_result_and_comparison():
    expression = compile_expression(
        '"deposit" if `Type` == "D" else "withdrawal"', context="import_field", columns=["Type"]
    )
    rows = [{"Type": "D"}, {"Type": "W"}, {"Type": None}]
    want = ["deposit", "withdrawal", "withdrawal"]
    assert three.scalar(expression, rows) == want
    assert three.vectorised(expression, rows) == want


def test_event_condition_reads_event_fields():
    expression = compile_expression(
        'event.type == "deposit" and event.amount >= 20 and segment != "vip"',
        context="event_condition",
    )
    assert expression.evaluate({"event.type": "deposit", "event.amount": D("25"), "segment": "new"})
    assert not expression.evaluate({"event.type": "bet", "event.amount": D("25"), "segment": "new"})
    assert expression.names == {"event.type", "event.amount", "segment"}


def test_condition_frame_result_is_boolean_and_amount_is_float():
    condition = compile_expression("rtp_30d < 1", context="condition")
    amount = compile_expression("rtp_30d * 2", context="amount")
    rows = [{"rtp_30d": D("0.5")}, {"rtp_30d": None}]
    assert str(condition.evaluate_frame(three.frame_of(condition, rows)).dtype) == "bool"
    assert str(amount.evaluate_frame(three.frame_of(amount, rows)).dtype) == "float64"
