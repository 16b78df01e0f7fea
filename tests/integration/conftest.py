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
def _celery_workers(*, result_backend: str | None):
    """Start real `celery worker` processes on BROKER (solo pool; results stored in
    `result_backend`, if any) against the test database: yields `start(name, **env)` → the
    process. This process's Celery app points at the broker meanwhile; both put back after,
    and workers still running are stopped."""
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {BROKER}")
    db = connection.settings_dict
    started: list[subprocess.Popen] = []

    def start(name: str = "worker", **extra_env: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.development",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": BROKER,
            "CELERY_RESULT_BACKEND": result_backend or "",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # uploads are shared, as between real hosts
            **extra_env,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
             "-n", f"{name}@%h", "-l", "warning"],
            cwd=REPO, env=env,
        )  # fmt: skip
        started.append(worker)
        return worker

    previous = dict(celery_app.conf.items())
    _drop_broker_pools()  # eager tasks of earlier tests built them on memory://
    celery_app.conf.update(
        task_always_eager=False, broker_url=BROKER, result_backend=result_backend
    )
    try:
        yield start
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.terminate()
        for worker in started:
            worker.wait(timeout=20)
        _drop_broker_pools()
        celery_app.conf.update(
            task_always_eager=previous["task_always_eager"],
            broker_url=previous["broker_url"],
            result_backend=previous["result_backend"],
        )


@pytest.fixture
def celery_workers():
    """Start as many real workers as a test needs: `celery_workers("a", **env)`."""
    with _celery_workers(result_backend=None) as start:
        yield start


@pytest.fixture
def celery_worker_process():
    with _celery_workers(result_backend=None) as start:
        yield start()


@pytest.fixture
def celery_worker_with_results():
    """A worker whose task results this process can wait for (the broker's Redis database)."""
    with _celery_workers(result_backend=BROKER) as start:
        yield start()


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
