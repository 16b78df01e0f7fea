"""Runs: set-based decisions, issuing through the wallet, traces and idempotent re-runs."""

from decimal import Decimal

import pytest

from rewards.models import Decision, Reward, RuleRun
from rewards.runs import chunk_run
from rewards.services import run_create, run_execute
from tests.rewards.rules.conftest import player_make, rule_make
from wallet.models import Bonus, LedgerTransaction

pytestmark = pytest.mark.django_db


def _run(rules, players=None) -> RuleRun:
    run = run_create(rule_ids=[r.pk for r in rules], players=players, start=False)
    run_execute(run_id=run.pk, fan_out=False)
    run.refresh_from_db()
    return run


def test_cashback_run_issues_cash_and_records_every_decision():
    rule = rule_make()
    loser = player_make(metrics={"7d": {"net_loss": "550"}})
    small = player_make(metrics={"7d": {"net_loss": "20"}})
    winner = player_make(segment="winning", metrics={"7d": {"net_loss": "900"}})
    run = _run([rule])
    assert run.status == "succeeded"
    assert run.counts() == {
        "issued": 1, "review": 0, "rejected": 0, "held_out": 0, "capped": 0, "not_matched": 2,
    }  # fmt: skip
    reward = Reward.objects.get()
    assert (reward.player, reward.status, reward.amount) == (loser, "issued", Decimal("55.00"))
    assert reward.rule_version == 1 and reward.transaction is not None
    assert reward.transaction.kind == LedgerTransaction.Kind.CASH_REWARD
    decisions = {d.player_id: d for d in Decision.objects.all()}
    assert decisions[small.pk].outcome == "not_matched"
    assert decisions[small.pk].steps[-1] == {
        "step": "condition", "outcome": "failed", "details": {"net_loss_7d": "20"},
    }  # fmt: skip
    assert decisions[winner.pk].steps == [
        {"step": "segment", "outcome": "failed", "details": {"segment": "winning"}}
    ]
    steps = decisions[loser.pk].steps
    assert [s["step"] for s in steps] == [
        "segment", "condition", "amount", "eligibility", "profit", "fraud", "limits", "approval",
    ]  # fmt: skip
    assert steps[2] == {"step": "amount", "outcome": "computed", "details": {"value": "55.00"}}


def test_rerun_of_a_chunk_pays_nobody_twice():
    rule = rule_make()
    player = player_make(metrics={"7d": {"net_loss": "550"}})
    run = _run([rule])
    assert chunk_run(run_id=run.pk, index=0, player_ids=[player.pk]) == "already done"
    assert Reward.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="cash_reward").count() == 1
    # a second run is a new run: the rule pays again only if its limits allow it
    _run([rule])
    assert Reward.objects.count() == 2


def test_bonus_rule_grants_with_terms_copied_and_version_recorded():
    terms = {"wagering_multiplier": 35, "wagering_base": "bonus", "max_bet": "5.00",
             "expires_in_days": 7, "max_conversion": "100.00", "contribution_weights": {}}  # fmt: skip
    rule = rule_make(reward_type="bonus", amount="20", condition="", terms=terms)
    de = player_make()
    gb = player_make(country="GB")
    from rewards.rules import rule_save

    rule = rule_save(rule=rule, data={"description": "edited"})
    assert rule.version == 2
    _run([rule])
    bonuses = {b.player_id: b for b in Bonus.objects.all()}
    assert bonuses[de.pk].wagering_multiplier == 35
    assert bonuses[gb.pk].wagering_multiplier == 10  # GB cap (jurisdiction data)
    assert bonuses[de.pk].max_bet == Decimal("5.00")
    assert {r.rule_version for r in Reward.objects.all()} == {2}
    trace = Decision.objects.get(player=gb).steps
    limits = next(s for s in trace if s["step"] == "limits")
    assert limits["outcome"] == "reduced"
    assert limits["details"]["wagering_multiplier"]["to"] == "10"


def test_free_spins_are_a_bonus_on_the_game():
    rule = rule_make(
        reward_type="free_spins", amount="", condition="",
        free_spins={"count": 20, "spin_value": "0.20", "game_id": "g-1"},
        terms={"wagering_multiplier": 0},
    )  # fmt: skip
    player_make()
    _run([rule])
    bonus = Bonus.objects.get()
    assert bonus.amount == Decimal("4.00")
    assert bonus.game_weights == {"g-1": "1"}
    # the aggregator's promo money: PROMO transactions play it (wallet/aggregator/)
    assert bonus.kind == Bonus.Kind.FREE_SPINS


def test_ineligible_players_are_rejected_with_reasons():
    rule = rule_make(condition="", amount="10", target_segments=[])
    player_make(status="blocked")
    player_make(no_bonus=True)
    run = _run([rule])
    assert run.rejected == 2
    assert sorted(Reward.objects.values_list("reason", flat=True)) == ["blocked", "no_bonus"]
    assert not LedgerTransaction.objects.exists()


def test_a_failing_chunk_marks_the_run_failed(monkeypatch):
    from rewards import runs
    from rewards.tasks import rules_run_chunk

    rule = rule_make()
    player = player_make(metrics={"7d": {"net_loss": "550"}})
    run = run_create(rule_ids=[rule.pk], start=False)
    runs.run_prepare(run=run)

    def broken(**kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(runs, "decisions_store", broken)
    with pytest.raises(RuntimeError):
        rules_run_chunk(run_id=run.pk, index=0, first_id=player.pk, last_id=player.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "worker lost" in run.error
    assert not Reward.objects.exists() and not Decision.objects.exists()
    monkeypatch.undo()  # the retry of the same chunk succeeds and pays once
    rules_run_chunk(run_id=run.pk, index=0, first_id=player.pk, last_id=player.pk)
    assert Reward.objects.get().status == "issued"
    run.refresh_from_db()
    assert (run.status, run.issued, run.players_done) == ("succeeded", 1, 1)
