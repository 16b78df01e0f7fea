"""Issue 11 case 8: the admin's rough edges (Django test client).

Money and metrics in their currency's minor units, a label for every row, the import job's
files through the admin, failed jobs without a full bar, no "View site", personal data only for
the roles allowed to see it.
"""

import re
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.db import models

from config.roles import roles_sync
from importer.models import ImportJob
from players.models import Fingerprint, PlayerMetrics, SegmentChange
from tests.factories import ActivityFactory, PlayerFactory, currency
from tests.wallet.conftest import D, key
from wallet import services

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def staff(client, role: str):
    roles_sync()
    user = User.objects.create_user(f"{role}-staff", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def eur_player():
    player = PlayerFactory(
        external_id="p-eur",
        username="johnny",
        email="john.doe@example.com",
        currency=currency("EUR"),
    )
    values = {"turnover": D("0E-8"), "ggr": D("12.50000000"), "ngr": D("-3.10000000")}
    for window in ("lifetime", "30d", "7d"):
        PlayerMetrics.objects.create(
            player=player, window=window, as_of=AS_OF, rtp=D("0.5"), **values
        )
    SegmentChange.objects.create(
        player=player,
        from_segment="new",
        to_segment="losing",
        changed_at=AS_OF,
        metrics={
            "turnover_30d": "0E-8",
            "player_net_lifetime": "-12.50000000",
            "bet_count_lifetime": "3",
        },
    )
    Fingerprint.objects.create(player=player, kind="ip", value="203.0.113.77")
    ActivityFactory(player=player, type="deposit", amount=D("5.00000000"), source="api")
    return player


# --- money and metric values ------------------------------------------------------------


NOT_MINOR_UNITS = re.compile(r"\dE-\d|\d\.\d{8}\b|\d\.\d{3,7}0\b")


def test_player_page_shows_metrics_in_minor_units(admin_client, eur_player):
    html = page(admin_client, f"/admin/players/player/{eur_player.pk}/change/")
    assert not NOT_MINOR_UNITS.search(html), NOT_MINOR_UNITS.search(html)
    assert "<td>0.00</td>" in html and "<td>12.50</td>" in html and "<td>-3.10</td>" in html
    assert "5.00 EUR" in html  # recent activity
    assert "turnover_30d 0.00" in html and "player_net_lifetime -12.50" in html


@pytest.mark.parametrize(
    "url",
    [
        "/admin/players/playermetrics/",
        "/admin/players/segmentchange/",
        "/admin/players/activity/",
        "/admin/wallet/account/",
        "/admin/wallet/bonus/",
    ],
)
def test_lists_show_money_in_minor_units(admin_client, eur_player, url):
    services.wallet_deposit(
        player=eur_player, currency="EUR", amount=D("10"), idempotency_key=key()
    )
    services.bonus_grant(
        player=eur_player, currency="EUR", amount=D("0.10"), wagering_multiplier=D("1.5"),
        idempotency_key=key(),
    )  # fmt: skip
    html = page(admin_client, url)
    assert not NOT_MINOR_UNITS.search(html), (url, NOT_MINOR_UNITS.search(html))


def test_change_pages_show_money_in_minor_units(admin_client, eur_player):
    from players.models import Activity
    from wallet.models import Account, Bonus, LedgerTransaction

    services.wallet_deposit(
        player=eur_player, currency="EUR", amount=D("10"), idempotency_key=key()
    )
    services.bonus_grant(
        player=eur_player, currency="EUR", amount=D("0.10"), wagering_multiplier=D("1.5"),
        max_bet=D("5"), idempotency_key=key(),
    )  # fmt: skip
    urls = [
        f"/admin/players/activity/{Activity.objects.first().pk}/change/",
        f"/admin/wallet/account/{Account.objects.filter(player=eur_player).first().pk}/change/",
        f"/admin/wallet/bonus/{Bonus.objects.get().pk}/change/",
        f"/admin/wallet/ledgertransaction/{LedgerTransaction.objects.first().pk}/change/",
    ]
    for url in urls:
        html = page(admin_client, url)
        assert not NOT_MINOR_UNITS.search(html), (url, NOT_MINOR_UNITS.search(html))
    bonus_page = page(admin_client, urls[2])
    assert "0.10" in bonus_page and "0.00 / 0.15 (0.15 left)" in bonus_page


def test_metrics_detail_and_btc_keep_their_own_precision(admin_client):
    player = PlayerFactory(currency=currency("BTC"))
    row = PlayerMetrics.objects.create(player=player, window="7d", as_of=AS_OF, turnover=D("1E-8"))
    html = page(admin_client, f"/admin/players/playermetrics/{row.pk}/change/")
    assert "0.00000001" in html and "1E-8" not in html


def test_bonus_list_shows_wagering_left_rounded_up(admin_client, eur_player):
    services.wallet_deposit(
        player=eur_player, currency="EUR", amount=D("10"), idempotency_key=key()
    )
    services.bonus_grant(
        player=eur_player, currency="EUR", amount=D("0.10"), wagering_multiplier=D(1),
        idempotency_key=key(),
    )  # fmt: skip
    for _ in range(5):
        services.wallet_bet_place(
            player=eur_player, currency="EUR", amount=D("0.01"), game_category="table",
            idempotency_key=key(),
        )  # fmt: skip
    assert "0.00 / 0.10 (0.10 left)" in page(admin_client, "/admin/wallet/bonus/")


@pytest.mark.parametrize("amount", ["1E+2", "١٠", "1e1", "+5"])
def test_admin_money_forms_take_plain_ascii_decimals_only(admin_client, eur_player, amount):
    data = {"player": eur_player.external_id, "currency": "EUR", "amount": amount, "reason": "r"}
    response = admin_client.post("/admin/wallet/ledgertransaction/add/", {**data, "key": key()})
    assert response.status_code == 200  # the form again, with the error
    assert "not a plain decimal" in response.content.decode()


# --- labels -----------------------------------------------------------------------------


def test_every_model_has_a_label():
    unlabelled = [
        model.__name__
        for app in ("players", "wallet", "importer", "rewards", "safety", "webhooks")
        for model in apps.get_app_config(app).get_models()
        if model.__str__ is models.Model.__str__
    ]
    assert unlabelled == []


def test_segment_changes_and_fingerprints_are_labelled(admin_client, eur_player):
    change = SegmentChange.objects.get()
    assert str(change) == "new → losing on 2026-11-20 00:00"
    assert str(Fingerprint.objects.get()) == "ip 2***"
    html = page(admin_client, f"/admin/players/player/{eur_player.pk}/change/")
    assert "object (" not in html


# --- import jobs: files through the admin, failed jobs ---------------------------------------


@pytest.fixture
def failed_job(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = ImportJob(kind="activity", original_name="bets.csv", status=ImportJob.Status.FAILED)
    job.stage = "validate"
    job.rows_total = job.rows_done = 40
    job.file.save("bets.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    job.error_report.save("errors.csv", ContentFile(b"row,column\n2,a\n"), save=False)
    job.save()
    return job


def test_the_job_page_links_its_files_through_the_admin(admin_client, failed_job):
    html = page(admin_client, f"/admin/importer/importjob/{failed_job.pk}/change/")
    assert "/media/" not in html
    links = re.findall(r'href="(/admin/importer/importjob/\d+/(?:file/|errors\.csv))"', html)
    assert len(links) == 2
    for link in links:
        response = admin_client.get(link)
        assert response.status_code == 200, link
        assert b"".join(response.streaming_content)


def test_the_files_need_a_staff_login(client, failed_job):
    response = client.get(f"/admin/importer/importjob/{failed_job.pk}/file/")
    assert response.status_code == 302  # to the login page


@pytest.mark.parametrize(
    "url", ["/admin/importer/importjob/", "/admin/importer/importjob/{}/change/"]
)
def test_a_failed_job_shows_no_full_progress_bar(admin_client, failed_job, url):
    html = page(admin_client, url.format(failed_job.pk))
    assert 'value="100"' not in html
    assert "failed</strong> at" in html


# --- no "View site", personal data by role --------------------------------------------------


def test_there_is_no_view_site_link(admin_client):
    assert "View site" not in page(admin_client, "/admin/")


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_roles_allowed_see_personal_data(client, eur_player, role):
    html = page(staff(client, role), f"/admin/players/player/{eur_player.pk}/change/")
    assert "john.doe@example.com" in html and "johnny" in html and "203.0.113.77" in html


@pytest.mark.parametrize("role", ["analyst"])
def test_other_roles_see_it_masked_and_cannot_search_by_it(client, eur_player, role):
    staff(client, role)
    html = page(client, f"/admin/players/player/{eur_player.pk}/change/")
    assert "john.doe@example.com" not in html and "johnny" not in html
    assert "203.0.113.77" not in html
    assert "j***@e***.com" in html and "j***" in html
    found = page(client, "/admin/players/player/?q=john.doe%40example.com")
    assert "p-eur" not in found
    assert "p-eur" in page(client, "/admin/players/player/?q=p-eur")


def test_a_superuser_without_groups_sees_personal_data(admin_client, eur_player):
    html = page(admin_client, f"/admin/players/player/{eur_player.pk}/change/")
    assert "john.doe@example.com" in html
