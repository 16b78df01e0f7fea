"""wallet/events.py: a known player's event is read-and-inserted in one statement on PostgreSQL;
the row it writes is the row the ORM path writes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from players.models import Activity
from tests.factories import PlayerFactory, currency
from wallet.events import EventInput, events_ingest

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 20, 10, tzinfo=UTC)


def record(external_id: str, player_id: str, code: str, amount: str = "5.00") -> dict:
    event = EventInput(
        external_id=external_id,
        player_id=player_id,
        type="deposit",
        amount=Decimal(amount),
        currency=currency(code),
        occurred_at=WHEN,
        game_id="g-1",
        reference_id="ref",
    )
    return events_ingest(events=[event])[0].as_json()


def columns(activity: Activity) -> dict:
    row = {f.attname: getattr(activity, f.attname) for f in Activity._meta.concrete_fields}
    for name in ("id", "external_id", "created_at"):
        row.pop(name)
    return row


def test_known_player_same_currency_matches_the_orm_row():
    player = PlayerFactory(external_id="known", currency=currency("EUR"))
    with CaptureQueriesContext(connection) as queries:
        assert record("fast", "known", "EUR")["status"] == "applied"
    assert record("slow", "known", "USD")["status"] == "applied"  # converted: the ORM path
    fast, slow = Activity.objects.get(external_id="fast"), Activity.objects.get(external_id="slow")
    assert fast.player == player and fast.player_amount == Decimal("5.00")
    assert fast.created_at is not None and fast.count == 1
    expected = {**columns(slow), "currency_id": "EUR", "player_amount": Decimal("5.00")}
    assert columns(fast) == expected
    player_reads = [q for q in queries.captured_queries if 'FROM "players_player"' in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(player_reads) == 1 and "INSERT INTO" in player_reads[0]["sql"]


def test_a_duplicate_on_the_fast_path_replays():
    PlayerFactory(external_id="known", currency=currency("EUR"))
    assert record("dup", "known", "EUR")["status"] == "applied"
    again = record("dup", "known", "EUR")
    assert (again["status"], again["original_status"]) == ("duplicate", "applied")
    assert Activity.objects.filter(external_id="dup").count() == 1
