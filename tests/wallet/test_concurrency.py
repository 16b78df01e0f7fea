"""Concurrency on PostgreSQL: separate connections per thread, real commits."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connections
from django.utils import timezone

from config.errors import DomainError
from players.models import Activity
from players.money import currency_get
from tests.wallet.conftest import D, player_make
from wallet import services
from wallet.events import EventInput, events_ingest
from wallet.models import Account, LedgerTransaction
from wallet.selectors import wallet_balances

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_threads(count: int, work):
    barrier = threading.Barrier(count)

    def run(index):
        try:
            barrier.wait()
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_64_concurrent_bets_exactly_the_affordable_ones_succeed():
    player = player_make()
    services.wallet_deposit(
        player=player, currency="EUR", amount=D("100.00"), idempotency_key="seed"
    )
    stake = D("7.00")

    def place(index):
        close_old_connections()
        try:
            services.wallet_bet_place(
                player=player, currency="EUR", amount=stake, idempotency_key=f"bet-{index}"
            )
            return "ok"
        except DomainError as exc:
            return exc.code

    outcomes = in_threads(64, place)
    assert outcomes.count("ok") == int(D("100.00") // stake) == 14
    assert set(outcomes) == {"ok", "insufficient_funds"}
    cash = Account.objects.get(player=player, kind="cash")
    assert cash.balance == D("100.00") - 14 * stake >= 0


def test_same_event_20_times_concurrently_moves_money_once():
    """20 deliveries of one deposit race through the ingestion path: the unique keys let
    exactly one activity and one ledger transaction through; every other delivery is answered
    as a duplicate of it, with the same balances."""
    player = player_make()
    deposit = EventInput(
        external_id="dep-1",
        player_id=player.external_id,
        type="deposit",
        amount=D("25.00"),
        currency=currency_get("EUR"),
        occurred_at=timezone.now(),
    )

    def deliver(index):
        close_old_connections()
        [outcome] = events_ingest(events=[deposit])
        return outcome.status, outcome.original_status, outcome.balances

    answers = in_threads(20, deliver)
    assert LedgerTransaction.objects.filter(idempotency_key="event:api:dep-1").count() == 1
    assert Activity.objects.filter(external_id="dep-1").count() == 1
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == ["applied"] + ["duplicate"] * 19
    assert {original for status, original, _ in answers if status == "duplicate"} == {"applied"}
    assert all(balances == {"EUR": {"cash": "25.00", "bonus": "0.00"}} for *_, balances in answers)


def test_concurrent_bets_and_wins_on_bonus_money_conserve_everything():
    player = player_make()
    services.wallet_deposit(player=player, currency="EUR", amount=D("20.00"), idempotency_key="d")
    services.bonus_grant(
        player=player,
        currency="EUR",
        amount=D("50.00"),
        wagering_multiplier=D(100),
        idempotency_key="g",
    )

    def play(index):
        close_old_connections()
        try:
            placed = services.wallet_bet_place(
                player=player,
                currency="EUR",
                amount=D("3.00"),
                idempotency_key=f"b{index}",
                game_category="slots",
            )
        except DomainError:
            return Decimal(0)
        if index % 3 == 0:
            services.wallet_win_settle(
                player=player,
                currency="EUR",
                amount=D("4.00"),
                idempotency_key=f"w{index}",
                bets=[placed],
            )
        return Decimal(1)

    in_threads(16, play)
    totals = wallet_balances(player=player)["EUR"]
    assert Decimal(totals["cash"]) >= 0 and Decimal(totals["bonus"]) >= 0


def test_same_event_posted_20_times_concurrently_through_the_api():
    """End to end: POST events/ of one bet 20 times at once → one ledger transaction, one
    `applied` and 19 `duplicate` answers carrying the same balances."""
    from rest_framework.test import APIClient

    from tests.conftest import _client_for

    player = player_make()
    services.wallet_deposit(player=player, currency="EUR", amount=D("50.00"), idempotency_key="d")
    token = _client_for("service")._credentials["HTTP_AUTHORIZATION"]
    event = {
        "external_id": "race-bet-1",
        "player_id": player.external_id,
        "type": "bet",
        "amount": "20.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
        "game_category": "slots",
    }

    def post(index):
        close_old_connections()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        response = client.post("/api/v1/events/", event, format="json")
        assert response.status_code == 200, response.content
        return response.json()["results"][0]

    answers = in_threads(20, post)
    assert LedgerTransaction.objects.filter(kind="bet").count() == 1
    statuses = sorted(a["status"] for a in answers)
    assert statuses == ["applied"] + ["duplicate"] * 19
    assert {str(a["balances"]) for a in answers} == {"{'EUR': {'cash': '30.00', 'bonus': '0.00'}}"}
    assert wallet_balances(player=player) == {"EUR": {"cash": "30.00", "bonus": "0.00"}}


def test_same_idempotency_key_10_times_concurrently_grants_once():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from wallet.models import Bonus

    player = player_make()
    staff = get_user_model().objects.create(username="grant-race", is_superuser=True)
    body = {"amount": "10.00", "currency": "EUR", "wagering_multiplier": 5, "reason": "race"}

    def post(index):
        close_old_connections()
        client = APIClient()
        client.force_authenticate(staff)
        response = client.post(
            f"/api/v1/players/{player.external_id}/bonuses/",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY="same-key",
        )
        return response.status_code, response.json()

    answers = in_threads(10, post)
    assert Bonus.objects.filter(player=player).count() == 1
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == 201
