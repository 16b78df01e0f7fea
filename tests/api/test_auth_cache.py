"""API tokens (accounts/): hashed at rest, cached per process, refused at once when revoked,
expired or used from an address outside their allowlist; throttled per account and address."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import auth_cache_clear
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke, token_hash

URL = "/api/v1/segments/distribution/"
pytestmark = pytest.mark.django_db


def _auth_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if "accounts_apitoken" in q["sql"] or "auth_group" in q["sql"]
    )


@pytest.fixture
def analyst():
    user = get_user_model().objects.create(username="analyst-1")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    return user


def client_with(key: str, **extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_tokens_are_stored_hashed(analyst):
    token, key = api_token_create(user=analyst)
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert key not in str(stored)
    assert stored["key_hash"] == token_hash(key) and stored["prefix"] == key[:8]


def test_a_cached_token_reads_neither_token_nor_groups(analyst):
    client = client_with(api_token_create(user=analyst)[1])
    auth_cache_clear()
    assert _auth_queries(client) == 2  # token joined to user, then the user's groups
    assert _auth_queries(client) == 0


def test_a_revoked_token_is_refused_at_once(analyst):
    token, key = api_token_create(user=analyst)
    client = client_with(key)
    assert client.get(URL).status_code == 200
    api_token_revoke(token=token)
    assert client.get(URL).status_code == 401


def test_a_revocation_by_another_process_is_seen_at_once(analyst):
    """Another process revokes with an UPDATE this process never sees a signal of: the shared
    auth generation it bumps is what every process checks."""
    token, key = api_token_create(user=analyst)
    client = client_with(key)
    assert client.get(URL).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal here
    assert client.get(URL).status_code == 200  # still cached: nothing told this process
    cache.incr("pitboss:auth:generation")  # what the other process's revocation did
    assert client.get(URL).status_code == 401


def test_a_deactivated_user_and_a_removed_role_are_refused_at_once(analyst):
    client = client_with(api_token_create(user=analyst)[1])
    assert client.get(URL).status_code == 200
    analyst.groups.remove(Group.objects.get(name="analyst"))
    assert client.get(URL).status_code == 403
    analyst.is_active = False
    analyst.save()
    assert client.get(URL).status_code == 401


def test_an_expired_token_is_refused(analyst):
    token, key = api_token_create(user=analyst, expires_at=timezone.now() + timedelta(hours=1))
    client = client_with(key)
    assert client.get(URL).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    auth_cache_clear()
    assert client.get(URL).status_code == 401


def test_an_ip_allowlist(analyst):
    _, key = api_token_create(user=analyst, allowed_ips=["10.1.0.0/16", "192.0.2.7"])
    assert client_with(key, REMOTE_ADDR="10.1.4.5").get(URL).status_code == 200
    assert client_with(key, REMOTE_ADDR="192.0.2.7").get(URL).status_code == 200
    assert client_with(key, REMOTE_ADDR="10.2.0.1").get(URL).status_code == 401
    assert client_with(key).get(URL).status_code == 401  # 127.0.0.1


def test_no_cache_when_disabled(analyst, settings):
    settings.PITBOSS = {**settings.PITBOSS, "AUTH_CACHE_SECONDS": 0}
    client = client_with(api_token_create(user=analyst)[1])
    auth_cache_clear()
    assert _auth_queries(client) == 2
    assert _auth_queries(client) == 2


def test_throttled_per_account_and_per_address(analyst, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    from accounts.authentication import AddressRateThrottle

    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    monkeypatch.setattr(AddressRateThrottle, "rate", "2/min", raising=False)
    cache.clear()
    try:
        client = client_with(api_token_create(user=analyst)[1])
        assert [client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
        anonymous = APIClient(REMOTE_ADDR="198.51.100.9")
        assert [anonymous.get(URL).status_code for _ in range(3)] == [401, 401, 429]
        guessing = client_with("not-a-token", REMOTE_ADDR="198.51.100.10")
        assert [guessing.get(URL).status_code for _ in range(3)] == [401, 401, 429]
    finally:
        cache.clear()  # no test after this one inherits its counters
