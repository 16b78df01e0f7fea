"""The audit trail (django-auditlog, ADR 0016): configuration changes and staff money actions
with the user, time and before/after — from the admin and the API, `.update()` paths included —
shown per object and as one list, never editable or deletable, and nothing on hot tables."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from players.models import Currency, ExchangeRate, SegmentPolicy
from rewards.models import JurisdictionLimit, Reward, Rule
from rewards.services import run_create, run_execute
from safety.models import FraudFlag
from tests.rewards.rules.conftest import player_make, rule_make
from tests.rewards.rules.test_admin import FORM, LOSS
from tests.wallet.conftest import D, bet, deposit, key
from wallet.models import Bonus, LedgerTransaction
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def entries_for(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def test_rule_edit_in_the_admin_is_logged_with_user_and_before_after(admin_client, admin_user):
    assert admin_client.post("/admin/rewards/rule/add/", FORM).status_code == 302
    rule = Rule.objects.get()
    changed = {**FORM, "condition": "net_loss_7d >= 80", "limits": '{"max_amount": "100.00"}'}
    assert admin_client.post(f"/admin/rewards/rule/{rule.pk}/change/", changed).status_code == 302
    created, edited = entries_for(rule)
    assert (created.action, created.actor) == (LogEntry.Action.CREATE, admin_user)
    assert (edited.action, edited.actor) == (LogEntry.Action.UPDATE, admin_user)
    assert edited.changes["condition"] == ["net_loss_7d >= 50", "net_loss_7d >= 80"]
    assert edited.changes["version"] == [1, 2]
    assert "max_amount" in edited.changes["limits"][1]


def test_rule_change_through_the_api_names_the_token_user(operator_client):
    rule = rule_make()
    answer = operator_client.patch(f"/api/v1/rules/{rule.pk}/", {"priority": 7}, format="json")
    assert answer.status_code == 200, answer.content
    last = entries_for(rule)[-1]
    assert last.actor.username == "test-operator"
    assert last.changes["priority"] == [100, 7]


def test_policies_limits_currencies_and_rates_are_logged(admin_client, admin_user):
    policy = SegmentPolicy.objects.first() or SegmentPolicy.objects.create()
    policy.band_minimum = Decimal("75")
    policy.save()
    limit = JurisdictionLimit.objects.get(country="GB")
    limit.value = Decimal(5)
    limit.save()
    currency = Currency.objects.get(code="EUR")
    currency.active = False
    currency.save()
    rate = ExchangeRate.objects.first()
    rate.rate = rate.rate + 1
    rate.save()
    logged = {
        ContentType.objects.get_for_id(e.content_type_id).model: e.changes
        for e in LogEntry.objects.filter(action=LogEntry.Action.UPDATE)
    }
    assert logged["segmentpolicy"]["band_minimum"][1].startswith("75")
    assert logged["jurisdictionlimit"]["value"][1].startswith("5")
    assert logged["currency"]["active"] == [True, False]
    assert "rate" in logged["exchangerate"]


def test_webhook_secret_never_reaches_the_log(admin_client):
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/x", secret="whsec_supersecret", event_types=["*"]
    )
    endpoint.secret = "whsec_rotated"
    endpoint.save()
    stored = str([(e.changes, e.serialized_data) for e in entries_for(endpoint)])
    assert entries_for(endpoint) and "supersecret" not in stored and "rotated" not in stored


def test_staff_money_actions_through_the_api_are_logged(api_client_for, player):
    operator = api_client_for("operator")
    deposit(player, "100")
    granted = operator.post(
        f"/api/v1/players/{player.external_id}/bonuses/",
        {"amount": "20.00", "currency": "EUR", "wagering_multiplier": 5, "reason": "goodwill"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert granted.status_code == 201, granted.content
    bonus = Bonus.objects.get()
    forfeited = operator.post(
        f"/api/v1/bonuses/{bonus.pk}/forfeit/",
        {"reason": "abuse"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert forfeited.status_code == 200, forfeited.content
    adjusted = operator.post(
        f"/api/v1/players/{player.external_id}/adjustments/",
        {"amount": "-5.00", "currency": "EUR", "reason": "chargeback fee"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert adjusted.status_code in (200, 201), adjusted.content
    grant, forfeit = entries_for(bonus)
    assert (grant.actor.username, grant.changes["amount"], grant.additional_data) == (
        "test-operator", [None, "20.00"], {"reason": "goodwill"}
    )  # fmt: skip
    assert (forfeit.changes["status"], forfeit.additional_data) == (
        ["active", "forfeited"], {"reason": "abuse"}
    )  # fmt: skip
    adjustment = LedgerTransaction.objects.get(kind="adjustment")
    (entry,) = entries_for(adjustment)
    assert (entry.actor.username, entry.changes["amount"]) == ("test-operator", [None, "-5.00"])


def test_review_decisions_and_flag_resolution_are_logged(api_client_for, staff_client_for):
    rule = rule_make(approval_threshold="10")
    for _ in range(2):
        player_make(metrics=LOSS)
    run_execute(run_id=run_create(rule_ids=[rule.pk], start=False).pk, fan_out=False)
    first, second = Reward.objects.order_by("pk")
    operator = api_client_for("operator")
    approved = operator.post(f"/api/v1/rewards/{first.pk}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.content
    staff = staff_client_for("operator")
    staff.post(
        "/admin/rewards/reviewqueueitem/",
        {"action": "reject", "_selected_action": [second.pk], "apply": "1", "note": "dupe"},
    )
    assert entries_for(first)[-1].changes["status"] == ["pending_review", "issued"]
    rejected = entries_for(second)[-1]
    assert (rejected.actor.username, rejected.changes["status"], rejected.additional_data) == (
        "operator-staff", ["pending_review", "rejected"], {"reason": "dupe"}
    )  # fmt: skip
    flag = FraudFlag.objects.create(player=first.player, signal="shared_device", score=40)
    answer = operator.post(
        f"/api/v1/fraud/flags/{flag.pk}/resolve/",
        {"resolution": "confirmed", "note": "same tablet"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    (resolved,) = entries_for(flag)  # the service's compare-and-set .update(), logged by hand
    assert (resolved.actor.username, resolved.changes["status"]) == (
        "test-operator", ["open", "confirmed"]
    )  # fmt: skip


def test_hot_tables_leave_no_audit_rows(player):
    before = LogEntry.objects.count()
    deposit(player, "50")
    bet(player, "10")
    assert LogEntry.objects.count() == before


def test_audit_log_is_read_only_even_for_superusers(admin_client, admin_user):
    rule = rule_make()
    entry = entries_for(rule)[0]
    url = f"/admin/auditlog/logentry/{entry.pk}/"
    assert admin_client.get("/admin/auditlog/logentry/").status_code == 200
    view = admin_client.get(f"{url}change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert admin_client.post(f"{url}change/", {"action": 2}).status_code == 403
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/auditlog/logentry/add/").status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()
    listing = admin_client.post(
        "/admin/auditlog/logentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert listing.status_code in (200, 302) and LogEntry.objects.filter(pk=entry.pk).exists()


def test_object_history_page_shows_the_audit_trail(admin_client):
    rule = rule_make()
    admin_client.post(f"/admin/rewards/rule/{rule.pk}/change/", {**FORM, "name": rule.name,
                      "condition": "net_loss_7d >= 70"})  # fmt: skip
    page = admin_client.get(f"/admin/rewards/rule/{rule.pk}/history/").content.decode()
    assert 'id="audit-trail"' in page and "net_loss_7d &gt;= 70" in page and "admin" in page


def test_analyst_reads_the_audit_log_and_cannot_delete_it(staff_client_for):
    entry = entries_for(rule_make())[0]
    analyst = staff_client_for("analyst")
    assert analyst.get("/admin/auditlog/logentry/").status_code == 200
    assert analyst.get(f"/admin/auditlog/logentry/{entry.pk}/change/").status_code == 200
    delete = analyst.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403 and LogEntry.objects.filter(pk=entry.pk).exists()


def test_bonus_grant_by_a_rule_run_is_not_a_staff_action(player):
    from wallet import services

    services.bonus_grant(
        player=player, currency="EUR", amount=D(5), wagering_multiplier=D(1),
        idempotency_key=key(), source="rule",
    )  # fmt: skip
    assert not LogEntry.objects.filter(content_type__model="bonus").exists()


def test_the_logged_address_is_not_a_forged_forwarded_for(admin_client):
    rule = rule_make()
    admin_client.post(
        f"/admin/rewards/rule/{rule.pk}/change/",
        {**FORM, "name": rule.name, "priority": "5"},
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert entries_for(rule)[-1].remote_addr == "10.1.2.3"
