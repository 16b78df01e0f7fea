"""Fixtures for the rewards tests: role API clients and the PostgreSQL-only marker."""

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


@pytest.fixture
def client_for(db):
    """`client_for("analyst")`: an API client with a token of that role."""

    def make(role: str) -> APIClient:
        roles_sync()
        user, _ = get_user_model().objects.get_or_create(username=f"expr-{role}")
        user.groups.set([Group.objects.get(name=role)])
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
