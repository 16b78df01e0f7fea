"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every cache operation; its
constructor fills a table of some 160 response callbacks, so each cache call paid 150–400 µs
of CPU before its round trip (measured against a reused client; `POST events/` made three such
calls per request before ADR 0025 and makes two now: the generations' MGET and the throttle's
script). A `redis.Redis` is safe to share between threads (the pool hands each command a
connection) and after a fork (the pool notices the new pid and opens new connections), so one
per pool is enough.

`clear()` deletes this cache's keys only (those under its `KEY_PREFIX`), where Django's flushes
the whole Redis database: the Celery broker shares it by default (`CELERY_BROKER_URL` falls back
to `REDIS_URL`), and so may another process's cache under another prefix (each test worker has
its own), whose counters a FLUSHDB would reset behind its back.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # connection pool -> its client

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with its clients reused and a `clear()`
    that deletes only its own keys (module docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def clear(self) -> None:
        """Delete every key of this cache (its `KEY_PREFIX`), and no other key of the database."""
        client = self._cache.get_client(write=True)
        pattern = f"{self.key_prefix}:*"  # Django's keys are "<prefix>:<version>:<key>"
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
