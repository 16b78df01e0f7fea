"""The connection-drop drill: a gunicorn serving the product with persistent connections; every
backend of the test database is terminated mid-load; after the first retry window no request
answers 5xx (a request caught mid-transaction may answer 503 with the error shape — never a
500 — and nothing is half-written)."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from players.models import Player
from tests.factories import PlayerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(service_client):
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "PITBOSS_DEV": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "ERROR",
        "PITBOSS_AUTH_CACHE_SECONDS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread", "--threads", "4",
         "--log-level", "error"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
    token = service_client._credentials["HTTP_AUTHORIZATION"]
    try:
        yield port, token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def _terminate_backends() -> int:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [db["NAME"]],
        ).fetchall()
    return len(rows)


def test_no_5xx_after_every_backend_is_killed(server):
    port, token = server
    PlayerFactory(external_id="drill-1")
    statuses: list[tuple[float, int, dict]] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        serial = 0
        while not stop.is_set():
            serial += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            if serial % 2:
                conn.request("GET", "/api/v1/players/drill-1/", headers={"Authorization": token})
            else:
                event = {
                    "external_id": f"drill-{worker}-{serial}",
                    "player_id": "drill-1",
                    "type": "deposit",
                    "amount": "1.00",
                    "currency": "EUR",
                    "occurred_at": "2026-11-20T10:00:00+00:00",
                }
                conn.request(
                    "POST",
                    "/api/v1/events/",
                    body=json.dumps(event),
                    headers={"Authorization": token, "Content-Type": "application/json"},
                )
            response = conn.getresponse()
            body = response.read()
            statuses.append((time.monotonic(), response.status, body[:200]))
            conn.close()

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    killed_at = time.monotonic()
    assert _terminate_backends() > 0
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    connection.close()

    assert any(at > killed_at + 1 for at, _, _ in statuses), "no requests after the drill"
    server_errors = [(s, b) for _, s, b in statuses if s >= 500 and s != 503]
    assert server_errors == [], server_errors[:5]
    unavailable = [b for at, s, b in statuses if s == 503]
    assert all(b"database_unavailable" in b for b in unavailable)
    after_window = [s for at, s, _ in statuses if at > killed_at + 1 and s >= 500]
    assert after_window == []
    # nothing half-written: every deposit answered 200 "applied" has its ledger transaction
    player = Player.objects.get(external_id="drill-1")
    from wallet.models import LedgerTransaction

    deposits = LedgerTransaction.objects.filter(player=player, kind="deposit").count()
    receipts = player.activity.filter(type="deposit", receipt__status="applied").count()
    assert deposits == receipts > 0
