"""Batch jobs split into id-range chunks (players/batch.py): ranges, progress, exactly-once
chunks, one finish whatever the order, failures, eager fan-out and the command."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from config.errors import DomainError
from players import batch
from players.models import BatchChunk, BatchJob, Player, PlayerMetrics
from players.tasks import batch_chunk, players_refresh_all
from tests.factories import ActivityFactory, PlayerFactory

pytestmark = pytest.mark.django_db


def _players(n: int) -> list[Player]:
    players = [PlayerFactory() for _ in range(n)]
    for i, player in enumerate(players):
        ActivityFactory(player=player, amount=Decimal(10 * (i + 1)))
    return players


def _messages(job: BatchJob) -> list[dict]:
    ranges = batch.id_ranges(player_ids=job.player_ids, size=job.chunk_size)
    return [
        {"job_id": job.pk, "index": i, "first_id": r.first_id, "last_id": r.last_id}
        for i, r in enumerate(ranges)
    ]


def test_id_ranges_cut_every_player_once_in_id_order():
    players = [PlayerFactory() for _ in range(7)]
    Player.objects.filter(pk=players[3].pk).delete()  # a gap in the ids
    ids = sorted(p.pk for p in players if p != players[3])
    ranges = batch.id_ranges(player_ids=None, size=2)
    assert [r.players for r in ranges] == [2, 2, 2]
    covered = [
        batch.range_player_ids(first_id=r.first_id, last_id=r.last_id, within=None) for r in ranges
    ]
    assert [i for chunk in covered for i in chunk] == ids
    given = batch.id_ranges(player_ids=[ids[4], ids[0], ids[0], ids[2]], size=2)
    assert given == [(ids[0], ids[2], 2), (ids[4], ids[4], 1)]
    assert batch.range_player_ids(first_id=ids[0], last_id=ids[4], within=[ids[2]]) == [ids[2]]
    with pytest.raises(ValueError):
        batch.id_ranges(player_ids=None, size=0)


def test_eager_job_runs_every_chunk_and_aggregates_progress(django_capture_on_commit_callbacks):
    players = _players(5)
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: runs inline
        job = batch.batch_job_create(kind="metrics_refresh", chunk_size=2)
    job.refresh_from_db()
    assert (job.status, job.chunks_total, job.chunks_done) == ("succeeded", 3, 3)
    assert (job.players_total, job.players_done) == (5, 5)
    assert job.result == PlayerMetrics.objects.count() == 5 * 3  # three windows each
    assert sorted(BatchChunk.objects.values_list("players", flat=True)) == [1, 2, 2]
    turnover = dict(
        PlayerMetrics.objects.filter(window="lifetime").values_list("player_id", "turnover")
    )
    assert turnover == {p.pk: Decimal(10 * (i + 1)) for i, p in enumerate(players)}
    assert job.finished_at is not None


def test_every_chunk_computes_for_the_job_instant(django_capture_on_commit_callbacks):
    _players(3)
    as_of = datetime(2026, 11, 25, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        batch.batch_job_create(kind="metrics_refresh", chunk_size=1, as_of=as_of)
    assert set(PlayerMetrics.objects.values_list("as_of", flat=True)) == {as_of}


def test_a_redelivered_chunk_does_nothing_and_the_finish_runs_once(monkeypatch):
    _players(4)
    finished, counted = [], []
    batch.batch_kind_register(
        "test_counting",
        batch.BatchKind(
            chunk=lambda job, player_ids: counted.extend(player_ids) or len(player_ids),
            finish=lambda job: finished.append(job.chunks_done),
        ),
    )
    job = batch.batch_job_create(kind="test_counting", chunk_size=1, start=False)
    monkeypatch.setattr(
        batch, "group", lambda signatures: type("G", (), {"apply_async": lambda self: None})()
    )  # fmt: skip  (a broker that loses the fan-out)
    batch.batch_job_execute(job_id=job.pk)
    messages = _messages(job)
    for message in reversed(messages):  # any order
        assert batch.batch_chunk_run(**message).startswith("chunk")
        assert batch.batch_chunk_run(**message) == "already done"
    job.refresh_from_db()
    assert (job.status, job.chunks_done, job.players_done, job.result) == ("succeeded", 4, 4, 4)
    assert finished == [4]
    assert sorted(counted) == sorted(Player.objects.values_list("pk", flat=True))


def test_executing_a_running_job_again_resumes_it():
    _players(3)
    job = batch.batch_job_create(kind="segments_refresh", chunk_size=1, start=False)
    first = _messages(job)[0]
    batch.BatchJob.objects.filter(pk=job.pk).update(status="running", chunks_total=3)
    batch.batch_chunk_run(**first)
    job = batch.batch_job_execute(job_id=job.pk, fan_out=False)
    assert (job.status, job.chunks_done, job.players_done) == ("succeeded", 3, 3)
    assert BatchChunk.objects.filter(job=job).count() == 3


def test_a_failing_chunk_marks_the_job_failed(monkeypatch):
    player = _players(1)[0]
    job = batch.batch_job_create(kind="metrics_refresh", start=False)
    batch.BatchJob.objects.filter(pk=job.pk).update(status="running", chunks_total=1)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("players.services.metrics_refresh", broken)
    with pytest.raises(RuntimeError):
        batch_chunk(job_id=job.pk, index=0, first_id=player.pk, last_id=player.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "database went away" in job.error
    assert not BatchChunk.objects.exists()  # the chunk rolled back with its claim


def test_an_empty_job_succeeds_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = batch.batch_job_create(kind="players_refresh")
    job.refresh_from_db()
    assert (job.status, job.chunks_total, job.players_total) == ("succeeded", 0, 0)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"kind": "nightly"}, "unknown_batch_kind"), ({"kind": "metrics_refresh", "chunk_size": 0},
     "invalid_chunk_size")],
)  # fmt: skip
def test_bad_jobs_are_refused(kwargs, code):
    with pytest.raises(DomainError) as error:
        batch.batch_job_create(**kwargs)
    assert error.value.code == code
    assert not BatchJob.objects.exists()


def test_command_runs_the_job_in_chunks():
    _players(3)
    out = StringIO()
    call_command("metrics_refresh", "--chunk-size", "2", stdout=out)
    assert "3 players in 2 chunks" in out.getvalue()
    assert PlayerMetrics.objects.count() == 9
    with pytest.raises(CommandError, match="at least 1"):
        call_command("metrics_refresh", "--chunk-size", "0")


def test_admin_shows_progress_and_the_chunks(admin_client):
    _players(3)
    job = batch.batch_job_create(kind="metrics_refresh", chunk_size=2, start=False)
    batch.batch_job_execute(job_id=job.pk, fan_out=False)
    listing = admin_client.get("/admin/players/batchjob/").content.decode()
    assert "2 / 2" in listing and "metrics_refresh" in listing
    page = admin_client.get(f"/admin/players/batchjob/{job.pk}/change/").content.decode()
    assert page.count('class="field-first_id"') == 2  # one row per chunk


def test_the_nightly_task_is_a_shared_batch_job(django_capture_on_commit_callbacks):
    _players(2)
    with django_capture_on_commit_callbacks(execute=True):
        players_refresh_all.delay()
    job = BatchJob.objects.get()
    assert (job.kind, job.status, job.players_done) == ("players_refresh", "succeeded", 2)
    assert PlayerMetrics.objects.count() == 6
