"""Statements per wallet operation on PostgreSQL (SPEC §12: "a few statements in one round trip,
not a dozen ORM calls"): a regression here costs throughput that bench/wallet.py would show.

Each operation is its own transaction (transactional test), so BEGIN and COMMIT are counted.

A cash-only player's deposit, bet and win called outside a transaction are one statement since
ADR 0022: the call of the server-side function `wallet_cash_only_post` in autocommit (lock,
checks, posting, commit in one round trip), where they were BEGIN, lock, posting, COMMIT. A
player holding bonus money still takes the Python path, after the function's `fallback` answer.
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


def test_deposit_bet_and_win_are_one_statement(funded):
    one_call = ["SELECT"]  # SELECT … FROM wallet_cash_only_post(…), in autocommit
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
    assert (deposit, placing, settling) == (one_call, one_call, one_call)


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
    # the function looks the reversals up under its lock and answers the refusal: one statement
    statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    assert statements == ["SELECT"]


def test_a_player_with_bonus_money_takes_the_python_path_after_the_function(funded):
    services.bonus_grant(
        player=funded,
        currency="EUR",
        amount=Decimal("10.00"),
        wagering_multiplier=Decimal(1),
        reason="test",
        idempotency_key=_key(),
    )
    _, placing = _statements(
        lambda: services.wallet_bet_place(
            player=funded,
            currency="EUR",
            amount=Decimal("1.00"),
            idempotency_key=_key(),
            game_category="other",  # contributes nothing: no wagering UPDATE
        )
    )
    # the function's `fallback` (it wrote nothing), then the Python path: BEGIN, the lock, (the
    # balance policies when this process has none cached), the posting, COMMIT
    assert placing[:3] == ["SELECT", "BEGIN", "WITH"]
    assert placing[-2:] == ["WITH", "COMMIT"]
