"""The Celery application; tasks run eagerly in-process when no broker is configured."""

from celery import Celery

from config.entrypoints import settings_module_set_default

settings_module_set_default()  # production unless PITBOSS_DEV=1

app = Celery("pitboss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
