"""A player's wallet on the player's page: balances, bonuses with wagering bars, the latest
ledger rows, and grant / adjust / forfeit reachable from there with a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from config.roles import roles_sync
from tests.wallet.conftest import D, bet, deposit, key
from wallet import services
from wallet.admin_player import LEDGER_ROWS, wagering_percent
from wallet.models import Bonus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def grant(player, amount="20.00", multiplier=10) -> Bonus:
    return services.bonus_grant(
        player=player, currency="EUR", amount=D(amount), wagering_multiplier=multiplier,
        expires_at=timezone.now() + timedelta(days=7), idempotency_key=key(), reason="test",
    )  # fmt: skip


@pytest.mark.parametrize(
    "required,done,percent",
    [("200", "0", 0), ("200", "50", 25), ("200", "199.99", 99), ("200", "200", 100),
     ("200", "250", 100), ("0", "0", 100), ("3", "1", 33)],
)  # fmt: skip
def test_wagering_percent_is_full_only_when_nothing_is_left(required, done, percent):
    assert wagering_percent(required=Decimal(required), done=Decimal(done)) == percent


def test_player_page_shows_wallet_bonus_progress_ledger_and_tools(staff_client, player):
    bonus = grant(player)
    bet(player, "5.00", game_category="slots")  # paid from the bonus: 5 of 200 wagered
    page = staff_client.get(f"/admin/players/player/{player.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<progress class="wagering" max="100" value="2"></progress>' in html
    assert '<span class="wagering-figures">5.00 / 200.00 (2%)</span>' in html
    assert f"/admin/wallet/bonus/{bonus.pk}/forfeit/" in html
    assert f"/admin/wallet/bonus/add/?player={player.external_id}&amp;currency=EUR" in html
    assert "/admin/wallet/ledgertransaction/add/?player=" in html
    assert "bonus -5.00 EUR" in html  # the bet's leg on the player's bonus account


def test_ledger_on_the_player_page_is_the_latest_rows_only(staff_client, player):
    for n in range(LEDGER_ROWS + 5):
        deposit(player, f"{n + 1}.00")
    page = staff_client.get(f"/admin/players/player/{player.pk}/change/")
    ledger = next(
        f
        for f in page.context["inline_admin_formsets"]
        if "ledger" in str(f.opts.verbose_name_plural)
    )
    shown = [form.instance.details for form in ledger.formset]
    assert len(shown) == LEDGER_ROWS
    amounts = [
        str(next(e.amount for e in form.instance.entries.all() if e.account.player_id))
        for form in ledger.formset
    ]
    assert amounts[0] == f"{LEDGER_ROWS + 5}.00000000"  # the newest first


def test_forfeit_from_the_player_page_with_a_reason(staff_client, player, admin_user):
    bonus = grant(player)
    url = f"/admin/wallet/bonus/{bonus.pk}/forfeit/"
    assert staff_client.get(url).status_code == 200
    refused = staff_client.post(url, {"reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    answer = staff_client.post(url, {"reason": "bonus abuse"})
    assert answer.status_code == 302 and answer.url.endswith(f"/player/{player.pk}/change/")
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED
    # the audit log (django-auditlog, ADR 0016): who, what and why
    entry = LogEntry.objects.get_for_object(bonus).get(action=LogEntry.Action.UPDATE)
    assert (entry.actor_id, entry.changes["status"], entry.additional_data) == (
        admin_user.pk,
        ["active", "forfeited"],
        {"reason": "bonus abuse"},
    )


def test_an_analyst_cannot_forfeit(client, player):
    roles_sync()
    analyst = get_user_model().objects.create_user("analyst", password="x", is_staff=True)
    analyst.groups.set([Group.objects.get(name="analyst")])
    client.force_login(analyst)
    bonus = grant(player)
    assert (
        client.post(f"/admin/wallet/bonus/{bonus.pk}/forfeit/", {"reason": "x"}).status_code == 403
    )
    page = client.get(f"/admin/players/player/{player.pk}/change/").content.decode()
    assert "Grant a bonus" not in page and "Manual adjustment" not in page
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.ACTIVE


def test_grant_and_adjust_forms_open_filled_with_the_player(staff_client, player):
    query = f"?player={player.external_id}&currency=EUR"
    for url in ("/admin/wallet/bonus/add/", "/admin/wallet/ledgertransaction/add/"):
        form = staff_client.get(url + query).context["form"]
        assert (form["player"].value(), form["currency"].value()) == (player.external_id, "EUR")
