"""Concurrency on PostgreSQL: separate connections per thread, real commits."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connections
from django.utils import timezone

from config.errors import DomainError
from players.models import Activity
from tests.wallet.conftest import D, player_make
from wallet import services
from wallet.events import event_money_apply
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
    """The wallet half of event idempotency: 20 deliveries of one deposit race to apply it;
    the unique idempotency key lets exactly one ledger transaction through; the others get
    the same answer back as a replay (what the events service's receipt does)."""
    player = player_make()
    activity = Activity.objects.create(
        external_id="dep-1",
        player=player,
        type="deposit",
        amount=D("25.00"),
        currency_id="EUR",
        player_amount=D("25.00"),
        occurred_at=timezone.now(),
    )

    def deliver(index):
        close_old_connections()
        try:
            return ("applied", event_money_apply(activity=activity))
        except DomainError as exc:
            assert exc.code == "idempotency_conflict"
            return ("applied", wallet_balances(player=player))

    answers = in_threads(20, deliver)
    assert LedgerTransaction.objects.filter(idempotency_key="event:api:dep-1").count() == 1
    assert all(answer == answers[0] for answer in answers)
    assert answers[0] == ("applied", {"EUR": {"cash": "25.00", "bonus": "0.00"}})


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
