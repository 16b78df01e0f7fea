"""Production settings: a real database, broker and secret are required; HTTPS everywhere.

The default of every entry point (config/entrypoints.py). `manage.py check --deploy` is clean
under these settings (a test holds it so). Behind the TLS-terminating proxy, which sets
`X-Forwarded-Proto`, requests are redirected to https and cookies are secure; `/healthz`,
`/readyz` and `/metrics` answer on plain http for probes and scrapers on the internal network.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403

if len(env("SECRET_KEY")) < 50:  # noqa: F405 (an empty variable is unset)
    raise ImproperlyConfigured(
        "Production needs SECRET_KEY: 50+ random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'. "
        "For development set PITBOSS_DEV=1."
    )
SECRET_KEY = env("SECRET_KEY")  # noqa: F405
if not env("DATABASE_URL").startswith(("postgres://", "postgresql://")):  # noqa: F405
    raise ImproperlyConfigured("Production needs DATABASE_URL pointing at PostgreSQL.")
if "*" in ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names Pitboss answers to.")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)  # noqa: F405
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
