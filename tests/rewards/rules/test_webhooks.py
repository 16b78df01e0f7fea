"""The rules engine's domain events: reward.issued / reward.rejected (and bonus.granted for
batch grants) written to the webhooks outbox in the deciding transaction."""

import pytest

from rewards.models import Reward
from rewards.services import reward_approve, run_create, run_execute
from tests.rewards.rules.conftest import player_make, rule_make
from webhooks import services as webhooks
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_runs_and_reviews_emit_reward_events():
    webhooks.endpoint_create(
        url="https://crm.example.com/h",
        event_types=["reward.issued", "reward.rejected", "bonus.granted"],
    )
    rule = rule_make(reward_type="bonus", terms={"wagering_multiplier": 5}, approval_threshold="50")
    small = player_make(metrics={"7d": {"net_loss": "300"}})
    big = player_make(metrics={"7d": {"net_loss": "900"}})
    player_make(status="blocked", metrics={"7d": {"net_loss": "300"}})
    run = run_create(rule_ids=[rule.pk], start=False)
    run_execute(run_id=run.pk, fan_out=False)
    issued = [e.data for e in WebhookEvent.objects.filter(type="reward.issued")]
    assert [(d["player"], d["amount"], d["status"]) for d in issued] == [
        (small.external_id, "30.00", "issued")
    ]
    rejected = WebhookEvent.objects.get(type="reward.rejected").data
    assert rejected["reason"] == "blocked"
    granted = WebhookEvent.objects.get(type="bonus.granted").data
    assert (granted["player"], granted["amount"]) == (small.external_id, "30.00")
    reward_approve(reward_id=Reward.objects.get(player=big).pk, note="fine")
    assert WebhookEvent.objects.filter(type="reward.issued").count() == 2
