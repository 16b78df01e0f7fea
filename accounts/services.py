"""API token services: create (the token is returned once), revoke."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from ipaddress import ip_network

from django.utils import timezone

from accounts.models import ApiToken
from config.errors import DomainError


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def allowed_ips_clean(values: Iterable[str]) -> list[str]:
    """Addresses or CIDR networks, normalised; DomainError `invalid_ip` for anything else."""
    cleaned = []
    for value in values:
        try:
            cleaned.append(str(ip_network(str(value).strip(), strict=False)))
        except ValueError:
            raise DomainError("invalid_ip", f"Not an IP address or network: {value!r}.") from None
    return cleaned


def api_token_create(
    *,
    user,
    name: str = "",
    expires_at: datetime | None = None,
    allowed_ips: Iterable[str] = (),
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token (shown this once, never stored)."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:8],
        key_hash=token_hash(key),
        expires_at=expires_at,
        allowed_ips=allowed_ips_clean(allowed_ips),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token: refused by every process from the next request on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_tokens_revoke(*, user) -> int:
    """Revoke every live token of `user`; returns how many."""
    live = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True))
    for token in live:
        api_token_revoke(token=token)
    return len(live)
