"""Admin: ledger read-only; grant, forfeit and adjust through service-backed forms, audited."""

import pytest
from auditlog.models import LogEntry

from tests.wallet.conftest import D
from wallet import services
from wallet.models import Bonus, LedgerTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_ledger_is_read_only(staff_client, player):
    services.wallet_deposit(player=player, currency="EUR", amount=D(5), idempotency_key="d")
    posted = LedgerTransaction.objects.get()
    page = staff_client.get(f"/admin/wallet/ledgertransaction/{posted.pk}/change/")
    assert page.status_code == 200
    assert (
        staff_client.post(f"/admin/wallet/ledgertransaction/{posted.pk}/delete/").status_code == 403
    )
    assert staff_client.get("/admin/wallet/account/").status_code == 200


def test_grant_and_forfeit_through_forms_are_audited(staff_client, player, admin_user):
    response = staff_client.post(
        "/admin/wallet/bonus/add/",
        {
            "player": player.external_id,
            "currency": "EUR",
            "amount": "20.00",
            "wagering_multiplier": "5",
            "wagering_base": "bonus",
            "reason": "vip goodwill",
            "key": "form-1",
        },
    )
    assert response.status_code == 302, response.content
    bonus = Bonus.objects.get()
    assert (bonus.granted_by, bonus.reason, bonus.status) == (admin_user, "vip goodwill", "active")
    response = staff_client.post(
        "/admin/wallet/bonus/",
        {"action": "forfeit", "_selected_action": [bonus.pk], "apply": "1", "reason": "abuse"},
    )
    assert response.status_code == 302
    bonus.refresh_from_db()
    assert bonus.status == "forfeited"
    ended = LedgerTransaction.objects.get(kind="bonus_forfeit")
    assert (ended.created_by, ended.reason) == (admin_user, "abuse")
    entries = LogEntry.objects.get_for_object(bonus).order_by("timestamp")
    assert [(e.action, e.actor, e.additional_data, e.changes["status"]) for e in entries] == [
        (LogEntry.Action.CREATE, admin_user, {"reason": "vip goodwill"}, [None, "active"]),
        (LogEntry.Action.UPDATE, admin_user, {"reason": "abuse"}, ["active", "forfeited"]),
    ]


def test_forfeit_without_reason_shows_the_form_again(staff_client, player):
    bonus = services.bonus_grant(
        player=player, currency="EUR", amount=D(5), wagering_multiplier=D(1), idempotency_key="g"
    )
    response = staff_client.post(
        "/admin/wallet/bonus/", {"action": "forfeit", "_selected_action": [bonus.pk]}
    )
    assert response.status_code == 200 and b"reason" in response.content
    bonus.refresh_from_db()
    assert bonus.status == "active"


def test_adjustment_form_refuses_overdraft_and_audits(staff_client, player, admin_user):
    data = {"player": player.external_id, "currency": "EUR", "amount": "-1", "reason": "fix"}
    refused = staff_client.post("/admin/wallet/ledgertransaction/add/", {**data, "key": "k1"})
    assert refused.status_code == 200 and b"Cash balance" in refused.content
    done = staff_client.post(
        "/admin/wallet/ledgertransaction/add/", {**data, "amount": "3.00", "key": "k2"}
    )
    assert done.status_code == 302
    posted = LedgerTransaction.objects.get(kind="adjustment")
    assert (posted.created_by, posted.reason) == (admin_user, "fix")
    entry = LogEntry.objects.get_for_object(posted).get()
    assert (entry.actor, entry.changes["amount"], entry.additional_data) == (
        admin_user, [None, "3.00"], {"reason": "fix"}
    )  # fmt: skip
