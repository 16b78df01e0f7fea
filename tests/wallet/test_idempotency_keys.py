"""When an Idempotency-Key is consumed (docs/api.md): a request refused by validation ran
nothing and stores nothing, so its corrected retry under the same key goes through; a refusal
that depends on the wallet's state is stored and replayed. One rule for every money-moving
endpoint."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tests.wallet.conftest import D
from wallet import services
from wallet.models import Bonus, IdempotentRequest, LedgerTransaction

pytestmark = pytest.mark.django_db

GRANT = {"amount": "50.00", "currency": "EUR", "wagering_multiplier": 10, "reason": "goodwill"}


@pytest.fixture
def client(django_user_model):
    user = django_user_model.objects.create(username="op")
    user.groups.add(Group.objects.get_or_create(name="operator")[0])
    api = APIClient()
    api.force_authenticate(user)
    return api


def post(client, url: str, body: dict, key: str):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": "50.005"},  # more decimals than EUR has
        {"currency": "ERU"},  # no such currency
        {"amount": "0.00"},  # not positive
        {"max_bet": "1.001"},  # a term too precise
        {"wagering_base": "bonus+deposit"},  # a deposit base without a deposit amount
        {"contribution_weights": {"slots": "eleven"}},  # a weight that is not a number
    ],
)
def test_a_grant_refused_by_validation_leaves_its_key_unused(client, player, bad):
    url = f"/api/v1/players/{player.external_id}/bonuses/"
    refused = post(client, url, {**GRANT, **bad}, "g-1")
    assert refused.status_code == 400, refused.json()
    assert not IdempotentRequest.objects.exists()
    corrected = post(client, url, GRANT, "g-1")
    assert corrected.status_code == 201, corrected.json()
    assert Bonus.objects.filter(player=player).count() == 1
    assert post(client, url, GRANT, "g-1").json() == corrected.json()  # now it replays


@pytest.mark.parametrize(
    "bad",
    [{"amount": "10.001"}, {"currency": "ERU"}, {"amount": "0"}, {"reason": "   "}],
)
def test_an_adjustment_refused_by_validation_leaves_its_key_unused(client, player, bad):
    url = f"/api/v1/players/{player.external_id}/adjustments/"
    good = {"amount": "10.00", "currency": "EUR", "reason": "goodwill"}
    refused = post(client, url, {**good, **bad}, "a-1")
    assert refused.status_code == 400, refused.json()
    assert not IdempotentRequest.objects.exists()
    assert post(client, url, good, "a-1").status_code == 201
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 1


def test_a_forfeit_without_a_reason_leaves_its_key_unused(client, player):
    bonus = services.bonus_grant(
        player=player, currency="EUR", amount=D(10), wagering_multiplier=D(1), idempotency_key="g"
    )
    url = f"/api/v1/bonuses/{bonus.pk}/forfeit/"
    assert post(client, url, {"reason": ""}, "f-1").status_code == 400
    assert post(client, url, {"reason": "abuse"}, "f-1").status_code == 200


def test_a_refusal_that_depends_on_the_state_consumes_the_key(client, player):
    url = f"/api/v1/players/{player.external_id}/adjustments/"
    debit = {"amount": "-5.00", "currency": "EUR", "reason": "fix"}
    refused = post(client, url, debit, "a-1")
    assert refused.json()["error"]["code"] == "insufficient_funds"
    services.wallet_deposit(player=player, currency="EUR", amount=D(10), idempotency_key="d")
    assert post(client, url, debit, "a-1").json() == refused.json()  # replayed, not re-run
    assert post(client, url, {**debit, "amount": "-4.00"}, "a-1").status_code == 409


def test_invalid_terms_for_a_blocked_player_do_not_consume_the_key(client, player):
    player.status = "blocked"
    player.save(update_fields=["status"])
    url = f"/api/v1/players/{player.external_id}/bonuses/"
    refused = post(client, url, {**GRANT, "wagering_multiplier": 5000}, "g-1")
    assert refused.json()["error"]["code"] == "invalid_terms"  # the request first, then state
    assert not IdempotentRequest.objects.exists()
    blocked = post(client, url, GRANT, "g-1")
    assert blocked.json()["error"]["code"] == "player_blocked"  # consumes it
    assert IdempotentRequest.objects.count() == 1
