"""The players summary made while staging (loading.PlayerFirsts, ADR 0031) creates the same
players as the load's own grouping of the staged rows: each new player's currency is the
smallest code of their rows (byte order), their registration the earliest row, however the
rows fall across chunks."""

import random
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from importer import loading, services
from importer.models import ImportJob
from players.models import ExchangeRate, Player

HEADER = "TxID,UserID,Type,Amount,Currency,PlayDate\n"


def _file(rows: int, seed: int) -> bytes:
    """Players with rows in several currencies and times in no order, spread over chunks."""
    rng = random.Random(seed)
    lines = [
        f"x{seed}-{i},p{rng.randrange(40)},{rng.choice(['bet', 'win', 'deposit'])},"
        f"{rng.randrange(1, 9999) / 100:.2f},{rng.choice(['EUR', 'EUR', 'USD', 'GBP'])},"
        f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
        f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
        for i in range(rows)
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


class _Done(Exception):
    def __init__(self, result):
        self.result = result


def _players_after_import(content: bytes, *, summary: bool, monkeypatch) -> list[tuple]:
    with monkeypatch.context() as patch:
        patch.setattr(services, "CHUNK_ROWS", 37)
        if not summary:
            patch.setattr(loading.PlayerFirsts, "store", lambda self, **kwargs: None)
        try:
            with transaction.atomic():
                job = services.import_job_create(
                    file=ContentFile(content, name="a.csv"), kind="activity", start=False
                )
                for stage in ("parse", "validate"):
                    services.import_stage_run(job_id=job.pk, stage=stage)
                assert loading.stage_exists(job_id=job.pk)
                with_summary = _exists(loading.players_table(job.pk))
                services.import_stage_run(job_id=job.pk, stage="load")
                job.refresh_from_db()
                assert job.status == ImportJob.Status.RUNNING, (job.error_code, job.message)
                raise _Done(
                    (
                        with_summary,
                        job.players_created,
                        sorted(
                            Player.objects.values_list(
                                "external_id", "currency_id", "registered_at"
                            )
                        ),
                    )
                )
        except _Done as done:
            return done.result


def _exists(table: str) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_summary_creates_the_players_the_staged_rows_would(seed, monkeypatch):
    for code in ("USD", "GBP"):
        ExchangeRate.objects.create(
            currency_id=code, valid_from="2020-01-01T00:00:00Z", rate=Decimal("1.1")
        )
    content = _file(400, seed)
    made, created, players = _players_after_import(content, summary=True, monkeypatch=monkeypatch)
    fell_back, created_too, players_too = _players_after_import(
        content, summary=False, monkeypatch=monkeypatch
    )
    assert (made, fell_back) == (True, False)  # the two ways were taken
    assert created == created_too == len(players) == 40
    assert players == players_too
    # spot-check the rule itself on one player
    rows = [line.split(",") for line in content.decode().splitlines()[1:]]
    mine = [r for r in rows if r[1] == "p7"]
    expected = (min(r[4] for r in mine), min(r[5] for r in mine))
    got = next(p for p in players if p[0] == "p7")
    assert (got[1], got[2].strftime("%Y-%m-%dT%H:%M:%SZ")) == expected


@pytest.mark.postgres
@pytest.mark.django_db
def test_deleting_staged_rows_drops_the_summary():
    job = services.import_job_create(
        file=ContentFile(_file(20, 9), name="a.csv"), kind="activity", start=False
    )
    for stage in ("parse", "validate"):
        services.import_stage_run(job_id=job.pk, stage=stage)
    assert _exists(loading.players_table(job.pk))
    loading.stage_delete_rows(job_id=job.pk, rows=[2])
    assert not _exists(loading.players_table(job.pk))
    loading.stage_drop(job_id=job.pk)
