"""End-to-end: post events with a service token, read the player back with metrics."""

import pytest

pytestmark = pytest.mark.django_db

EVENTS = [
    {
        "external_id": "d1",
        "player_id": "p-1",
        "type": "deposit",
        "amount": "100.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
    },
    *[
        {
            "external_id": f"b{i}",
            "player_id": "p-1",
            "type": "bet",
            "amount": "10.00",
            "currency": "EUR",
            "occurred_at": f"2026-11-2{1 + i % 2}T10:00:00Z",
            "game_category": "slots",
        }
        for i in range(8)
    ],
    {
        "external_id": "w1",
        "player_id": "p-1",
        "type": "win",
        "amount": "30.00",
        "currency": "EUR",
        "occurred_at": "2026-11-22T11:00:00Z",
    },
]


def test_events_then_player_metrics(service_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = service_client.post("/api/v1/events/", {"events": EVENTS}, format="json")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * len(EVENTS)

    player = service_client.get("/api/v1/players/p-1/").json()
    lifetime = player["metrics"]["lifetime"]
    assert lifetime["turnover"] == "80.00"
    assert lifetime["bet_count"] == 8
    assert lifetime["ggr"] == "50.00"
    assert lifetime["rtp"] == "0.375"
    assert lifetime["active_days"] == 2
    assert player["segment"] == "breakeven"  # player_net -50 is inside the band of 50


def test_unauthenticated_is_401_and_analyst_cannot_post(client, analyst_client):
    assert client.get("/api/v1/players/").status_code == 401
    response = analyst_client.post("/api/v1/events/", EVENTS[0], format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
