"""ASGI entry point (e.g. uvicorn config.asgi:application)."""

from django.core.asgi import get_asgi_application

from config.entrypoints import settings_module_set_default

settings_module_set_default()  # production unless PITBOSS_DEV=1
application = get_asgi_application()
