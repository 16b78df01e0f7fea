"""Triggers: after_import (the importer's post-import step), on_event (the ingestion
listener), schedule (a beat entry kept in step with the rule) and simulation writing nothing."""

import json
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask

from players.models import Activity
from rewards.models import Reward, RuleRun
from rewards.rules import rule_save
from rewards.services import rule_run_scheduled, rule_simulate, rules_event_listener
from tests.rewards.rules.conftest import player_make, rule_make, table_counts
from wallet.events import AppliedEvent
from wallet.models import Bonus

pytestmark = pytest.mark.django_db
LOSS = {"7d": {"net_loss": "550"}}


def test_after_import_step_runs_the_after_import_rules_for_the_touched_players():
    from importer.pipeline import post_import_step

    rule = rule_make(trigger="after_import")
    rule_make(trigger="manual")  # not run by an import
    touched = player_make(metrics=LOSS)
    player_make(metrics=LOSS)

    class Job:
        pk = 12

    note = post_import_step(step="rules", job=Job(), player_ids=[touched.pk])
    assert "issued 1" in note
    reward = Reward.objects.get()
    assert (reward.player, reward.rule, reward.run.job_id) == (touched, rule, 12)


def _deposit(client, player, external_id, amount="30.00", capture=None):
    """POST a deposit; → (answer, the AppliedEvent listeners heard, the commit callbacks)."""
    body = {"external_id": external_id, "player_id": player.external_id, "type": "deposit",
            "amount": amount, "currency": "EUR", "occurred_at": "2026-11-20T10:00:00+00:00"}  # fmt: skip
    with capture() as callbacks:
        answer = client.post("/api/v1/events/", body, format="json").json()
    activity = Activity.objects.filter(external_id=external_id).first()
    applied = AppliedEvent(
        activity_id=activity.pk, player_id=player.pk, player_external_id=player.external_id,
        external_id=external_id, type="deposit", amount=activity.amount, currency="EUR",
        occurred_at=activity.occurred_at, game_id="", game_category="", round_id="",
        reference_id="",
    )  # fmt: skip
    return answer, applied, callbacks


def test_deposit_match_is_credited_after_the_event_commits_and_not_on_replay(
    service_client, django_capture_on_commit_callbacks
):
    # a deposit match rewards players with no NGR yet: an acquisition rule (exempt from the
    # profit share, still budgeted — SPEC §7)
    rule = rule_make(
        trigger="on_event:deposit", target_segments=[], condition="event.amount >= 10",
        reward_type="bonus", amount="min(event.amount * 1.0, 50)",
        terms={"wagering_multiplier": 10, "wagering_base": "bonus"}, acquisition=True,
    )  # fmt: skip
    player = player_make()
    capture = django_capture_on_commit_callbacks
    answer, applied, callbacks = _deposit(service_client, player, "dep-1", "30.00", capture)
    assert answer["results"][0]["status"] == "applied"
    assert not Bonus.objects.exists()  # the event's answer did not wait for the rule
    for callback in callbacks:  # the commit: listeners run, the rule's task runs (eager)
        callback()
    bonus = Bonus.objects.get()
    assert (bonus.amount, bonus.wagering_required) == (Decimal("30.00"), Decimal("300.00"))
    reward = Reward.objects.get()
    assert reward.run.key == f"event:{applied.activity_id}"
    replay, _, callbacks = _deposit(service_client, player, "dep-1", "30.00", capture)
    assert replay["results"][0]["status"] == "duplicate"
    for callback in callbacks:
        callback()
    assert Bonus.objects.count() == 1  # a replayed event fires nothing
    rules_event_listener([applied])  # a re-delivered listener call or task pays nothing
    assert Bonus.objects.count() == 1
    _, bigger, callbacks = _deposit(service_client, player, "dep-2", "80.00", capture)
    for callback in callbacks:
        callback()
    assert sorted(Bonus.objects.values_list("amount", flat=True)) == [Decimal(30), Decimal(50)]
    assert Reward.objects.filter(rule=rule).count() == 2


def test_event_rules_of_other_types_do_not_fire(service_client, django_capture_on_commit_callbacks):
    rule_make(trigger="on_event:withdrawal", target_segments=[], condition="", amount="5")
    player = player_make()
    _, _, callbacks = _deposit(
        service_client, player, "dep-9", capture=django_capture_on_commit_callbacks
    )
    for callback in callbacks:
        callback()
    assert not RuleRun.objects.exists()


def test_schedule_trigger_keeps_a_beat_entry_in_step():
    rule = rule_make(trigger="schedule", schedule="0 6 * * 1")
    task = PeriodicTask.objects.get(pk=rule.periodic_task_id)
    assert task.task == "rewards.rule_run_scheduled" and task.enabled
    assert json.loads(task.kwargs) == {"rule_id": rule.pk}
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1")
    rule = rule_save(rule=rule, data={"schedule": "30 7 * * *", "active": False})
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("30", "7", False)
    rule = rule_save(rule=rule, data={"trigger": "manual", "active": True})
    assert rule.periodic_task is None and not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_scheduled_task_runs_the_rule(django_capture_on_commit_callbacks):
    rule = rule_make(trigger="schedule", schedule="0 6 * * *")
    player_make(metrics=LOSS)
    run = rule_run_scheduled(rule_id=rule.pk)
    run.refresh_from_db()
    assert (run.trigger, run.status, run.issued) == ("schedule", "succeeded", 1)


def test_simulation_writes_nothing():
    rule = rule_make(
        holdout_percent=20, approval_threshold="50", target_segments=[], condition="",
        limits={"budget": {"period": "week", "amount": "1000"}, "max_amount": "60"},
        reward_type="bonus", amount="net_loss_7d * 0.1 + 10", terms={"wagering_multiplier": 5},
    )  # fmt: skip
    for i in range(20):
        player_make(metrics={"7d": {"net_loss": str(100 * i)}}, status="active" if i else "closed")
    before = table_counts()
    answer = rule_simulate(rule=rule)
    assert table_counts() == before
    assert answer["players_evaluated"] == 20 and answer["matched"] == 20
    assert answer["issued"] + answer["review"] + answer["held_out"] + answer["rejected"] == 20


def test_an_import_runs_the_after_import_rules_for_the_players_it_touched():
    from django.core.files.base import ContentFile

    from importer import services as importer

    rule_make(
        trigger="after_import", target_segments=[], condition="deposits_lifetime >= 100",
        amount="5", reward_type="cash", acquisition=True,  # depositors with no NGR yet
    )  # fmt: skip
    bystander = player_make()
    body = (
        "TxID,UserID,Type,Amount,Currency,PlayDate\n"
        "d1,imp-1,deposit,150.00,EUR,2026-02-01\nd2,imp-2,deposit,20.00,EUR,2026-02-01\n"
    )
    job = importer.import_job_create(
        file=ContentFile(body.encode(), name="up.csv"), kind="activity", start=False
    )
    job = importer.import_job_run(job_id=job.pk)
    assert "issued 1" in job.stages["rules"]["note"], job.stages
    reward = Reward.objects.get()
    assert reward.player.external_id == "imp-1" and reward.run.job_id == job.pk
    assert not Reward.objects.filter(player=bystander).exists()
