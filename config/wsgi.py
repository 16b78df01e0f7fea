"""WSGI entry point (gunicorn config.wsgi)."""

import django
from django.core.handlers.wsgi import WSGIHandler

from config.entrypoints import settings_module_set_default

settings_module_set_default()  # production unless PITBOSS_DEV=1
django.setup(set_prefix=False)

from config.tracing import tracing_configure  # noqa: E402 - needs the settings

tracing_configure(service="pitboss-web")  # before the middleware is loaded; off unless set
application = WSGIHandler()
