"""Issue 11 cases 6 and 7: bad input is a 4xx with the error shape, never a 500 or a guess.

Deep JSON, NUL bytes in paths, chunked bodies, amounts that are not plain ASCII decimals,
timestamps without an offset, unknown API paths with DEBUG on, zero wins, empty env vars.
"""

import io
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from players.models import Activity
from tests.api.test_api_errors import URL, assert_error, ev, raw_post
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

JSON_WRITES = [
    "/api/v1/events/",
    "/api/v1/players/p-1/bonuses/",
    "/api/v1/players/p-1/adjustments/",
    "/api/v1/segments/custom/",
    "/api/v1/segments/custom/validate/",
    "/api/v1/imports/templates/",
    "/api/v1/webhooks/endpoints/",
]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# --- deep JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", JSON_WRITES)
@pytest.mark.parametrize("depth", [900, 1_000, 5_000, 100_000])
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(admin_client_api, url, depth):
    PlayerFactory(external_id="p-1")
    for body in (nested(depth), nested_object(depth)):
        response = admin_client_api.generic(
            "POST", url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("depth", [2, 10, 64])
def test_json_up_to_the_depth_limit_is_parsed(service_client, depth):
    # a field nested 64 levels is merely an invalid field, not a parse error
    body = json.dumps(ev(game_id=json.loads(nested(depth - 1))))
    error = assert_error(raw_post(service_client, body), 400, "invalid")
    assert "game_id" in error["details"]


def test_deep_json_inside_an_event_batch_is_a_400(service_client):
    body = '{"events": [' + nested(2_000) + "]}"
    assert_error(raw_post(service_client, body), 400, "parse_error")


# --- NUL bytes and other unroutable path parameters ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "players/%00/",
        "players/%00/wallet/",
        "players/%00/ledger/",
        "players/%00/bonuses/",
        "players/%00/adjustments/",
        "players/p%00x/wallet/",
        "imports/templates/%00/",
        "imports/%00/",
        "imports/%00/errors.csv",
        "segments/custom/%00/",
        "bonuses/%00/forfeit/",
        "webhooks/endpoints/%00/",
        "webhooks/deliveries/%00/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_byte_in_a_path_is_a_404_with_the_error_shape(admin_client_api, path, method):
    response = getattr(admin_client_api, method)(f"/api/v1/{path}", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 404, "not_found")


# --- unknown paths answer JSON even with DEBUG on -------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/v1/nope/", "/api/nope", "/api/v2/players/", "/api/v1/players/p-1/nope/"]
)
def test_unknown_api_paths_answer_the_json_error_shape(service_client, settings, debug, path):
    settings.DEBUG = debug
    assert_error(service_client.get(path), 404, "not_found")


def test_a_wrong_method_on_a_plain_view_answers_the_json_error_shape(service_client, settings):
    settings.DEBUG = True
    assert_error(service_client.delete("/api/v1/events/"), 405)


