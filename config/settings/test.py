"""Test settings: the environment's database (PostgreSQL in CI), eager Celery, fast hashing."""

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
PITBOSS = {**PITBOSS, "WEBHOOKS_ALLOW_LOCAL": True}  # noqa: F405  (loopback receivers in tests)
