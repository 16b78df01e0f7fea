"""Outbox and delivery: written with the change, sent after commit to a real receiver on
loopback, retried with backoff under the same delivery id, never sent for a rolled-back
change, held by the outbox while the broker is down, and a 410 disables the endpoint."""

from datetime import timedelta

import pytest
from celery.canvas import Signature
from django.db import transaction
from django.utils import timezone

from config.domain_events import domain_events_emit
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.receiver import webhook_verify

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status


@pytest.fixture
def endpoint(receiver):
    endpoint, secret = services.endpoint_create(
        url=receiver.url, event_types=["bonus.granted", "import.finished"]
    )
    endpoint.test_secret = secret
    return endpoint


def emit(data: dict | None = None) -> None:
    with transaction.atomic():
        domain_events_emit("bonus.granted", [data or {"bonus_id": 1, "player": "p-1"}])


def retry_until_done(delivery: WebhookDelivery, *, limit: int = 10) -> None:
    """Attempt the delivery again at its next due time, as the beat job would."""
    for _ in range(limit):
        delivery.refresh_from_db()
        if delivery.status != Status.PENDING:
            return
        services.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    raise AssertionError("still pending")


def test_delivered_after_commit_signed_with_the_endpoints_secret(receiver, endpoint):
    emit({"bonus_id": 7, "player": "p-1", "amount": "50.00"})
    [got] = receiver.received
    webhook_verify(endpoint.test_secret, got["headers"], got["body"])
    body = receiver.bodies()[0]
    delivery = WebhookDelivery.objects.get()
    assert body["id"] == str(delivery.pk) and body["type"] == "bonus.granted"
    assert body["data"] == {"bonus_id": 7, "player": "p-1", "amount": "50.00"}
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 1
    assert delivery.last_status_code == 200


def test_deliveries_are_counted_on_metrics_by_endpoint_and_outcome(receiver, endpoint):
    from tests.metrics import sample, scrape

    name, labels = "pitboss_webhook_deliveries_total", {"endpoint": str(endpoint.pk)}
    receiver.answers = [500]
    emit()
    retry_until_done(WebhookDelivery.objects.get())
    samples = scrape()
    assert sample(samples, name, **labels, outcome="retry") == 1
    assert sample(samples, name, **labels, outcome="succeeded") == 1


def test_three_failures_then_success_is_acknowledged_once_under_one_id(receiver, endpoint):
    receiver.answers = [500, 503, 429]
    emit()
    delivery = WebhookDelivery.objects.get()
    retry_until_done(delivery)
    assert [r["status"] for r in receiver.received] == [500, 503, 429, 200]
    ids = {body["id"] for body in receiver.bodies()}
    assert ids == {str(delivery.pk)}
    assert receiver.acknowledged() == [str(delivery.pk)]
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 4
    services.deliveries_resend(delivery_ids=[delivery.pk])  # a later duplicate: the same id
    assert {body["id"] for body in receiver.bodies()} == {str(delivery.pk)}
    assert len(receiver.received) == 5


def test_backoff_grows_and_stays_within_the_cap(receiver, endpoint):
    receiver.answers = [500] * 12
    emit()
    delivery = WebhookDelivery.objects.get()
    gaps = []
    for _ in range(12):
        delivery.refresh_from_db()
        before = delivery.next_attempt_at
        services.delivery_attempt(delivery_id=delivery.pk, now=before)
        delivery.refresh_from_db()
        gaps.append(delivery.next_attempt_at - before)
    assert gaps[0] <= timedelta(minutes=1) < gaps[5]
    assert all(gap <= services.BACKOFF_MAX for gap in gaps)


def test_nothing_is_sent_for_a_rolled_back_transaction(receiver, endpoint):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        domain_events_emit("bonus.granted", [{"bonus_id": 1}])
        raise Abort
    assert not WebhookEvent.objects.exists()
    assert receiver.received == []


def test_the_outbox_holds_an_event_committed_while_the_broker_is_down(
    receiver, endpoint, monkeypatch
):
    def broker_down(self, *args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(Signature, "apply_async", broker_down)
    emit()
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == Status.PENDING
    monkeypatch.undo()  # the broker is back: the beat job queues what is due
    assert services.deliveries_due_queue() == 1
    assert len(receiver.acknowledged()) == 1


def test_a_410_disables_the_endpoint(receiver, endpoint):
    receiver.answers = [410]
    emit()
    endpoint.refresh_from_db()
    assert not endpoint.active and "410" in endpoint.disabled_reason
    assert WebhookDelivery.objects.get().status == Status.FAILED
    emit()  # a disabled endpoint gets nothing more
    assert len(receiver.received) == 1


def test_after_a_day_of_failures_the_delivery_fails_and_the_endpoint_is_disabled(
    receiver, endpoint
):
    receiver.answers = [500, 500]
    emit()
    delivery = WebhookDelivery.objects.get()
    a_day_later = delivery.created_at + timedelta(days=1, minutes=1)
    services.delivery_attempt(delivery_id=delivery.pk, now=a_day_later)
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert not endpoint.active and endpoint.disabled_reason.startswith("Failing since")


def test_a_slow_endpoint_has_a_limit_of_deliveries_in_flight(receiver, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(max_in_flight=1)
    receiver.answers = [500, 500]
    emit()
    emit()
    first, second = WebhookDelivery.objects.order_by("created_at")
    now = timezone.now() + timedelta(hours=2)
    WebhookDelivery.objects.filter(pk=first.pk).update(
        status=Status.SENDING, claimed_until=now + timedelta(seconds=30)
    )
    assert services.delivery_attempt(delivery_id=second.pk, now=now) is None  # no room
    WebhookDelivery.objects.filter(pk=first.pk).update(claimed_until=now - timedelta(seconds=1))
    assert services.delivery_attempt(delivery_id=second.pk, now=now) == Status.SUCCEEDED
    # a delivery whose worker died (claim expired) is picked up again by the beat job
    assert services.deliveries_due_queue(now=now) == 1
