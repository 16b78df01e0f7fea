"""`Authorization: Token <key>` against hashed API tokens, with a per-process cache that every
revocation invalidates at once, in every process.

A request hashes the key and finds its token joined to its user (one query), then the user's
roles (one query). A process keeps what it found for `PITBOSS["AUTH_CACHE_SECONDS"]`, stamped
with the **auth generation** — a counter in the shared cache (Redis in production) that every
change to a token, a user or a group membership increments. Each request reads the counter (one
Redis round trip, shared with the other generation counters: config/generations.py): an entry
stamped with an older generation is looked up again, so a revoked token, a deactivated user or
a role taken away is refused from the next request on, on every process. Expiry and the token's
IP allowlist are checked on every request.
"""

import threading
import time
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from accounts.services import token_hash
from config.generations import generation, generation_bump, generation_register
from config.roles import user_roles

GENERATION = "auth"  # the counter `pitboss:auth:generation` (config/generations.py)
generation_register(GENERATION)
MAX_ENTRIES = 1024
_entries: dict[str, tuple[float, int, object, ApiToken]] = {}  # hash -> (expires, gen, user, tok)
_lock = threading.Lock()


def auth_generation() -> int:
    return generation(GENERATION)


def auth_cache_clear(**_kwargs) -> None:
    """A token, user or membership changed: every process looks tokens up again."""
    with _lock:
        _entries.clear()
    generation_bump(GENERATION)


def _ttl() -> float:
    return float(settings.PITBOSS.get("AUTH_CACHE_SECONDS", 10))


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind `NUM_PROXIES` trusted proxies the address
    they saw (X-Forwarded-For), as DRF's throttling identifies clients."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = api_settings.NUM_PROXIES
    if forwarded and proxies:
        hops = [part.strip() for part in forwarded.split(",")]
        return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def _address_allowed(token: ApiToken, request) -> bool:
    if not token.allowed_ips:
        return True
    try:
        address = ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ip_network(network) for network in token.allowed_ips)


class AddressRateThrottle(SimpleRateThrottle):
    """Requests without a valid token, per client address (rate "anon"): counted before the
    refusal, so guessing tokens is throttled too (DRF checks throttles only after auth)."""

    scope = "anon"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _unauthenticated_throttle(request) -> None:
    throttle = AddressRateThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(throttle.wait())


class ApiTokenAuthentication(TokenAuthentication):
    """DRF authentication against `accounts.ApiToken` (hashed), cached per process."""

    model = ApiToken

    def authenticate(self, request):
        try:
            found = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            _unauthenticated_throttle(request)
            raise
        if found is None:
            if not request.META.get("HTTP_COOKIE"):  # a browser session is checked next
                _unauthenticated_throttle(request)
            return None
        if not _address_allowed(found[1], request):
            _unauthenticated_throttle(request)
            raise exceptions.AuthenticationFailed("This token may not be used from here.")
        return found

    def authenticate_credentials(self, key):
        digest = token_hash(key)
        now, generation = time.monotonic(), auth_generation()
        entry = _entries.get(digest)
        if entry is not None and entry[0] > now and entry[1] == generation:
            user, token = entry[2], entry[3]
        else:
            token = (
                ApiToken.objects.select_related("user")
                .filter(key_hash=digest, revoked_at__isnull=True)
                .first()
            )
            if token is None or not token.user.is_active:
                raise exceptions.AuthenticationFailed("Invalid token.")
            user = token.user
            ttl = _ttl()
            if ttl > 0:
                user_roles(user)  # read the groups once, kept on the cached user object
                with _lock:
                    if len(_entries) >= MAX_ENTRIES:
                        _entries.clear()
                    _entries[digest] = (now + ttl, generation, user, token)
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Token expired.")
        return user, token


def signals_connect() -> None:
    User = get_user_model()
    for sender in (ApiToken, User, Group):
        post_save.connect(auth_cache_clear, sender=sender, dispatch_uid=f"auth_gen_save_{sender}")
        post_delete.connect(auth_cache_clear, sender=sender, dispatch_uid=f"auth_gen_del_{sender}")
    m2m_changed.connect(
        auth_cache_clear, sender=User.groups.through, dispatch_uid="auth_gen_groups_changed"
    )
