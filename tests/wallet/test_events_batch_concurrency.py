"""A batch and single events for the same players at the same time (issue 12): separate
connections per thread, real commits, on PostgreSQL. Whoever loses a deadlock must still get
its answer (a batch retries one by one; a single event has no one to retry it)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from unittest import mock

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from players.models import Fingerprint
from players.money import currency_get
from tests.wallet.conftest import player_make
from wallet import events, events_batch, services
from wallet.events import EventInput, events_ingest
from wallet.selectors import wallet_balances

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _event(external_id: str, player, **fields) -> EventInput:
    return EventInput(
        external_id=external_id,
        player_id=player.external_id,
        type=fields.pop("type", "deposit"),
        amount=Decimal(fields.pop("amount", "10.00")),
        currency=currency_get("EUR"),
        occurred_at=timezone.now(),
        **fields,
    )


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def _on_own_connection(work, pids: list[int]):
    """`work` for a thread: on a connection of its own, whose backend pid goes into `pids`;
    returns work's answer, or the exception it raised (the answer a caller would not get)."""

    def run():
        close_old_connections()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            return work()
        except Exception as error:  # noqa: BLE001
            return error
        finally:
            connections.close_all()

    return run


def _until_waiting(pids: list[int], who: str) -> None:
    """Until the backend in `pids` waits on a lock (at most 10 s)."""
    deadline = time.monotonic() + 10
    while not (pids and _waiting_on_a_lock(pids[0])):
        assert time.monotonic() < deadline, f"{who} never waited"
        time.sleep(0.02)


def _race(batch: list[EventInput], single: EventInput):
    """The batch takes its players' locks; then the single event starts and waits on them;
    then the batch writes. Returns (batch answers, single answer or its exception)."""
    locked, go = threading.Event(), threading.Event()
    real = events_batch._plain_apply
    single_pid: list[int] = []

    def paused(events, results, wallets):
        locked.set()
        assert go.wait(10)
        return real(events, results, wallets)

    def run_batch():
        close_old_connections()
        try:
            return events_ingest(events=batch)
        finally:
            connections.close_all()

    with (
        mock.patch.object(events_batch, "_plain_apply", paused),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        batch_future = pool.submit(run_batch)
        assert locked.wait(10)
        single_future = pool.submit(
            _on_own_connection(lambda: events_ingest(events=[single])[0], single_pid)
        )
        _until_waiting(single_pid, "the single event")
        go.set()
        return batch_future.result(30), single_future.result(30)


def test_a_single_event_sharing_a_fingerprint_with_a_batch_gets_its_answer():
    """A player's events carry the same device: the single event stores it before it locks the
    accounts, the batch after. Neither may lose its answer to the deadlock this could make."""
    player = player_make()
    services.wallet_deposit(
        player=player, currency="EUR", amount=Decimal(100), idempotency_key="seed"
    )
    batch = [_event(f"b{n}", player, device_id="dev-1") for n in range(3)]
    single = _event("s1", player, device_id="dev-1")

    answers, answer = _race(batch, single)

    assert not isinstance(answer, Exception), answer
    assert answer.status == "applied"
    assert [a.status for a in answers] == ["applied"] * 3
    assert wallet_balances(player=player)["EUR"]["cash"] == "140.00"
    assert Fingerprint.objects.filter(player=player).count() == 1


def test_a_single_resend_of_a_batched_event_gets_its_answer():
    """The PAM resends one event of a batch still in flight: the resend inserts the event's
    activity before it locks the accounts, the batch after. Whoever loses the deadlock this can
    make must still answer; the money moves once."""
    player = player_make()
    services.wallet_deposit(
        player=player, currency="EUR", amount=Decimal(100), idempotency_key="seed"
    )
    batch = [_event(f"b{n}", player) for n in range(3)]

    answers, answer = _race(batch, batch[0])

    assert not isinstance(answer, Exception), answer
    assert [a.status for a in answers] == ["applied"] * 3
    assert (answer.status, answer.original_status) == ("duplicate", "applied")
    assert answer.balances == answers[0].balances
    assert wallet_balances(player=player)["EUR"]["cash"] == "130.00"


@pytest.mark.parametrize("high_first", ["withdrawal", "rollback"])
def test_a_reward_batch_locking_in_pk_order_never_deadlocks_with_an_event_batch(high_first):
    """Reward payouts lock many players' cash accounts at once, in pk order (wallet/batch.py).
    An event batch must not hold one player's lock while it waits for a lower one: it would
    deadlock with them, and a rules-run chunk that loses has no one to retry it."""
    from django.db import transaction

    from wallet.batch import RewardPayment, rewards_pay_batch

    low, high = player_make(), player_make()  # cash accounts in this pk order
    for player in (low, high):
        services.wallet_deposit(
            player=player, currency="EUR", amount=Decimal(100), idempotency_key=f"s{player.pk}"
        )
    # `high` first, its row locked but not updated: set-based (a refused withdrawal) or one by
    # one (a rollback before its bet, remembered); then `low` one by one (a chargeback)
    batch = [
        _event("w1", high, type=high_first, amount="1000.00", reference_id="nothing"),
        _event("c1", low, type="chargeback", amount="1.00"),
    ]
    written, go = threading.Event(), threading.Event()
    real = events._event_ingest
    reward_pid: list[int] = []

    def paused(event):
        if event.external_id == "c1" and not written.is_set():
            written.set()  # the chunk holds `high`'s lock: let the payout lock `low` first
            assert go.wait(10)
        return real(event)

    def run_batch():
        close_old_connections()
        try:
            return events_ingest(events=batch)
        finally:
            connections.close_all()

    def pay():
        with transaction.atomic():
            paid = rewards_pay_batch(
                [RewardPayment(p.pk, "EUR", Decimal(5), f"reward-{p.pk}") for p in (low, high)]
            )
        return [p.error for p in paid]

    with (
        mock.patch.object(events, "_event_ingest", paused),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        answered = pool.submit(run_batch)
        assert written.wait(10)
        paying = pool.submit(_on_own_connection(pay, reward_pid))
        _until_waiting(reward_pid, "the payout")
        go.set()
        answers, outcome = answered.result(30), paying.result(30)

    assert outcome == [None, None], outcome
    assert [a.status for a in answers][1] == "applied"
    assert wallet_balances(player=low)["EUR"]["cash"] == "104.00"
