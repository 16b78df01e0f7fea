"""Generation counters in the shared cache, read once per request for every per-process cache.

A per-process cache (the token cache, the `on_event` rule triggers: ADR 0006, ADR 0025) stays
true across processes by stamping what it keeps with a **generation**: a counter in the shared
cache (Redis in production) that every change to the cached rows increments. An entry stamped
with an older generation is read again.

Reading the counters costs a Redis round trip. Within an HTTP request they are read once, all
together (one `MGET` of every registered name), the first time one is asked for, and the request
uses that snapshot to its end (`RequestContextMiddleware` opens and closes the request's scope):
so a `POST events/` pays one round trip for the token check and the rule triggers together.
Outside a request (Celery tasks, commands, the shell) every call reads the counter afresh.

A change made by this process is seen by this process at once: the owner of a cache clears its
own entries when it bumps the counter; other processes see it from their next request.
"""

from contextvars import ContextVar

from django.core.cache import cache

_names: list[str] = []
# the request's snapshot: None outside a request, {} in one not yet read
_snapshot: ContextVar[dict[str, int] | None] = ContextVar("pitboss_generations", default=None)


def _key(name: str) -> str:
    return f"pitboss:{name}:generation"


def generation_register(name: str) -> None:
    """Make `name` one of the counters read together (call at import time of its owner)."""
    if name not in _names:
        _names.append(name)


def generation(name: str) -> int:
    """The current value of counter `name` (0 when never bumped); inside a request, the value
    read with all the others at the first call of the request."""
    snapshot = _snapshot.get()
    if snapshot is None:
        return cache.get(_key(name)) or 0
    if name not in snapshot:
        names = list(dict.fromkeys([*_names, name]))
        found = cache.get_many([_key(n) for n in names])
        snapshot.update({n: found.get(_key(n)) or 0 for n in names})
    return snapshot[name]


def generation_bump(name: str) -> None:
    """Increment counter `name`: every process reads its cached rows again. The request's
    snapshot (if any) forgets the value, so that this request sees the bump too."""
    snapshot = _snapshot.get()
    if snapshot is not None:
        snapshot.clear()
    try:
        cache.incr(_key(name))
    except ValueError:  # not set yet (or evicted): start it
        cache.add(_key(name), 1, timeout=None) or cache.incr(_key(name))


def request_scope_open():
    """Start a request's snapshot (returns the token for `request_scope_close`)."""
    return _snapshot.set({})


def request_scope_close(token) -> None:
    _snapshot.reset(token)
