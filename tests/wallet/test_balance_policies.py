"""Balance policies as data (SPEC §8, wallet/policies.py): bet order `cash_first` | `bonus_first`
and win split `proportional` | `cash_stake_first`, on bet sequences with wins and rollbacks,
with the ledger conservation check after every step."""

from decimal import Decimal

import pytest

from tests.wallet.conftest import D, assert_ledger_conserved, bet, deposit, key, player_make
from tests.wallet.valkyrie import Valkyrie
from wallet import services
from wallet.models import BalancePolicy, Bonus
from wallet.policies import DEFAULT, balance_policy
from wallet.wagering import stake_split, win_split

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def policy(*, bet_order="cash_first", win_split="proportional", currency="EUR"):
    BalancePolicy.objects.update_or_create(
        currency_id=currency, defaults={"bet_order": bet_order, "win_split": win_split}
    )


def grant(player, amount="10.00", multiplier=4):
    return services.bonus_grant(
        player=player,
        currency="EUR",
        amount=D(amount),
        wagering_multiplier=D(multiplier),
        idempotency_key=key(),
    )


def state(vk: Valkyrie, bonus: Bonus) -> tuple[Decimal, Decimal, Decimal]:
    """(cash, bonus, left to wager), checking the books balance first."""
    assert_ledger_conserved()
    bonus.refresh_from_db()
    cash, bonus_money = vk.cash_bonus()
    return cash, bonus_money, bonus.wagering_remaining


@pytest.fixture
def worked_example(db):
    """Cash 30, a bonus of 10 at 4× (40 to wager), slots counting 100%, through the adapter."""
    player = player_make()
    deposit(player, "30.00")
    bonus = grant(player)
    return Valkyrie(player), bonus


def _spin(vk: Valkyrie, n: int, stake: str, win: str | None = None) -> None:
    vk.ok("WITHDRAW", f"b-{n}", stake, round_id=f"r-{n}", game="slot")
    if win is not None:
        vk.ok("DEPOSIT", f"w-{n}", win, round_id=f"r-{n}", game="slot", game_over=True)


def _slots(vk: Valkyrie) -> None:
    vk.aggregator.games.create(game_id="slot", category="slots", reviewed=True)


def test_the_issues_worked_example_under_cash_stake_first(worked_example):
    vk, bonus = worked_example
    _slots(vk)
    policy(win_split="cash_stake_first")
    _spin(vk, 1, "10")
    assert state(vk, bonus) == (D("20.00"), D("10.00"), D("30"))
    _spin(vk, 2, "10", win="5")  # the win repays the cash part of the stake first
    assert state(vk, bonus) == (D("15.00"), D("10.00"), D("20"))
    _spin(vk, 3, "10", win="15")  # 10 repays the cash stake, 5 goes to the bonus
    assert state(vk, bonus) == (D("15.00"), D("15.00"), D("10"))
    _spin(vk, 4, "10")  # wagering reaches zero: the bonus converts
    assert state(vk, bonus) == (D("20.00"), D("0.00"), D("0"))
    assert bonus.status == Bonus.Status.COMPLETED


def test_the_same_sequence_under_proportional(worked_example):
    """Derivation: every stake comes from cash (cash first, and cash never runs out), so under
    `proportional` every win returns wholly to cash (stake sources 100% cash, 0% bonus):
    bet 10 → cash 30−10 = 20, bonus 10, to wager 40−10 = 30;
    bet 10, win 5 → cash 20−10+5 = 15, bonus 10, to wager 20;
    bet 10, win 15 → cash 15−10+15 = 20, bonus 10 (not 15: no share of the win is the
    bonus's), to wager 10;
    bet 10 → cash 10, to wager 0, the bonus converts: cash 10+10 = 20, bonus 0.
    Same end (the bonus converts in full either way); on the way the player held 5 more in
    withdrawable cash and 5 less in bonus after the third spin."""
    vk, bonus = worked_example
    _slots(vk)
    _spin(vk, 1, "10")
    assert state(vk, bonus) == (D("20.00"), D("10.00"), D("30"))
    _spin(vk, 2, "10", win="5")
    assert state(vk, bonus) == (D("15.00"), D("10.00"), D("20"))
    _spin(vk, 3, "10", win="15")
    assert state(vk, bonus) == (D("20.00"), D("10.00"), D("10"))
    _spin(vk, 4, "10")
    assert state(vk, bonus) == (D("20.00"), D("0.00"), D("0"))


@pytest.mark.parametrize("win_rule", ["proportional", "cash_stake_first"])
def test_a_stake_from_cash_and_bonus_wins_and_rolls_back(db, win_rule):
    """Cash 5, bonus 10: a bet of 10 takes 5 + 5. A win of 8 returns 4 + 4 (proportional) or
    5 + 3 (cash stake first); a rolled-back bet returns each part to where it came from."""
    policy(win_split=win_rule)
    player = player_make()
    deposit(player, "5.00")
    bonus = grant(player, multiplier=100)
    placed = bet(player, "10.00", game_category="slots")
    assert placed.details["cash"] == "5.00"
    assert placed.details["bonus"] == {str(bonus.pk): "5.00"}
    services.wallet_win_settle(
        player=player, currency="EUR", amount=D("8.00"), idempotency_key=key(), bets=[placed]
    )
    expected = {"proportional": ("4.00", "9.00"), "cash_stake_first": ("5.00", "8.00")}
    assert_ledger_conserved()
    assert _balances(player) == tuple(map(D, expected[win_rule]))
    second = bet(player, "6.00", game_category="slots")
    services.wallet_bet_rollback(
        player=player, currency="EUR", idempotency_key=key(), bets=[second]
    )
    assert_ledger_conserved()
    assert _balances(player) == tuple(map(D, expected[win_rule]))


