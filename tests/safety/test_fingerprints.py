"""Fingerprints on events and player imports (SPEC §10): stored once per player; no card numbers."""

import pytest
from django.core.files.base import ContentFile

from importer import services as imports
from importer.models import ImportJob
from players.fingerprints import looks_like_card_number, luhn_valid
from players.models import EventReceipt, Fingerprint, Player

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
VISA = "4111 1111 1111 1111"


def ev(external_id, **extra):
    return {"external_id": external_id, "player_id": "fp-1", "type": "deposit",
            "amount": "10.00", "currency": "EUR", "occurred_at": "2026-11-20T10:00:00+00:00",
            **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "card"),
    [
        ("4111111111111111", True),
        (VISA, True),
        ("5500-0000-0000-0004", True),
        ("378282246310005", True),  # Amex, 15 digits
        ("4111111111111112", False),  # fails Luhn
        ("411111111111", False),  # 12 digits
        ("sha256:9f86d081884c7d65", False),
        ("12345678901234567890", False),  # 20 digits
    ],
)
def test_card_number_detection(value, card):
    assert looks_like_card_number(value) is card


def test_luhn():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_event_fingerprints_are_stored_once_per_player(service_client):
    fp = {"device_id": "dev-77", "ip": "10.0.0.7", "payment_instrument": "tok_9f86d0"}
    for i in range(3):
        response = service_client.post(URL, ev(f"d-{i}", **fp), format="json")
        assert response.json()["results"][0]["status"] == "applied"
    player = Player.objects.get(external_id="fp-1")
    assert sorted(player.fingerprints.values_list("kind", "value")) == [
        ("device", "dev-77"), ("ip", "10.0.0.7"), ("payment", "tok_9f86d0"),
    ]  # fmt: skip


def test_fingerprints_are_not_part_of_the_idempotency_payload(service_client):
    service_client.post(URL, ev("same", ip="10.0.0.1"), format="json")
    replay = service_client.post(URL, ev("same", ip="10.0.0.2"), format="json")
    assert replay.json()["results"][0]["status"] == "duplicate"


def test_rejected_event_still_records_its_fingerprints(service_client):
    bet = ev("b-1", type="bet", amount="5.00", device_id="dev-x")  # no cash: refused
    response = service_client.post(URL, bet, format="json")
    assert response.json()["results"][0]["reason"]["code"] == "insufficient_funds"
    assert Fingerprint.objects.filter(value="dev-x").exists()


def test_card_number_as_payment_instrument_is_refused(service_client):
    response = service_client.post(URL, ev("c-1", payment_instrument=VISA), format="json")
    assert response.status_code == 400
    assert "payment_instrument" in response.json()["error"]["details"]
    batch = service_client.post(
        URL, {"events": [ev("c-2", payment_instrument=VISA), ev("c-3")]}, format="json"
    )
    first, second = batch.json()["results"]
    assert first["status"] == "rejected" and first["reason"]["code"] == "card_number_refused"
    assert second["status"] == "applied"
    assert not Fingerprint.objects.filter(kind="payment").exists()
    assert not EventReceipt.objects.filter(external_id__in=["c-1", "c-2"]).exists()


def test_invalid_ip_is_refused(service_client):
    response = service_client.post(URL, ev("ip-1", ip="not-an-ip"), format="json")
    assert response.status_code == 400


def _import(content: bytes, **options) -> ImportJob:
    job = imports.import_job_create(
        file=ContentFile(content, name="players.csv"), kind="players", start=False, **options
    )
    return imports.import_job_run(job_id=job.pk)


def test_player_import_maps_fingerprints():
    content = (
        b"Player ID,Country,Device ID,IP Address,Payment Hash\n"
        b"imp-1,DE,dev-1,10.1.1.1,tok_a\nimp-2,DE,dev-1,,tok_b\nimp-1,DE,dev-2,10.1.1.1,\n"
    )
    job = _import(content)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    rows = sorted(Fingerprint.objects.values_list("player__external_id", "kind", "value"))
    assert rows == [
        ("imp-1", "device", "dev-1"), ("imp-1", "device", "dev-2"), ("imp-1", "ip", "10.1.1.1"),
        ("imp-1", "payment", "tok_a"), ("imp-2", "device", "dev-1"), ("imp-2", "payment", "tok_b"),
    ]  # fmt: skip
    assert _import(content).status == ImportJob.Status.SUCCEEDED  # re-import: no duplicates
    assert Fingerprint.objects.count() == 6


def test_player_import_refuses_card_numbers():
    content = b"Player ID,Payment Hash\nimp-1,4111111111111111\nimp-2,tok_ok\n"
    job = _import(content, on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert [e["code"] for e in job.errors] == ["card_number_refused"]
    assert list(Fingerprint.objects.values_list("value", flat=True)) == ["tok_ok"]
