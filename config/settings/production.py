"""Production settings: require a real database, broker and secret; harden cookies."""

from config.settings.base import *  # noqa: F403

if not env("SECRET_KEY"):  # noqa: F405
    raise RuntimeError("production settings need SECRET_KEY")
if not env("DATABASE_URL"):  # noqa: F405
    raise RuntimeError("production settings need DATABASE_URL (PostgreSQL)")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
