"""Request and task context in every log line; the Prometheus registry, task durations and the
Celery queue depth on /metrics.

- `RequestContextMiddleware`: a request id (the caller's `X-Request-ID` when it is a sane token,
  else a new one) bound to structlog's context for the request's log lines and echoed in the
  response's `X-Request-ID`. It also opens the request's snapshot of the generation counters
  (config/generations.py: read once per request).
- Celery (connected in config/celery.py): each task's id, name and `job_id` bound to the log
  context while it runs (`task_context_bind`) and its duration observed in
  `pitboss_task_duration_seconds{task,state}`. The job id is the import job or rule run the task
  works for (`import:7`, `rule_run:12`), else the id of the task that started the tree — the
  chunks of one fan-out share it. The ingestion path adds `player` (the external id) per
  event (wallet/events.py); services add more with `structlog.contextvars.bound_contextvars`.
- `pitboss_celery_queue_length{queue}`: messages waiting per configured queue, read from the
  Redis broker at scrape time (one pipelined round trip, 0.5 s budget).
- `metrics_registry`: what /metrics and a worker's exporter serve. With
  `PROMETHEUS_MULTIPROC_DIR` set (gunicorn with several workers, a prefork Celery worker) the
  processes' values are summed from that directory (prometheus_client's multiprocess mode);
  otherwise the process's own registry. ADR 0019.
"""

import inspect
import os
import re
import time
import uuid

import structlog
from prometheus_client import CollectorRegistry, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

from config.generations import request_scope_close, request_scope_open

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
DEFAULT_QUEUES = ("celery",)
QUEUE_READ_TIMEOUT_SECONDS = 0.5
# Arguments that name the job a task works for, and the prefix of its job id.
# (task name prefix, argument, job kind): the job a task's argument names. An importer task's
# `job_id` is an import, a players batch task's `job_id` a batch job (players/batch.py).
JOB_ARGUMENTS = (
    ("importer.", "job_id", "import"),
    ("players.batch_", "job_id", "batch"),
    ("", "run_id", "rule_run"),
)

TASK_DURATION = Histogram(
    "pitboss_task_duration_seconds",
    "Celery task run time by task name and final state (SUCCESS, FAILURE, RETRY, …).",
    ["task", "state"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get("X-Request-ID", "")
        request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, path=request.path)
        request.request_id = request_id
        scope = request_scope_open()
        try:
            response = self.get_response(request)
        finally:
            request_scope_close(scope)
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        return response


def task_job_id(task, args, kwargs) -> str:
    """The job a task works for: `import:<id>` / `batch:<id>` / `rule_run:<id>` from its
    arguments, else the id of the root task of its tree (shared by every chunk of a fan-out),
    else its own id."""
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
        arguments = bound.arguments
    except (TypeError, ValueError):
        arguments = kwargs or {}
    task_name = getattr(task, "name", "") or ""
    for task_prefix, name, kind in JOB_ARGUMENTS:
        if task_name.startswith(task_prefix) and arguments.get(name) is not None:
            return f"{kind}:{arguments[name]}"
    request = getattr(task, "request", None)
    return str(getattr(request, "root_id", None) or getattr(request, "id", None) or "")


_started: dict[str, float] = {}


def task_context_bind(task_id=None, task=None, args=None, kwargs=None, **_kwargs) -> None:
    """Celery `task_prerun`: task id, name and job id into the log context; start the clock."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        task_id=task_id, task=getattr(task, "name", ""), job_id=task_job_id(task, args, kwargs)
    )
    if task_id:
        _started[task_id] = time.monotonic()


def task_context_clear(task_id=None, task=None, state=None, **_kwargs) -> None:
    """Celery `task_postrun`: observe the task's duration; clear the log context."""
    started = _started.pop(task_id, None) if task_id else None
    if started is not None:
        TASK_DURATION.labels(getattr(task, "name", ""), state or "").observe(
            time.monotonic() - started
        )
    structlog.contextvars.clear_contextvars()


class CeleryQueueCollector:
    """Queue lengths of a Redis broker, read when Prometheus scrapes: one pipelined `LLEN` per
    configured queue, within `QUEUE_READ_TIMEOUT_SECONDS`; nothing is reported when the broker
    does not answer in time (the scrape itself never waits longer)."""

    def __init__(self, broker_url: str, queues: tuple[str, ...] = DEFAULT_QUEUES) -> None:
        self.broker_url = broker_url
        self.queues = queues

    def collect(self):
        import redis

        gauge = GaugeMetricFamily(
            "pitboss_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        try:
            client = redis.Redis.from_url(
                self.broker_url,
                socket_timeout=QUEUE_READ_TIMEOUT_SECONDS,
                socket_connect_timeout=QUEUE_READ_TIMEOUT_SECONDS,
            )
            with client.pipeline(transaction=False) as pipe:
                for queue in self.queues:
                    pipe.llen(queue)
                lengths = pipe.execute()
            client.close()
        except Exception:  # noqa: BLE001 - a scrape reports what it can
            return
        for queue, length in zip(self.queues, lengths, strict=True):
            gauge.add_metric([queue], length)
        yield gauge


def celery_queues(conf) -> tuple[str, ...]:
    """The queue names a Celery configuration routes to: the default queue, declared queues and
    the queues named in task routes."""
    names = {conf.get("task_default_queue") or "celery"}
    for queue in conf.get("task_queues") or ():
        names.add(getattr(queue, "name", queue))
    routes = conf.get("task_routes") or {}
    if isinstance(routes, dict):
        names.update(r["queue"] for r in routes.values() if isinstance(r, dict) and "queue" in r)
    return tuple(sorted(str(n) for n in names))


_collector: CeleryQueueCollector | None = None


def queue_collector_register(broker_url: str, queues: tuple[str, ...] = DEFAULT_QUEUES) -> None:
    """Register the queue-length collector once (Redis brokers only)."""
    global _collector
    if _collector is None and broker_url.startswith(("redis://", "rediss://")):
        _collector = CeleryQueueCollector(broker_url, queues)
        REGISTRY.register(_collector)


def metrics_registry():
    """The registry /metrics serves: in multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`) a fresh
    one summing every process's files plus the queue collector; else the process's own."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    if _collector is not None:
        registry.register(_collector)
    return registry
