"""How many SQL statements each wallet operation and each live event costs (SPEC §12: "a wallet
operation is best a few statements in one round trip"). Pinned on PostgreSQL, where the hot
paths have their single-statement forms, so a change that adds a round trip is seen here first.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from players.money import currency_get
from tests.wallet.conftest import player_make
from wallet import services
from wallet.events import EventInput, events_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Pinned exactly: a change that adds a statement fails here, and one that removes one updates
# the figure (bench/README.md tracks what each costs). Per event: the player and activity in one
# statement, the wallet's part, the balances, the receipt, the savepoints' work (the event's
# own; the wallet operation inside it opens none: SAVEPOINT + RELEASE less, issue 12).
# The wallet's part of a cash-only player's deposit, withdrawal, bet and win is one call of the
# server-side function (lock, checks, posting: ADR 0022), where it was the lock, the posting and
# for a bet the remembered-rollback check: deposit 6 → 5, bet 7 → 5, win 8 → 7, withdrawal
# 7 → 6; a rollback is still the Python path (8). (The bet's former 10 also counted the three
# statements that made the currency's house game account on first use; the fixture makes it.)
EVENT_STATEMENTS = {"deposit": 5, "bet": 5, "win": 7, "rollback": 8, "withdrawal": 6}
# Inside the test's transaction a service opens a savepoint (not counted): the function call and
# the RELEASE, where it was the lock, the posting and the RELEASE (ADR 0022: 3 → 2; the bet's
# former 6 counted the house game account made on first use, which the fixture now makes).
SERVICE_STATEMENTS = {"deposit": 2, "bet": 2, "win": 2}


def statements(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len([q for q in captured.captured_queries if not q["sql"].startswith("SAVEPOINT")])


@pytest.fixture
def player():
    player = player_make()
    services.wallet_deposit(
        player=player, currency="EUR", amount=Decimal(100), idempotency_key="seed"
    )
    # the currency's house game account is made by the first bet (a one-time cost, not pinned)
    services.wallet_bet_place(
        player=player, currency="EUR", amount=Decimal(1), idempotency_key="seed-bet"
    )
    return player


def test_statements_per_event(player):
    eur = currency_get("EUR")

    def event(external_id: str, type_: str, amount: str, **fields):
        return lambda: events_ingest(
            events=[
                EventInput(
                    external_id=external_id,
                    player_id=player.external_id,
                    type=type_,
                    amount=Decimal(amount),
                    currency=eur,
                    occurred_at=timezone.now(),
                    **fields,
                )
            ]
        )

    counts = {
        "deposit": statements(event("d-1", "deposit", "10.00")),
        "bet": statements(event("b-1", "bet", "5.00", game_category="slots")),
        "win": statements(event("w-1", "win", "7.00", reference_id="b-1")),
        "rollback": statements(event("r-1", "rollback", "5.00", reference_id="b-2x")),
        "withdrawal": statements(event("x-1", "withdrawal", "1.00")),
    }
    assert counts == EVENT_STATEMENTS


def test_statements_per_service_operation(player):
    placed = []

    def deposit():
        services.wallet_deposit(
            player=player, currency="EUR", amount=Decimal(5), idempotency_key="s-d"
        )

    def bet():
        placed.append(
            services.wallet_bet_place(
                player=player, currency="EUR", amount=Decimal(5), idempotency_key="s-b"
            )
        )

    def win():
        services.wallet_win_settle(
            player=player, currency="EUR", amount=Decimal(8), idempotency_key="s-w", bets=placed
        )

    counts = {"deposit": statements(deposit), "bet": statements(bet), "win": statements(win)}
    assert counts == SERVICE_STATEMENTS


# A batch of plain players' events (wallet/events_batch.py): receipts, players, lock,
# remembered rollbacks, two house accounts, transaction ids drawn, cash accounts created, then
# one INSERT each for activities, transactions, entries and receipts, and the chunk's savepoint
# release — the same for 10 events as for 200 (wins add three reads for the bets they name).
BATCH_STATEMENTS = 13


def test_statements_per_batch_do_not_grow_with_its_size():
    eur = currency_get("EUR")

    def batch(size: int):
        players = [player_make() for _ in range(size // 2)]
        return lambda: events_ingest(
            events=[
                EventInput(
                    external_id=f"batch-{size}-{number}",
                    player_id=players[number // 2].external_id,
                    type="deposit" if number % 2 == 0 else "bet",
                    amount=Decimal("5.00"),
                    currency=eur,
                    occurred_at=timezone.now(),
                )
                for number in range(size)
            ]
        )

    batch(4)()  # the currency's house accounts made on first use (a one-time cost)
    counts = {size: statements(batch(size)) for size in (10, 200)}
    assert counts == {10: BATCH_STATEMENTS, 200: BATCH_STATEMENTS}
