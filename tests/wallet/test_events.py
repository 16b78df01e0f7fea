"""The money of live events, through the one ingestion path (wallet/events.py)."""

import pytest
from django.utils import timezone

from config.errors import DomainError
from players.models import Activity
from players.money import currency_get
from tests.wallet.conftest import D
from wallet.events import EventInput, events_ingest
from wallet.models import LedgerTransaction

pytestmark = pytest.mark.django_db


def event(player, type_, amount, external_id, currency="EUR", **fields):
    """The balances after the event; its rejection raised as the DomainError it was."""
    [outcome] = events_ingest(
        events=[
            EventInput(
                external_id=external_id,
                player_id=player.external_id,
                type=type_,
                amount=D(amount),
                currency=currency_get(currency),
                occurred_at=timezone.now(),
                **fields,
            )
        ]
    )
    if outcome.status == "rejected":
        raise DomainError(outcome.reason.code, outcome.reason.message)
    assert outcome.status == "applied"
    assert Activity.objects.filter(pk=outcome.activity_id, player=player).exists()
    return outcome.balances


def test_deposit_bet_win_by_reference_and_by_round(player):
    assert event(player, "deposit", "100.00", "d1") == {"EUR": {"cash": "100.00", "bonus": "0.00"}}
    event(player, "bet", "30.00", "b1", round_id="r1", game_category="slots")
    assert event(player, "win", "50.00", "w1", reference_id="b1")["EUR"]["cash"] == "120.00"
    event(player, "bet", "20.00", "b2", round_id="r2")
    assert event(player, "win", "5.00", "w2", round_id="r2")["EUR"]["cash"] == "105.00"
    win = LedgerTransaction.objects.get(idempotency_key="event:api:w1")
    assert win.activity.external_id == "w1"


def test_rollback_by_reference_restores_the_stake(player):
    event(player, "deposit", "10.00", "d1")
    event(player, "bet", "4.00", "b1")
    assert event(player, "rollback", "4.00", "rb1", reference_id="b1")["EUR"]["cash"] == "10.00"
    with pytest.raises(DomainError) as err:
        event(player, "rollback", "4.00", "rb2", reference_id="b1")
    assert err.value.code == "already_rolled_back"


@pytest.mark.parametrize(
    ("type_", "fields", "code"),
    [
        ("win", {"reference_id": "nope"}, "unknown_reference"),
        ("rollback", {}, "unknown_reference"),
    ],
)
def test_unknown_references_are_refused(player, type_, fields, code):
    event(player, "deposit", "10.00", "d1")
    with pytest.raises(DomainError) as err:
        event(player, type_, "1.00", "x1", **fields)
    assert err.value.code == code


def test_win_in_another_currency_than_its_bet(player):
    event(player, "deposit", "10.00", "d1")
    event(player, "bet", "4.00", "b1")
    with pytest.raises(DomainError) as err:
        event(player, "win", "1.00", "w1", currency="USD", reference_id="b1")
    assert err.value.code == "currency_mismatch"


def test_bet_without_funds_is_refused_and_zero_win_moves_nothing(player):
    with pytest.raises(DomainError) as err:
        event(player, "bet", "1.00", "b1")
    assert err.value.code == "insufficient_funds"
    event(player, "deposit", "1.00", "d1")
    event(player, "bet", "1.00", "b2")
    assert event(player, "win", "0", "w0", reference_id="b2") == {
        "EUR": {"cash": "0.00", "bonus": "0.00"}
    }


def test_chargeback_takes_what_cash_holds(player):
    event(player, "deposit", "10.00", "d1")
    event(player, "bet", "8.00", "b1")
    assert event(player, "chargeback", "10.00", "cb1")["EUR"]["cash"] == "0.00"
    chargeback = LedgerTransaction.objects.get(kind="chargeback")
    assert chargeback.details == {"taken": "2.00", "shortfall": "8.00"}


def test_events_api_moves_money_and_rejects_with_reason_codes(service_client):
    base = {"player_id": "api-p1", "currency": "EUR", "occurred_at": "2026-11-20T10:00:00Z"}
    body = {
        "events": [
            {**base, "external_id": "e1", "type": "deposit", "amount": "70.00"},
            {**base, "external_id": "e2", "type": "bet", "amount": "80.00"},
            {**base, "external_id": "e3", "type": "bet", "amount": "20.00", "round_id": "r"},
            {**base, "external_id": "e4", "type": "win", "amount": "5.00", "reference_id": "zz"},
            {**base, "external_id": "e5", "type": "win", "amount": "5.00", "round_id": "r"},
        ]
    }
    results = service_client.post("/api/v1/events/", body, format="json").json()["results"]
    assert [(r["status"], (r["reason"] or {}).get("code")) for r in results] == [
        ("applied", None),
        ("rejected", "insufficient_funds"),
        ("applied", None),
        ("rejected", "unknown_reference"),
        ("applied", None),
    ]
    assert results[1]["balances"] == {"EUR": {"cash": "70.00", "bonus": "0.00"}}
    assert results[-1]["balances"] == {"EUR": {"cash": "55.00", "bonus": "0.00"}}
    assert LedgerTransaction.objects.filter(player__external_id="api-p1").count() == 3