def test_pages_outside_the_api_keep_their_html_404(client, settings):
    settings.DEBUG = True
    response = client.get("/not-an-api-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


# --- timestamps need an offset --------------------------------------------------------------


@pytest.mark.parametrize(
    "occurred_at", ["2026-11-20T10:00:00", "2026-11-20 10:00:00", "2026-11-20T10:00", "2026-11-20"]
)
def test_a_timestamp_without_an_offset_is_refused(service_client, occurred_at):
    error = assert_error(
        service_client.post(URL, ev(occurred_at=occurred_at), format="json"), 400, "invalid"
    )
    assert "occurred_at" in error["details"]
    assert not Activity.objects.exists()


def test_the_refusal_says_an_offset_is_needed(service_client):
    response = service_client.post(URL, ev(occurred_at="2026-11-20T10:00:00"), format="json")
    assert "UTC offset" in str(response.json()["error"]["details"]["occurred_at"])


@pytest.mark.parametrize(
    "occurred_at", ["2026-11-20T10:00:00Z", "2026-11-20T11:00:00+01:00", "2026-11-20T05:00-05:00"]
)
def test_timestamps_with_an_offset_are_accepted(service_client, occurred_at):
    response = service_client.post(URL, ev(occurred_at=occurred_at), format="json")
    assert response.json()["results"][0]["status"] == "applied"
    stored = Activity.objects.get().occurred_at
    assert stored.isoformat() == "2026-11-20T10:00:00+00:00"


@pytest.mark.parametrize("param", ["registered_after", "registered_before"])
@pytest.mark.parametrize("value", ["2026-01-01T00:00:00", "2026-01-01 10:00"])
def test_query_timestamps_without_an_offset_are_refused(service_client, param, value):
    error = assert_error(service_client.get("/api/v1/players/", {param: value}), 400)
    assert "UTC offset" in str(error["details"])


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00"])
def test_query_timestamps_with_an_offset_filter(service_client, value):
    PlayerFactory(external_id="old", registered_at="2025-06-01T00:00:00Z")
    PlayerFactory(external_id="new", registered_at="2026-06-01T00:00:00Z")
    body = service_client.get("/api/v1/players/", {"registered_after": value}).json()
    assert [p["external_id"] for p in body["results"]] == ["new"]


# --- amounts: plain ASCII decimals, JSON numbers read as written, never through float -------


@pytest.mark.parametrize(
    "amount",
    ["1E+2", "1e2", "1E-2", "١٠", "۱۰", "१०", "１０", "+10", "1_000", ".5", "5.", " 1 0", "0x1"],
)
def test_amounts_that_are_not_plain_ascii_decimals_are_refused(service_client, amount):
    error = assert_error(service_client.post(URL, ev(amount=amount), format="json"), 400)
    assert "amount" in error["details"]
    assert not Activity.objects.exists()


@pytest.mark.parametrize("number", ["1e2", "1E+2", "1.5e1", "-0.0", "1e-2"])
def test_json_numbers_in_exponent_form_are_refused(service_client, number):
    body = json.dumps(ev()).replace('"10.00"', number)
    error = assert_error(raw_post(service_client, body), 400)
    assert "amount" in error["details"]


@pytest.mark.parametrize(
    ("number", "stored"),
    [("10.10", "10.10"), ("0.29", "0.29"), ("7", "7.00"), ("1234567.89", "1234567.89")],
)
def test_json_numbers_are_read_as_written_never_through_float(service_client, number, stored):
    # 0.29 as a float is 0.28999999999999998002; read as a Decimal it stays 0.29
    body = json.dumps(ev()).replace('"10.00"', number)
    assert raw_post(service_client, body).json()["results"][0]["status"] == "applied"
    assert f"{Activity.objects.get().amount:.2f}" == stored


def test_a_json_number_with_too_many_decimals_is_refused_not_rounded(service_client):
    body = json.dumps(ev()).replace('"10.00"', "0.1000000000000000055511151231257827")
    assert_error(raw_post(service_client, body), 400, "invalid")


@pytest.mark.parametrize(
    ("url", "field", "amount"),
    [
        ("/api/v1/players/p-1/bonuses/", "amount", "1E+2"),
        ("/api/v1/players/p-1/bonuses/", "amount", "١٠"),
        ("/api/v1/players/p-1/bonuses/", "max_bet", "5e0"),
        ("/api/v1/players/p-1/adjustments/", "amount", "-1E+1"),
        ("/api/v1/players/p-1/adjustments/", "amount", "٥"),
        ("/api/v1/players/p-1/adjustments/", "amount", "1e1"),
    ],
)
def test_wallet_amounts_follow_the_same_rule(admin_client_api, url, field, amount):
    PlayerFactory(external_id="p-1")
    body = {"amount": "10.00", "currency": "EUR", "wagering_multiplier": 1, "reason": "r"}
    body[field] = amount
    response = admin_client_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    error = assert_error(response, 400, "invalid")
    assert field in error["details"]


# --- zero wins ------------------------------------------------------------------------------


def _bet_then(service_client, win_amount: str, **win) -> dict:
    service_client.post(URL, ev(external_id="d", amount="50.00"), format="json")
    service_client.post(URL, ev(external_id="b", type="bet", amount="10.00"), format="json")
    response = service_client.post(
        URL, ev(external_id="w", type="win", amount=win_amount, **win), format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["results"][0]


@pytest.mark.parametrize("amount", ["0", "0.00"])
def test_a_zero_win_settling_a_lost_round_is_applied(service_client, amount):
    result = _bet_then(service_client, amount, reference_id="b")
    assert result["status"] == "applied"
    assert result["balances"]["EUR"]["cash"] == "40.00"
    assert Activity.objects.filter(type="win", amount=0).count() == 1


def test_a_zero_win_still_needs_a_known_bet(service_client):
    result = _bet_then(service_client, "0.00", reference_id="no-such-bet")
    assert result["status"] == "rejected"
    assert result["reason"]["code"] == "unknown_reference"


def test_a_zero_win_does_not_block_a_later_rollback(service_client):
    _bet_then(service_client, "0.00", reference_id="b")
    response = service_client.post(
        URL, ev(external_id="r", type="rollback", amount="10.00", reference_id="b"), format="json"
    )
    result = response.json()["results"][0]
    assert result["status"] == "applied"
    assert result["balances"]["EUR"]["cash"] == "50.00"


@pytest.mark.parametrize("kind", ["deposit", "withdrawal", "bet", "rollback", "chargeback"])
def test_zero_is_refused_for_every_other_event_type(service_client, kind):
    assert_error(service_client.post(URL, ev(type=kind, amount="0.00"), format="json"), 400)


# --- chunked request bodies (Transfer-Encoding: chunked has no Content-Length) --------------


def _chunked(client, body: bytes, url: str = URL, content_type: str = "application/json"):
    return client.generic(
        "POST",
        url,
        b"",
        content_type=content_type,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )


def test_a_chunked_event_body_is_read(service_client):
    response = _chunked(service_client, json.dumps(ev()).encode())
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["status"] == "applied"


def test_a_chunked_batch_is_read_in_full(service_client):
    events = [ev(external_id=f"e{i}", amount="1.00") for i in range(300)]
    response = _chunked(service_client, json.dumps({"events": events}).encode())
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 300


def test_a_chunked_body_over_the_limit_is_a_413(service_client):
    body = json.dumps(ev(game_id="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))).encode()
    assert_error(_chunked(service_client, body), 413, "payload_too_large")
    assert not Activity.objects.exists()


def test_an_empty_chunked_body_is_a_400(service_client):
    assert_error(_chunked(service_client, b""), 400)


# --- the environment: an empty variable is unset --------------------------------------------


def _settings_in_subprocess(**env) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'broker': settings.CELERY_BROKER_URL, "
        "'backend': settings.CELERY_RESULT_BACKEND, 'eager': settings.CELERY_TASK_ALWAYS_EAGER, "
        "'db': settings.DATABASES['default']['ENGINE'], 'max': str(settings.PITBOSS['MAX_AMOUNT'])}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    output = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.development", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_broker_url_counts_as_unset(empty):
    seen = _settings_in_subprocess(
        CELERY_BROKER_URL=empty, CELERY_RESULT_BACKEND=empty, REDIS_URL=empty
    )
    assert seen["broker"] == "memory://"
    assert seen["backend"] is None
    assert seen["eager"] is True


def test_an_empty_broker_url_falls_back_to_redis_url():
    seen = _settings_in_subprocess(CELERY_BROKER_URL="", REDIS_URL="redis://127.0.0.1:6379/9")
    assert seen["broker"] == "redis://127.0.0.1:6379/9"
    assert seen["eager"] is False


def test_other_empty_variables_count_as_unset_too():
    seen = _settings_in_subprocess(DATABASE_URL="", PITBOSS_MAX_AMOUNT="")
    assert seen["db"] == "django.db.backends.sqlite3"
    assert seen["max"] == "100000000"
