"""Shared fixtures: API clients per role, the PostgreSQL-only marker, a fixed clock."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.roles import roles_sync


@pytest.fixture(autouse=True)
def _skip_postgres_only(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def _client_for(role: str) -> APIClient:
    roles_sync()
    user, _ = get_user_model().objects.get_or_create(username=f"test-{role}")
    user.groups.set([Group.objects.get(name=role)])
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_client_for(db):
    """`api_client_for("analyst")`: an API client authenticated with a token of that role."""
    return _client_for


@pytest.fixture
def service_client(db) -> APIClient:
    return _client_for("service")


@pytest.fixture
def operator_client(db) -> APIClient:
    return _client_for("operator")


@pytest.fixture
def analyst_client(db) -> APIClient:
    return _client_for("analyst")


@pytest.fixture
def admin_client_api(db) -> APIClient:
    return _client_for("admin")
