"""The Celery application; tasks run eagerly in-process when no broker is configured."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init

from config.entrypoints import settings_module_set_default
from config.observability import metrics_registry, task_context_bind, task_context_clear

settings_module_set_default()  # production unless PITBOSS_DEV=1

app = Celery("pitboss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

task_prerun.connect(task_context_bind, weak=False)  # task, job id in log lines; durations
task_postrun.connect(task_context_clear, weak=False)


@worker_init.connect(weak=False)
def metrics_exporter_start(**_kwargs) -> None:
    """A worker's own /metrics (task durations, rewards, wallet operations it booked) on
    `PITBOSS_WORKER_METRICS_PORT` (bound to `PITBOSS_WORKER_METRICS_ADDR`, default loopback);
    with a prefork pool set `PROMETHEUS_MULTIPROC_DIR` so the children's values are summed."""
    port = os.environ.get("PITBOSS_WORKER_METRICS_PORT", "").strip()
    if port:
        from prometheus_client import start_http_server

        address = os.environ.get("PITBOSS_WORKER_METRICS_ADDR", "127.0.0.1")
        start_http_server(int(port), addr=address, registry=metrics_registry())


@worker_process_init.connect(weak=False)
def tracing_start(**_kwargs) -> None:
    """Tracing in each pool process (after fork: the span exporter's thread lives there); off
    unless an OTLP endpoint is configured (config/tracing.py)."""
    from config.tracing import tracing_configure

    tracing_configure(service="pitboss-worker")


def workers_ready_wait(names: list[str], *, seconds: float = 60) -> None:
    """Until every named worker (`name@host`) answers a ping on the broker; RuntimeError after
    `seconds` (scripts and tests that start workers and must not race their start-up)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answered = app.control.inspect(timeout=1, destination=names).ping() or {}
        if set(answered) >= set(names):
            return
    raise RuntimeError(f"the workers {names} did not answer within {seconds:.0f} s")
