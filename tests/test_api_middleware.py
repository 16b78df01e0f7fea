"""The API's middleware chain (config/handlers.py, ADR 0033): every MIDDLEWARE entry is kept
or skipped for /api/ on purpose, and API requests answer exactly the same through the API chain
as through the full one — statuses, headers, cookies and bodies."""

import json
import re
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.test.client import ClientHandler

from accounts.services import api_token_create
from config.handlers import API_PREFIX, ApiMiddlewareChain, PathDispatch, api_middleware
from config.roles import roles_sync
from tests.factories import PlayerFactory


class ApiClientHandler(ApiMiddlewareChain, ClientHandler):
    """The test client's handler with the API's chain."""


def test_every_middleware_is_kept_or_skipped_for_the_api_on_purpose():
    kept, skipped = settings.API_MIDDLEWARE, set(settings.API_MIDDLEWARE_SKIPPED)
    undecided = [name for name in settings.MIDDLEWARE if name not in kept and name not in skipped]
    assert not undecided, f"add each to API_MIDDLEWARE or API_MIDDLEWARE_SKIPPED: {undecided}"
    assert not set(kept) & skipped
    assert skipped <= set(settings.MIDDLEWARE)
    # a subset in the same order: what api_middleware() builds
    assert kept == [name for name in settings.MIDDLEWARE if name in kept]
    assert api_middleware() == kept
    assert all(settings.API_MIDDLEWARE_SKIPPED.values())  # each with its reason


def test_static_files_are_not_under_the_api():
    # WhiteNoise is skipped for /api/: no static file may be served from there
    assert not ("/" + settings.STATIC_URL.lstrip("/")).startswith(API_PREFIX)


def test_middleware_added_at_run_time_stays_in_the_api_chain(settings):
    # OpenTelemetry's Django instrumentation inserts its middleware into MIDDLEWARE
    settings.MIDDLEWARE = ["tracing.Middleware", *settings.MIDDLEWARE]
    assert api_middleware()[0] == "tracing.Middleware"
    settings.API_MIDDLEWARE = [*settings.API_MIDDLEWARE, "not.in.Middleware"]
    with pytest.raises(Exception, match="not.in.Middleware"):
        api_middleware()


def test_the_application_sends_api_paths_to_the_api_chain():
    application = PathDispatch()
    seen = []
    application.full = lambda environ, start: seen.append(("full", environ["PATH_INFO"]))
    application.api = lambda environ, start: seen.append(("api", environ["PATH_INFO"]))
    for path in ("/api/v1/events/", "/api/aggregators/valkyrie/x", "/api", "/admin/", "/bench/"):
        application({"PATH_INFO": path}, None)
    assert seen == [
        ("api", "/api/v1/events/"),
        ("api", "/api/aggregators/valkyrie/x"),
        ("full", "/api"),
        ("full", "/admin/"),
        ("full", "/bench/"),
    ]


# --- the same answers through both chains -------------------------------------------------

REQUEST_ID = {"HTTP_X_REQUEST_ID": "same-request-id"}
# random whatever the chain: compared by presence and attributes
VARYING_COOKIE_VALUES = {"csrftoken", "sessionid"}  # each client its own session
MASKED_CSRF_TOKEN = re.compile(rb'"[A-Za-z0-9]{64}"')  # in the API docs' script


def _event(**fields) -> dict:
    return {
        "external_id": "mw-1",
        "player_id": "mw-player",
        "type": "deposit",
        "amount": "10.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
        **fields,
    }


def _cookies(cookies: SimpleCookie) -> dict:
    shown = {}
    for name, morsel in cookies.items():
        attributes = {k: v for k, v in morsel.items() if k != "expires" and v}
        value = "<set>" if name in VARYING_COOKIE_VALUES and morsel.value else morsel.value
        shown[name] = (value, attributes)
    return shown


def _answer(client: Client, method: str, path: str, **extra):
    """The response's status, headers, cookies and body; nothing the request wrote is kept."""
    sid = transaction.savepoint()
    try:
        response = getattr(client, method)(path, **REQUEST_ID, **extra)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        body = MASKED_CSRF_TOKEN.sub(b'"<csrf token>"', body)
        headers = {k: v for k, v in response.headers.items() if k != "Set-Cookie"}
        return response.status_code, headers, _cookies(response.cookies), body
    finally:
        transaction.savepoint_rollback(sid)


def _clients(**credentials) -> tuple[Client, Client]:
    # answers, not exceptions: a bad Host is a 400 as gunicorn would send it
    full, api = (Client(enforce_csrf_checks=True, raise_request_exception=False) for _ in "12")
    api.handler = ApiClientHandler(enforce_csrf_checks=True)
    for client in (full, api):
        client.defaults.update(credentials)
    return full, api


