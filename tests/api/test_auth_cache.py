"""The per-process token cache (config/api/authentication.py): fast, and never stale in-process."""

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config.api.authentication import auth_cache_clear

URL = "/api/v1/segments/distribution/"


def _auth_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if "authtoken_token" in q["sql"] or "auth_group" in q["sql"]
    )


def test_a_cached_token_reads_neither_token_nor_groups(analyst_client):
    auth_cache_clear()
    assert _auth_queries(analyst_client) == 2  # token joined to user, then the user's groups
    assert _auth_queries(analyst_client) == 0


def test_a_deleted_token_is_refused_at_once(analyst_client):
    assert analyst_client.get(URL).status_code == 200
    Token.objects.filter(user__username="test-analyst").delete()
    assert analyst_client.get(URL).status_code == 401


def test_a_deactivated_user_is_refused_at_once(analyst_client):
    assert analyst_client.get(URL).status_code == 200
    token = Token.objects.get(user__username="test-analyst")
    token.user.is_active = False
    token.user.save()
    assert analyst_client.get(URL).status_code == 401


def test_a_role_taken_away_is_refused_at_once(analyst_client):
    assert analyst_client.get(URL).status_code == 200
    user = Token.objects.get(user__username="test-analyst").user
    user.groups.remove(Group.objects.get(name="analyst"))
    assert analyst_client.get(URL).status_code == 403


def test_no_cache_when_disabled(analyst_client, settings):
    settings.PITBOSS = {**settings.PITBOSS, "AUTH_CACHE_SECONDS": 0}
    auth_cache_clear()
    assert _auth_queries(analyst_client) == 2
    assert _auth_queries(analyst_client) == 2
