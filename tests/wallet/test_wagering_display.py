"""Issue 11 case 3: wagering progress as shown never makes a bonus look complete early.

Remaining rounds up to the minor unit, done + remaining = required, and a bonus with any
wagering left shows a remaining above zero.
"""

from decimal import ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.wallet.conftest import D, bet, deposit, key
from wallet import services
from wallet.models import Bonus
from wallet.selectors import wallet_overview
from wallet.wagering import wagering_progress

CENT = Decimal("0.01")


def shown(bonus: dict) -> tuple[str, str, str]:
    return bonus["wagering_required"], bonus["wagering_done"], bonus["wagering_remaining"]


@pytest.mark.django_db
def test_the_issue_case_shows_a_cent_left_not_zero(player):
    deposit(player, "10.00")
    services.bonus_grant(
        player=player, currency="EUR", amount=D("0.10"), wagering_multiplier=D(1),
        idempotency_key=key(),
    )  # fmt: skip
    for _ in range(9):
        bet(player, "0.10", game_category="table")
    for _ in range(5):
        bet(player, "0.01", game_category="table")
    assert Bonus.objects.get().wagering_done == D("0.095")
    (bonus,) = wallet_overview(player=player)["bonuses"]
    assert bonus["status"] == "active"
    assert shown(bonus) == ("0.10", "0.09", "0.01")

    bet(player, "0.05", game_category="table")  # 0.005 more: complete, converted
    assert Bonus.objects.get().status == Bonus.Status.COMPLETED
    assert wallet_overview(player=player)["bonuses"] == []


@pytest.mark.django_db
def test_a_requirement_finer_than_the_currency_rounds_up(player):
    services.bonus_grant(
        player=player, currency="EUR", amount=D("10.01"), wagering_multiplier=D("0.5"),
        idempotency_key=key(),
    )  # fmt: skip
    (bonus,) = wallet_overview(player=player)["bonuses"]
    assert shown(bonus) == ("5.01", "0.00", "5.01")  # 5.005 to wager: 5.01 shown


@pytest.mark.parametrize(
    ("required", "done", "quantum", "expected"),
    [
        ("0.10", "0.095", "0.01", ("0.10", "0.09", "0.01")),
        ("0.10", "0.0999", "0.01", ("0.10", "0.09", "0.01")),
        ("0.10", "0.10", "0.01", ("0.10", "0.10", "0.00")),
        ("0.10", "0.15", "0.01", ("0.10", "0.10", "0.00")),
        ("5.005", "0", "0.01", ("5.01", "0.00", "5.01")),
        ("5.005", "5.004", "0.01", ("5.01", "5.00", "0.01")),
        ("0.00000003", "0.00000001", "0.00000001", ("0.00000003", "0.00000001", "0.00000002")),
        ("7", "6.5", "1", ("7", "6", "1")),
    ],
)
def test_wagering_progress_examples(required, done, quantum, expected):
    values = wagering_progress(required=D(required), done=D(done), quantum=D(quantum))
    assert tuple(format(v, "f") for v in values) == expected


AMOUNTS = st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False)


@given(required=AMOUNTS, done=AMOUNTS, places=st.sampled_from([0, 2, 5, 6, 8]))
def test_wagering_progress_properties(required, done, places):
    quantum = Decimal(1).scaleb(-places)
    shown_required, shown_done, remaining = wagering_progress(
        required=required, done=done, quantum=quantum
    )
    left = max(Decimal(0), required - done)
    assert shown_done + remaining == shown_required
    assert remaining >= left  # never less left than there is
    assert (remaining > 0) == (left > 0)  # looks complete exactly when it is
    assert 0 <= shown_done <= shown_required
    assert remaining - left < quantum  # rounded up by less than one minor unit
    assert shown_required == required.quantize(quantum, rounding=ROUND_UP)
    for value in (shown_required, shown_done, remaining):
        assert value == value.quantize(quantum)
