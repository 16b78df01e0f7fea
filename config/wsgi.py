"""WSGI entry point (gunicorn config.wsgi)."""

from django.core.wsgi import get_wsgi_application

from config.entrypoints import settings_module_set_default

settings_module_set_default()  # production unless PITBOSS_DEV=1
application = get_wsgi_application()
