"""Every admin list reads as a product: human labels (never `… object (N)`), amounts in their
currency's units, disabled webhook endpoints and currencies without a rate in plain sight."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from rewards.models import JurisdictionLimit, Reward


@pytest.fixture
def changelists():
    return {
        model._meta.label: reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        for model in admin.site._registry
    }


def test_every_list_renders_with_human_labels(admin_client, filled, changelists):
    JurisdictionLimit.objects.create(country="DE", kind="max_amount", value="100")
    for label, url in changelists.items():
        response = admin_client.get(url)
        assert response.status_code == 200, label
        page = response.content.decode()
        assert not re.search(r"\w object \(\d+\)", page), label
        assert "0E-8" not in page and ".00000000<" not in page, label


def test_rewards_show_amounts_in_the_currency_units(admin_client, filled):
    page = admin_client.get(reverse("admin:rewards_reward_changelist")).content.decode()
    assert '<td class="field-amount_shown">100.00</td>' in page
    reward = Reward.objects.filter(amount=100).get()
    assert str(reward) == f"reward {reward.pk}: bonus 100.00 USD"


def test_currencies_without_a_rate_are_named_and_filtered(admin_client, filled):
    url = reverse("admin:players_currency_changelist")
    page = admin_client.get(url).content.decode()
    assert "none: left out of the reporting sums" in page
    assert "reporting currency" in page
    missing = admin_client.get(url, {"rate": "missing"}).context["cl"].result_list
    assert [c.code for c in missing] == ["XTS"]
    in_force = admin_client.get(url, {"rate": "in_force"}).context["cl"].result_list
    assert "EUR" in {c.code for c in in_force} and "XTS" not in {c.code for c in in_force}


def test_disabled_webhook_endpoints_come_first_with_why(admin_client, filled):
    url = reverse("admin:webhooks_webhookendpoint_changelist")
    rows = admin_client.get(url).context["cl"].result_list
    assert [e.url for e in rows] == [
        "https://gone.example.test/hook",
        "https://fine.example.test/hook",
    ]
    page = admin_client.get(url, {"state": "disabled"}).content.decode()
    assert "Disabled: 410 Gone." in page
    assert "fine.example.test" not in page
