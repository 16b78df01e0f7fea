"""A player's first bet, withdrawal or win racing the first deposit (ADR 0032, migration wallet
0010), on PostgreSQL with real connections and commits.

While the deposit's transaction, which opened the cash account, is in flight, the server-side
function waits for it instead of answering `fallback`, then posts against the deposited money:
no Python path (its `wallet_operation` is made to fail here). With no deposit at all, or one that
rolls back, the answer is today's (`fallback`, then the Python path's refusal), and no account
row is left behind.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.errors import DomainError
from players.money import currency_get
from tests.wallet.conftest import D, assert_ledger_conserved, player_make
from wallet import services
from wallet.events import EventInput, events_ingest
from wallet.models import Account, LedgerTransaction
from wallet.services.base import CASH_ONLY_SQL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEPOSIT = D("50.00")


def _house_accounts_made(currency: str = "EUR") -> None:
    """The currency's house accounts (bank and game), as the first operations make them."""
    seed = player_make(currency=currency)
    services.wallet_deposit(
        player=seed, currency=currency, amount=D("100.00"), idempotency_key="seed-bank"
    )
    services.wallet_bet_place(
        player=seed, currency=currency, amount=D("1.00"), idempotency_key="seed-game"
    )


def _no_python_path(monkeypatch) -> None:
    def refuse(**_):
        raise AssertionError("the Python path ran: the function answered `fallback`")

    monkeypatch.setattr("wallet.services.gaming.wallet_operation", refuse)
    monkeypatch.setattr("wallet.services.cash.wallet_operation", refuse)


def _waiting_on_a_lock(timeout: float = 10.0) -> bool:
    """Whether another session of this database waits on a lock in the wallet function."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
                " AND query LIKE '%%wallet_cash_only_post%%'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


class _Rollback(Exception):
    pass


def _race(first_deposit, second, *, commit: bool = True):
    """Run `first_deposit()` in a transaction held open until `second()` (on another connection)
    waits on a lock; then commit it (or roll it back). Returns (waited, second's answer, the SQL
    the second sent)."""
    deposited, release = threading.Event(), threading.Event()

    def hold():
        close_old_connections()
        try:
            with transaction.atomic():
                first_deposit()
                deposited.set()
                release.wait(15)
                if not commit:
                    raise _Rollback
        except _Rollback:
            pass
        finally:
            deposited.set()
            connections.close_all()

    def race():
        close_old_connections()
        try:
            deposited.wait(15)
            with CaptureQueriesContext(connection) as sent:
                try:
                    answer = second()
                except DomainError as error:
                    answer = error
            return answer, [q["sql"] for q in sent.captured_queries]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        holding = pool.submit(hold)
        racing = pool.submit(race)
        try:
            deposited.wait(15)
            waited = _waiting_on_a_lock()
        finally:
            release.set()
        holding.result(timeout=30)
        answer, sent = racing.result(timeout=30)
    return waited, answer, sent


def _deposit(player, key="dep-1"):
    return lambda: services.wallet_deposit(
        player=player, currency="EUR", amount=DEPOSIT, idempotency_key=key
    )


def _second(kind: str, player, amount: Decimal):
    common = {"player": player, "currency": "EUR", "amount": amount, "idempotency_key": "op-1"}
    if kind == "bet":
        return lambda: services.wallet_bet_place(game_category="slots", game_id="g-1", **common)
    if kind == "withdrawal":
        return lambda: services.wallet_withdraw(**common)
    return lambda: services.wallet_win_settle(bets=[], **common)


@pytest.mark.parametrize(
    ("kind", "amount", "balance"),
    [
        ("bet", D("20.00"), D("30.00")),
        ("withdrawal", D("50.00"), D("0.00")),
        ("win", D("7.50"), D("57.50")),
    ],
)
def test_an_operation_waits_for_the_first_deposit_in_flight_and_posts_in_the_function(
    monkeypatch, kind, amount, balance
):
    _house_accounts_made()
    _no_python_path(monkeypatch)
    player = player_make()
    waited, answer, sent = _race(_deposit(player), _second(kind, player, amount))
    assert waited  # it waited on the deposit's uncommitted cash account …
    assert isinstance(answer, LedgerTransaction), answer  # … then posted against its money
    assert answer.kind == kind
    assert len(sent) == 1 and "wallet_cash_only_post" in sent[0]  # one statement, no fallback
    assert Account.objects.get(player=player, kind="cash").balance == balance
    assert Account.objects.filter(player=player).count() == 1
    assert_ledger_conserved()


def test_a_bet_beyond_the_deposit_in_flight_is_refused_by_the_function(monkeypatch):
    _house_accounts_made()
    _no_python_path(monkeypatch)
    player = player_make()
    waited, answer, sent = _race(_deposit(player), _second("bet", player, D("50.01")))
    assert waited and len(sent) == 1
    assert isinstance(answer, DomainError) and answer.code == "insufficient_funds"
    assert answer.message == "Balance is 50.00, stake 50.01."  # the deposit's money
    assert Account.objects.get(player=player, kind="cash").balance == DEPOSIT
    assert_ledger_conserved()


def test_a_bet_event_waits_for_the_first_deposit_event_in_flight(monkeypatch):
    """The API's case: a deposit event, then a bet event of the same new player arriving before
    the deposit's transaction committed."""
    _house_accounts_made()
    _no_python_path(monkeypatch)
    player = player_make()

    def event(external_id: str, kind: str, amount: Decimal) -> EventInput:
        return EventInput(
            external_id=external_id,
            player_id=player.external_id,
            type=kind,
            amount=amount,
            currency=currency_get("EUR"),
            occurred_at=timezone.now(),
            game_category="slots" if kind == "bet" else "",
            game_id="g-1" if kind == "bet" else "",
        )

    waited, answer, _ = _race(
        lambda: events_ingest(events=[event("race-dep", "deposit", DEPOSIT)]),
        lambda: events_ingest(events=[event("race-bet", "bet", D("20.00"))]),
    )
    assert waited
    [outcome] = answer
    assert outcome.status == "applied", outcome
    assert Account.objects.get(player=player, kind="cash").balance == D("30.00")
    assert_ledger_conserved()


