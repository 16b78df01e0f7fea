"""POST /api/v1/events/: single and batch, idempotency, per-event rejections (SPEC §10)."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from players.models import (
    Activity,
    EventReceipt,
    ExchangeRate,
    Player,
    PlayerMetrics,
    SegmentChange,
)
from tests.factories import PlayerFactory, currency

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def ev(external_id: str, **overrides) -> dict:
    event = {
        "external_id": external_id,
        "player_id": "p-1",
        "type": "bet",
        "amount": "10.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00+00:00",
        "game_category": "slots",
        "game_id": "starburst",
        "round_id": "r-1",
    }
    event.update(overrides)
    return event


def post(client: APIClient, body):
    return client.post(URL, body, format="json")


def statuses(response) -> list[str]:
    return [r["status"] for r in response.json()["results"]]


def fund(client: APIClient, *player_ids: str, amount: str = "5000.00") -> None:
    """Bets move wallet money: give the players cash first (a deposit event each)."""
    for player_id in player_ids:
        deposit = ev(f"fund-{player_id}", player_id=player_id, type="deposit", amount=amount)
        assert statuses(post(client, deposit)) == ["applied"]


def eur(cash: str) -> dict:
    return {"EUR": {"cash": cash, "bonus": "0.00"}}


def test_single_event_is_applied_and_creates_the_unknown_player(service_client):
    fund(service_client, "p-1")
    response = post(service_client, ev("e1", amount="12.5"))
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "external_id": "e1",
                "status": "applied",
                "reason": None,
                "balances": eur("4987.50"),
                "warnings": [],
            }
        ]
    }
    player = Player.objects.get(external_id="p-1")
    assert player.currency_id == "EUR"
    assert player.registered_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    activity = Activity.objects.get(external_id="e1")
    assert (activity.player, activity.type, activity.amount) == (player, "bet", Decimal("12.5"))
    assert (activity.source, activity.game_category, activity.round_id) == ("api", "slots", "r-1")
    assert activity.receipt.status == "applied"


def test_events_refresh_the_touched_players_after_commit(
    service_client, django_capture_on_commit_callbacks
):
    fund(service_client, "p-1", amount="100")
    with django_capture_on_commit_callbacks(execute=True):
        post(service_client, {"events": [ev("e1", amount="100"), ev("e2", type="win", amount="1")]})
    player = Player.objects.get(external_id="p-1")
    assert PlayerMetrics.objects.get(player=player, window="lifetime").turnover == Decimal(100)
    assert player.segment == "losing"


def test_replay_answers_duplicate_with_the_original_outcome(service_client):
    fund(service_client, "p-1")
    post(service_client, ev("e1"))
    response = post(service_client, ev("e1"))
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "external_id": "e1",
            "status": "duplicate",
            "reason": None,
            "balances": eur("4990.00"),
            "warnings": [],
            "original_status": "applied",
        }
    ]
    assert Activity.objects.filter(type="bet").count() == 1


def test_replay_with_an_equivalent_payload_is_a_duplicate(service_client):
    post(service_client, ev("e1", amount="10.00", occurred_at="2026-11-20T10:00:00Z"))
    response = post(service_client, ev("e1", amount=10, occurred_at="2026-11-20T11:00:00+01:00"))
    assert statuses(response) == ["duplicate"]


def test_a_rejected_event_stays_rejected_on_replay(service_client):
    PlayerFactory(external_id="p-1")
    old = ev("e1", currency="USD", occurred_at="1999-06-01T10:00:00Z")  # no USD rate in 1999
    first = post(service_client, old).json()["results"][0]
    assert first["status"] == "rejected"
    assert first["reason"]["code"] == "no_exchange_rate"

    ExchangeRate.objects.create(
        currency=currency("USD"), valid_from=datetime(1990, 1, 1, tzinfo=UTC), rate="0.9"
    )
    again = post(service_client, old).json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["original_status"] == "rejected"
    assert again["reason"]["code"] == "no_exchange_rate"
    assert not Activity.objects.exists()


def test_same_id_with_a_different_payload_is_a_conflict(service_client):
    fund(service_client, "p-1")
    post(service_client, ev("e1"))
    response = post(service_client, ev("e1", amount="11.00"))
    assert response.status_code == 409
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert result["reason"]["code"] == "idempotency_conflict"
    assert Activity.objects.get(external_id="e1").amount == Decimal("10")

    batch = post(service_client, {"events": [ev("e1", player_id="p-2"), ev("e2")]})
    assert batch.status_code == 200
    assert statuses(batch) == ["rejected", "applied"]
    assert batch.json()["results"][0]["reason"]["code"] == "idempotency_conflict"


def test_batch_mixes_applied_duplicate_and_rejected(service_client):
    fund(service_client, "p-1")
    post(service_client, ev("old"))
    events = [
        ev("a1"),
        ev("old"),
        ev("bad-amount", amount="-5"),
        ev("bad-decimals", amount="1.001"),
        ev("bad-currency", currency="XYZ"),
        ev("bad-type", type="jackpot"),
        ev("no-player", player_id=None),
        {"external_id": "missing-fields"},
        "not an object",
        ev("a2", player_id="p-2", type="deposit", amount="50"),
        ev("a1"),  # the same id twice in one batch
    ]
    response = post(service_client, {"events": events})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["external_id"] for r in results] == [
        "a1",
        "old",
        "bad-amount",
        "bad-decimals",
        "bad-currency",
        "bad-type",
        "no-player",
        "missing-fields",
        "",
        "a2",
        "a1",
    ]
    assert [r["status"] for r in results] == [
        "applied",
        "duplicate",
        *["rejected"] * 7,
        "applied",
        "duplicate",
    ]
    codes = [r["reason"]["code"] for r in results if r["status"] == "rejected"]
    assert codes == [
        "invalid_amount",
        "invalid_amount",
        "unknown_currency",
        "invalid_event",
        "invalid_event",
        "invalid_event",
        "invalid_event",
    ]
    assert "amount" in results[2]["reason"]["details"]
    assert set(Activity.objects.values_list("external_id", flat=True)) == {
        "fund-p-1",
        "old",
        "a1",
        "a2",
    }
    assert Player.objects.get(external_id="p-2").currency_id == "EUR"
    # An event refused as invalid left no receipt: sent again correctly, it applies.
    assert statuses(post(service_client, ev("bad-amount"))) == ["applied"]


def test_invalid_single_event_is_a_400_error(service_client):
    response = post(service_client, ev("e1", amount="0"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "amount" in response.json()["error"]["details"]
    assert not EventReceipt.objects.exists()


def test_batch_of_1000_is_accepted_and_1001_refused(service_client):
    fund(service_client, *(f"p-{i}" for i in range(7)))
    events = [ev(f"b{i}", player_id=f"p-{i % 7}") for i in range(1001)]
    refused = post(service_client, {"events": events})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert Activity.objects.count() == 7  # the deposits only

    accepted = post(service_client, {"events": events[:1000]})
    assert accepted.status_code == 200
    assert statuses(accepted) == ["applied"] * 1000
    assert Activity.objects.filter(type="bet").count() == 1000
    assert Player.objects.count() == 7


def test_an_empty_batch_is_refused(service_client):
    response = post(service_client, {"events": []})
    assert response.status_code == 400
    assert "events" in response.json()["error"]["details"]


def test_operator_and_admin_may_post_events(operator_client, admin_client_api):
    fund(operator_client, "p-1")
    assert statuses(post(operator_client, ev("o1"))) == ["applied"]
    assert statuses(post(admin_client_api, ev("a1"))) == ["applied"]


# --- concurrency (PostgreSQL: real row locks on the receipt's unique key) ------------------


def _post_concurrently(bodies: list[dict], service_client) -> list:
    token = service_client._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")
    barrier = threading.Barrier(len(bodies))
    responses: list = [None] * len(bodies)

    def worker(index: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait(timeout=10)
            responses[index] = post(client, bodies[index])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_posted_concurrently_is_applied_once(service_client):
    fund(service_client, "p-1")
    responses = _post_concurrently([ev("race")] * 20, service_client)
    assert all(r is not None and r.status_code == 200 for r in responses)
    outcomes = sorted(r.json()["results"][0]["status"] for r in responses)
    assert outcomes == ["applied"] + ["duplicate"] * 19
    assert Activity.objects.filter(external_id="race").count() == 1
    assert EventReceipt.objects.filter(external_id="race").count() == 1
    assert Player.objects.filter(external_id="p-1").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_one_unknown_player_create_it_once(service_client):
    # Unfunded bets are refused by the wallet but still create the player (once) and answer.
    responses = _post_concurrently(
        [ev(f"c{i}", player_id="fresh") for i in range(20)], service_client
    )
    assert all(r is not None and r.status_code == 200 for r in responses)
    assert sorted(r.json()["results"][0]["status"] for r in responses) == ["rejected"] * 20
    assert Player.objects.filter(external_id="fresh").count() == 1
    fund(service_client, "fresh")
    responses = _post_concurrently(
        [ev(f"d{i}", player_id="fresh") for i in range(20)], service_client
    )
    assert all(r is not None and r.status_code == 200 for r in responses)
    assert sorted(r.json()["results"][0]["status"] for r in responses) == ["applied"] * 20
    assert Player.objects.filter(external_id="fresh").count() == 1
    player = Player.objects.get(external_id="fresh")
    assert Activity.objects.filter(player=player, type="bet").count() == 20
    metrics = PlayerMetrics.objects.get(player=player, window="lifetime")
    assert metrics.bet_count == 20  # no refresh that read fewer events committed last
    # Each change recorded once and in order: a chain from `new` to the final segment.
    changes = list(
        SegmentChange.objects.filter(player=player)
        .order_by("pk")
        .values_list("from_segment", "to_segment")
    )
    chain = ["new", *(to for _, to in changes)]
    assert [from_ for from_, _ in changes] == chain[:-1]
    assert chain[-1] == player.segment == "losing"  # 200 staked, band 50
    assert len(set(changes)) == len(changes)
