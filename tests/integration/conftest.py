"""A real Celery worker (a separate process) consuming from Redis against the test database."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

# One Redis database per xdist worker: two test processes starting workers on one broker
# would each consume the other's tasks (against the other's test database).
_XDIST_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
BROKER = os.environ.get("PITBOSS_TEST_BROKER", f"redis://127.0.0.1:6379/{14 + _XDIST_INDEX % 2}")
REPO = Path(settings.BASE_DIR)


def _drop_broker_pools() -> None:
    """Celery caches its broker connection and producer pools: rebuild them from the conf."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def _celery_worker(*, result_backend: str | None):
    """A real `celery worker` process on BROKER (results stored in `result_backend`, if any),
    and this process's Celery app pointed at it; both put back afterwards."""
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {BROKER}")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": result_backend or "",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # uploads are shared, as between real hosts
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-l",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    # only the keys put back below: listing all of them fails while Django's settings are
    # overridden (a live server's ALLOWED_HOSTS), which Celery's conf reads through
    restored = ("task_always_eager", "broker_url", "result_backend")
    previous = {key: celery_app.conf[key] for key in restored}
    _drop_broker_pools()  # eager tasks of earlier tests built them on memory://
    celery_app.conf.update(
        task_always_eager=False, broker_url=BROKER, result_backend=result_backend
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        _drop_broker_pools()
        celery_app.conf.update(
            task_always_eager=previous["task_always_eager"],
            broker_url=previous["broker_url"],
            result_backend=previous["result_backend"],
        )


@pytest.fixture
def celery_worker_process():
    with _celery_worker(result_backend=None) as worker:
        yield worker


@pytest.fixture
def celery_worker_with_results():
    """A worker whose task results this process can wait for (the broker's Redis database)."""
    with _celery_worker(result_backend=BROKER) as worker:
        yield worker


def free_port() -> int:
    """A free TCP port on loopback (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(port: int, seconds: float = 60) -> None:
    """Until GET /healthz on `port` answers 200; RuntimeError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {port}")


@pytest.fixture
def gunicorn_server(service_client):
    """The product under gunicorn (2 workers, persistent connections, the shared cache on
    Redis) against the test database; yields (port, the service client's Authorization)."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "PITBOSS_DEV": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread", "--threads", "4",
         "--log-level", "error"],
        cwd=REPO, env=env, start_new_session=True,
    )  # fmt: skip
    wait_healthy(port)
    token = service_client._credentials["HTTP_AUTHORIZATION"]
    try:
        yield port, token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
