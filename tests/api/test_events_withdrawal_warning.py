"""A withdrawal event that forfeits unwagered bonuses says so in its answer, and on replay."""

from decimal import Decimal

import pytest

from players.models import Player
from wallet.models import Bonus
from wallet.services import bonus_grant

pytestmark = pytest.mark.django_db


def event(external_id: str, type_: str, amount: str) -> dict:
    return {
        "external_id": external_id,
        "player_id": "warned",
        "type": type_,
        "amount": amount,
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
    }


def test_withdrawal_reports_forfeited_bonuses(service_client):
    service_client.post("/api/v1/events/", event("dep", "deposit", "100.00"), format="json")
    player = Player.objects.get(external_id="warned")
    bonus = bonus_grant(
        player=player,
        currency="EUR",
        amount=Decimal("20.00"),
        wagering_multiplier=10,
        idempotency_key="grant-warned",
    )

    answer = service_client.post(
        "/api/v1/events/", event("wd", "withdrawal", "50.00"), format="json"
    )
    outcome = answer.json()["results"][0]
    assert outcome["status"] == "applied"
    assert outcome["warnings"] == [
        {
            "code": "bonuses_forfeited",
            "message": "The withdrawal forfeited active bonuses whose wagering was incomplete.",
            "bonus_ids": [bonus.pk],
        }
    ]
    assert outcome["balances"]["EUR"] == {"cash": "50.00", "bonus": "0.00"}
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED

    replay = service_client.post(
        "/api/v1/events/", event("wd", "withdrawal", "50.00"), format="json"
    )
    assert replay.json()["results"][0]["status"] == "duplicate"
    assert replay.json()["results"][0]["warnings"] == outcome["warnings"]


def test_plain_withdrawal_has_no_warnings(service_client):
    service_client.post("/api/v1/events/", event("dep2", "deposit", "30.00"), format="json")
    answer = service_client.post(
        "/api/v1/events/", event("wd2", "withdrawal", "10.00"), format="json"
    )
    assert answer.json()["results"][0]["warnings"] == []
