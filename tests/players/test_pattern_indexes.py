"""Migration players 0011: no `varchar_pattern_ops` index on the tables every import or event
writes (each new player, receipt and activity day paid an insertion for it), while the unique
keys and foreign-key indexes they sat beside still hold."""

import pytest
from django.db import IntegrityError, connection, transaction

from players.models import EventReceipt, Player

HOT_TABLES = ("players_player", "players_eventreceipt", "players_activityday")


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s",
            [table],
        )
        return dict(cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", HOT_TABLES)
def test_hot_tables_have_no_prefix_search_index(table):
    indexes = _indexes(table)
    assert indexes, table
    assert not [name for name, text in indexes.items() if "pattern_ops" in text]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_unique_and_foreign_key_indexes_stay():
    player = _indexes("players_player")
    assert "UNIQUE" in player["players_player_external_id_key"]
    assert any("(currency_id)" in text for text in player.values())
    assert any(
        "UNIQUE" in text and "(external_id)" in text
        for text in _indexes("players_eventreceipt").values()
    )


@pytest.mark.django_db
def test_a_repeated_external_id_is_still_refused():
    first = Player.objects.create(
        external_id="dup", currency_id="EUR", registered_at="2026-01-01T00:00:00Z"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Player.objects.create(
            external_id=first.external_id, currency_id="EUR", registered_at=first.registered_at
        )
    assert EventReceipt._meta.get_field("external_id").unique
