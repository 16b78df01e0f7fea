"""The load of a file with only new ids (ADR 0027: `INSERT … SELECT DISTINCT ON`, no ON
CONFLICT): the same stored rows as the `ON CONFLICT DO NOTHING` path, and one load per import
source at a time."""

import threading
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction

from importer import loading, services
from importer.models import ImportJob
from players.models import Activity, ExchangeRate, Player

HEADER = "TxID,UserID,Type,Amount,Currency,PlayDate\n"
# p1 and p2 new; p1 plays in GBP, with a USD row converted at the rates below; t3 twice (the
# first row is kept); a row without an id (hashed id).
FIRST = HEADER + (
    "t1,p1,deposit,100.00,GBP,2026-01-02T10:00:00Z\n"
    "t2,p1,bet,33.33,USD,2026-01-03T11:00:00Z\n"
    "t3,p2,bet,10.00,EUR,2026-01-04T12:00:00Z\n"
    "t3,p2,bet,99.00,EUR,2026-01-05T12:00:00Z\n"
    ",p2,win,7.77,EUR,2026-01-06T12:00:00Z\n"
)
# Known players p1 and p2, new p3; t1 says something else than the first import did.
CORRECTED = HEADER + (
    "t1,p1,deposit,120.00,GBP,2026-01-02T10:00:00Z\n"
    "t4,p2,bet,5.00,EUR,2026-02-01T10:00:00Z\n"
    "t5,p3,bet,1.23,SEK,2026-02-02T10:00:00Z\n"
    "t6,p3,win,2.46,USD,2026-02-02T10:01:00Z\n"
)
# Only new ids: known players and a new one.
FRESH = HEADER + (
    "t7,p1,bet,1.00,USD,2026-03-01T10:00:00Z\n"
    "t8,p4,deposit,50.00,EUR,2026-03-01T11:00:00Z\n"
    "t9,p2,bet,3.00,EUR,2026-03-01T12:00:00Z\n"
)


class _Done(Exception):
    def __init__(self, result):
        self.result = result


def _scenario(run_import) -> dict:
    """Five imports in turn; → what they stored and reported."""
    ExchangeRate.objects.create(
        currency_id="USD", valid_from="2026-01-01T00:00:00Z", rate=Decimal("0.923456789012")
    )
    ExchangeRate.objects.create(
        currency_id="GBP", valid_from="2026-01-01T00:00:00Z", rate=Decimal("1.171717171717")
    )
    jobs = [
        run_import(FIRST.encode(), kind="activity"),
        run_import(FIRST.encode(), kind="activity"),  # refused: t3's second row conflicts
        run_import(CORRECTED.encode(), kind="activity"),  # refused: t1 conflicts
        run_import(CORRECTED.encode(), kind="activity", on_conflict="replace"),
        run_import(FRESH.encode(), kind="activity"),
        run_import(FRESH.encode(), kind="activity"),  # identical re-import
    ]
    # every column but the keys the sequences give and the time of storing
    fields = [f.attname for f in Activity._meta.fields if f.name not in ("id", "created_at")]
    return {
        "jobs": [
            (j.status, j.error_code, j.counts, j.activities_created, j.players_created)
            for j in jobs
        ],
        "activity": sorted(
            (a.player.external_id, *(getattr(a, f) for f in fields if f != "player_id"))
            for a in Activity.objects.select_related("player")
        ),
        "players": sorted(
            Player.objects.values_list("external_id", "currency_id", "registered_at", "status")
        ),
    }


