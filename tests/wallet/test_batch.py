"""wallet.batch.rewards_pay_batch: many rewards in bulk, same books as the single services."""

from decimal import Decimal

import pytest

from players.models import BonusActivity
from tests.wallet.conftest import player_make
from wallet.batch import RewardPayment, rewards_pay_batch
from wallet.models import Account, Bonus, LedgerTransaction
from wallet.selectors import wallet_balances

pytestmark = pytest.mark.django_db
TERMS = {"wagering_multiplier": Decimal(10), "max_bet": Decimal("5.00")}


def test_cash_and_bonuses_in_one_batch_and_replays_pay_nothing():
    first, second = player_make(), player_make()
    blocked = player_make(status="blocked")
    payments = [
        RewardPayment(player_id=first.pk, currency="EUR", amount=Decimal("12.50"),
                      idempotency_key="r-1"),
        RewardPayment(player_id=second.pk, currency="EUR", amount=Decimal("20.00"),
                      idempotency_key="r-2", bonus_terms=TERMS),
        RewardPayment(player_id=first.pk, currency="EUR", amount=Decimal("5.00"),
                      idempotency_key="r-3", bonus_terms={"wagering_multiplier": 0}),
        RewardPayment(player_id=blocked.pk, currency="EUR", amount=Decimal("1.00"),
                      idempotency_key="r-4"),
        RewardPayment(player_id=second.pk, currency="EUR", amount=Decimal("1.005"),
                      idempotency_key="r-5"),
    ]  # fmt: skip
    rewards_pay_batch(payments)
    assert [p.error.code if p.error else None for p in payments] == [
        None, None, None, "player_blocked", "invalid_amount",
    ]  # fmt: skip
    assert wallet_balances(player=first)["EUR"] == {"cash": "17.50", "bonus": "0.00"}
    assert wallet_balances(player=second)["EUR"] == {"cash": "0.00", "bonus": "20.00"}
    bonus = Bonus.objects.get(pk=payments[1].bonus_id)
    assert (bonus.wagering_required, bonus.max_bet) == (Decimal("200.00"), Decimal("5.00"))
    assert Account.objects.get(bonus=bonus).balance == Decimal("20.00")
    assert BonusActivity.objects.count() == 4  # cash, 2 grants, the 0× conversion
    count = LedgerTransaction.objects.count()
    again = [RewardPayment(player_id=first.pk, currency="EUR", amount=Decimal("12.50"),
                           idempotency_key="r-1")]  # fmt: skip
    rewards_pay_batch(again)
    assert again[0].transaction_id == payments[0].transaction_id
    assert LedgerTransaction.objects.count() == count
