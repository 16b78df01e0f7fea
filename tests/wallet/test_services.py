"""Wallet services: every operation, its refusals, bonus lifecycle and the BonusActivity facts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.errors import DomainError
from players.models import BonusActivity, Player
from tests.wallet.conftest import D, bet, deposit, key, player_make
from wallet import services
from wallet.models import Account, Bonus, LedgerTransaction
from wallet.selectors import house_balances, wallet_balances, wallet_overview

pytestmark = pytest.mark.django_db


def grant(player, amount="50.00", **terms):
    terms.setdefault("wagering_multiplier", D(10))
    return services.bonus_grant(
        player=player, currency="EUR", amount=D(amount), idempotency_key=key(), **terms
    )


def test_deposit_and_withdraw_move_cash_against_the_bank(player):
    deposit(player, "100.00")
    services.wallet_withdraw(
        player=player, currency="EUR", amount=D("30.00"), idempotency_key=key()
    )
    assert wallet_balances(player=player) == {"EUR": {"cash": "70.00", "bonus": "0.00"}}
    assert house_balances(currency="EUR") == {"house_bank": D("-70.00")}


def test_withdrawal_beyond_cash_is_refused(player):
    deposit(player, "10.00")
    with pytest.raises(DomainError) as err:
        services.wallet_withdraw(
            player=player, currency="EUR", amount=D("10.01"), idempotency_key=key()
        )
    assert err.value.code == "insufficient_funds"


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "1e12"])
def test_bad_amounts_are_refused_not_rounded(player, amount):
    with pytest.raises(DomainError) as err:
        deposit(player, amount)
    assert err.value.code == "invalid_amount"


def test_bet_takes_cash_first_then_bonus(player):
    deposit(player, "10.00")
    bonus = grant(player, "50.00")
    posted = bet(player, "15.00", game_category="slots")
    assert posted.details["cash"] == "10.00"
    assert posted.details["bonus"] == {str(bonus.pk): "5.00"}
    assert wallet_balances(player=player) == {"EUR": {"cash": "0.00", "bonus": "45.00"}}
    bonus.refresh_from_db()
    assert bonus.wagering_done == D("15")


def test_bet_refused_without_funds_and_over_max_bet(player):
    deposit(player, "5.00")
    with pytest.raises(DomainError) as err:
        bet(player, "5.01")
    assert err.value.code == "insufficient_funds"
    grant(player, "50.00", max_bet=D("2.00"))
    with pytest.raises(DomainError) as err:
        bet(player, "2.01")
    assert err.value.code == "max_bet_exceeded"
    bet(player, "2.00")


def test_win_splits_in_proportion_to_the_stake_sources(player):
    deposit(player, "10.00")
    bonus = grant(player, "30.00")
    stake = bet(player, "40.00")  # 10 cash + 30 bonus
    services.wallet_win_settle(
        player=player, currency="EUR", amount=D("100.00"), idempotency_key=key(), bets=[stake]
    )
    assert wallet_balances(player=player) == {"EUR": {"cash": "25.00", "bonus": "75.00"}}
    assert Account.objects.get(bonus=bonus).balance == D("75.00")


def test_win_share_rounds_cash_down(player):
    deposit(player, "1.00")
    grant(player, "2.00")
    stake = bet(player, "3.00")
    services.wallet_win_settle(
        player=player, currency="EUR", amount=D("1.00"), idempotency_key=key(), bets=[stake]
    )
    assert wallet_balances(player=player) == {"EUR": {"cash": "0.33", "bonus": "0.67"}}


def test_rollback_restores_stake_and_wagering_once(player):
    deposit(player, "10.00")
    bonus = grant(player, "20.00")
    stake = bet(player, "25.00", game_category="slots")
    bonus.refresh_from_db()
    assert bonus.wagering_done == D("25")
    services.wallet_bet_rollback(
        player=player, currency="EUR", idempotency_key=key(), bets=[stake], amount=D("25.00")
    )
    bonus.refresh_from_db()
    assert bonus.wagering_done == 0
    assert wallet_balances(player=player) == {"EUR": {"cash": "10.00", "bonus": "20.00"}}
    with pytest.raises(DomainError) as err:
        services.wallet_bet_rollback(
            player=player, currency="EUR", idempotency_key=key(), bets=[stake]
        )
    assert err.value.code == "already_rolled_back"


def test_win_on_a_rolled_back_bet_is_refused_and_writes_nothing(player):
    deposit(player, "10.00")
    stake = bet(player, "4.00")
    services.wallet_bet_rollback(player=player, currency="EUR", idempotency_key=key(), bets=[stake])
    with pytest.raises(DomainError) as err:
        services.wallet_win_settle(
            player=player, currency="EUR", amount=D("8.00"), idempotency_key=key(), bets=[stake]
        )
    assert err.value.code == "already_rolled_back"
    assert not LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.WIN).exists()
    assert wallet_balances(player=player) == {"EUR": {"cash": "10.00", "bonus": "0.00"}}


def test_win_over_a_round_leaves_out_the_rolled_back_bet(player):
    deposit(player, "1.00")
    grant(player, "10.00")
    from_cash = bet(player, "1.00")  # all cash
    from_bonus = bet(player, "3.00")  # all bonus
    services.wallet_bet_rollback(
        player=player, currency="EUR", idempotency_key=key(), bets=[from_cash]
    )
    win = services.wallet_win_settle(
        player=player,
        currency="EUR",
        amount=D("6.00"),
        idempotency_key=key(),
        bets=[from_cash, from_bonus],
    )
    assert win.details["bets"] == [from_bonus.pk]
    assert win.details["cash"] == "0.00"
    assert wallet_balances(player=player) == {"EUR": {"cash": "1.00", "bonus": "13.00"}}


def test_grant_copies_terms_and_records_bonus_activity(player):
    bonus = grant(
        player,
        "50.00",
        wagering_multiplier=D(5),
        wagering_base="bonus_plus_deposit",
        deposit_amount=D("50.00"),
        contribution_weights={"slots": "1", "table": "0.1"},
        game_weights={"blackjack-pro": "0.05"},
        max_conversion=D("100.00"),
    )
    assert bonus.wagering_required == D("500")
    assert bonus.contribution_weights == {"slots": "1", "table": "0.1"}
    fact = BonusActivity.objects.get(player=player)
    assert (fact.kind, fact.player_amount) == ("granted", D("50"))
    view = wallet_overview(player=player)["bonuses"][0]
    assert view["wagering_remaining"] == "500.00"
    assert view["balance"] == "50.00"


def test_contribution_weights_with_game_override(player):
    bonus = grant(
        player,
        "100.00",
        contribution_weights={"slots": "1", "table": "0.1"},
        game_weights={"slot-x": "0.5"},
    )
    bet(player, "10.00", game_category="table")
    bet(player, "10.00", game_category="slots", game_id="slot-x")
    bet(player, "10.00", game_category="slots")
    bet(player, "10.00", game_category="live")  # not in the grant's weights: contributes 0
    bonus.refresh_from_db()
    assert bonus.wagering_done == D("1") + D("5") + D("10")


def test_wagering_completion_converts_up_to_cap_and_forfeits_rest(player):
    bonus = grant(player, "50.00", wagering_multiplier=D(1), max_conversion=D("20.00"))
    stake = bet(player, "10.00", game_category="slots")
    services.wallet_win_settle(
        player=player, currency="EUR", amount=D("40.00"), idempotency_key=key(), bets=[stake]
    )
    assert wallet_balances(player=player)["EUR"] == {"cash": "0.00", "bonus": "80.00"}
    bet(player, "40.00", game_category="slots")  # wagering 50 >= 50: converts 40 -> cap 20
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.COMPLETED
    assert wallet_balances(player=player)["EUR"] == {"cash": "20.00", "bonus": "0.00"}
    assert house_balances(currency="EUR")["house_bonus_forfeit"] == D("20.00")
    kinds = sorted(BonusActivity.objects.filter(player=player).values_list("kind", flat=True))
    assert kinds == ["converted", "granted"]
    with pytest.raises(DomainError):
        services.bonus_forfeit(bonus=bonus, reason="late")


def test_win_share_of_a_forfeited_bonus_is_not_paid(player):
    bonus = grant(player, "10.00")
    stake = bet(player, "10.00")
    services.bonus_forfeit(bonus=bonus, reason="abuse")
    services.wallet_win_settle(
        player=player, currency="EUR", amount=D("30.00"), idempotency_key=key(), bets=[stake]
    )
    assert wallet_balances(player=player)["EUR"] == {"cash": "0.00", "bonus": "0.00"}
    assert house_balances(currency="EUR")["house_bonus_forfeit"] == D("30.00")


def test_forfeit_needs_a_reason_and_is_forward_only(player):
    bonus = grant(player, "10.00")
    with pytest.raises(DomainError) as err:
        services.bonus_forfeit(bonus=bonus, reason="  ")
    assert err.value.code == "reason_required"
    services.bonus_forfeit(bonus=bonus, reason="staff decision")
    bonus.refresh_from_db()
    assert (bonus.status, bonus.end_reason) == ("forfeited", "staff decision")
    with pytest.raises(DomainError) as err:
        services.bonus_forfeit(bonus=bonus, reason="again")
    assert err.value.code == "bonus_not_active"


def test_withdrawal_forfeits_unwagered_bonuses_and_says_so(player):
    deposit(player, "20.00")
    bonus = grant(player, "10.00")
    posted = services.wallet_withdraw(
        player=player, currency="EUR", amount=D("5.00"), idempotency_key=key()
    )
    assert posted.details["forfeited_bonuses"] == [bonus.pk]
    bonus.refresh_from_db()
    assert bonus.status == "forfeited"
    assert wallet_balances(player=player)["EUR"] == {"cash": "15.00", "bonus": "0.00"}


def test_expiry_job_expires_only_due_bonuses(player):
    due = grant(player, "10.00", expires_at=timezone.now() + timedelta(minutes=1))
    later = grant(player, "10.00", expires_at=timezone.now() + timedelta(days=3))
    assert services.bonuses_expire(now=timezone.now() + timedelta(hours=1)) == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == ("expired", "active")
    assert wallet_balances(player=player)["EUR"]["bonus"] == "10.00"


def test_expiry_task_wraps_the_service(player):
    from wallet.tasks import bonuses_expire

    grant(player, "10.00", expires_at=timezone.now() + timedelta(seconds=1))
    Bonus.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bonuses_expire.delay().get() == 1


def test_forfeit_all_for_self_exclusion(player):
    grant(player, "10.00")
    grant(player, "5.00")
    ended = services.bonuses_forfeit_all(player=player, reason="self-excluded")
    assert len(ended) == 2
    assert not Bonus.objects.filter(player=player, status="active").exists()


@pytest.mark.parametrize("status", ["blocked", "self_excluded", "closed"])
def test_non_active_players_may_not_deposit_bet_or_get_bonuses(status):
    player = player_make()
    deposit(player, "10.00")
    Player.objects.filter(pk=player.pk).update(status=status)
    player.refresh_from_db()
    for call in (
        lambda: deposit(player, "1.00"),
        lambda: bet(player, "1.00"),
        lambda: grant(player),
    ):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "player_blocked"
    services.wallet_withdraw(
        player=player, currency="EUR", amount=D("10.00"), idempotency_key=key()
    )


def test_no_bonus_flag_refuses_grants():
    player = player_make(no_bonus=True)
    with pytest.raises(DomainError) as err:
        grant(player)
    assert err.value.code == "bonus_not_allowed"


def test_adjustment_needs_reason_and_cannot_overdraw(player, django_user_model):
    staff = django_user_model.objects.create(username="staff")
    with pytest.raises(DomainError):
        services.wallet_adjust(
            player=player, currency="EUR", amount=D("5"), reason="", idempotency_key=key()
        )
    posted = services.wallet_adjust(
        player=player,
        currency="EUR",
        amount=D("5.00"),
        reason="goodwill",
        idempotency_key=key(),
        by=staff,
    )
    assert (posted.created_by, posted.reason) == (staff, "goodwill")
    with pytest.raises(DomainError) as err:
        services.wallet_adjust(
            player=player, currency="EUR", amount=D("-5.01"), reason="fix", idempotency_key=key()
        )
    assert err.value.code == "insufficient_funds"


def test_grant_replays_by_idempotency_key(player):
    first = services.bonus_grant(
        player=player, currency="EUR", amount=D(5), wagering_multiplier=D(1), idempotency_key="k1"
    )
    again = services.bonus_grant(
        player=player, currency="EUR", amount=D(5), wagering_multiplier=D(1), idempotency_key="k1"
    )
    assert first.pk == again.pk
    assert LedgerTransaction.objects.filter(kind="bonus_grant").count() == 1


def test_cash_reward_is_bonus_cost(player):
    services.wallet_cash_reward_pay(
        player=player, currency="EUR", amount=D("7.50"), reason="cashback", idempotency_key=key()
    )
    assert wallet_balances(player=player)["EUR"]["cash"] == "7.50"
    assert BonusActivity.objects.get(player=player).kind == "cash_paid"


def test_multi_currency_balances_and_player_currency_facts():
    player = player_make(currency="EUR")
    deposit(player, "10.00", currency="USD")
    services.bonus_grant(
        player=player,
        currency="USD",
        amount=D("100.00"),
        wagering_multiplier=D(1),
        idempotency_key=key(),
    )
    assert wallet_balances(player=player) == {"USD": {"cash": "10.00", "bonus": "100.00"}}
    assert BonusActivity.objects.get(player=player).player_amount == Decimal("92.00000000")


def test_a_bonus_past_expiry_is_expired_before_a_bet_can_use_it(player):
    bonus = grant(player, "10.00", expires_at=timezone.now() + timedelta(minutes=1))
    Bonus.objects.filter(pk=bonus.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DomainError) as err:
        bet(player, "5.00")
    assert err.value.code == "insufficient_funds"
    deposit(player, "5.00")
    bet(player, "5.00")
    bonus.refresh_from_db()
    assert bonus.status == "expired"
