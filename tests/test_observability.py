"""Readiness, request ids in responses and log lines, and the product's own Prometheus metrics."""

import pytest
import structlog
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_readyz_checks_database_broker_and_migrations(client):
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "database": "ok", "broker": "eager", "migrations": "ok"}


def test_a_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="pam-42").headers["X-Request-ID"] == "pam-42"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="<script>").headers["X-Request-ID"]
    assert made != "<script>" and len(made) == 32


def test_the_request_id_is_in_the_log_lines_of_the_request(service_client):
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        service_client.post(
            "/api/v1/events/",
            {
                "external_id": "obs-1",
                "player_id": "obs-p",
                "type": "bet",
                "amount": "5.00",
                "currency": "EUR",
                "occurred_at": "2026-11-20T10:00:00+00:00",
            },
            format="json",
            HTTP_X_REQUEST_ID="req-obs-1",
        )
    rejected = [line for line in logs if line["event"] == "event_rejected"]
    assert rejected and rejected[0]["request_id"] == "req-obs-1"
    assert rejected[0]["player"] == "obs-p"  # the player's external id


def test_events_are_counted_by_type_status_and_reason(service_client, client):
    from wallet.events import EVENTS

    before = EVENTS.labels("bet", "rejected", "insufficient_funds")._value.get()
    service_client.post(
        "/api/v1/events/",
        {
            "external_id": "obs-2",
            "player_id": "obs-p2",
            "type": "bet",
            "amount": "5.00",
            "currency": "EUR",
            "occurred_at": "2026-11-20T10:00:00+00:00",
        },
        format="json",
    )
    assert EVENTS.labels("bet", "rejected", "insufficient_funds")._value.get() == before + 1
    with override_settings(PITBOSS={"METRICS_TOKEN": ""}):
        scraped = client.get("/metrics").content.decode()
    assert 'pitboss_events_total{reason="insufficient_funds",status="rejected",type="bet"}' in (
        scraped
    )
