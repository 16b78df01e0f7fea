"""`GET fraud/flags/`, `POST fraud/flags/{id}/resolve/`, and what resolving does to the score."""

import pytest

from config.errors import DomainError
from players.models import Player
from safety.fraud import FlagDraft
from safety.models import FraudFlag, SignalWeight
from safety.scoring import risk_scores_refresh
from safety.services import flag_resolve, flags_raise, flags_rescore
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/fraud/flags/"


def _flagged(name="p-9"):
    player = PlayerFactory(external_id=name)
    flags_raise([
        FlagDraft(player.pk, "shared_device", "shared_device",
                  {"value": "dev-77", "players": [name, "p-10", "p-11"]}),
        FlagDraft(player.pk, "bonus_withdrawal", "bonus:1", {"bonus": 1}),
    ])  # fmt: skip
    risk_scores_refresh(player_ids=[player.pk])
    return player


def test_list_has_the_spec_shape_and_filters(analyst_client):
    _flagged()
    _flagged("p-20")
    body = analyst_client.get(URL, {"player": "p-9", "signal": "shared_device"}).json()
    [flag] = body["results"]
    assert {k: flag[k] for k in ("player", "signal", "score", "status", "evidence")} == {
        "player": "p-9", "signal": "shared_device", "score": 40, "status": "open",
        "evidence": {"value": "dev-77", "players": ["p-9", "p-10", "p-11"]},
    }  # fmt: skip
    assert flag["id"] and flag["created_at"]
    assert len(analyst_client.get(URL, {"status": "open"}).json()["results"]) == 4
    assert analyst_client.get(URL, {"status": "dismissed"}).json()["results"] == []


def test_dismiss_lowers_the_score_at_once_and_is_audited(operator_client):
    player = _flagged()
    assert Player.objects.get(pk=player.pk).risk_score == 90
    flag = FraudFlag.objects.get(player=player, signal="shared_device")
    response = operator_client.post(
        f"{URL}{flag.pk}/resolve/", {"resolution": "dismissed", "note": "same household"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "dismissed" and body["note"] == "same household"
    assert body["resolved_by"] == "test-operator" and body["resolved_at"]
    assert Player.objects.get(pk=player.pk).risk_score == 50
    assert operator_client.get(f"/api/v1/players/{player.external_id}/").json()["risk_score"] == 50


def test_confirm_keeps_the_weight(operator_client):
    player = _flagged()
    flag = FraudFlag.objects.get(player=player, signal="bonus_withdrawal")
    response = operator_client.post(
        f"{URL}{flag.pk}/resolve/", {"resolution": "confirmed", "note": "hunter"}, format="json"
    )
    assert response.json()["status"] == "confirmed"
    assert Player.objects.get(pk=player.pk).risk_score == 90


def test_resolve_needs_a_note_a_valid_resolution_and_an_open_flag(operator_client, analyst_client):
    player = _flagged()
    flag = FraudFlag.objects.get(player=player, signal="shared_device")
    url = f"{URL}{flag.pk}/resolve/"
    assert operator_client.post(url, {"resolution": "dismissed"}, format="json").status_code == 400
    blank = operator_client.post(url, {"resolution": "dismissed", "note": "  "}, format="json")
    assert blank.status_code == 400
    bad = operator_client.post(url, {"resolution": "maybe", "note": "x"}, format="json")
    assert bad.status_code == 400
    denied = analyst_client.post(url, {"resolution": "dismissed", "note": "x"}, format="json")
    assert denied.status_code == 403
    done = operator_client.post(url, {"resolution": "dismissed", "note": "ok"}, format="json")
    assert done.status_code == 200
    again = operator_client.post(url, {"resolution": "confirmed", "note": "x"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "flag_resolved"
    assert operator_client.post(f"{URL}999999/resolve/", {}, format="json").status_code == 404
    with pytest.raises(DomainError) as error:
        flag_resolve(flag=FraudFlag.objects.exclude(pk=flag.pk).first(), resolution="x", note="")
    assert error.value.code == "note_required"


def test_a_rescan_keeps_a_dismissed_flag_dismissed():
    player = _flagged()
    flag = FraudFlag.objects.get(player=player, signal="shared_device")
    flag_resolve(flag=flag, resolution="dismissed", note="family")
    flags_raise([FlagDraft(player.pk, "shared_device", "shared_device", {"value": "dev-77"})])
    flag.refresh_from_db()
    assert flag.status == "dismissed"
    assert risk_scores_refresh(player_ids=[player.pk]) == {}  # unchanged: 50


def test_weights_are_data():
    player = _flagged()
    SignalWeight.objects.update_or_create(signal="bonus_withdrawal", defaults={"weight": 10})
    assert flags_rescore() == 1
    risk_scores_refresh(player_ids=[player.pk])
    assert Player.objects.get(pk=player.pk).risk_score == 50
