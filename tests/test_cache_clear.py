"""`cache.clear()` deletes the cache's own keys, never the rest of the Redis database
(config/cache.py): the Celery broker and other caches may share it."""

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from config.cache import RedisCache

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
