"""A real Celery worker (a separate process) consuming from Redis against the test database."""

import time

import pytest

from players.models import PlayerMetrics

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_posted_events_are_refreshed_by_the_worker(celery_worker_process, service_client):
    event = {
        "external_id": "worker-1",
        "player_id": "worker-player",
        "type": "deposit",
        "amount": "25.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    response = service_client.post("/api/v1/events/", event, format="json")
    assert response.json()["results"][0]["status"] == "applied"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = PlayerMetrics.objects.filter(
            player__external_id="worker-player", window="lifetime"
        ).first()
        if row is not None:
            break
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.2)
    assert row is not None, "the worker did not refresh the player's metrics within 30 s"
    assert row.deposits == 25