def test_a_bet_racing_a_deposit_that_rolls_back_gets_todays_answer():
    """The probe's insert goes through once the deposit rolled back: undone, `fallback`, and
    the Python path refuses as it always did; nothing stays."""
    _house_accounts_made()
    player = player_make()
    waited, answer, sent = _race(_deposit(player), _second("bet", player, D("20.00")), commit=False)
    assert waited
    assert isinstance(answer, DomainError) and answer.code == "insufficient_funds"
    assert "wallet_cash_only_post" in sent[0] and any("FOR UPDATE" in sql for sql in sent[1:])
    assert not Account.objects.filter(player=player).exists()
    assert not LedgerTransaction.objects.filter(player=player).exists()
    assert_ledger_conserved()


@pytest.mark.parametrize("kind", ["bet", "withdrawal", "win"])
def test_without_any_cash_account_the_function_falls_back_and_leaves_nothing(kind):
    """Called in autocommit (its own transaction), the probe's account does not outlive it."""
    _house_accounts_made()
    player = player_make()
    with connection.cursor() as cursor:
        cursor.execute(
            CASH_ONLY_SQL,
            [kind, player.pk, "EUR", D("5.00"), f"raw-{kind}", None, "{}", timezone.now(), []]
            + [None] * 4,
        )
        assert cursor.fetchone() == ("fallback", None, None, None)
    assert not Account.objects.filter(player=player).exists()


@pytest.mark.parametrize("kind", ["bet", "withdrawal"])
def test_a_first_bet_or_withdrawal_without_a_deposit_is_refused_as_before(kind):
    _house_accounts_made()
    player = player_make()
    with CaptureQueriesContext(connection) as sent, pytest.raises(DomainError) as refused:
        _second(kind, player, D("5.00"))()
    assert refused.value.code == "insufficient_funds"
    assert refused.value.message == (
        "Balance is 0.00, stake 5.00." if kind == "bet" else "Cash balance is 0.00."
    )
    sql = [q["sql"] for q in sent.captured_queries]
    assert "wallet_cash_only_post" in sql[0] and any("FOR UPDATE" in s for s in sql[1:])
    assert not Account.objects.filter(player=player).exists()