def test_bonus_first_takes_the_bonus_before_cash(db):
    policy(bet_order="bonus_first")
    player = player_make()
    deposit(player, "30.00")
    bonus = grant(player, multiplier=100)
    placed = bet(player, "15.00", game_category="slots")
    assert (placed.details["cash"], placed.details["bonus"]) == ("5.00", {str(bonus.pk): "10.00"})
    assert _balances(player) == (D("25.00"), D("0.00"))
    assert_ledger_conserved()
    # proportional: 2/3 of the stake was bonus money, so 2/3 of the win is
    services.wallet_win_settle(
        player=player, currency="EUR", amount=D("30.00"), idempotency_key=key(), bets=[placed]
    )
    assert _balances(player) == (D("35.00"), D("20.00"))
    assert_ledger_conserved()
    again = bet(player, "4.00", game_category="slots")
    assert again.details["bonus"] == {str(bonus.pk): "4.00"}
    services.wallet_bet_rollback(player=player, currency="EUR", idempotency_key=key(), bets=[again])
    assert _balances(player) == (D("35.00"), D("20.00"))
    assert_ledger_conserved()


def test_bonus_first_with_cash_stake_first_through_the_adapter(db):
    policy(bet_order="bonus_first", win_split="cash_stake_first")
    player = player_make()
    deposit(player, "30.00")
    grant(player, multiplier=100)
    vk = Valkyrie(player)
    vk.ok("WITHDRAW", "b-1", "15.00", round_id="r-1")  # 10 bonus + 5 cash
    assert vk.cash_bonus() == (D("25.00"), D("0.00"))
    vk.ok("DEPOSIT", "w-1", "12.00", round_id="r-1", game_over=True)  # 5 cash back, 7 bonus
    assert vk.cash_bonus() == (D("30.00"), D("7.00"))
    vk.ok("WITHDRAW", "b-2", "9.00", round_id="r-2")  # 7 bonus + 2 cash
    vk.ok("CANCEL", "c-2", "9.00", round_id="r-2", bet_ref="b-2")
    assert vk.cash_bonus() == (D("30.00"), D("7.00"))
    assert_ledger_conserved()


def test_policies_are_per_currency(db):
    policy(bet_order="bonus_first", win_split="cash_stake_first", currency="USD")
    assert balance_policy("EUR") == DEFAULT
    assert balance_policy("USD").bet_order == "bonus_first"
    BalancePolicy.objects.filter(currency_id="USD").delete()
    assert balance_policy("USD") == DEFAULT


def _balances(player) -> tuple[Decimal, Decimal]:
    from wallet.selectors import wallet_balances

    held = wallet_balances(player=player)["EUR"]
    return D(held["cash"]), D(held["bonus"])


# --- the pure arithmetic -----------------------------------------------------------------------


def test_stake_split_orders():
    bonuses = [(1, D("4")), (2, D("6"))]
    assert stake_split(amount=D("12"), cash=D("5"), bonuses=bonuses) == (
        D("5"),
        {1: D("4"), 2: D("3")},
    )
    assert stake_split(amount=D("12"), cash=D("5"), bonuses=bonuses, bonus_first=True) == (
        D("2"),
        {1: D("4"), 2: D("6")},
    )
    with pytest.raises(ValueError):
        stake_split(amount=D("16"), cash=D("5"), bonuses=bonuses, bonus_first=True)


def test_win_split_cash_stake_first():
    split = win_split
    # the surplus goes to the bonus stakes in proportion, rounded down, remainder to the last
    assert split(
        amount=D("10"),
        cash_stake=D("3"),
        bonus_stakes={1: D("1"), 2: D("2")},
        quantum=CENT,
        cash_stake_first=True,
    ) == (D("3"), {1: D("2.33"), 2: D("4.67")})
    # a win below the cash stake is all cash
    assert split(
        amount=D("2"),
        cash_stake=D("3"),
        bonus_stakes={1: D("1")},
        quantum=CENT,
        cash_stake_first=True,
    ) == (D("2"), {})
    # an all-cash stake pays its surplus to the bonus the bet counted for, else to cash
    assert split(
        amount=D("15"),
        cash_stake=D("10"),
        bonus_stakes={},
        quantum=CENT,
        cash_stake_first=True,
        target_bonus=7,
    ) == (D("10"), {7: D("5")})
    assert split(
        amount=D("15"), cash_stake=D("10"), bonus_stakes={}, quantum=CENT, cash_stake_first=True
    ) == (D("15"), {})
