"""The processes docker-compose.yml declares, run directly against PostgreSQL and Redis with the
production settings (issue #18 item 8): nginx (deploy/nginx.conf) → gunicorn
(deploy/gunicorn.conf.py, 2 workers) → the product; a Celery worker and Celery beat on the
broker. Events posted through the proxy are applied; a beat schedule of one second fires; the
worker refreshes the players' metrics; /readyz is ready; /metrics (through the proxy, summed
over both gunicorn workers) and the worker's own exporter count what happened."""

import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

import pytest
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from prometheus_client.parser import text_string_to_metric_families

from players.models import Player, PlayerMetrics
from tests.conftest import _client_for
from tests.integration.conftest import (
    BROKER,
    REPO,
    broker_flush,
    free_port,
    nginx_proxy,
    process_stop,
    wait_healthy,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
METRICS_TOKEN = secrets.token_urlsafe(24)
EVENTS = 6


def _environment() -> dict:
    db = connection.settings_dict
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("PITBOSS_DEV", "DJANGO_SETTINGS_MODULE")
        },
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BROKER,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # no TLS proxy in front of this nginx
        "PITBOSS_METRICS_TOKEN": METRICS_TOKEN,
        "LOG_LEVEL": "WARNING",
    }


def _request(port: int, method: str, path: str, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    response = conn.getresponse()
    return response.status, response.read().decode()


def _samples(text: str) -> dict:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds}s: {what}")


@pytest.fixture
def stack():
    broker_flush()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update(enabled=False)  # only the test's schedule
    PeriodicTask.objects.create(
        name="stack smoke: expire bonuses", task="wallet.tasks.bonuses_expire",
        interval=every_second,
    )  # fmt: skip
    env = _environment()
    app_port, worker_metrics_port = free_port(), free_port()
    worker_env = {
        **env,
        "PITBOSS_WORKER_METRICS_PORT": str(worker_metrics_port),
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="pitboss-worker-metrics-"),
    }
    python = [sys.executable, "-m"]
    processes = [
        subprocess.Popen(
            [*python, "gunicorn", "config.wsgi:application", "-c",
             str(REPO / "deploy" / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{app_port}",
             "--workers", "2"],
            cwd=REPO, env=env, start_new_session=True,
        ),
        subprocess.Popen(
            [*python, "celery", "-A", "config", "worker", "-l", "warning", "--concurrency", "2"],
            cwd=REPO, env=worker_env, start_new_session=True,
        ),
        subprocess.Popen(
            [*python, "celery", "-A", "config", "beat", "-l", "warning",
             "--schedule", tempfile.mktemp(prefix="pitboss-beat-")],
            cwd=REPO, env=env, start_new_session=True,
        ),
    ]  # fmt: skip
    try:
        with nginx_proxy(app_port) as proxy_port:
            wait_healthy(proxy_port)
            yield proxy_port, worker_metrics_port
    finally:
        for process in processes:
            process_stop(process)


def test_the_production_processes_serve_schedule_and_work_together(stack):
    proxy_port, worker_metrics_port = stack
    token = _client_for("service")._credentials["HTTP_AUTHORIZATION"]

    status, body = _request(proxy_port, "GET", "/readyz")
    assert status == 200, body
    assert json.loads(body) == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "migrations": "ok",
    }

    for n in range(EVENTS):
        event = {"external_id": f"stack-{n}", "player_id": f"stack-p{n % 3}", "type": "deposit",
                 "amount": "25.00", "currency": "EUR", "occurred_at": "2026-11-20T10:00:00+00:00"}  # fmt: skip
        status, body = _request(proxy_port, "POST", "/api/v1/events/", event,
                                {"Authorization": token, "X-Forwarded-Proto": "https"})  # fmt: skip
        assert status in (200, 201), body
    players = Player.objects.filter(external_id__startswith="stack-p")
    assert players.count() == 3

    # the worker refreshed the players' metrics (queued by the web processes after the events)
    _until(
        lambda: (
            PlayerMetrics.objects.filter(player__in=players).values("player").distinct().count()
            == 3
        ),
        60,
        "metrics of the three players refreshed by the worker",
    )

    # beat sends the one-second schedule (nothing else queues this task), the worker runs it
    def worker_ran_it():
        conn = http.client.HTTPConnection("127.0.0.1", worker_metrics_port, timeout=5)
        conn.request("GET", "/metrics")
        samples = _samples(conn.getresponse().read().decode())
        key = ("pitboss_task_duration_seconds_count",
               (("state", "SUCCESS"), ("task", "wallet.tasks.bonuses_expire")))  # fmt: skip
        return samples.get(key, 0) >= 2

    _until(worker_ran_it, 60, "the worker running the scheduled task, twice")

    # /metrics through the proxy, with the token: both gunicorn workers' counts, summed
    status, body = _request(proxy_port, "GET", "/metrics",
                            headers={"Authorization": f"Bearer {METRICS_TOKEN}"})  # fmt: skip
    assert status == 200, body
    samples = _samples(body)
    applied = (("reason", ""), ("status", "applied"), ("type", "deposit"))
    assert samples[("pitboss_events_total", applied)] == EVENTS
    assert samples[("pitboss_wallet_operations_total", (("kind", "deposit"),))] == EVENTS
    assert ("pitboss_celery_queue_length", (("queue", "celery"),)) in samples
    status, _ = _request(proxy_port, "GET", "/metrics")
    assert status == 403  # no token
