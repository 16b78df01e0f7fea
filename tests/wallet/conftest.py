"""Wallet test fixtures: players, the PostgreSQL-only skip, and the conservation check that runs
after every wallet test (entries sum to zero per currency; cached balances equal entries)."""

import itertools
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from players.models import Player
from wallet import services
from wallet.selectors import ledger_drift

_ids = itertools.count(1)


def _currencies_seed() -> None:
    from importlib import import_module

    from django.apps import apps

    import_module("players.migrations.0002_seed_currencies").seed(apps, None)


def assert_ledger_conserved() -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:  # fire the deferred balance trigger now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    drift = ledger_drift()
    assert drift == {"currencies": {}, "transactions": [], "accounts": []}, drift


@pytest.fixture(autouse=True)
def ledger_conserved(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    if transactional:  # a flush after an earlier transactional test removed the seed data
        _currencies_seed()
    yield
    if not getattr(request.node, "_ledger_broken_on_purpose", False):
        assert_ledger_conserved()


def player_make(*, currency: str = "EUR", status: str = Player.Status.ACTIVE, **fields) -> Player:
    return Player.objects.create(
        external_id=f"wp-{next(_ids)}-{timezone.now().timestamp()}",
        currency_id=currency,
        registered_at=timezone.now(),
        status=status,
        **fields,
    )


@pytest.fixture
def player(db):
    return player_make()


def D(value) -> Decimal:  # noqa: N802
    return Decimal(str(value))


# Service shortcuts shared by the wallet tests (a fresh idempotency key per call).
def key() -> str:
    return uuid.uuid4().hex


def deposit(player, amount, currency="EUR"):
    return services.wallet_deposit(
        player=player, currency=currency, amount=D(amount), idempotency_key=key()
    )


def bet(player, amount, currency="EUR", **kw):
    return services.wallet_bet_place(
        player=player, currency=currency, amount=D(amount), idempotency_key=key(), **kw
    )
