"""Wallet API: shapes, Idempotency-Key replay and conflict, roles, error codes."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tests.wallet.conftest import D
from wallet import services
from wallet.models import Bonus, IdempotentRequest, LedgerTransaction

pytestmark = pytest.mark.django_db

GRANT = {
    "amount": "50.00",
    "currency": "EUR",
    "wagering_multiplier": 10,
    "wagering_base": "bonus",
    "max_bet": "5.00",
    "expires_in_days": 7,
    "max_conversion": "500.00",
    "contribution_weights": {"slots": "1.0", "table": "0.1"},
    "reason": "goodwill",
}


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create(username="op")
    group, _ = Group.objects.get_or_create(name="operator")
    user.groups.add(group)
    return user


@pytest.fixture
def client(staff):
    api = APIClient()
    api.force_authenticate(staff)
    return api


def test_grant_answers_201_with_the_wallet_shape_and_replays(client, player):
    url = f"/api/v1/players/{player.external_id}/bonuses/"
    first = client.post(url, GRANT, format="json", HTTP_IDEMPOTENCY_KEY="g-1")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["wagering_required"] == "500.00"
    assert body["max_bet"] == "5.00" and body["status"] == "active"
    again = client.post(url, GRANT, format="json", HTTP_IDEMPOTENCY_KEY="g-1")
    assert (again.status_code, again.json()) == (201, body)
    assert Bonus.objects.count() == 1
    other = client.post(
        url, {**GRANT, "amount": "60.00"}, format="json", HTTP_IDEMPOTENCY_KEY="g-1"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"

    wallet = client.get(f"/api/v1/players/{player.external_id}/wallet/").json()
    assert wallet["balances"] == {"EUR": {"cash": "0.00", "bonus": "50.00"}}
    assert wallet["bonuses"][0]["wagering_remaining"] == "500.00"
    assert wallet["bonuses"][0]["expires_at"]


def test_money_calls_need_an_idempotency_key(client, player):
    response = client.post(f"/api/v1/players/{player.external_id}/bonuses/", GRANT, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_refusals_are_error_codes_and_replay_too(client, player):
    url = f"/api/v1/players/{player.external_id}/adjustments/"
    payload = {"amount": "-5.00", "currency": "EUR", "reason": "fix"}
    refused = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "insufficient_funds"
    services.wallet_deposit(player=player, currency="EUR", amount=D(10), idempotency_key="d")
    replay = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert replay.json() == refused.json()
    assert IdempotentRequest.objects.count() == 1


def test_adjustment_and_ledger(client, player, staff):
    url = f"/api/v1/players/{player.external_id}/adjustments/"
    response = client.post(
        url,
        {"amount": "12.50", "currency": "EUR", "reason": "goodwill"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="adj-1",
    )
    assert response.status_code == 201
    assert response.json()["balances"] == {"EUR": {"cash": "12.50", "bonus": "0.00"}}
    posted = LedgerTransaction.objects.get(pk=response.json()["transaction"])
    assert (posted.created_by, posted.reason) == (staff, "goodwill")
    ledger = client.get(f"/api/v1/players/{player.external_id}/ledger/").json()
    rows = ledger["results"] if isinstance(ledger, dict) else ledger
    assert [(r["kind"], r["account"], r["amount"]) for r in rows] == [
        ("adjustment", "cash", "12.50")
    ]


def test_forfeit_needs_reason_and_answers_409_when_not_active(client, player):
    bonus = services.bonus_grant(
        player=player, currency="EUR", amount=D(10), wagering_multiplier=D(1), idempotency_key="g"
    )
    url = f"/api/v1/bonuses/{bonus.pk}/forfeit/"
    assert client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="f-0").status_code == 400
    done = client.post(url, {"reason": "abuse"}, format="json", HTTP_IDEMPOTENCY_KEY="f-1")
    assert done.status_code == 200 and done.json()["status"] == "forfeited"
    again = client.post(url, {"reason": "abuse"}, format="json", HTTP_IDEMPOTENCY_KEY="f-2")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "bonus_not_active"


def test_unknown_player_is_404_and_analysts_cannot_write(player, django_user_model):
    analyst = django_user_model.objects.create(username="an")
    analyst.groups.add(Group.objects.get_or_create(name="analyst")[0])
    api = APIClient()
    api.force_authenticate(analyst)
    assert api.get("/api/v1/players/nobody/wallet/").status_code == 404
    assert api.get(f"/api/v1/players/{player.external_id}/wallet/").status_code == 200
    response = api.post(
        f"/api/v1/players/{player.external_id}/bonuses/",
        GRANT,
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert response.status_code == 403


@pytest.mark.parametrize("amount", ["50.001", "-5", "0"])
def test_bad_grant_amounts_are_400(client, player, amount):
    response = client.post(
        f"/api/v1/players/{player.external_id}/bonuses/",
        {**GRANT, "amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"bad-{amount}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_amount"
