"""A real Celery worker (a separate process) consuming from Redis against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from players.models import PlayerMetrics

BROKER = os.environ.get("PITBOSS_TEST_BROKER", "redis://127.0.0.1:6379/14")
REPO = Path(settings.BASE_DIR)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _drop_broker_pools() -> None:
    """Celery caches its broker connection and producer pools: rebuild them from the conf."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_worker_process():
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {BROKER}")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": "",
        "CELERY_TASK_ALWAYS_EAGER": "0",
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
    previous = dict(celery_app.conf.items())
    _drop_broker_pools()  # eager tasks of earlier tests built them on memory://
    celery_app.conf.update(task_always_eager=False, broker_url=BROKER, result_backend=None)
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


def test_posted_events_are_refreshed_by_the_worker(celery_worker_process, service_client):
    event = {
        "external_id": "worker-1",
        "player_id": "worker-player",
        "type": "deposit",
        "amount": "25.00",
        "currency": "EUR",
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    response = service_client.post("/api/v1/events/", event, format="json")
    assert response.json()["results"][0]["status"] == "applied"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = PlayerMetrics.objects.filter(
            player__external_id="worker-player", window="lifetime"
        ).first()
        if row is not None:
            break
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.2)
    assert row is not None, "the worker did not refresh the player's metrics within 30 s"
    assert row.deposits == 25
