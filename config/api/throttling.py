"""Per-account API throttling in one Redis round trip (ADR 0025).

DRF's `UserRateThrottle` keeps each account's request times as a pickled list in the cache: a
GET and a SET per request (two Redis round trips, and the list pickled both ways — ~200 floats
at 200 req/s). `AccountRateThrottle` keeps the same sliding window — at most N requests in any
trailing period, a refused request not counted, `Retry-After` worked out as DRF does — as a
Redis sorted set changed by one Lua script: drop the times older than the period, count, add
this one when under the limit. Same limits (`PITBOSS_THROTTLE_ACCOUNT`), one round trip.

Without Redis (the embedded default: an in-process cache) it is DRF's own throttle.
"""

import itertools
import os

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import UserRateThrottle

# KEYS[1] the window; ARGV now, period (s), limit, member. Returns {allowed, count, oldest}.
WINDOW_SCRIPT = """
local now, period, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, oldest[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(period))
return {1, count + 1, '0'}
"""

_script = None  # the registered script (its SHA), called on each request's own client
_sequence = itertools.count()


def _window(client, **arguments):
    global _script
    if _script is None:
        _script = client.register_script(WINDOW_SCRIPT)
    return _script(client=client, **arguments)


class AccountRateThrottle(UserRateThrottle):
    """DRF's per-account (per user) rate, kept in Redis with one round trip per request."""

    def allow_request(self, request, view) -> bool:
        backend = caches["default"]  # `self.cache` is the default cache's proxy
        if self.rate is None or not isinstance(backend, RedisCache):
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = backend.make_and_validate_key(f"{self.key}:window")
        client = backend._cache.get_client(key, write=True)
        self.now = self.timer()
        member = f"{self.now!r}:{os.getpid()}:{next(_sequence)}"
        allowed, count, oldest = _window(
            client, keys=[key], args=[repr(self.now), self.duration, self.num_requests, member]
        )
        self._count, self._oldest = int(count), float(oldest)
        return bool(allowed)

    def wait(self) -> float | None:
        """Seconds until a request may pass again: DRF's estimate from the same window."""
        if not hasattr(self, "_count"):
            return super().wait()
        remaining = self.duration - (self.now - self._oldest) if self._count else self.duration
        available = self.num_requests - self._count + 1
        if available <= 0:
            return None
        return remaining / float(available)
