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
