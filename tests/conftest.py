"""Shared fixtures: API clients per role, the PostgreSQL-only marker, a fixed clock."""

import importlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient

from config.roles import roles_sync


@pytest.fixture(autouse=True)
def _currency_cache_fresh():
    """Currencies a rolled-back test created (or changed) must not outlive it in the cache."""
    from players.money import currencies_forget
    from rewards.event_triggers import event_triggers_forget
    from wallet.policies import balance_policies_forget

    currencies_forget()
    balance_policies_forget()
    event_triggers_forget()  # rules too: a rolled-back test's rules must not outlive it
    yield
    currencies_forget()
    balance_policies_forget()
    event_triggers_forget()


@pytest.fixture(autouse=True)
def _skip_postgres_only(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def _seed_flushed_database(request):
    """Put the seeded currencies and rates back after a transactional test flushed them.

    A `transaction=True` test (and every test after it on the same database) starts from an
    empty flush, which drops the rows of data migrations; post_migrate handlers (content
    types, permissions, role groups) run again but data migrations do not.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from django.apps import apps

    if not apps.get_model("players", "Currency").objects.exists():
        importlib.import_module("players.migrations.0002_seed_currencies").seed(apps, None)


def _client_for(role: str) -> APIClient:
    roles_sync()
    user, _ = get_user_model().objects.get_or_create(username=f"test-{role}")
    user.groups.set([Group.objects.get(name=role)])
    from accounts.services import api_token_create

    _, key = api_token_create(user=user, name=f"test {role}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
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
