"""DRF token authentication with a short per-process cache of token → user and roles.

Plain `TokenAuthentication` reads the token joined to its user on every request, and the role
check (config/roles.py) reads the user's groups: two queries before the view runs, a large part
of a small request's time (bench/api.py). This class remembers a successful lookup, with the
user's roles already on the user object, for `PITBOSS["AUTH_CACHE_SECONDS"]` (default 10 s).

What a cache costs: a token deleted, a user deactivated or a role changed in *another* process is
seen by this process at most that many seconds later. Changes made in this process (the admin,
management commands, tests) clear the cache at once through model signals.
"""

import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from config.roles import user_roles

MAX_ENTRIES = 1024
_entries: dict[str, tuple[float, object, object]] = {}  # key -> (expires, user, token)
_lock = threading.Lock()


def auth_cache_clear(**_kwargs) -> None:
    """Forget every cached token (a token, user or group membership changed)."""
    with _lock:
        _entries.clear()


def _ttl() -> float:
    return float(getattr(settings, "PITBOSS", {}).get("AUTH_CACHE_SECONDS", 10))


class CachedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, answered from memory for a few seconds."""

    def authenticate_credentials(self, key):
        now = time.monotonic()
        entry = _entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        user, token = super().authenticate_credentials(key)
        ttl = _ttl()
        if ttl > 0:
            user_roles(user)  # read the groups once, kept on the cached user object
            with _lock:
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = (now + ttl, user, token)
        return user, token


User = get_user_model()
post_save.connect(auth_cache_clear, sender=Token, dispatch_uid="auth_cache_token_saved")
post_delete.connect(auth_cache_clear, sender=Token, dispatch_uid="auth_cache_token_deleted")
post_save.connect(auth_cache_clear, sender=User, dispatch_uid="auth_cache_user_saved")
post_delete.connect(auth_cache_clear, sender=User, dispatch_uid="auth_cache_user_deleted")
post_save.connect(auth_cache_clear, sender=Group, dispatch_uid="auth_cache_group_saved")
post_delete.connect(auth_cache_clear, sender=Group, dispatch_uid="auth_cache_group_deleted")
m2m_changed.connect(
    auth_cache_clear, sender=User.groups.through, dispatch_uid="auth_cache_groups_changed"
)
