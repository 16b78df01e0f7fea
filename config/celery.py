"""The Celery application; tasks run eagerly in-process when no broker is configured."""

from celery import Celery
from celery.signals import task_postrun, task_prerun

from config.entrypoints import settings_module_set_default
from config.observability import task_context_bind, task_context_clear

settings_module_set_default()  # production unless PITBOSS_DEV=1

app = Celery("pitboss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

task_prerun.connect(task_context_bind, weak=False)  # task id and name in every log line
task_postrun.connect(task_context_clear, weak=False)


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
