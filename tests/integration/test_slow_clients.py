"""The documented production shape stays up under slow and hostile clients (ADR 0011): nginx
(deploy/nginx.conf) in front of gunicorn. 50 connections sending half a header and 5 uploads
claiming 2 GB are opened; `/healthz` keeps answering within a second throughout."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.integration.conftest import free_port, nginx_proxy, process_stop, wait_healthy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_shape():
    db = connection.settings_dict
    app_port = free_port()
    env = {
        **os.environ,
        "PITBOSS_DEV": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "ERROR",
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c",
         str(ROOT / "deploy" / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{app_port}",
         "--workers", "2"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        with nginx_proxy(app_port) as proxy_port:
            wait_healthy(proxy_port)
            yield proxy_port
    finally:
        process_stop(app)


def _slow_header(port: int, held: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /api/v1/players/ HTTP/1.1\r\nHost: pitboss\r\nX-Half: ")
    held.append(sock)


def _huge_upload(port: int, held: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /api/v1/imports/ HTTP/1.1\r\nHost: pitboss\r\nContent-Type: text/csv\r\n"
        b"Content-Length: 2147483648\r\n\r\n" + b"a,b\n" * 1000
    )
    held.append(sock)


def test_healthz_answers_within_a_second_under_slow_and_huge_clients(production_shape):
    port = production_shape
    held: list[socket.socket] = []
    for _ in range(50):
        _slow_header(port, held)
    for _ in range(5):
        _huge_upload(port, held)
    latencies, statuses = [], []
    stop = time.monotonic() + 8
    try:
        while time.monotonic() < stop:
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            statuses.append(conn.getresponse().status)
            latencies.append(time.monotonic() - started)
            conn.close()
            time.sleep(0.1)
    finally:
        for sock in held:
            sock.close()
    assert set(statuses) == {200}
    assert max(latencies) < 1.0, f"slowest /healthz {max(latencies):.2f}s"


def test_a_body_over_the_cap_is_refused_by_the_proxy(production_shape):
    sock = socket.create_connection(("127.0.0.1", production_shape), timeout=5)
    sock.sendall(
        b"POST /api/v1/imports/ HTTP/1.1\r\nHost: pitboss\r\nContent-Length: 2147483648\r\n\r\n"
    )
    answer = sock.recv(200)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413")
