"""Webhooks API: admin role only; the secret in the create and rotate answers only; https
outside DEBUG and no local addresses; the delivery log and re-sending."""

import pytest
from django.test import override_settings

from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/endpoints/"


def test_create_shows_the_secret_once_and_rotation_gives_a_new_one(admin_client_api):
    body = {"url": "https://crm.example.com/hooks", "event_types": ["reward.issued"]}
    created = admin_client_api.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    shown = admin_client_api.get(f"{URL}{created.json()['id']}/").json()
    assert "secret" not in shown and secret not in str(shown)
    rotated = admin_client_api.post(f"{URL}{created.json()['id']}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, "")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.previous_secret == secret


def test_an_endpoint_can_be_created_inactive(admin_client_api):
    """Found by the schema fuzz (tests/api/test_schema_fuzz.py): `active` in a create was a 500."""
    body = {"url": "https://crm.example.com/hooks", "event_types": ["reward.issued"]}
    created = admin_client_api.post(URL, {**body, "active": False}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["active"] is False
    assert WebhookEndpoint.objects.get().active is False


@pytest.mark.parametrize("role", ["operator", "analyst", "service"])
def test_only_the_admin_role_manages_webhooks(api_client_for, role):
    client = api_client_for(role)
    assert client.get(URL).status_code == 403
    body = {"url": "https://crm.example.com/hooks", "event_types": ["reward.issued"]}
    assert client.post(URL, body, format="json").status_code == 403


@pytest.mark.parametrize(
    "url, event_types, code",
    [
        ("http://crm.example.com/hooks", ["reward.issued"], "invalid_url"),
        ("https://127.0.0.1/hooks", ["reward.issued"], "invalid_url"),
        ("https://10.1.2.3/hooks", ["reward.issued"], "invalid_url"),
        ("https://localhost/hooks", ["reward.issued"], "invalid_url"),
        ("https://crm.example.com/hooks", ["reward.paid"], "invalid"),
        ("https://crm.example.com/hooks", [], "invalid"),
    ],
)
def test_bad_endpoints_are_refused(admin_client_api, url, event_types, code):
    with override_settings(PITBOSS={"WEBHOOKS_ALLOW_LOCAL": False}):
        response = admin_client_api.post(
            URL, {"url": url, "event_types": event_types}, format="json"
        )
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == code
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_filters_and_resends(admin_client_api):
    from config.domain_events import domain_events_emit

    admin_client_api.post(
        URL,
        {"url": "https://crm.example.com/hooks", "event_types": ["import.finished"]},
        format="json",
    )
    WebhookEndpoint.objects.update(active=False)  # nothing is attempted
    WebhookEndpoint.objects.update(active=True)
    domain_events_emit("import.finished", [{"import_id": 1}])
    log = admin_client_api.get("/api/v1/webhooks/deliveries/?type=import.finished").json()
    [row] = log["results"]
    assert row["type"] == "import.finished" and row["status"] == "pending"
    assert (
        admin_client_api.get("/api/v1/webhooks/deliveries/?type=bonus.granted").json()["results"]
        == []
    )
    resent = admin_client_api.post(
        "/api/v1/webhooks/deliveries/resend/", {"ids": [row["id"]]}, format="json"
    )
    assert resent.status_code == 202 and resent.json() == {"resent": 1}
    assert WebhookDelivery.objects.get().status == "pending"
