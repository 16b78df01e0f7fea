"""A rollback that arrives before its bet (providers send one when a bet timed out on their
side): accepted and remembered, moving nothing; the late bet is refused with its own reason
code, so the player never loses a stake that the provider considers cancelled."""

from decimal import Decimal

import pytest

from players.models import Activity
from tests.wallet.conftest import assert_ledger_conserved
from wallet.models import LedgerTransaction, RememberedRollback

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def ev(external_id: str, type_: str, amount: str = "10.00", **fields) -> dict:
    return {
        "external_id": external_id,
        "player_id": "ooo-1",
        "type": type_,
        "amount": amount,
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00+00:00",
        **fields,
    }


def send(client, *events):
    response = client.post(URL, {"events": list(events)}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def cash(result: dict) -> str:
    return result["balances"]["EUR"]["cash"]


def test_the_issue_case(service_client):
    [deposit] = send(service_client, ev("d-1", "deposit", "50.00"))
    [rollback] = send(service_client, ev("rb-1", "rollback", reference_id="b-1"))
    assert rollback["status"] == "applied"
    assert [w["code"] for w in rollback["warnings"]] == ["rollback_before_bet"]
    assert cash(rollback) == "50.00"
    [bet] = send(service_client, ev("b-1", "bet", round_id="r-1", game_category="slots"))
    assert bet["status"] == "rejected"
    assert bet["reason"]["code"] == "bet_rolled_back"
    assert cash(bet) == "50.00"
    [again] = send(service_client, ev("rb-1", "rollback", reference_id="b-1"))
    assert again["status"] == "duplicate" and again["original_status"] == "applied"
    assert cash(again) == "50.00"
    assert not Activity.objects.filter(external_id="b-1").exists()
    assert not LedgerTransaction.objects.filter(kind__in=["bet", "rollback"]).exists()
    assert_ledger_conserved()


def test_cancel_before_its_bet_inside_one_batch(service_client):
    results = send(
        service_client,
        ev("d-1", "deposit", "20.00"),
        ev("rb-1", "rollback", "5.00", reference_id="b-1"),
        ev("b-1", "bet", "5.00"),
        ev("b-2", "bet", "5.00"),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied"]
    assert results[2]["reason"]["code"] == "bet_rolled_back"
    assert cash(results[-1]) == "15.00"


def test_a_round_rolled_back_before_its_bets_refuses_them(service_client):
    results = send(
        service_client,
        ev("d-1", "deposit", "20.00"),
        ev("rb-r", "rollback", round_id="r-9"),
        ev("b-1", "bet", "5.00", round_id="r-9"),
        ev("b-2", "bet", "5.00", round_id="r-10"),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied"]
    assert cash(results[-1]) == "15.00"


def test_a_second_rollback_of_a_remembered_bet_is_refused(service_client):
    send(service_client, ev("d-1", "deposit", "20.00"))
    first, second = send(
        service_client,
        ev("rb-1", "rollback", reference_id="b-1"),
        ev("rb-2", "rollback", reference_id="b-1"),
    )
    assert first["status"] == "applied"
    assert second["status"] == "rejected"
    assert second["reason"]["code"] == "already_rolled_back"
    assert RememberedRollback.objects.count() == 1


def test_a_rollback_after_its_bet_still_refunds(service_client):
    results = send(
        service_client,
        ev("d-1", "deposit", "20.00"),
        ev("b-1", "bet", "5.00"),
        ev("rb-1", "rollback", "5.00", reference_id="b-1"),
    )
    assert [r["status"] for r in results] == ["applied"] * 3
    assert results[-1]["warnings"] == []
    assert cash(results[-1]) == "20.00"
    assert not RememberedRollback.objects.exists()


def test_a_rollback_with_no_reference_at_all_is_still_refused(service_client):
    [rollback] = send(service_client, ev("rb-1", "rollback"))
    assert rollback["status"] == "rejected"
    assert rollback["reason"]["code"] == "unknown_reference"


def test_a_remembered_rollback_moves_no_turnover(
    service_client, django_capture_on_commit_callbacks
):
    from players.models import PlayerMetrics

    with django_capture_on_commit_callbacks(execute=True):
        send(
            service_client,
            ev("d-1", "deposit", "50.00"),
            ev("rb-1", "rollback", "10.00", reference_id="b-1"),
            ev("b-1", "bet", "10.00"),
        )
    lifetime = PlayerMetrics.objects.get(player__external_id="ooo-1", window="lifetime")
    assert lifetime.turnover == Decimal(0)
    assert lifetime.bet_count == 0


def test_a_zero_stake_bet_after_its_rollback_is_refused_too(service_client):
    """The API refuses zero bets, but other doors (an aggregator's promo round) record them:
    through the ingestion path a zero bet whose rollback came first is refused all the same,
    so no win can be settled on a round the provider cancelled."""
    from django.utils.dateparse import parse_datetime

    from players.money import currency_get
    from wallet.events import EventInput, events_ingest

    send(service_client, ev("d-1", "deposit", "20.00"), ev("rb-1", "rollback", reference_id="b-0"))

    def event(external_id, type_, amount, **fields):
        return EventInput(
            external_id=external_id, player_id="ooo-1", type=type_, amount=Decimal(amount),
            currency=currency_get("EUR"), occurred_at=parse_datetime("2026-11-20T10:00:00+00:00"),
            **fields,
        )  # fmt: skip

    bet, win = events_ingest(
        events=[event("b-0", "bet", "0"), event("w-0", "win", "50.00", reference_id="b-0")]
    )
    assert (bet.status, bet.reason.code) == ("rejected", "bet_rolled_back")
    assert (win.status, win.reason.code) == ("rejected", "unknown_reference")
    assert win.balances["EUR"]["cash"] == "20.00"
