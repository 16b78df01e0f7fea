"""Statements per wallet operation on PostgreSQL (SPEC §12: "a few statements in one round trip,
not a dozen ORM calls"): a regression here costs throughput that bench/wallet.py would show.

Each operation is its own transaction (transactional test), so BEGIN and COMMIT are counted.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.errors import DomainError
from tests.wallet.conftest import player_make
from wallet import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _statements(call) -> tuple[object, list[str]]:
    """The call's result and the first word of each statement it sent."""
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"].split()[0].upper() for query in captured.captured_queries]


def _key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def funded():
    player = player_make()
    # the first operation creates the cash and house accounts; later ones find them
    services.wallet_deposit(
        player=player, currency="EUR", amount=Decimal("100.00"), idempotency_key=_key()
    )
    services.wallet_bet_place(
        player=player, currency="EUR", amount=Decimal("1.00"), idempotency_key=_key()
    )
    return player


def test_deposit_bet_and_win_are_lock_post_commit(funded):
    lock_post = ["BEGIN", "WITH", "WITH", "COMMIT"]  # the lock statement, the posting statement
    _, deposit = _statements(
        lambda: services.wallet_deposit(
            player=funded, currency="EUR", amount=Decimal("10.00"), idempotency_key=_key()
        )
    )
    bet, placing = _statements(
        lambda: services.wallet_bet_place(
            player=funded,
            currency="EUR",
            amount=Decimal("1.00"),
            idempotency_key=_key(),
            game_category="slots",
        )
    )
    _, settling = _statements(
        lambda: services.wallet_win_settle(
            player=funded,
            currency="EUR",
            amount=Decimal("2.00"),
            idempotency_key=_key(),
            bets=[bet],
        )
    )
    assert (deposit, placing, settling) == (lock_post, lock_post, lock_post)


def test_a_win_on_a_rolled_back_bet_looks_the_bets_up_only_then(funded):
    bet = services.wallet_bet_place(
        player=funded, currency="EUR", amount=Decimal("1.00"), idempotency_key=_key()
    )
    services.wallet_bet_rollback(player=funded, currency="EUR", idempotency_key=_key(), bets=[bet])
    with CaptureQueriesContext(connection) as captured, pytest.raises(DomainError) as err:
        services.wallet_win_settle(
            player=funded,
            currency="EUR",
            amount=Decimal("2.00"),
            idempotency_key=_key(),
            bets=[bet],
        )
    assert err.value.code == "already_rolled_back"
    # the lock, the optimistic posting (which wrote nothing), then the look-up of reversals
    statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    assert statements == ["BEGIN", "WITH", "WITH", "SELECT", "ROLLBACK"]
