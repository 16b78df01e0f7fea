"""config/prepared.py: a statement keeps its cursor per connection (ADR 0029), and a kept cursor
answers every later run exactly as a new one did: other parameter values and types, after an
error, after the connection changed."""

from decimal import Decimal

import psycopg
import pytest
from django.db import DataError, connection, transaction

from config import prepared

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SQL = "SELECT %s::numeric * 2, 1 / %s::int"


def test_a_statement_keeps_its_cursor_and_answers_each_run_afresh():
    assert prepared.fetch(SQL, [Decimal("1.5"), 1]) == [(Decimal("3.0"), 1)]
    kept = prepared._cursor(connection.connection, SQL)
    assert prepared.fetch(SQL, [2**40, 1]) == [(Decimal(2**41), 1)]  # an int8 now
    assert prepared.fetch(SQL, [None, 1]) == [(None, 1)]
    with pytest.raises(DataError), transaction.atomic():
        prepared.fetch(SQL, [1, 0])  # division by zero
    assert prepared.fetch(SQL, [Decimal("0.01"), 1]) == [(Decimal("0.02"), 1)]
    assert prepared._cursor(connection.connection, SQL) is kept


def test_another_connection_gets_its_own_cursors():
    prepared.fetch(SQL, [1, 1])
    raw = connection.connection
    kept = prepared._cursor(raw, SQL)
    other = psycopg.connect(**connection.get_connection_params())
    try:
        assert prepared._cursor(other, SQL).connection is other
    finally:
        other.close()
    again = prepared._cursor(raw, SQL)
    assert again is not kept and again.connection is raw
    assert prepared.fetch(SQL, [3, 1]) == [(Decimal(6), 1)]


def test_statements_beyond_the_limit_get_a_cursor_each_run(monkeypatch):
    monkeypatch.setattr(prepared, "MAX_KEPT", 0)
    prepared._kept.__dict__.clear()
    assert prepared.fetch(SQL, [1, 1]) == [(Decimal(2), 1)]
    assert prepared._kept.cursors == {}
