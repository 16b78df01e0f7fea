"""The API's error paths: one error shape, a 4xx for every bad input, never a 500 (SPEC §10)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from players.models import Activity, Currency
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def ev(**overrides) -> dict:
    event = {
        "external_id": "e1",
        "player_id": "p-1",
        "type": "deposit",
        "amount": "10.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not ...}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict | list)
    if code is not None:
        assert error["code"] == code
    return error


def raw_post(client, body: str | bytes, content_type: str = "application/json"):
    return client.generic("POST", URL, body, content_type=content_type)


# --- bodies that are not an event -------------------------------------------------------


@pytest.mark.parametrize("body", ['{"external_id": ', "{'a': 1}", "nul", "[1,", "\x00\xff", ""])
def test_malformed_json_is_a_400(service_client, body):
    response = raw_post(service_client, body.encode("latin-1"))
    error = assert_error(response, 400)
    assert error["code"] in {"parse_error", "invalid"}


@pytest.mark.parametrize("body", ["[]", "[1, 2]", "[{}]", "42", '"text"', "null", "true", "{}"])
def test_json_that_is_not_an_event_object_is_a_400(service_client, body):
    assert_error(raw_post(service_client, body), 400, "invalid")


@pytest.mark.parametrize("body", ['{"events": {}}', '{"events": "x"}', '{"events": null}'])
def test_events_that_is_not_a_list_is_a_400(service_client, body):
    error = assert_error(raw_post(service_client, body), 400, "invalid")
    assert "events" in error["details"]


def test_nan_is_not_json(service_client):
    assert_error(raw_post(service_client, '{"amount": NaN}'), 400, "parse_error")


def test_unsupported_media_type_is_a_415(service_client):
    response = raw_post(service_client, "amount=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_ten_megabyte_body_is_a_413(service_client):
    body = json.dumps({"events": [ev(game_id="x" * 1000) for _ in range(10_500)]})
    assert len(body) > 10 * 1024 * 1024
    assert_error(raw_post(service_client, body), 413, "payload_too_large")
    assert not Activity.objects.exists()


def test_a_body_of_ten_megabytes_in_one_string_is_a_413(service_client):
    body = json.dumps(ev(amount="1" * (10 * 1024 * 1024)))
    assert_error(raw_post(service_client, body), 413, "payload_too_large")


# --- one event with bad fields ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", [1]),
        ("amount", {"value": 1}),
        ("amount", True),
        ("amount", None),
        ("amount", "ten"),
        ("amount", ""),
        ("occurred_at", "garbage"),
        ("occurred_at", 1732000000),
        ("occurred_at", "2026-13-45T99:00:00Z"),
        ("type", "jackpot"),
        ("type", ["bet"]),
        ("player_id", {"id": 1}),
        ("player_id", ""),
        ("external_id", ["x"]),
        ("external_id", "x" * 201),
        ("currency", ["EUR"]),
        ("game_category", "bingo"),
        ("round_id", {"a": 1}),
    ],
)
def test_wrong_types_are_a_400_naming_the_field(service_client, field, value):
    error = assert_error(service_client.post(URL, ev(**{field: value}), format="json"), 400)
    assert field in error["details"]
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("amount", "cur"),
    [
        ("-1.00", "EUR"),
        ("0", "EUR"),
        ("0.00", "EUR"),
        (-5, "EUR"),
        (0, "EUR"),
        ("1e30", "EUR"),
        (1e30, "EUR"),
        ("100000000.01", "EUR"),  # over the ceiling
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
        ("-Infinity", "EUR"),
        ("1.001", "EUR"),  # EUR has 2 decimals
        (0.001, "EUR"),
        ("1e-9", "BTC"),  # BTC has 8
        ("1.1234567", "USDT"),  # USDT has 6
        ("0x10", "EUR"),
        ("1,5", "EUR"),
    ],
)
def test_bad_amounts_are_refused_never_rounded(service_client, amount, cur):
    error = assert_error(
        service_client.post(URL, ev(amount=amount, currency=cur), format="json"), 400, "invalid"
    )
    assert "amount" in error["details"]
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("amount", "cur"),
    [("0.00000001", "BTC"), ("1.123456", "USDT"), ("12.5", "EUR"), (7, "EUR"), ("1.10", "EUR")],
)
def test_good_amounts_at_the_currency_precision_apply(service_client, amount, cur):
    response = service_client.post(
        URL, ev(amount=amount, currency=cur, player_id=f"p-{cur}"), format="json"
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "applied"


@pytest.mark.parametrize("code", ["XXX", "eur", "", "EURO"])
def test_unknown_currency_is_a_400(service_client, code):
    error = assert_error(service_client.post(URL, ev(currency=code), format="json"), 400)
    assert "currency" in error["details"]


def test_an_inactive_currency_is_unknown(service_client):
    brl = Currency.objects.get(code="BRL")
    brl.active = False
    brl.save()  # as staff do in the admin: the per-process currency cache forgets it
    error = assert_error(service_client.post(URL, ev(currency="BRL"), format="json"), 400)
    assert "currency" in error["details"]


def test_missing_fields_are_each_named(service_client):
    error = assert_error(service_client.post(URL, {"type": "bet"}, format="json"), 400, "invalid")
    assert set(error["details"]) == {
        "external_id",
        "player_id",
        "amount",
        "currency",
        "occurred_at",
    }


def test_an_amount_absurd_once_converted_is_rejected_not_a_500(service_client):
    PlayerFactory(external_id="p-1")  # a EUR player; 1 BTC is worth 60,000 EUR
    response = service_client.post(URL, ev(amount="99999999", currency="BTC"), format="json")
    assert response.status_code == 200
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert result["reason"]["code"] == "invalid_amount"
    assert not Activity.objects.exists()


# --- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nope/", "/api/v1/nope", "/api/v2/players/", "/api/", "/api/v1/players/a/b/c/"],
)
def test_unknown_endpoint_under_api_is_a_json_404(service_client, path):
    assert_error(service_client.get(path), 404, "not_found")


def test_unknown_player_is_a_404(service_client):
    assert_error(service_client.get("/api/v1/players/nobody/"), 404, "not_found")
    assert_error(service_client.get("/api/v1/players/a%00b/"), 404, "not_found")  # NUL


@pytest.mark.parametrize("field", ["external_id", "player_id", "game_id", "round_id"])
def test_nul_characters_are_a_400(service_client, field):
    error = assert_error(service_client.post(URL, ev(**{field: "a\x00b"}), format="json"), 400)
    assert field in error["details"]


# Every text field, a key, and an event inside a batch: a lone surrogate is no character, so the
# body is malformed JSON text (config/jsontext.py). It used to reach the error message that
# echoes the value and fail to render as UTF-8: a 500.
SURROGATE_BODIES = [
    *(
        json.dumps(ev(**{field: value}))
        for field in ("external_id", "player_id", "type", "amount", "currency", "occurred_at",
                      "game_id", "game_category", "round_id", "reference_id", "device_id")
        for value in ("\ud800", "a\udfffb")
    ),
    json.dumps({**ev(), "\udc00": "x"}),
    json.dumps({"events": [ev(), ev(external_id="e2", amount="1\ud83d")]}),
]  # fmt: skip


@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_a_lone_surrogate_anywhere_is_a_400_parse_error(service_client, body):
    assert "\\ud" in body  # json.dumps escapes it: the body itself is valid UTF-8
    error = assert_error(raw_post(service_client, body), 400, "parse_error")
    assert "lone surrogate" in error["message"]
    assert not Activity.objects.exists()


def test_a_surrogate_pair_is_one_character_and_accepted(service_client):
    body = json.dumps(ev(game_id="slot-\U0001f600", type="bet", amount="1.00"))
    assert "\\ud83d\\ude00" in body
    response = raw_post(service_client, body)
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("query", ["country=a%00b", "custom_segment=a%00", "currency=%00"])
def test_nul_characters_in_filters_are_a_400(service_client, query):
    assert_error(service_client.get(f"/api/v1/players/?{query}"), 400, "invalid")


@pytest.mark.parametrize(
    "query",
    [
        "min_turnover_30d=abc",
        "min_turnover_30d=1e400",
        "max_ggr_lifetime=1e",
        "min_rtp_7d=NaN",
        "min_bet_count_lifetime=Infinity",
        "segment=gold",
        "status=sleeping",
        "registered_after=yesterday",
    ],
)
def test_bad_filter_values_are_a_400(service_client, query):
    error = assert_error(service_client.get(f"/api/v1/players/?{query}"), 400, "invalid")
    assert query.split("=")[0] in error["details"]


@pytest.mark.parametrize(
    "query",
    [
        "max_bet_count_7d=99999999999999999999999",
        "min_days_since_last_bet_lifetime=-99999999999999999999",
        "min_rtp_lifetime=123456789012345678901234567890.5",
        "page_size=abc",
        "page_size=-1",
        "page_size=100000",
        "unknown_param=1",
    ],
)
def test_extreme_but_well_formed_filters_are_not_errors(service_client, query):
    PlayerFactory()
    assert service_client.get(f"/api/v1/players/?{query}").status_code == 200


@pytest.mark.parametrize("page", ["abc", "999", "0", "-1"])
def test_bad_page_is_a_404(service_client, page):
    assert_error(service_client.get(f"/api/v1/players/?page={page}"), 404, "not_found")


def test_bad_distribution_window_is_a_400(service_client):
    assert_error(service_client.get("/api/v1/segments/distribution/?window=1y"), 400, "invalid")


def test_method_not_allowed_is_a_405(service_client, admin_client_api):
    assert_error(service_client.put(URL, ev(), format="json"), 405, "method_not_allowed")
    assert_error(admin_client_api.delete("/api/v1/players/"), 405, "method_not_allowed")


# --- authentication and roles -----------------------------------------------------------


def test_no_token_is_a_401(client):
    assert_error(client.get("/api/v1/players/"), 401, "not_authenticated")
    assert_error(client.post(URL, ev(), content_type="application/json"), 401)
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "header", ["Token nonsense", "Token ", "Bearer abc", "Token a b", "Basic Zm9vOmJhcg=="]
)
def test_bad_token_is_a_401(client, header, db):
    response = client.get("/api/v1/players/", HTTP_AUTHORIZATION=header)
    assert_error(response, 401)


def test_analyst_reads_but_may_not_post(analyst_client):
    assert analyst_client.get("/api/v1/players/").status_code == 200
    assert_error(analyst_client.post(URL, ev(), format="json"), 403, "permission_denied")
    assert not Activity.objects.exists()


def test_a_user_without_a_role_may_do_nothing(db):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    user = get_user_model().objects.create(username="nobody")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    assert_error(client.get("/api/v1/players/"), 403, "permission_denied")
    assert_error(client.post(URL, ev(), format="json"), 403, "permission_denied")


def test_service_posts_events_and_reads_players(service_client):
    assert service_client.post(URL, ev(), format="json").status_code == 200
    assert service_client.get("/api/v1/players/p-1/").status_code == 200
    assert service_client.get("/api/v1/players/").json()["count"] == 1


# --- property: random payloads never make the server fail --------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["10.00", "-1", "1e30", "0.001", "NaN", "EUR", "BTC", "bet", "2026-11-20"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
EVENT_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "external_id": JSON_VALUES,
        "player_id": st.sampled_from(["p-1", "p-2", ""]) | JSON_VALUES,
        "type": st.sampled_from(["bet", "win", "deposit", "withdrawal", "rollback", "x"])
        | JSON_VALUES,
        "amount": st.decimals(allow_nan=True).map(str) | JSON_VALUES,
        "currency": st.sampled_from(["EUR", "USD", "BTC", "mBTC", "XXX"]) | JSON_VALUES,
        "occurred_at": st.datetimes().map(lambda d: d.isoformat() + "Z") | JSON_VALUES,
        "game_category": st.sampled_from(["slots", "live", ""]) | JSON_VALUES,
        "count": JSON_VALUES,
    },
)
PAYLOADS = (
    JSON_VALUES
    | EVENT_LIKE
    | st.fixed_dictionaries({"events": st.lists(EVENT_LIKE | JSON_VALUES, max_size=5)})
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=PAYLOADS)
def test_random_payloads_never_get_a_5xx(service_client, payload):
    response = raw_post(service_client, json.dumps(payload))
    assert response.status_code < 500, (payload, response.content[:300])
    if response.status_code != 200:
        assert_error(response, response.status_code)


FILTER_NAMES = st.sampled_from(
    [
        "segment",
        "status",
        "country",
        "currency",
        "custom_segment",
        "registered_after",
        "page",
        "page_size",
        "min_turnover_30d",
        "max_rtp_lifetime",
        "min_bet_count_7d",
        "max_days_since_last_bet_30d",
        "min_bonus_to_deposit_ratio_lifetime",
    ]
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=st.lists(st.tuples(FILTER_NAMES, st.text(max_size=40)), max_size=4))
def test_random_player_filters_never_get_a_5xx(service_client, query):
    response = service_client.get("/api/v1/players/", dict(query))
    assert response.status_code < 500, (query, response.content[:300])
    if response.status_code != 200:
        assert_error(response, response.status_code)


def test_the_schema_declares_every_error_answer_in_the_one_shape(admin_client_api):
    schema = admin_client_api.get("/api/v1/schema/?format=json").json()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    events = schema["paths"]["/api/v1/events/"]["post"]["responses"]
    for code in ("400", "401", "403", "404", "409", "413", "429", "503"):
        assert events[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }, code
    players = schema["paths"]["/api/v1/players/"]["get"]["responses"]
    assert {"400", "401", "403", "429", "503"} <= players.keys()
    assert "413" not in players  # no body to be too large


def test_the_rules_list_is_declared_as_its_body(admin_client_api):
    """Found by the schema fuzz: `rules/` answers {"results": [...]}, declared as a bare array."""
    schema = admin_client_api.get("/api/v1/schema/?format=json").json()
    answer = schema["paths"]["/api/v1/rules/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RuleList"
    }
    assert admin_client_api.get("/api/v1/rules/").json() == {"results": []}
