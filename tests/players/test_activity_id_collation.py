"""Migration players 0012: the activity's ids compare in byte order on PostgreSQL, and the
import's staging table sorts its ids the same way (ADR 0034)."""

import pytest
from django.db import IntegrityError, connection, transaction

from importer import loading
from players.models import Activity
from tests.factories import PlayerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _collation(table: str, column: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
            [table, column],
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("column", ["source", "external_id"])
def test_the_activity_ids_are_in_byte_order(column):
    assert _collation("players_activity", column) == "C"


def test_the_staged_ids_sort_as_the_unique_index_does():
    loading.stage_create(job_id=990001, kind="activity")
    try:
        assert _collation(loading.stage_table(990001), "external_id") == "C"
    finally:
        loading.stage_drop(job_id=990001)


def _activity(player, external_id: str) -> Activity:
    return Activity.objects.create(
        external_id=external_id,
        player=player,
        type="deposit",
        amount="1",
        currency_id=player.currency_id,
        player_amount="1",
        occurred_at="2026-11-01T00:00:00Z",
    )


def test_ids_sort_by_bytes_and_stay_unique():
    player = PlayerFactory()
    ids = ["b", "B", "a-2", "a_1", "é", "Z"]
    for external_id in ids:
        _activity(player, external_id)
    stored = list(Activity.objects.order_by("external_id").values_list("external_id", flat=True))
    assert stored == sorted(ids, key=lambda text: text.encode())  # "B" < "Z" < "a-2" < "a_1" …
    with pytest.raises(IntegrityError), transaction.atomic():
        _activity(player, "B")