def _token(role: str) -> str:
    roles_sync()
    user = User.objects.create_user(f"mw-{role}")
    user.groups.add(Group.objects.get(name=role))
    return "Token " + api_token_create(user=user, name=f"mw {role}")[1]


@pytest.fixture
def requests_by_client(db, settings):
    """(client pair, [(method, path, extra)…]) for token, anonymous and session callers."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000  # a 413 without a large body
    player = PlayerFactory(external_id="mw-player")
    service, analyst = _token("service"), _token("analyst")
    staff = User.objects.create_user("mw-staff", is_staff=True)
    roles_sync()
    staff.groups.add(Group.objects.get(name="operator"))
    event = json.dumps(_event())
    as_json = {"content_type": "application/json"}
    token_requests = [
        ("get", "/api/v1/players/", {}),
        ("get", f"/api/v1/players/{player.external_id}/", {}),
        ("get", "/api/v1/players/no-such-player/", {}),
        ("get", "/api/v1/players", {}),  # no slash: CommonMiddleware's redirect
        ("get", "/api/v1/no-such-endpoint/", {}),
        ("get", "/api/v1/players/?segment=%00", {}),
        ("head", "/api/v1/players/", {}),
        ("options", "/api/v1/events/", {}),
        ("post", "/api/v1/events/", {"data": event, **as_json}),
        ("post", "/api/v1/events/", {"data": json.dumps(_event(amount="x")), **as_json}),
        ("post", "/api/v1/events/", {"data": "{not json", **as_json}),
        ("post", "/api/v1/events/", {"data": "amount=1", "content_type": "text/plain"}),
        ("post", "/api/v1/events/", {"data": "[" + "1," * 2_000 + "1]", **as_json}),  # 413
        ("delete", "/api/v1/events/", {}),  # 405
        ("get", "/api/v1/schema/", {}),
        ("get", "/api/v1/docs/", {}),
        ("get", "/api/v1/docs/?script=", {}),  # asks for a CSRF token: the cookie is set
        ("get", "/api/v1/players/", {"HTTP_HOST": "evil.example"}),  # DisallowedHost: 400
        ("get", "/api/v1/players/", {"HTTP_COOKIE": "csrftoken=malformed"}),  # cookie renewed
        ("get", "/api/aggregators/valkyrie/players/mw-player/balance", {}),  # its own auth
    ]
    session_requests = [
        ("get", "/api/v1/players/", {}),
        ("post", "/api/v1/events/", {"data": event, **as_json}),  # no CSRF token: 403
        ("post", "/api/v1/events/", {"data": event, **as_json, "csrf": True}),
        ("get", "/api/v1/docs/?script=", {}),
    ]
    return [
        (_clients(HTTP_AUTHORIZATION=service), token_requests),
        (_clients(HTTP_AUTHORIZATION=analyst), [token_requests[8]]),  # 403: role
        (_clients(HTTP_AUTHORIZATION="Token wrong"), token_requests[:2]),  # 401
        (_clients(), token_requests[:2] + token_requests[-2:]),  # 401 without credentials
        (_clients(), [(*request, staff) for request in session_requests]),
    ]


def test_api_requests_answer_the_same_through_both_chains(requests_by_client):
    compared = []
    for (full, api), requests in requests_by_client:
        for method, path, extra, *signed_in in requests:
            extra = dict(extra)
            if signed_in:
                for client in (full, api):
                    client.force_login(signed_in[0])
                    client.cookies.pop("csrftoken", None)
            if extra.pop("csrf", False):
                # the token a page of the back office would carry: its cookie and header
                for client in (full, api):
                    client.get("/api/v1/docs/?script=")
                full.cookies["csrftoken"] = api.cookies["csrftoken"].value
                extra["HTTP_X_CSRFTOKEN"] = api.cookies["csrftoken"].value
            one, other = _answer(full, method, path, **extra), _answer(api, method, path, **extra)
            assert one == other, (method, path)
            compared.append((method, path, one[0]))
    statuses = {status for _method, _path, status in compared}
    assert {200, 301, 400, 401, 403, 404, 405, 413, 415} <= statuses, compared
    assert len(compared) == 31
    # the session caller: read, refused without the CSRF token, accepted with it
    assert [status for _m, _p, status in compared[-4:]] == [200, 403, 200, 200]


def test_audit_entries_name_the_api_user_through_the_api_chain(db):
    from auditlog.models import LogEntry

    from tests.rewards.rules.conftest import rule_make

    rule = rule_make()
    client = _clients(HTTP_AUTHORIZATION=_token("operator"), REMOTE_ADDR="10.9.8.7")[1]
    answer = client.patch(
        f"/api/v1/rules/{rule.pk}/", json.dumps({"priority": 7}), content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    entry = LogEntry.objects.get_for_object(rule).latest("pk")
    assert (entry.actor.username, entry.remote_addr) == ("mw-operator", "10.9.8.7")
    assert entry.changes["priority"] == [100, 7]