def _run(run_import, monkeypatch, *, new_ids: bool) -> tuple[dict, int]:
    """The scenario in a savepoint rolled back afterwards; `new_ids=False` makes every load
    take the ON CONFLICT path. → (its result, loads that took the new-ids path)."""
    used = []
    real = loading.load_activity

    def spy(**kwargs):
        used.append(kwargs["new_ids"])
        return real(**kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(loading, "load_activity", spy)
        if not new_ids:
            patch.setattr(loading, "activity_known", lambda **kwargs: True)
        try:
            with transaction.atomic():
                raise _Done(_scenario(run_import))
        except _Done as done:
            return done.result, sum(used)


@pytest.mark.postgres
@pytest.mark.django_db
def test_both_load_paths_store_the_same_rows(run_import, monkeypatch):
    with_new_ids, fast = _run(run_import, monkeypatch, new_ids=True)
    without, none = _run(run_import, monkeypatch, new_ids=False)
    assert (fast, none) == (2, 0)  # FIRST and FRESH the first time: no id stored before
    assert with_new_ids == without
    jobs = with_new_ids["jobs"]
    assert [j[:2] for j in jobs] == [
        ("succeeded", ""),
        ("failed", "file_rejected"),
        ("failed", "file_rejected"),
        ("succeeded", ""),
        ("succeeded", ""),
        ("succeeded", ""),
    ]
    assert jobs[0][2:] == ({"identical": 0, "conflicting": 0, "replaced": 0, "inserted": 4}, 4, 2)
    assert (jobs[1][2]["identical"], jobs[1][2]["conflicting"]) == (4, 1)
    assert (jobs[2][2]["identical"], jobs[2][2]["conflicting"]) == (0, 1)
    assert jobs[3][2:] == ({"identical": 0, "conflicting": 1, "replaced": 1, "inserted": 4}, 4, 1)
    assert jobs[4][2:] == ({"identical": 0, "conflicting": 0, "replaced": 0, "inserted": 3}, 3, 1)
    assert jobs[5][2:] == ({"identical": 3, "conflicting": 0, "replaced": 0, "inserted": 0}, 0, 0)
    stored = {row[2]: row for row in with_new_ids["activity"]}  # by external_id
    assert len(stored) == len(with_new_ids["activity"]) == 10
    assert stored["t3"][4] == Decimal("10.00")  # the first of the repeated id's rows
    assert stored["t1"][4] == Decimal("120.00")  # replaced
    # USD → GBP at the rates in force, rounded to the column's 8 places as INSERT rounds
    usd_gbp = Decimal("33.33") * Decimal("0.923456789012") / Decimal("1.171717171717")
    assert stored["t2"][6] == usd_gbp.quantize(Decimal("1e-8"))
    assert [p[:2] for p in with_new_ids["players"]] == [
        ("p1", "GBP"),
        ("p2", "EUR"),
        ("p3", "SEK"),
        ("p4", "EUR"),
    ]


@pytest.mark.django_db
def test_an_id_the_file_repeats_is_stored_once_from_its_first_row(run_import):
    job = run_import(FIRST.encode(), kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert job.activities_created == 4
    assert Activity.objects.get(external_id="t3").amount == Decimal("10.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_source_load_one_at_a_time(monkeypatch):
    """Two jobs of the same file: the second's load waits for the first's to commit, then
    finds every id stored and inserts nothing (without the lock both would take the new-ids
    path and the second would fail on the unique key)."""
    jobs = []
    for _ in range(2):
        job = services.import_job_create(
            file=ContentFile(FRESH.encode(), name="a.csv"), kind="activity", start=False
        )
        for stage in ("parse", "validate"):
            services.import_stage_run(job_id=job.pk, stage=stage)
        jobs.append(job.pk)
    loaded, release = threading.Event(), threading.Event()
    real = loading.load_activity

    def load_then_hold(**kwargs):
        stored = real(**kwargs)
        if threading.current_thread().name == "first":
            assert kwargs["new_ids"]
            loaded.set()
            release.wait(20)  # inside the first load's transaction, its rows not committed
        return stored

    monkeypatch.setattr(loading, "load_activity", load_then_hold)

    def load(job_id):
        try:
            services.import_stage_run(job_id=job_id, stage="load")
        finally:
            connections.close_all()

    first = threading.Thread(target=load, args=(jobs[0],), name="first")
    second = threading.Thread(target=load, args=(jobs[1],), name="second")
    first.start()
    assert loaded.wait(20)
    second.start()
    try:
        assert _waits_for_advisory_lock(timeout=20)
        assert second.is_alive()
    finally:
        release.set()
        first.join(20)
        second.join(20)
    done = {j.pk: j for j in ImportJob.objects.filter(pk__in=jobs)}
    for job in done.values():  # loaded; the later stages are not run here
        assert (job.status, job.stage, job.error_code) == ("running", "load", ""), job.message
    assert done[jobs[0]].counts["inserted"] == 3
    assert done[jobs[1]].counts == {
        "identical": 3,
        "conflicting": 0,
        "replaced": 0,
        "inserted": 0,
    }, done[jobs[1]].message
    assert Activity.objects.count() == 3
    for job_id in jobs:
        loading.stage_drop(job_id=job_id)


def _waits_for_advisory_lock(*, timeout: float) -> bool:
    """Whether some backend of this database waits for an advisory lock (polled)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND NOT l.granted "
                "AND d.datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False
