"""Test settings: the environment's database (PostgreSQL in CI), eager Celery, fast hashing."""

import os

# Processes the tests start (a Celery worker, gunicorn) inherit the development flag.
os.environ.setdefault("PITBOSS_DEV", "1")
# Each xdist worker (and the processes it starts) has its own keys in the shared Redis: the
# auth generation and throttle counters of one test process never touch another's. A worker
# overrides the prefix it inherits: pytest-django loads these settings in the controller too,
# before it starts the workers, and its "test-main" would otherwise be every worker's. (So under
# xdist a prefix set by hand gives way to the worker's name.)
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _xdist_worker:
    os.environ["PITBOSS_CACHE_PREFIX"] = f"test-{_xdist_worker}"
else:
    os.environ.setdefault("PITBOSS_CACHE_PREFIX", "test-main")

from config.settings.base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
PITBOSS = {**PITBOSS, "WEBHOOKS_ALLOW_LOCAL": True}  # noqa: F405  (loopback receivers in tests)
# Generous API throttling in tests (a test of its own sets low rates).
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"user": "100000/s", "anon": "100000/s"},
}

# A second alias on the same test database, as a read replica would be (config/databases.py);
# analytics reads use it only where a test sets PITBOSS["ANALYTICS_DATABASE"] = "replica".
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
