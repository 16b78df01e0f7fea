"""Eligibility (SPEC §7 step 1): one answer, and every reward path refuses an ineligible player."""

from decimal import Decimal

import numpy as np
import pytest

from config.errors import DomainError
from players.models import Player
from players.services import player_status_set
from safety.eligibility import (
    eligibility_refusal_codes,
    player_reward_refusal,
    players_reward_refusals,
)
from safety.models import SafetyPolicy
from tests.factories import PlayerFactory
from wallet.models import Bonus, LedgerTransaction
from wallet.services import bonus_grant, wallet_cash_reward_pay

pytestmark = pytest.mark.django_db

INELIGIBLE = [
    ({"status": "blocked"}, "blocked", "player_blocked"),
    ({"status": "self_excluded"}, "self_excluded", "player_blocked"),
    ({"status": "closed"}, "closed", "player_blocked"),
    ({"no_bonus": True}, "no_bonus", "bonus_not_allowed"),
    ({"risk_score": 80}, "risk_blocked", "risk_blocked"),
]


def test_an_active_player_may_be_rewarded():
    assert player_reward_refusal(PlayerFactory(risk_score=79)) is None


@pytest.mark.parametrize(("fields", "code", "_error"), INELIGIBLE)
def test_refusal_says_why(fields, code, _error):
    refusal = player_reward_refusal(PlayerFactory(**fields))
    assert refusal is not None and refusal.code == code and refusal.message


def test_stale_copy_of_the_player_sees_todays_status():
    player = PlayerFactory()
    Player.objects.filter(pk=player.pk).update(status="self_excluded")
    assert player.status == "active"  # the caller's old copy
    assert player_reward_refusal(player).code == "self_excluded"


def test_block_threshold_is_policy_data():
    player = PlayerFactory(risk_score=60)
    assert player_reward_refusal(player) is None
    SafetyPolicy.objects.update_or_create(pk=1, defaults={"block_threshold": 60})
    assert player_reward_refusal(player).code == "risk_blocked"


def test_set_based_and_vectorised_answers_agree():
    players = [PlayerFactory(**fields) for fields, _, _ in INELIGIBLE] + [PlayerFactory()]
    refusals = players_reward_refusals(player_ids=[p.pk for p in players])
    assert [refusals.get(p.pk).code if p.pk in refusals else "" for p in players] == [
        "blocked", "self_excluded", "closed", "no_bonus", "risk_blocked", "",
    ]  # fmt: skip
    codes = eligibility_refusal_codes(
        status=np.array([p.status for p in players], dtype=object),
        no_bonus=np.array([p.no_bonus for p in players]),
        risk_score=np.array([p.risk_score for p in players]),
    )
    assert list(codes) == ["blocked", "self_excluded", "closed", "no_bonus", "risk_blocked", ""]


def _grant(player, key="g-1"):
    return bonus_grant(
        player=player, currency="EUR", amount=Decimal("20.00"), wagering_multiplier=10,
        idempotency_key=key,
    )  # fmt: skip


@pytest.mark.parametrize(("fields", "_code", "error"), INELIGIBLE)
def test_bonus_grant_service_refuses(fields, _code, error):
    with pytest.raises(DomainError) as refused:
        _grant(PlayerFactory(**fields))
    assert refused.value.code == error
    assert not Bonus.objects.exists()


@pytest.mark.parametrize(("fields", "_code", "error"), INELIGIBLE)
def test_cash_reward_refuses(fields, _code, error):
    with pytest.raises(DomainError) as refused:
        wallet_cash_reward_pay(
            player=PlayerFactory(**fields), currency="EUR", amount=Decimal("5.00"),
            reason="cashback", idempotency_key="cb-1",
        )  # fmt: skip
    assert refused.value.code == error
    assert not LedgerTransaction.objects.exists()


def test_reward_queued_before_self_exclusion_is_refused_at_payment():
    player = PlayerFactory()
    queued_copy = Player.objects.get(pk=player.pk)  # what a review queue holds
    player_status_set(player=player, status="self_excluded")
    with pytest.raises(DomainError) as refused:
        wallet_cash_reward_pay(
            player=queued_copy, currency="EUR", amount=Decimal("5.00"), reason="approved",
            idempotency_key="late",
        )  # fmt: skip
    assert refused.value.code == "player_blocked"


@pytest.mark.parametrize(("fields", "_code", "error"), INELIGIBLE)
def test_api_manual_grant_refuses(admin_client_api, fields, _code, error):
    player = PlayerFactory(**fields)
    response = admin_client_api.post(
        f"/api/v1/players/{player.external_id}/bonuses/",
        {"amount": "50.00", "currency": "EUR", "wagering_multiplier": 10, "reason": "goodwill"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code in (400, 403), response.content
    assert response.json()["error"]["code"] == error
    assert not Bonus.objects.exists()


def test_admin_grant_refuses(admin_client):
    player = PlayerFactory(status="self_excluded")
    response = admin_client.post(
        "/admin/wallet/bonus/add/",
        {"player": player.external_id, "currency": "EUR", "amount": "10", "wagering_multiplier": 1,
         "wagering_base": "bonus", "reason": "goodwill", "key": "adm-1"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "self_excluded" in response.content.decode()
    assert not Bonus.objects.exists()


@pytest.mark.parametrize("status", ["self_excluded", "closed"])
def test_leaving_forfeits_active_bonuses_with_a_ledger_reason(status):
    player = PlayerFactory()
    bonus = _grant(player)
    player_status_set(player=player, status=status)
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED
    forfeit = LedgerTransaction.objects.get(bonus=bonus, kind=LedgerTransaction.Kind.BONUS_FORFEIT)
    assert forfeit.reason == f"player status {status}"
