"""`cache.clear()` deletes the cache's own keys, never the rest of the Redis database
(config/cache.py): the Celery broker and other caches may share it; each test process has its
own key prefix."""

import os
import subprocess
import sys

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from config.cache import RedisCache

PREFIX = "PITBOSS_CACHE_PREFIX"

needs_redis = pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="needs Redis (REDIS_URL)"
)


@needs_redis
def test_clear_deletes_this_caches_keys_and_no_other():
    cache = caches["default"]
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    foreign = ["celery", "_kombu.binding.celery", "other-prefix:1:pitboss:rules:generation"]
    try:
        for key in foreign:
            raw.set(key, "kept")
        cache.set_many({f"k-{i}": i for i in range(2500)})  # more than one SCAN/UNLINK batch
        cache.clear()
        assert cache.get_many([f"k-{i}" for i in range(2500)]) == {}
        assert [raw.get(key) for key in foreign] == [b"kept"] * len(foreign)
    finally:
        raw.delete(*foreign)


@pytest.mark.parametrize(
    "settings_module, inherited, worker, prefix",
    [
        # the controller's prefix, inherited by a worker
        ("config.settings.test", "test-main", "gw3", "test-gw3"),
        # a Celery worker or gunicorn a test starts: the worker's, as it was handed on
        ("config.settings.development", "test-gw3", "gw3", "test-gw3"),
        ("config.settings.test", None, None, "test-main"),
        ("config.settings.test", "ci-run", None, "ci-run"),  # set by hand, no xdist
    ],
)
def test_each_test_worker_has_its_own_cache_prefix(settings_module, inherited, worker, prefix):
    """xdist workers inherit the controller's environment, where pytest-django loaded these
    settings first: a shared prefix let one worker's auth-generation bump expire another's
    cached tokens mid-test."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_XDIST_WORKER", PREFIX)}
    if inherited:
        env[PREFIX] = inherited
    if worker:
        env["PYTEST_XDIST_WORKER"] = worker
    read = f"import {settings_module} as s; print(s.CACHES['default']['KEY_PREFIX'])"
    done = subprocess.run(
        [sys.executable, "-c", read],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == prefix
