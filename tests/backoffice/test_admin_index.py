"""The admin index is the dashboard for every staff role, branded, grouped, and its cost does
not grow with the number of players."""

import json
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.navigation import GROUPS
from config.roles import ADMIN, ANALYST, OPERATOR, roles_sync
from tests.factories import PlayerFactory

STAFF_ROLES = (ADMIN, OPERATOR, ANALYST)


def staff(client, role: str):
    roles_sync()
    user = get_user_model().objects.create_user(f"staff-{role}", password="x", is_staff=True)
    user.groups.set([Group.objects.get(name=role)])
    client.force_login(user)
    return client


def data_of(response) -> dict:
    found = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_gets_the_dashboard(client, filled, role):
    response = staff(client, role).get(reverse("admin:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Dashboard | Pitboss back office</title>" in page
    assert 'id="site-name"><a href="/admin/">Pitboss</a>' in page
    for canvas in ("segments", "rewards", "rewards-cost", "bonus-share", "flags"):
        assert f'id="chart-{canvas}"' in page
    data = data_of(response)
    assert data["review_queue"]["size"] == 2
    assert "oldest waiting " in page and data["review_queue"]["oldest_age"] in page
    assert data["flags_open"] == 3 + 1
    assert data["currencies_without_rate"] == ["XTS"]
    assert [e["url"] for e in data["webhooks_disabled"]] == ["https://gone.example.test/hook"]
    # every role may view the Pitboss models: each group is on its page
    groups = re.findall(r'<div class="app-pitboss-(\w+) module', page)
    assert groups == ["rewards", "players", "wallet", "safety", "imports", "settings"]


def test_the_range_selector_switches_between_30_and_90_days(admin_client, filled):
    assert len(data_of(admin_client.get("/admin/"))["rewards"]["days"]) == 30
    assert len(data_of(admin_client.get("/admin/?days=90"))["bonus_share"]["days"]) == 90
    assert data_of(admin_client.get("/admin/?days=7"))["days"] == 30  # not offered: the default
    assert data_of(admin_client.get("/admin/?days=lots"))["days"] == 30


def test_charts_link_into_the_workflows(admin_client, filled):
    data = data_of(admin_client.get("/admin/"))
    vip = next(row for row in data["segments"]["segments"] if row["segment"] == "vip")
    assert vip["url"] == "/admin/players/player/?segment__exact=vip"
    assert data["flags"][0]["url"] == (
        "/admin/safety/fraudflag/?status__exact=open&signal__exact=shared_device"
    )
    rule = data["rewards"]["rules"][0]
    assert (
        rule["url"] == f"/admin/rewards/reward/?rule__id__exact={rule['id']}&status__exact=issued"
    )
    for url in [*data["links"].values(), vip["url"], data["flags"][0]["url"], rule["url"]]:
        assert admin_client.get(url).status_code == 200, url


def test_every_registered_model_is_reachable_from_the_index(admin_client, db):
    page = admin_client.get("/admin/").content.decode()
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert f'href="{url}"' in page, model._meta.label


def test_the_groups_follow_the_navigation_order(admin_client, db):
    page = admin_client.get("/admin/").content.decode()
    positions = [page.index(f'class="app-pitboss-{name.lower()} module') for name, _ in GROUPS]
    assert positions == sorted(positions)
    rewards = page[positions[0] : positions[1]]
    assert rewards.index("/admin/rewards/rule/") < rewards.index("/admin/rewards/reviewqueueitem/")
    players = page[positions[1] : positions[2]]
    assert "/admin/rewards/customsegment/" in players  # custom segments sit with the players


def test_an_app_page_keeps_its_own_models(admin_client, db):
    page = admin_client.get("/admin/rewards/").content.decode()
    assert "/admin/rewards/customsegment/" in page
    assert "/admin/players/player/" not in page.split('id="content-main"')[1]


def test_the_dashboard_costs_the_same_queries_for_more_players(admin_client, filled):
    admin_client.get("/admin/")  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/admin/")
    PlayerFactory.create_batch(40, segment="winning")
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get("/admin/")
    assert len(many) == len(few)
    assert data_of(response)["segments"]["segments"][3]["players"] == 40


def test_a_dashboard_with_no_data_renders(admin_client, db):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    data = data_of(response)
    assert data["rewards"]["rules"] == []
    assert data["flags"] == [] and data["flags_open"] == 0
    assert data["review_queue"] == {
        "size": 0, "oldest_at": None, "oldest_age_hours": None, "oldest_age": None,
    }  # fmt: skip
