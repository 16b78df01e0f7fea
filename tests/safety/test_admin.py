"""Admin: the flags queue with evidence and bulk resolve, a page per cluster, the tuning data."""

import pytest
from auditlog.models import LogEntry

from players.fingerprints import fingerprints_record
from players.models import Player
from safety.models import FraudCluster, FraudFlag
from safety.services import fraud_scan
from tests.factories import PlayerFactory
from tests.safety.conftest import event, grant

pytestmark = pytest.mark.django_db


def _ring():
    for i in range(3):
        assert event(f"ring-{i}", "deposit", 50, device_id="dev-77").status == "applied"
    grant("ring-0", 25)
    fraud_scan()


def test_flags_queue_shows_evidence(admin_client):
    _ring()
    page = admin_client.get("/admin/safety/fraudflag/?status__exact=open")
    assert page.status_code == 200
    text = page.content.decode()
    assert "shared_device" in text and "dev-77" in text and "ring-1" in text
    flag = FraudFlag.objects.first()
    assert admin_client.get(f"/admin/safety/fraudflag/{flag.pk}/change/").status_code == 200


def test_bulk_resolve_needs_a_note_and_is_audited(admin_client):
    _ring()
    ids = list(FraudFlag.objects.values_list("pk", flat=True))
    url = "/admin/safety/fraudflag/"
    form = admin_client.post(url, {"action": "resolve", "_selected_action": ids})
    assert form.status_code == 200 and "Resolve fraud flags" in form.content.decode()
    missing = admin_client.post(
        url, {"action": "resolve", "_selected_action": ids, "apply": "1",
              "resolution": "dismissed", "note": ""},
    )  # fmt: skip
    assert missing.status_code == 200 and FraudFlag.objects.filter(status="open").count() == 3
    done = admin_client.post(
        url, {"action": "resolve", "_selected_action": ids, "apply": "1",
              "resolution": "dismissed", "note": "one family, one tablet"},
    )  # fmt: skip
    assert done.status_code == 302
    assert set(FraudFlag.objects.values_list("status", "note")) == {
        ("dismissed", "one family, one tablet")
    }
    assert not Player.objects.filter(risk_score__gt=0).exists()
    entries = LogEntry.objects.filter(content_type__model="fraudflag")
    assert sorted(e.object_id for e in entries) == sorted(ids)
    assert {(e.actor.username, e.changes["status"][1], e.additional_data["reason"])
            for e in entries} == {("admin", "dismissed", "one family, one tablet")}  # fmt: skip


def test_cluster_page_shows_players_values_bonuses_and_wallets(admin_client):
    _ring()
    cluster = FraudCluster.objects.get()
    assert "device: 1" in admin_client.get("/admin/safety/fraudcluster/").content.decode()
    page = admin_client.get(f"/admin/safety/fraudcluster/{cluster.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    for needle in ("ring-0", "ring-2", "dev-77", "cash 50.00", "25.00000000 EUR active"):
        assert needle in text, needle


def test_tuning_pages_and_player_risk(admin_client):
    for url in ("/admin/safety/houseedge/", "/admin/safety/signalweight/",
                "/admin/safety/safetypolicy/"):  # fmt: skip
        assert admin_client.get(url).status_code == 200, url
    player = PlayerFactory(risk_score=42)
    fingerprints_record(rows=[(player.pk, "device", "d")])
    page = admin_client.get(f"/admin/players/player/{player.pk}/change/")
    assert page.status_code == 200 and "42" in page.content.decode()


def test_player_page_lists_flags(admin_client):
    _ring()
    player = Player.objects.get(external_id="ring-1")
    text = admin_client.get(f"/admin/players/player/{player.pk}/change/").content.decode()
    assert "shared_device" in text and "Resolve in the flags queue" in text
