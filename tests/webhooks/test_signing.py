"""The signature scheme: the documented receiver (webhooks/receiver.py, shown in
docs/webhooks.md) and the Standard Webhooks library both accept what Pitboss signs, and refuse
a changed body, an old timestamp and another secret."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.receiver import InvalidSignature, webhook_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    endpoint, secret = services.endpoint_create(
        url="https://crm.example.com/hooks", event_types=["bonus.granted"]
    )
    event = WebhookEvent.objects.create(type="bonus.granted", data={"bonus_id": 7, "player": "p-1"})
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=datetime.now(UTC)
    )
    return delivery, secret


def signed(delivery: WebhookDelivery, at: datetime) -> tuple[dict, bytes]:
    body = services.delivery_body(delivery)
    return services.delivery_headers(delivery, body, at=at), body.encode()


def test_the_documented_receiver_and_the_library_verify(delivery):
    delivery, secret = delivery
    headers, body = signed(delivery, datetime.now(UTC))
    webhook_verify(secret, headers, body)
    assert Webhook(secret).verify(body, headers)["id"] == str(delivery.pk)
    assert headers["webhook-id"] == str(delivery.pk)


def test_a_changed_body_fails(delivery):
    delivery, secret = delivery
    headers, body = signed(delivery, datetime.now(UTC))
    tampered = body.replace(b'"bonus_id":7', b'"bonus_id":8')
    with pytest.raises(InvalidSignature):
        webhook_verify(secret, headers, tampered)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)


def test_an_old_timestamp_fails_even_with_a_valid_signature(delivery):
    delivery, secret = delivery
    headers, body = signed(delivery, datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(InvalidSignature, match="too old"):
        webhook_verify(secret, headers, body)
    webhook_verify(secret, headers, body, now=time.time() - 6 * 60)  # valid at that time


def test_another_secret_fails(delivery):
    delivery, _ = delivery
    headers, body = signed(delivery, datetime.now(UTC))
    other = services._secret_new()
    with pytest.raises(InvalidSignature, match="no signature"):
        webhook_verify(other, headers, body)


def test_after_a_rotation_both_secrets_sign_until_the_grace_ends(delivery):
    delivery, old = delivery
    new = services.endpoint_secret_rotate(endpoint=delivery.endpoint)
    delivery.endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    now = datetime.now(UTC)
    headers, body = signed(delivery, now)
    assert len(headers["webhook-signature"].split()) == 2
    webhook_verify(old, headers, body)
    webhook_verify(new, headers, body)
    later = now + services.ROTATION_GRACE + timedelta(seconds=1)
    headers, body = signed(delivery, later)
    webhook_verify(new, headers, body, now=later.timestamp())
    with pytest.raises(InvalidSignature):
        webhook_verify(old, headers, body, now=later.timestamp())


def test_the_docs_show_the_receiver_code_as_it_is():
    root = Path(__file__).resolve().parents[2]
    code = (root / "webhooks" / "receiver.py").read_text()
    docs = (root / "docs" / "webhooks.md").read_text()
    function = code[code.index("def webhook_verify") :]
    assert function.strip() in docs
