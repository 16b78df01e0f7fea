"""Request bodies through a real gunicorn (issue 11 cases 6 and 7): a 10 MB body is answered
413 (not a broken connection), and a chunked body is read, not taken as empty."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from players.models import Activity
from tests.conftest import _client_for
from tests.integration.conftest import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gunicorn_port():
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
        "DB_CONN_MAX_AGE": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def _post(port: int, token: str, body, *, chunked: bool = False) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn.request("POST", "/api/v1/events/", body=body, headers=headers, encode_chunked=chunked)
    response = conn.getresponse()
    answer = response.status, json.loads(response.read())
    conn.close()
    return answer


def _token() -> str:
    client = _client_for("service")
    return client._credentials["HTTP_AUTHORIZATION"].split()[1]


def _event(external_id: str = "e1", **extra) -> dict:
    return {
        "external_id": external_id,
        "player_id": "p-1",
        "type": "deposit",
        "amount": "10.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
        **extra,
    }


def _pieces(data: bytes, size: int = 8192):
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("megabytes", [6, 10, 30])
def test_a_large_body_is_answered_413_not_a_broken_connection(gunicorn_port, megabytes):
    body = json.dumps(_event(game_id="x" * (megabytes * 1024 * 1024))).encode()
    status, answer = _post(gunicorn_port, _token(), body)
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"


def test_a_chunked_body_is_read(gunicorn_port):
    body = json.dumps({"events": [_event(f"e{i}") for i in range(50)]}).encode()
    status, answer = _post(gunicorn_port, _token(), _pieces(body, 1000), chunked=True)
    assert status == 200, answer
    assert [r["status"] for r in answer["results"]] == ["applied"] * 50
    assert Activity.objects.count() == 50


def test_a_chunked_body_over_the_limit_is_a_413(gunicorn_port):
    body = json.dumps(_event(game_id="x" * (8 * 1024 * 1024))).encode()
    status, answer = _post(gunicorn_port, _token(), _pieces(body), chunked=True)
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"
    assert not Activity.objects.exists()
