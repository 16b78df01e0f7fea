"""The connection-drop drill: a gunicorn serving the product with persistent connections; every
backend of the test database is terminated mid-load; after the first retry window no request
answers 5xx (a request caught mid-transaction may answer 503 with the error shape — never a
500 — and nothing is half-written)."""

import http.client
import json
import threading
import time

import psycopg
import pytest
from django.db import connection

from players.models import Player
from tests.factories import PlayerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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


def test_no_5xx_after_every_backend_is_killed(gunicorn_server):
    port, token = gunicorn_server
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
