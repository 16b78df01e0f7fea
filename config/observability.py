"""Request and task context in every log line, and the Celery queue depth on /metrics.

- `RequestContextMiddleware`: a request id (the caller's `X-Request-ID` when it is a sane token,
  else a new one) bound to structlog's context for the request's log lines and echoed in the
  response's `X-Request-ID`.
- Celery: each task's id and name bound to the log context while it runs (`task_context_bind`,
  connected in config/celery.py); services add `player`, `job` and the like with
  `structlog.contextvars.bind_contextvars`.
- `pitboss_celery_queue_length`: messages waiting per queue, read from the Redis broker at
  scrape time.
"""

import re
import uuid

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
QUEUES = ("celery",)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get("X-Request-ID", "")
        request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, path=request.path)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        return response


def task_context_bind(task_id=None, task=None, **_kwargs) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", ""))


def task_context_clear(**_kwargs) -> None:
    structlog.contextvars.clear_contextvars()


class CeleryQueueCollector:
    """Queue lengths of a Redis broker, read when Prometheus scrapes."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url

    def collect(self):
        import redis

        gauge = GaugeMetricFamily(
            "pitboss_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        try:
            client = redis.Redis.from_url(self.broker_url, socket_timeout=1)
            for queue in QUEUES:
                gauge.add_metric([queue], client.llen(queue))
        except Exception:  # noqa: BLE001 - a scrape reports what it can
            return
        yield gauge


_collector: CeleryQueueCollector | None = None


def queue_collector_register(broker_url: str) -> None:
    """Register the queue-length collector once (Redis brokers only)."""
    global _collector
    if _collector is None and broker_url.startswith(("redis://", "rediss://")):
        _collector = CeleryQueueCollector(broker_url)
        REGISTRY.register(_collector)
