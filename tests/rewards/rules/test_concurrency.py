"""Two runs at once on PostgreSQL: the budget holds, and a chunk delivered twice at the same
moment pays once."""

import pytest
from django.db.models import Sum

from rewards.models import Reward, RuleBudget, RuleRunChunk
from rewards.runs import chunk_player_ids, chunk_run, run_prepare
from rewards.services import run_create
from tests.rewards.rules.conftest import player_make, rule_make
from tests.wallet.test_concurrency import in_threads
from wallet.models import LedgerTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LOSS = {"7d": {"net_loss": "550"}}


def test_two_concurrent_runs_never_spend_past_the_budget():
    rule = rule_make(limits={"budget": {"period": "month", "amount": "300.00"}})
    players = [player_make(metrics=LOSS) for _ in range(10)]
    runs = [run_create(rule_ids=[rule.pk], start=False) for _ in range(2)]
    chunks = [run_prepare(run=run) for run in runs]

    def work(index):
        ids = chunk_player_ids(run=runs[index], chunk=chunks[index][0])
        return chunk_run(run_id=runs[index].pk, index=0, player_ids=ids)

    in_threads(2, work)
    paid = Reward.objects.filter(status="issued").aggregate(s=Sum("amount"))["s"]
    assert paid == RuleBudget.objects.get().spent == 300
    cash = LedgerTransaction.objects.filter(kind="cash_reward").count()
    assert cash == Reward.objects.filter(status="issued").count() == 6  # 5 × 55 + 25
    assert len(players) == 10


def test_a_chunk_delivered_twice_at_once_pays_once():
    rule = rule_make()
    players = [player_make(metrics=LOSS) for _ in range(5)]
    run = run_create(rule_ids=[rule.pk], start=False)
    ids = chunk_player_ids(run=run, chunk=run_prepare(run=run)[0])

    outcomes = in_threads(4, lambda _: chunk_run(run_id=run.pk, index=0, player_ids=ids))
    assert outcomes.count("already done") == 3
    assert RuleRunChunk.objects.count() == 1
    assert Reward.objects.count() == len(players) == 5
    assert LedgerTransaction.objects.filter(kind="cash_reward").count() == 5
    run.refresh_from_db()
    assert (run.status, run.issued, run.players_done) == ("succeeded", 5, 5)
