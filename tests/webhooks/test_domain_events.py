"""What the apps emit: bonus grants and endings (wallet), segment changes (players), finished
imports (importer) — each in the outbox with the data docs/webhooks.md shows."""

from decimal import Decimal

import pytest

from players.services import players_refresh
from tests.factories import PlayerFactory
from tests.wallet.conftest import assert_ledger_conserved
from wallet import services as wallet
from webhooks import services
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed():
    def subscribe(*types):
        return services.endpoint_create(url="https://crm.example.com/h", event_types=types)[0]

    return subscribe


def events(event_type: str) -> list[dict]:
    return [e.data for e in WebhookEvent.objects.filter(type=event_type).order_by("created_at")]


def test_bonus_granted_and_forfeited(subscribed):
    subscribed("bonus.granted", "bonus.forfeited")
    player = PlayerFactory(external_id="p-hook")
    bonus = wallet.bonus_grant(
        player=player,
        currency="EUR",
        amount=Decimal("25.00"),
        wagering_multiplier=Decimal(10),
        idempotency_key="g-1",
        reason="goodwill",
    )
    [granted] = events("bonus.granted")
    assert granted == {
        "bonus_id": bonus.pk,
        "player": "p-hook",
        "currency": "EUR",
        "amount": "25.00",
        "status": "active",
        "wagering_required": "250.00",
        "expires_at": None,
        "source": "manual",
        "reason": "goodwill",
    }
    wallet.bonus_forfeit(bonus=bonus, reason="abuse")
    [forfeited] = events("bonus.forfeited")
    assert forfeited["status"] == "forfeited"
    assert (forfeited["converted"], forfeited["forfeited"]) == ("0.00", "25.00")
    assert forfeited["reason"] == "abuse"
    assert_ledger_conserved()


def test_a_completed_bonus(subscribed):
    subscribed("bonus.completed")
    player = PlayerFactory()
    wallet.bonus_grant(
        player=player,
        currency="EUR",
        amount=Decimal("5.00"),
        wagering_multiplier=Decimal(0),
        idempotency_key="g-0",
    )
    [completed] = events("bonus.completed")
    assert completed["status"] == "completed" and completed["converted"] == "5.00"


def test_nothing_is_written_when_nobody_subscribes(subscribed):
    subscribed("import.finished")
    wallet.bonus_grant(
        player=PlayerFactory(),
        currency="EUR",
        amount=Decimal("5.00"),
        wagering_multiplier=Decimal(1),
        idempotency_key="g-2",
    )
    assert not WebhookEvent.objects.exists()


def test_segment_changes(subscribed):
    subscribed("segment.changed")
    player = PlayerFactory(external_id="p-seg", segment="vip")  # no activity: really `new`
    players_refresh(player_ids=[player.pk])
    [change] = events("segment.changed")
    assert (change["player"], change["from"], change["to"]) == ("p-seg", "vip", "new")
    assert "metrics" in change and change["changed_at"]
    players_refresh(player_ids=[player.pk])  # no change, no event
    assert len(events("segment.changed")) == 1


def test_a_new_fraud_flag_is_an_event_and_a_rescore_is_not(subscribed):
    from safety.fraud import FlagDraft
    from safety.services import flags_raise

    subscribed("fraud.flagged")
    player = PlayerFactory(external_id="p-ring")
    draft = FlagDraft(
        player_id=player.pk,
        signal="shared_device",
        key="dev-77",
        evidence={"value": "dev-77", "players": ["p-ring", "p-2"]},
    )
    flags_raise([draft])
    [flagged] = events("fraud.flagged")
    assert (flagged["player"], flagged["signal"], flagged["status"]) == (
        "p-ring",
        "shared_device",
        "open",
    )
    assert flagged["evidence"]["value"] == "dev-77" and flagged["score"] > 0
    flags_raise([draft])  # the same flag again: rescored, not a new event
    assert len(events("fraud.flagged")) == 1
