"""Production settings: require a real database, broker and secret; harden cookies."""

import os

from config.settings.base import *  # noqa: F403

SECRET_KEY = os.environ["SECRET_KEY"]
if "DATABASE_URL" not in os.environ:
    raise RuntimeError("production settings need DATABASE_URL (PostgreSQL)")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
