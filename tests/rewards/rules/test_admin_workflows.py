"""The rule editor's workflows without a browser: the simulation panel's JSON (field errors with
suggestions, the table with the service's numbers), "Run now", bulk approve and reject with one
note, and the latest decision of every rule on the player's page."""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from config.roles import roles_sync
from rewards import services
from rewards.models import Decision, Reward, Rule, RuleRun
from tests.rewards.rules.conftest import player_make, rule_make
from tests.rewards.rules.test_admin import FORM, LOSS

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def staff_client(client, role: str):
    roles_sync()
    user = get_user_model().objects.create_user(f"staff-{role}", password="x", is_staff=True)
    user.groups.set([Group.objects.get(name=role)])
    client.force_login(user)
    return client


def test_simulation_panel_answers_field_errors_with_suggestions(admin_client):
    answer = admin_client.post(
        "/admin/rewards/rule/simulate/", {**FORM, "condition": "net_los_7d >= 50"}, **JSON
    )
    assert answer.status_code == 200
    errors = answer.json()["errors"]
    assert list(errors) == ["condition"]
    assert "did you mean 'net_loss_7d'" in errors["condition"][0]
    assert "did you mean: net_loss_7d" in errors["condition"][1]
    assert "fix them to simulate" in answer.json()["html"]
    assert not Rule.objects.exists()


def test_simulation_panel_shows_the_services_numbers_for_the_unsaved_form(admin_client):
    for _ in range(2):
        player_make(metrics=LOSS)
    player_make(metrics={"7d": {"net_loss": "10"}})
    answer = admin_client.post("/admin/rewards/rule/simulate/", FORM, **JSON)
    assert answer.json()["errors"] == {}
    html = answer.json()["html"]
    assert not Rule.objects.exists() and not Reward.objects.exists()
    saved = rule_make(
        **{"name": "same", "target_segments": ["losing"], "amount": "net_loss_7d * 0.1"}
    )
    expected = services.rule_simulate(rule=saved)
    assert expected["matched"] == 2
    for name in ("players_evaluated", "matched", "issued", "total_amount", "expected_cost"):
        assert f'<td data-figure="{name}">{expected[name]}</td>' in html


def test_run_now_from_the_editor_runs_the_saved_rule(
    admin_client, django_capture_on_commit_callbacks
):
    player_make(metrics=LOSS)
    rule = rule_make()
    page = admin_client.get(f"/admin/rewards/rule/{rule.pk}/change/").content.decode()
    assert 'id="run-now"' in page
    assert admin_client.get(f"/admin/rewards/rule/{rule.pk}/run/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(f"/admin/rewards/rule/{rule.pk}/run/")
    run = RuleRun.objects.get()
    assert answer.status_code == 302 and answer.url.endswith(f"/rulerun/{run.pk}/change/")
    assert run.rule_ids == [rule.pk]
    assert Reward.objects.get().status == Reward.Status.ISSUED


def test_an_analyst_may_simulate_but_not_run(client):
    rule = rule_make()
    analyst = staff_client(client, "analyst")
    page = analyst.get(f"/admin/rewards/rule/{rule.pk}/change/").content.decode()
    assert 'id="run-now"' not in page
    assert analyst.post(f"/admin/rewards/rule/{rule.pk}/run/").status_code == 403
    assert analyst.post(f"/admin/rewards/rule/{rule.pk}/simulate/", FORM, **JSON).status_code == 200
    assert not RuleRun.objects.exists()


def test_bulk_approve_and_reject_keep_one_note_on_each_reward(admin_client):
    rule = rule_make(approval_threshold="10")
    for _ in range(4):
        player_make(metrics=LOSS)
    run = services.run_create(rule_ids=[rule.pk], start=False)
    services.run_execute(run_id=run.pk, fan_out=False)
    first, second, third, fourth = Reward.objects.order_by("pk")
    queue = "/admin/rewards/reviewqueueitem/"
    listing = admin_client.get(queue).content.decode()
    assert f'<a href="/admin/players/player/{first.player_id}/change/">' in listing
    assert f'<td class="field-amount_shown">{first.amount:.2f} EUR</td>' in listing
    admin_client.post(
        queue,
        {"action": "approve", "_selected_action": [first.pk, second.pk], "apply": "1",
         "note": "regulars"},
    )  # fmt: skip
    asked = admin_client.post(
        queue, {"action": "reject", "_selected_action": [third.pk, fourth.pk], "apply": "1"}
    )
    assert asked.status_code == 200 and "This field is required" in asked.content.decode()
    rejected = admin_client.post(
        queue,
        {"action": "reject", "_selected_action": [third.pk, fourth.pk], "apply": "1",
         "note": "abuse"},
        follow=True,
    )  # fmt: skip
    assert "Rejected 2 reward(s)." in rejected.content.decode()
    history = LogEntry.objects.get_for_object(third).get()  # the audit log (ADR 0016)
    assert (history.changes["status"], history.additional_data, history.actor.username) == (
        ["pending_review", "rejected"],
        {"reason": "abuse"},
        "admin",
    )
    rows = dict(Reward.objects.values_list("pk", "status"))
    assert rows == {first.pk: "issued", second.pk: "issued", third.pk: "rejected",
                    fourth.pk: "rejected"}  # fmt: skip
    assert set(Reward.objects.values_list("note", flat=True)) == {"regulars", "abuse"}
    assert not admin_client.get(queue).context["cl"].result_count


def test_player_page_shows_the_latest_decision_of_every_rule(admin_client):
    player = player_make(metrics=LOSS)
    cashback, other = rule_make(), rule_make(condition="net_loss_7d >= 10000")
    for _ in range(2):  # two runs: only the second run's decisions are shown
        run = services.run_create(rule_ids=[cashback.pk, other.pk], start=False)
        services.run_execute(run_id=run.pk, fan_out=False)
    latest = {d.rule_id: d.pk for d in Decision.objects.filter(run=run)}
    assert Decision.objects.filter(player=player).count() == 4
    page = admin_client.get(f"/admin/players/player/{player.pk}/change/")
    formset = page.context["inline_admin_formsets"][-1].formset
    assert sorted(form.instance.pk for form in formset) == sorted(latest.values())
    reward_now = {form.instance.rule_id: form.instance.reward_status for form in formset}
    assert reward_now == {cashback.pk: "issued", other.pk: None}
    assert re.search(r'class="field-reward_now">\s*<p>Issued</p>', page.content.decode())
