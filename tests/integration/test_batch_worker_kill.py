"""A rule run shared by two real Celery workers, one SIGKILLed mid-job (ADR 0018).

The run's chunks are one Celery group on Redis; both workers take chunks. When one is killed
while it holds a chunk, that chunk's transaction dies with its connection and its message stays
unacknowledged (`acks_late`); after the visibility timeout (lowered here) the surviving worker
gets it again and does it. The run completes, every player is decided once per rule, nobody is
paid twice, the budget shared by the parallel chunks is never overspent, and the books balance.
"""

import json
import signal
import socket
import time
from base64 import b64decode
from decimal import Decimal

import pytest
import redis
from django.db.models import Count, Sum
from django.utils import timezone

from config.celery import workers_ready_wait
from players.models import Player, PlayerMetrics
from rewards.models import Decision, Reward, RuleBudget, RuleRunChunk
from rewards.services import run_create
from tests.integration.conftest import BROKER
from tests.rewards.rules.conftest import PROFITABLE_NGR, rule_make
from tests.wallet.conftest import ledger_conserved  # noqa: F401  (autouse: the books balance)
from wallet.models import LedgerTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PLAYERS = 6_000
CHUNK = 200  # 30 chunks of a second or so each: the run takes several seconds
LOSERS = 10  # every 10th player lost 100 in the last week: the rules pay them
VISIBILITY = 8  # seconds before Redis hands the killed worker's chunk to the other worker
BUDGET = Decimal("400.00")  # 200 of the 600 losers get the budgeted 2.00


def _players(count: int) -> None:
    now = timezone.now()
    players = Player.objects.bulk_create(
        [
            Player(
                external_id=f"kill-{i}",
                currency_id="EUR",
                country="DE",
                registered_at=now,
                segment="losing",
            )  # fmt: skip
            for i in range(count)
        ],
        batch_size=2000,
    )
    PlayerMetrics.objects.bulk_create(
        [
            PlayerMetrics(
                player=p,
                window=window,
                as_of=now,
                ngr=Decimal(PROFITABLE_NGR),
                net_loss=Decimal(100 if i % LOSERS == 0 else 0),
            )  # fmt: skip
            for i, p in enumerate(players)
            for window in ("7d", "30d", "lifetime")
        ],
        batch_size=5000,
    )


def _in_flight(broker: redis.Redis) -> set[int]:
    """The chunk indexes of the messages workers hold unacknowledged (being worked on)."""
    indexes = set()
    for raw in broker.hvals("unacked"):
        message = json.loads(raw)[0]
        _args, kwargs, _embed = json.loads(b64decode(message["body"]))
        if "index" in kwargs:
            indexes.add(kwargs["index"])
    return indexes


def test_a_killed_worker_chunk_is_redone_by_the_other_and_nobody_is_paid_twice(celery_workers):
    _players(PLAYERS)
    cashback = rule_make()  # 10% of the 7-day net loss: 10.00 each
    budgeted = rule_make(
        reward_type="cash", amount="2", target_segments=[], condition="net_loss_7d >= 50",
        limits={"budget": {"period": "month", "amount": str(BUDGET)}},
    )  # fmt: skip
    env = {
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "PITBOSS_BATCH_CHUNK_SIZE": str(CHUNK),
        "LOG_LEVEL": "ERROR",
    }
    doomed, survivor = celery_workers("doomed", **env), celery_workers("survivor", **env)
    names = [f"{n}@{socket.gethostname()}" for n in ("doomed", "survivor")]
    workers_ready_wait(names)
    broker = redis.Redis.from_url(BROKER)

    started = time.monotonic()
    run = run_create(rule_ids=[cashback.pk, budgeted.pk])  # queued at once (autocommit)
    # Kill the worker at a moment when both hold a chunk, after it has finished one.
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "the run never got going on both workers"
        done = dict(RuleRunChunk.objects.filter(run=run).values_list("index", "worker"))
        held = _in_flight(broker) - set(done)
        if any(w.startswith("doomed@") for w in done.values()) and len(held) == 2:
            doomed.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    doomed.wait(timeout=10)
    killed_at = time.monotonic()
    done_at_kill = RuleRunChunk.objects.filter(run=run).count()

    deadline = time.monotonic() + 180
    run.refresh_from_db()
    while run.status not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, f"the run did not finish: {run.chunks_done} chunks"
        assert survivor.poll() is None, "the surviving worker died"
        time.sleep(0.2)
        run.refresh_from_db()
    finished = time.monotonic()

    assert run.status == "succeeded", run.error
    chunks = RuleRunChunk.objects.filter(run=run)
    assert run.chunks_total == PLAYERS // CHUNK == chunks.count() == run.chunks_done
    # the chunks held when the worker was killed were finished by the survivor
    by_worker = dict(chunks.values_list("index", "worker"))
    assert all(by_worker[i].startswith("survivor@") for i in held), (held, by_worker)
    assert {w.split("@")[0] for w in by_worker.values()} == {"doomed", "survivor"}
    assert done_at_kill < run.chunks_total
    assert not broker.hlen("unacked"), "a message was left unacknowledged"

    # every player decided exactly once per rule, and counted once
    assert run.players_total == run.players_done == PLAYERS
    decisions = Decision.objects.filter(run=run)
    assert decisions.count() == 2 * PLAYERS
    assert decisions.values("player_id").distinct().count() == PLAYERS

    # nobody paid twice: one reward and one ledger transaction per (player, rule)
    issued = Reward.objects.filter(run=run, status="issued")
    losers = PLAYERS // LOSERS
    assert issued.filter(rule=cashback).count() == losers
    assert issued.values("transaction_id").distinct().count() == issued.count()
    paid = LedgerTransaction.objects.filter(kind="cash_reward")
    assert paid.count() == issued.count()
    assert not paid.values("player_id").annotate(n=Count("id")).filter(n__gt=2).exists()
    assert issued.filter(rule=cashback).aggregate(s=Sum("amount"))["s"] == Decimal(10) * losers

    # the budget shared by parallel chunks: spent exactly what was paid, never past the limit
    budget = RuleBudget.objects.get(rule=budgeted)
    spent_on = issued.filter(rule=budgeted).aggregate(s=Sum("amount"))["s"]
    assert budget.spent == spent_on == BUDGET  # 200 players × 2.00; the other losers refused
    assert Reward.objects.filter(run=run, rule=budgeted, status="rejected").count() == (
        losers - int(BUDGET / 2)
    )
    print(
        f"\n{PLAYERS} players in {run.chunks_total} chunks: killed after {killed_at - started:.1f}"
        f" s ({done_at_kill} chunks done), finished {finished - killed_at:.1f} s later"
    )
