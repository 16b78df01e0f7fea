"""The product's Prometheus metrics (docs/operations.md "Metrics"): each is driven through the
real code path and read back from /metrics."""

import os
import uuid

import pytest
import redis
import structlog

from config import observability
from players.models import BatchJob
from players.tasks import batch_chunk, players_refresh_all
from tests.metrics import sample, scrape
from tests.rewards.rules.conftest import RULE, player_make

pytestmark = pytest.mark.django_db

EVENT = {
    "player_id": "met-p",
    "currency": "EUR",
    "occurred_at": "2026-11-20T10:00:00+00:00",
}


def test_request_latency_is_a_histogram_by_route(client):
    before = scrape()
    name = "django_http_requests_latency_seconds_by_view_method_count"
    client.get("/healthz")
    client.get("/healthz")
    after = scrape()
    assert sample(after, name, view="healthz", method="GET") == (
        sample(before, name, view="healthz", method="GET") + 2
    )
    assert sample(after, name.replace("_count", "_bucket"), view="healthz", method="GET", le="+Inf")


def test_wallet_operations_are_counted_when_they_commit(
    service_client, django_capture_on_commit_callbacks
):
    name = "pitboss_wallet_operations_total"
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        for n, (kind, amount) in enumerate([("deposit", "50.00"), ("bet", "5.00")]):
            answer = service_client.post(
                "/api/v1/events/",
                {**EVENT, "external_id": f"met-{n}", "type": kind, "amount": amount},
                format="json",
            )
            assert answer.status_code in (200, 201), answer.content
        # refused: no ledger transaction, so no operation
        service_client.post(
            "/api/v1/events/",
            {**EVENT, "external_id": "met-x", "type": "bet", "amount": "500.00"},
            format="json",
        )
    after = scrape()
    assert sample(after, name, kind="deposit") == sample(before, name, kind="deposit") + 1
    assert sample(after, name, kind="bet") == sample(before, name, kind="bet") + 1


def test_rewards_are_counted_by_status_and_reason(
    operator_client, api_client_for, django_capture_on_commit_callbacks
):
    name = "pitboss_rewards_total"
    rule = (  # a threshold is an admin's to set
        api_client_for("admin")
        .post("/api/v1/rules/", {**RULE, "approval_threshold": "50.00"}, format="json")
        .json()
    )
    player_make(metrics={"7d": {"net_loss": "300"}})  # 30.00: issued
    player_make(metrics={"7d": {"net_loss": "900"}})  # 90.00: waits for review
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post("/api/v1/rules/run/", {"rules": [rule["id"]]}, format="json")
    from rewards.models import Reward

    pending = Reward.objects.get(status=Reward.Status.PENDING_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/api/v1/rewards/{pending.pk}/reject/", {"note": "abuse"})
    after = scrape()
    assert sample(after, name, status="issued", reason="") == (
        sample(before, name, status="issued", reason="") + 1
    )
    assert sample(after, name, status="rejected", reason="staff") == (
        sample(before, name, status="rejected", reason="staff") + 1
    )


def test_tasks_log_their_job_id_and_their_duration_is_observed(
    django_capture_on_commit_callbacks,
):
    name = "pitboss_task_duration_seconds_count"
    task = "players.tasks.players_refresh_all"
    before = scrape()
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        # eager here: the signals run as in a worker; the job's tasks are queued on commit
        with django_capture_on_commit_callbacks(execute=True):
            result = players_refresh_all.delay()
        structlog.get_logger("test").info("inside")  # outside the task: no job id
    after = scrape()
    assert sample(after, name, task=task, state="SUCCESS") == (
        sample(before, name, task=task, state="SUCCESS") + 1
    )
    # the nightly refresh is a batch job: the lines of its execution and chunks name it
    job = BatchJob.objects.get()
    lines = [line for line in logs if line.get("task")]
    assert any(line["event"] == "batch.finished" for line in lines), logs
    assert {line["job_id"] for line in lines} == {f"batch:{job.pk}"}
    assert result.successful()
    assert "job_id" not in logs[-1]


def test_a_task_working_for_a_job_logs_that_job():
    from importer.tasks import import_stage

    class Task:
        name = import_stage.name
        run = import_stage.run
        request = None

    class Chunk:
        name = batch_chunk.name
        run = batch_chunk.run
        request = None

    assert observability.task_job_id(Task, (7, "check"), {}) == "import:7"
    assert observability.task_job_id(Task, (), {"job_id": 8, "stage": "x"}) == "import:8"
    chunk = {"job_id": 9, "index": 0, "first_id": 1, "last_id": 5}
    assert observability.task_job_id(Chunk, (), chunk) == "batch:9"  # not an import


def test_celery_queue_depth_is_read_from_the_broker(monkeypatch):
    broker = os.environ.get("PITBOSS_TEST_BROKER", "redis://127.0.0.1:6379/13")
    default, imports = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(broker)
    try:
        client.rpush(default, "a", "b", "c")
        client.rpush(imports, "d")
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {broker}")
    observability.queue_collector_register(broker)  # what /metrics does on first scrape
    monkeypatch.setattr(observability._collector, "broker_url", broker)
    monkeypatch.setattr(observability._collector, "queues", (default, imports))
    try:
        samples = scrape()
    finally:
        client.delete(default, imports)
    assert sample(samples, "pitboss_celery_queue_length", queue=default) == 3
    assert sample(samples, "pitboss_celery_queue_length", queue=imports) == 1


def test_queue_depth_of_an_unreachable_broker_is_left_out_quickly():
    import time

    collector = observability.CeleryQueueCollector("redis://10.255.255.1:6379/0")
    started = time.monotonic()
    assert list(collector.collect()) == []
    assert time.monotonic() - started < 2


def test_the_configured_queues_are_read():
    from kombu import Queue

    conf = {
        "task_default_queue": "default",
        "task_queues": [Queue("bulk")],
        "task_routes": {"x.y": {"queue": "imports"}},
    }
    assert observability.celery_queues(conf) == ("bulk", "default", "imports")
    assert observability.celery_queues({}) == ("celery",)
