"""The PostgreSQL load path: set-based FK locks instead of per-row triggers, settings scoped."""

import pytest
from django.db import IntegrityError, connection, transaction

from importer import loading
from importer.models import ImportJob
from players.models import Activity, Currency, Player

pytestmark = [pytest.mark.django_db(transaction=True)]

HEADER = "TxID,UserID,Type,Amount,Currency,PlayDate\n"


def _postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    Currency.objects.get_or_create(code="EUR", defaults={"minor_units": 2})


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_load_restores_trigger_mode_inside_its_transaction(run_import):
    _postgres()
    job = run_import(
        (HEADER + "t1,p1,bet,10.00,EUR,2026-01-02\n").encode(), kind="activity", on_error="skip"
    )
    loading.stage_create(job_id=job.pk, kind=job.kind)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {loading.stage_table(job.pk)} (row_no, external_id, player_id, type, "
            "amount, currency, occurred_at, count) "
            "VALUES (2, 't2', 'p2', 'bet', 1, 'EUR', '2026-01-03T00:00:00Z', 1)"
        )
    with transaction.atomic():
        players, activities = loading.load_activity(job_id=job.pk, source="import:activity")
        # Statements after the load (the job's own update) still run their FK triggers.
        assert _setting("session_replication_role") == "origin"
    assert (players, activities) == (1, 1)
    assert _setting("synchronous_commit") == "on"  # SET LOCAL ended with the transaction
    loading.stage_drop(job_id=job.pk)
    stored = Activity.objects.get(external_id="t2")
    assert stored.player == Player.objects.get(external_id="p2")
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.SUCCEEDED


def test_loaded_rows_keep_their_foreign_keys_valid(run_import):
    _postgres()
    run_import((HEADER + "t1,p1,bet,10.00,EUR,2026-01-02\n").encode(), kind="activity")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM players_activity a LEFT JOIN players_player p "
            "ON p.id = a.player_id WHERE p.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0
    # The DB-level FK still guards the stored rows.
    with (
        pytest.raises(IntegrityError, match="foreign key"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM players_player WHERE external_id = 'p1'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_currency_gone_since_validation_still_fails_the_load(run_import):
    _postgres()
    job = run_import((HEADER + "t1,p1,bet,10.00,EUR,2026-01-02\n").encode(), kind="activity")
    loading.stage_create(job_id=job.pk, kind=job.kind)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {loading.stage_table(job.pk)} (row_no, external_id, player_id, type, "
            "amount, currency, occurred_at, count) "
            "VALUES (2, 't2', 'p1', 'bet', 1, 'XXX', '2026-01-03T00:00:00Z', 1)"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        loading.load_activity(job_id=job.pk, source="import:activity")
    loading.stage_drop(job_id=job.pk)
    assert not Activity.objects.filter(external_id="t2").exists()


def test_stage_writer_copies_text_exactly_and_empty_text_as_null(run_import):
    """The staging COPY (Arrow's CSV writer, from StageWriter's thread) keeps quotes, commas,
    line breaks and non-ASCII text as they are, and stores empty or missing text as NULL."""
    import pandas as pd

    _postgres()
    job = run_import((HEADER + "t1,p1,bet,10.00,EUR,2026-01-02\n").encode(), kind="activity")
    loading.stage_create(job_id=job.pk, kind=job.kind)
    odd = ['a "quoted", value', "line\nbreak", "Søren Ærø", "", None]
    rows = pd.DataFrame(
        {
            "row_no": range(2, 7),
            "external_id": [f"x{i}" for i in range(5)],
            "player_id": odd,
            "type": "bet",
            "amount": "1.50000000",
            "currency": "EUR",
            "occurred_at": "2026-01-02T00:00:00.000000+00",
            "count": 1,
        }
    )
    for name in loading.ACTIVITY_COLUMNS:
        if name not in rows:
            rows[name] = None
    writer = loading.StageWriter(job_id=job.pk, kind=job.kind)
    try:
        writer.write(rows.iloc[:3])
        writer.write(rows.iloc[3:])
        writer.wait()
    finally:
        writer.close()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT player_id, amount, game_id FROM {loading.stage_table(job.pk)} ORDER BY row_no"
        )
        stored = cursor.fetchall()
    assert [row[0] for row in stored] == [*odd[:3], None, None]
    assert {str(row[1]) for row in stored} == {"1.50000000"}
    assert {row[2] for row in stored} == {None}
    loading.stage_drop(job_id=job.pk)


def test_stage_writer_reports_a_failed_chunk(run_import):
    import pandas as pd

    _postgres()
    job = run_import((HEADER + "t1,p1,bet,10.00,EUR,2026-01-02\n").encode(), kind="activity")
    loading.stage_create(job_id=job.pk, kind=job.kind)
    rows = pd.DataFrame({name: ["x"] for name in loading.ACTIVITY_COLUMNS})  # row_no "x"
    writer = loading.StageWriter(job_id=job.pk, kind=job.kind)
    try:
        writer.write(rows)
        with pytest.raises(Exception, match="integer"):
            writer.wait()
    finally:
        writer.close()
    loading.stage_drop(job_id=job.pk)
