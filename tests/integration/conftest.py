"""A real Celery worker (a separate process) consuming from Redis against the test database."""

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
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
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _drop_broker_pools() -> None:
    """Celery caches its broker connection and producer pools: rebuild them from the conf."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def broker_flush() -> None:
    """Empty the test broker's Redis database (skips the test when Redis is not reachable)."""
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {BROKER}")


@contextlib.contextmanager
def _celery_workers(*, result_backend: str | None):
    """Start real `celery worker` processes on BROKER (solo pool; results stored in
    `result_backend`, if any) against the test database: yields `start(name, **env)` → the
    process. This process's Celery app points at the broker meanwhile; both put back after,
    and workers still running are stopped."""
    broker_flush()
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

    # only the keys put back below: listing all of them fails while Django's settings are
    # overridden (a live server's ALLOWED_HOSTS), which Celery's conf reads through
    restored = ("task_always_eager", "broker_url", "result_backend")
    previous = {key: celery_app.conf[key] for key in restored}
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


@contextlib.contextmanager
def nginx_proxy(app_port: int):
    """nginx with deploy/nginx.conf (rendered as `deploy/render-nginx.sh` does) in front of
    `app_port` on loopback; yields its port. Skips when nginx is missing (fails on CI)."""
    if not Path(NGINX).exists():
        if os.environ.get("CI"):
            pytest.fail("nginx is missing (.ci/run installs it)")
        pytest.skip("nginx is not installed")
    proxy_port = free_port()
    prefix = tempfile.mkdtemp(prefix="pitboss-nginx-")
    os.chmod(prefix, 0o777)
    conf = subprocess.run(
        [str(REPO / "deploy" / "render-nginx.sh"), prefix, f"127.0.0.1:{proxy_port}",
         f"127.0.0.1:{app_port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    Path(prefix, "nginx.conf").write_text(conf)
    proxy = subprocess.Popen(
        [NGINX, "-p", prefix, "-c", f"{prefix}/nginx.conf", "-g", "daemon off;"],
        start_new_session=True,
    )
    try:
        yield proxy_port
    finally:
        os.killpg(proxy.pid, signal.SIGTERM)
        proxy.wait(timeout=20)
        shutil.rmtree(prefix, ignore_errors=True)


def process_stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group a test started (`start_new_session=True`), then wait."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
