"""`segments/custom/` CRUD and live validation through the API, with the error shape."""

from decimal import Decimal

import pytest

from rewards.models import CustomSegment
from tests.rewards.player_rows import make_players

URL = "/api/v1/segments/custom/"


@pytest.fixture
def operator(api_client_for):
    return api_client_for("operator")


def test_create_lists_members_and_reads(operator, api_client_for):
    make_players([{"deposits_30d": Decimal("600")}, {"deposits_30d": Decimal("5")}])
    response = operator.post(
        URL, {"name": "depositors", "expression": "deposits_30d > 500"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["member_count"] == 1
    listed = api_client_for("analyst").get(URL).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["name"] for r in rows] == ["depositors"]
    assert api_client_for("analyst").get(f"{URL}depositors/").json()["expression"] == (
        "deposits_30d > 500"
    )


def test_invalid_expression_answers_400_with_positions(operator):
    response = operator.post(
        URL, {"name": "bad", "expression": "deposits_30d > 500 and rpt_30d < 0.9"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_expression"
    (detail,) = error["details"]["errors"]
    assert detail["message"] == "unknown name 'rpt_30d' — did you mean 'rtp_30d'?"
    assert (detail["line"], detail["column"], detail["offset"]) == (1, 24, 23)
    assert detail["suggestions"][0] == "rtp_30d"
    assert not CustomSegment.objects.filter(name="bad").exists()


def test_update_and_delete(operator):
    make_players([{"deposits_30d": Decimal("600")}, {"deposits_30d": Decimal("5")}])
    operator.post(URL, {"name": "depositors", "expression": "deposits_30d > 500"}, format="json")
    response = operator.patch(
        f"{URL}depositors/", {"expression": "deposits_30d > 1"}, format="json"
    )
    assert response.status_code == 200 and response.json()["member_count"] == 2
    bad = operator.patch(f"{URL}depositors/", {"expression": "deposits_30d >"}, format="json")
    assert bad.status_code == 400
    assert CustomSegment.objects.get(name="depositors").expression == "deposits_30d > 1"
    assert operator.delete(f"{URL}depositors/").status_code == 204


def test_analyst_cannot_write(api_client_for):
    response = api_client_for("analyst").post(
        URL, {"name": "x", "expression": "deposits_30d > 1"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "status", "check"),
    [
        ({"expression": "deposits_30d > 500"}, 200, lambda b: b["names"] == ["deposits_30d"]),
        (
            {"expression": "clamp(net_loss_7d * 0.1, 5, 100)", "context": "amount"},
            200,
            lambda b: b["type"] == "a number",
        ),
        (
            {"expression": "event.amount >= 20", "context": "event_condition"},
            200,
            lambda b: b["valid"],
        ),
        (
            {"expression": "`Bet` + 1", "context": "import_field", "columns": ["Bet"]},
            200,
            lambda b: b["names"] == ["Bet"],
        ),
        (
            {"expression": "segment == 'loosing'"},
            400,
            lambda b: b["error"]["details"]["errors"][0]["suggestions"] == ["losing"],
        ),
        ({"expression": "x", "context": "nope"}, 400, lambda b: b["error"]["code"] == "invalid"),
    ],
)
def test_live_validation(operator, payload, status, check):
    response = operator.post(f"{URL}validate/", payload, format="json")
    assert response.status_code == status, response.json()
    assert check(response.json())


def test_players_api_shows_and_filters_custom_segments(operator):
    make_players([{"deposits_30d": Decimal("600")}, {"deposits_30d": Decimal("5")}])
    operator.post(URL, {"name": "depositors", "expression": "deposits_30d > 500"}, format="json")
    listed = operator.get("/api/v1/players/?custom_segment=depositors").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["external_id"] for r in rows] == ["p-0"]
    assert operator.get("/api/v1/players/p-0/").json()["custom_segments"] == ["depositors"]
    assert operator.get("/api/v1/players/p-1/").json()["custom_segments"] == []
