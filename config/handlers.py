"""The WSGI application: requests under /api/ through the API's shorter middleware chain.

Django builds one middleware chain per handler, from `settings.MIDDLEWARE`, once. Pitboss
serves two: the full chain for the back office, health, metrics and everything else, and
`settings.API_MIDDLEWARE` (MIDDLEWARE without the entries that do nothing for an API request,
each named with its reason in `API_MIDDLEWARE_SKIPPED`) for paths under /api/. Which one a
request takes is decided by its `PATH_INFO` alone, the path the URL map resolves. ADR 0033.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/"


def api_middleware() -> list[str]:
    """The API's chain: `settings.MIDDLEWARE` without `settings.API_MIDDLEWARE_SKIPPED`.

    An entry added to MIDDLEWARE at run time, in neither list (OpenTelemetry's, config/tracing.py),
    stays in both chains. An entry of API_MIDDLEWARE missing from MIDDLEWARE is an error.
    """
    missing = [name for name in settings.API_MIDDLEWARE if name not in settings.MIDDLEWARE]
    if missing:
        raise ImproperlyConfigured(f"API_MIDDLEWARE names middleware not in MIDDLEWARE: {missing}")
    return [name for name in settings.MIDDLEWARE if name not in settings.API_MIDDLEWARE_SKIPPED]


class ApiMiddlewareChain:
    """For a Django handler class (WSGI, or the test client's): load the API's chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE: lend it the API chain while it builds
        # (at start-up, before any request; the full list is put back at once).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = api_middleware()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class ApiHandler(ApiMiddlewareChain, WSGIHandler):
    """Django's WSGI handler with the API's middleware chain."""


class PathDispatch:
    """A WSGI application: /api/… to `ApiHandler`, anything else to Django's `WSGIHandler`."""

    def __init__(self) -> None:
        self.full = WSGIHandler()
        self.api = ApiHandler()

    def __call__(self, environ, start_response):
        handler = self.api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else self.full
        return handler(environ, start_response)
