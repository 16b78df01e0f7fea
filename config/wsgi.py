"""WSGI entry point (gunicorn config.wsgi): /api/ through the API's middleware chain, the rest
through the full one (config/handlers.py, ADR 0033)."""

import django

from config.entrypoints import settings_module_set_default

settings_module_set_default()  # production unless PITBOSS_DEV=1
django.setup(set_prefix=False)

from config.handlers import PathDispatch  # noqa: E402 - needs the settings
from config.tracing import tracing_configure  # noqa: E402 - needs the settings

tracing_configure(service="pitboss-web")  # before the middleware is loaded; off unless set
application = PathDispatch()
