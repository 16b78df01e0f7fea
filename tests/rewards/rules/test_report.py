"""`GET rules/{id}/report/`: issued, money, and uplift of treated players against held out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from rewards.models import Reward
from rewards.services import run_create, run_execute
from tests.factories import ActivityFactory
from tests.rewards.rules.conftest import player_make, rule_make

pytestmark = pytest.mark.django_db


def test_report_with_uplift(operator_client):
    rule = rule_make(holdout_percent=50, target_segments=[], condition="", amount="10")
    for _ in range(40):
        player_make()
    run = run_create(rule_ids=[rule.pk], start=False)
    run_execute(run_id=run.pk, fan_out=False)
    treated = list(Reward.objects.filter(status="issued"))
    held = list(Reward.objects.filter(status="held_out"))
    assert treated and held
    soon = timezone.now() + timedelta(days=1)
    late = timezone.now() + timedelta(days=30)  # outside the window: not counted
    for reward in treated:
        ActivityFactory(player=reward.player, type="deposit", amount=Decimal(100), occurred_at=soon)
        ActivityFactory(player=reward.player, type="bet", amount=Decimal(40), occurred_at=soon)
        ActivityFactory(player=reward.player, type="win", amount=Decimal(10), occurred_at=soon)
    for reward in held:
        ActivityFactory(player=reward.player, type="deposit", amount=Decimal(60), occurred_at=soon)
        ActivityFactory(player=reward.player, type="deposit", amount=Decimal(999), occurred_at=late)
    report = operator_client.get(f"/api/v1/rules/{rule.pk}/report/").json()
    assert report["rule"] == rule.pk and report["currency"] == "EUR"
    assert report["issued"] == len(treated) and report["held_out"] == len(held)
    assert report["amount"] == f"{10 * len(treated)}.00" == report["cost"]
    assert report["uplift"] == {
        "window_days": 14, "treated_players": len(treated), "holdout_players": len(held),
        "deposits_per_player": {"treated": "100.00", "holdout": "60.00", "difference": "40.00"},
        "ggr_per_player": {"treated": "30.00", "holdout": "0.00", "difference": "30.00"},
    }  # fmt: skip
    bad = operator_client.get(f"/api/v1/rules/{rule.pk}/report/", {"window_days": "x"})
    assert bad.status_code == 400
