"""A batch chunk or a rule-run chunk that PostgreSQL picks as a deadlock's victim runs again
(config/deadlocks.py): real deadlocks between two connections, real commits."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, connections, transaction

from players import batch
from players.models import BatchChunk, Player
from rewards import runs
from rewards.models import Reward, RuleRun, RuleRunChunk
from rewards.services import run_create
from tests.factories import PlayerFactory
from tests.rewards.rules.conftest import player_make, rule_make
from wallet.models import LedgerTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LOCK = "SELECT id FROM players_player WHERE id = %s FOR UPDATE"


class Deadlock:
    """Makes the first call of `enter()` lose a real deadlock: it locks row `a`, a second
    connection locks `b` and then waits for `a`, and `enter()` asks for `b`. The second
    connection waits 10 s before it looks for deadlocks, PostgreSQL's default is 1 s, so the
    chunk is the victim; the second connection then gets `a` and commits."""

    def __init__(self, a: int, b: int):
        self.a, self.b, self.calls = a, b, 0
        self.b_locked = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.other = None

    def _other_side(self) -> None:
        close_old_connections()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                cursor.execute(LOCK, [self.b])
                self.b_locked.set()
                cursor.execute(LOCK, [self.a])  # waits for the chunk's lock on `a`
        finally:
            connections.close_all()

    def enter(self) -> None:
        self.calls += 1
        if self.calls > 1:
            return  # the retry: nobody is in the way any more
        with connection.cursor() as cursor:
            cursor.execute(LOCK, [self.a])
            self.other = self.pool.submit(self._other_side)
            assert self.b_locked.wait(10)
            cursor.execute(LOCK, [self.b])  # deadlock: PostgreSQL aborts this transaction

    def close(self) -> None:
        if self.other is not None:
            self.other.result(30)  # the other side committed once the chunk's lock was gone
        self.pool.shutdown()


def test_a_batch_chunk_that_loses_a_deadlock_runs_again_and_counts_once():
    a, b = PlayerFactory(), PlayerFactory()
    deadlock = Deadlock(a.pk, b.pk)
    seen: list[list[int]] = []

    def chunk(job, player_ids):
        deadlock.enter()
        seen.append(list(player_ids))
        return len(player_ids)

    batch.batch_kind_register("test_deadlocking", batch.BatchKind(chunk=chunk))
    job = batch.batch_job_create(kind="test_deadlocking", start=False)
    batch.BatchJob.objects.filter(pk=job.pk).update(status="running", chunks_total=1)
    try:
        note = batch.batch_chunk_run(job_id=job.pk, index=0, first_id=a.pk, last_id=b.pk)
    finally:
        deadlock.close()
    job.refresh_from_db()
    assert deadlock.calls == 2 and note == "chunk 0: 2 players, 2 counted"
    assert (job.status, job.chunks_done, job.players_done, job.result) == ("succeeded", 1, 2, 2)
    assert BatchChunk.objects.filter(job=job).count() == 1
    assert seen == [[a.pk, b.pk]]  # the lost attempt's work was not seen: it rolled back


def test_a_rule_run_chunk_that_loses_a_deadlock_pays_once(monkeypatch):
    rule = rule_make()
    player = player_make(metrics={"7d": {"net_loss": "550"}})
    other = Player.objects.exclude(pk=player.pk).first() or PlayerFactory()
    run = run_create(rule_ids=[rule.pk], start=False)
    runs.run_prepare(run=run)
    deadlock = Deadlock(player.pk, other.pk)
    real = runs.decisions_store

    def store_after_a_deadlock(**kwargs):
        written = real(**kwargs)  # the rewards and their payment are written, then the loss
        deadlock.enter()
        return written

    monkeypatch.setattr(runs, "decisions_store", store_after_a_deadlock)
    try:
        runs.chunk_run(run_id=run.pk, index=0, player_ids=[player.pk])
    finally:
        deadlock.close()
    run.refresh_from_db()
    assert deadlock.calls == 2
    assert (run.status, run.issued, run.players_done, run.chunks_done) == ("succeeded", 1, 1, 1)
    assert RuleRunChunk.objects.filter(run=run).count() == 1
    reward = Reward.objects.get()
    assert (reward.player_id, reward.amount) == (player.pk, Decimal("55.00"))
    assert LedgerTransaction.objects.filter(kind="cash_reward").count() == 1
    assert RuleRun.objects.get(pk=run.pk).error == ""
