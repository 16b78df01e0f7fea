"""Admin: the rule editor (inline expression errors, simulate), lists, the review queue."""

import pytest

from rewards.models import Reward, Rule
from rewards.services import run_create, run_execute
from tests.rewards.rules.conftest import player_make, rule_make

pytestmark = pytest.mark.django_db
LOSS = {"7d": {"net_loss": "550"}}

FORM = {
    "name": "Admin cashback", "description": "", "active": "on", "priority": "10",
    "trigger": "manual", "schedule": "", "target_segments": '["losing"]',
    "condition": "net_loss_7d >= 50", "reward_type": "cashback", "amount": "net_loss_7d * 0.1",
    "currency": "", "terms": "null", "free_spins": "null", "limits": "{}",
    "approval_threshold": "", "holdout_percent": "0", "lookback": "30d",
}  # fmt: skip


def test_rule_editor_shows_expression_errors_inline(admin_client):
    answer = admin_client.post("/admin/rewards/rule/add/", {**FORM, "condition": "net_los_7d > 1"})
    assert answer.status_code == 200
    assert "did you mean" in answer.content.decode() and not Rule.objects.exists()
    answer = admin_client.post("/admin/rewards/rule/add/", FORM)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    rule = Rule.objects.get()
    assert (rule.version, rule.versions.count()) == (1, 1)
    admin_client.post(f"/admin/rewards/rule/{rule.pk}/change/", {**FORM, "priority": "20"})
    rule.refresh_from_db()
    assert (rule.priority, rule.version) == (20, 2)


def test_simulate_button_runs_the_form_without_saving(admin_client):
    player_make(metrics=LOSS)
    answer = admin_client.post("/admin/rewards/rule/simulate/", FORM)
    assert answer.status_code == 200 and not Rule.objects.exists()
    assert answer.context["result"]["issued"] == 1
    rule = rule_make()
    answer = admin_client.get(f"/admin/rewards/rule/{rule.pk}/simulate/")
    assert answer.context["result"]["total_amount"] == "55.00"
    assert not Reward.objects.exists()


def test_lists_and_review_queue_bulk_actions(admin_client):
    rule = rule_make(approval_threshold="10")
    players = [player_make(metrics=LOSS) for _ in range(3)]
    run = run_create(rule_ids=[rule.pk], start=False)
    run_execute(run_id=run.pk, fan_out=False)
    assert admin_client.get("/admin/rewards/rule/").status_code == 200
    assert (
        admin_client.get("/admin/rewards/reward/?status__exact=pending_review").status_code == 200
    )
    queue = "/admin/rewards/reviewqueueitem/"
    assert admin_client.get(queue).status_code == 200
    first, second, third = Reward.objects.order_by("pk")
    answer = admin_client.post(queue, {"action": "approve", "_selected_action": [first.pk]})
    assert answer.status_code == 200  # asks for a note (optional when approving)
    admin_client.post(queue, {"action": "approve", "_selected_action": [first.pk], "apply": "1"})
    answer = admin_client.post(queue, {"action": "reject", "_selected_action": [second.pk]})
    assert answer.status_code == 200  # asks for the note
    admin_client.post(
        queue,
        {"action": "reject", "_selected_action": [second.pk], "apply": "1", "note": "abuse"},
    )
    statuses = dict(Reward.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "issued", second.pk: "rejected", third.pk: "pending_review"}
    page = admin_client.get(f"/admin/rewards/reward/{first.pk}/change/").content.decode()
    assert "approval" in page and "review" in page
    page = admin_client.get(f"/admin/players/player/{players[0].pk}/change/")
    assert page.status_code == 200 and "rule decisions" in page.content.decode().lower()
