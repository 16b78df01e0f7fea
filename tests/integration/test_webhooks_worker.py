"""A real Celery worker over Redis delivers a webhook, after commit, to a real HTTP receiver on
loopback, signed with the endpoint's secret."""

import time

import pytest
from django.db import transaction

from config.domain_events import domain_events_emit
from tests.webhooks.conftest import receiver  # noqa: F401  (the loopback receiver fixture)
from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.receiver import webhook_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_worker_delivers_a_committed_event(celery_worker_process, receiver):  # noqa: F811
    _, secret = services.endpoint_create(url=receiver.url, event_types=["import.finished"])
    with transaction.atomic():
        domain_events_emit("import.finished", [{"import_id": 42, "status": "succeeded"}])
    # the worker's own start (Django, Celery, the broker) is inside this wait: seconds when
    # the machine is quiet, tens of them beside other test processes
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not receiver.received:
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.2)
    assert receiver.received, "the worker did not deliver within 90 s"
    [got] = receiver.received
    webhook_verify(secret, got["headers"], got["body"])
    assert receiver.bodies()[0]["data"] == {"import_id": 42, "status": "succeeded"}
    while time.monotonic() < deadline:
        if WebhookDelivery.objects.get().status == "succeeded":
            break
        time.sleep(0.2)
    assert WebhookDelivery.objects.get().status == "succeeded"
