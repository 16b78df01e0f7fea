"""Roles in the admin (config/roles.py): each role × each admin area × view/add/change/delete,
the actions each role is offered, the rule's budget fields (admins only), and the groups' sync
after migrate."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory

from config.roles import role_permissions, roles_sync
from rewards.models import Rule
from tests.backoffice.conftest import staff_user
from tests.rewards.rules.conftest import rule_make
from tests.rewards.rules.test_admin import FORM

pytestmark = pytest.mark.django_db

# area -> what each role may do there: v(iew), a(dd), c(hange), d(elete)
POLICY = {"admin": "vacd", "operator": "v", "analyst": "v"}
MATRIX = {
    "rewards.Rule": {"admin": "vacd", "operator": "vacd", "analyst": "v"},
    "rewards.CustomSegment": {"admin": "vacd", "operator": "vacd", "analyst": "v"},
    "rewards.Reward": {"admin": "v", "operator": "v", "analyst": "v"},
    "rewards.JurisdictionLimit": POLICY,
    "players.Player": {"admin": "vacd", "operator": "vacd", "analyst": "v"},
    "players.Currency": POLICY,
    "safety.HouseEdge": POLICY,
    "safety.SignalWeight": POLICY,
    "safety.FraudFlag": {"admin": "vc", "operator": "vc", "analyst": "v"},
    "wallet.BalancePolicy": POLICY,
    "wallet.Bonus": {"admin": "va", "operator": "va", "analyst": "v"},
    "wallet.LedgerTransaction": {"admin": "va", "operator": "va", "analyst": "v"},
    "importer.ImportJob": {"admin": "vcd", "operator": "vcd", "analyst": "v"},
    "webhooks.WebhookEndpoint": POLICY,
    "django_celery_beat.PeriodicTask": POLICY,
    "auth.User": {"admin": "vacd", "operator": "", "analyst": ""},
    "auth.Group": {"admin": "vacd", "operator": "", "analyst": ""},
    "accounts.ApiToken": {"admin": "vcd", "operator": "v", "analyst": "v"},
    "auditlog.LogEntry": {"admin": "v", "operator": "v", "analyst": "v"},
    "axes.AccessAttempt": {"admin": "v", "operator": "v", "analyst": "v"},
}
ACTIONS = {  # area -> the staff actions that change something, offered to admin and operator
    "rewards.Rule": {"run_now"},
    "rewards.Reward": {"approve", "reject"},
    "safety.FraudFlag": {"resolve"},
    "wallet.Bonus": {"forfeit"},
}


def _model_admin(label: str):
    from django.apps import apps

    model = apps.get_model(label)
    return admin.site._registry[model]


def _request(user, path="/admin/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


@pytest.mark.parametrize("role", ["admin", "operator", "analyst"])
def test_each_role_in_each_admin_area(role, client):
    user = staff_user(role)
    client.force_login(user)
    request = _request(user)
    found = {}
    for label in MATRIX:
        model_admin = _model_admin(label)
        found[label] = "".join(
            letter
            for letter, allowed in (
                ("v", model_admin.has_view_permission(request)),
                ("a", model_admin.has_add_permission(request)),
                ("c", model_admin.has_change_permission(request)),
                ("d", model_admin.has_delete_permission(request)),
            )
            if allowed
        )
        opts = model_admin.model._meta
        listing = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert listing.status_code == (200 if "v" in found[label] else 403), label
        adding = client.get(f"/admin/{opts.app_label}/{opts.model_name}/add/")
        assert (adding.status_code == 200) == ("a" in found[label]), label
    assert found == {label: roles[role] for label, roles in MATRIX.items()}


@pytest.mark.parametrize("role", ["admin", "operator", "analyst"])
def test_actions_that_change_something_are_offered_to_admins_and_operators(role):
    request = _request(staff_user(role))
    for label, actions in ACTIONS.items():
        offered = set(_model_admin(label).get_actions(request)) & actions
        assert offered == (set() if role == "analyst" else actions), (role, label)


def test_analyst_cannot_change_or_delete_a_rule_by_post(staff_client_for):
    rule = rule_make()
    analyst = staff_client_for("analyst")
    page = analyst.get(f"/admin/rewards/rule/{rule.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    changed = analyst.post(f"/admin/rewards/rule/{rule.pk}/change/", {**FORM, "priority": "1"})
    assert changed.status_code == 403
    assert (
        analyst.post(f"/admin/rewards/rule/{rule.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    run = analyst.post("/admin/rewards/rule/", {"action": "run_now", "_selected_action": [rule.pk]})
    assert run.status_code in (200, 302)
    rule.refresh_from_db()
    assert (rule.priority, rule.runs.count() if hasattr(rule, "runs") else 0) == (100, 0)


def test_operator_edits_a_rules_expression_but_not_its_budget(staff_client_for):
    limits = {"max_amount": "100.00", "budget": {"period": "month", "amount": "1000.00"}}
    rule = rule_make(limits=limits, approval_threshold="50")
    limits = rule.limits  # as stored (normalised)
    operator = staff_client_for("operator")
    page = operator.get(f"/admin/rewards/rule/{rule.pk}/change/").content.decode()
    assert 'name="condition"' in page and 'name="limits"' not in page
    assert 'name="approval_threshold"' not in page and "1000.00" in page  # shown, read-only
    form = {
        key: value for key, value in FORM.items() if key not in ("limits", "approval_threshold")
    }
    tampered = {**form, "name": rule.name, "condition": "net_loss_7d >= 80",
                "limits": "{}", "approval_threshold": "99999"}  # fmt: skip
    answer = operator.post(f"/admin/rewards/rule/{rule.pk}/change/", tampered)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.condition == "net_loss_7d >= 80"
    assert rule.limits == limits and str(rule.approval_threshold) == "50.00000000"


def test_admin_changes_a_rules_budget(staff_client_for):
    rule = rule_make()
    admin_client = staff_client_for("admin")
    page = admin_client.get(f"/admin/rewards/rule/{rule.pk}/change/").content.decode()
    assert 'name="limits"' in page
    answer = admin_client.post(
        f"/admin/rewards/rule/{rule.pk}/change/",
        {**FORM, "name": rule.name, "limits": '{"max_amount": "20.00"}'},
    )
    assert answer.status_code == 302
    rule.refresh_from_db()
    assert rule.limits["max_amount"] == "20.00"


def test_operator_works_the_review_queue_and_analyst_cannot(staff_client_for):
    from rewards.models import Reward
    from rewards.services import run_create, run_execute
    from tests.rewards.rules.conftest import player_make
    from tests.rewards.rules.test_admin import LOSS

    rule = rule_make(approval_threshold="10")
    player_make(metrics=LOSS)
    player_make(metrics=LOSS)
    run_execute(run_id=run_create(rule_ids=[rule.pk], start=False).pk, fan_out=False)
    first, second = Reward.objects.order_by("pk")
    queue = "/admin/rewards/reviewqueueitem/"
    # approving goes through the note page: "apply" is its submit
    approve = {"action": "approve", "_selected_action": [first.pk], "apply": "1", "note": ""}
    staff_client_for("analyst").post(queue, approve)
    first.refresh_from_db()
    assert first.status == "pending_review"
    staff_client_for("operator").post(queue, approve)
    first.refresh_from_db()
    assert first.status == "issued" and Rule.objects.count() == 1 and second.pk


def test_roles_sync_is_idempotent_and_runs_after_migrate():
    roles_sync()
    before = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    roles_sync()
    after = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    assert before == after and set(after) >= {"admin", "operator", "analyst", "service"}
    expected = {
        name: set(perms.values_list("pk", flat=True)) for name, perms in role_permissions().items()
    }
    assert after == expected | {k: v for k, v in after.items() if k not in expected}
    Group.objects.get(name="analyst").permissions.clear()
    call_command("migrate", verbosity=0)
    analyst = Group.objects.get(name="analyst")
    assert set(analyst.permissions.values_list("pk", flat=True)) == expected["analyst"]
    assert not analyst.permissions.exclude(codename__startswith="view_").exists()


def test_analyst_cannot_grant_or_adjust_through_the_money_forms(staff_client_for, player):
    from wallet.models import Bonus, LedgerTransaction

    analyst = staff_client_for("analyst")
    grant = {"player": player.external_id, "currency": "EUR", "amount": "20.00",
             "wagering_multiplier": "5", "wagering_base": "bonus", "reason": "x", "key": "k1"}  # fmt: skip
    assert analyst.post("/admin/wallet/bonus/add/", grant).status_code == 403
    adjust = {"player": player.external_id, "currency": "EUR", "amount": "5", "reason": "x",
              "key": "k2"}  # fmt: skip
    assert analyst.post("/admin/wallet/ledgertransaction/add/", adjust).status_code == 403
    assert not Bonus.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="adjustment").exists()
