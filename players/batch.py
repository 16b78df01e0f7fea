"""Batch jobs over many players, shared by any number of Celery workers (ADR 0018).

A job (`BatchJob`) is split into chunks by player-id range: `id_ranges` numbers the players in
id order in one statement and cuts every `chunk_size` of them. The job's execute task marks it
running with its totals and queues one chunk task per range as a Celery group, so N workers on
N machines each take chunks off the same queue; in eager mode (SQLite, development, tests) the
group runs inline, chunk after chunk.

A chunk is one transaction that first claims `BatchChunk(job, index)` (unique), does its work
for the players of its range, and adds its counts to the job with `F()` updates. A chunk
delivered twice (a worker killed mid-chunk: `acks_late` leaves the message unacknowledged and
the broker hands it to another worker) either finds the claim and does nothing, or - when the
first delivery is still running - waits on the claim's unique index and then does nothing. The
chunk whose update brings `chunks_done` to `chunks_total` flips the job to `succeeded` with a
conditional UPDATE and runs the kind's `finish` step in the same transaction: exactly one chunk
can do that, whatever order the chunks finish in, and no chord (nor result backend) is needed.

The kinds of job are registered by the apps that own the work (`batch_kind_register`): this
module knows the players app's own (metrics, segments, both); safety registers the fraud scan.
Rule runs have their own job row (`rewards.RuleRun`) but use the same ranges and claims.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import structlog
from celery import group, signature
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.deadlocks import deadlock_retrying
from config.errors import DomainError
from players.models import BatchChunk, BatchJob, Player

log = structlog.get_logger(__name__)

EXECUTE_TASK = "players.batch_job_execute"
CHUNK_TASK = "players.batch_chunk"


class IdRange(NamedTuple):
    """The players of one chunk: ids from `first_id` to `last_id` inclusive, `players` of them
    when the job was prepared."""

    first_id: int
    last_id: int
    players: int


@dataclass(frozen=True)
class BatchKind:
    """What a kind of job does. `chunk(job=, player_ids=)` runs in the chunk's transaction and
    returns what it counted (added to `BatchJob.result`); `prepare(job=)` runs once before the
    fan-out, `finish(job=)` once, in the transaction of the chunk that completes the job."""

    chunk: Callable[..., int]
    prepare: Callable[..., None] | None = None
    finish: Callable[..., None] | None = None


_kinds: dict[str, BatchKind] = {}


def batch_kind_register(name: str, kind: BatchKind) -> None:
    """Make `name` a kind of batch job (from `AppConfig.ready()`; registering again replaces)."""
    _kinds[name] = kind


def batch_kinds() -> list[str]:
    return sorted(_kinds)


def chunk_size_default() -> int:
    """Players per chunk: `PITBOSS_BATCH_CHUNK_SIZE` (default 5000)."""
    return settings.PITBOSS["BATCH_CHUNK_SIZE"]


def id_ranges(*, player_ids: Sequence[int] | None, size: int) -> list[IdRange]:
    """Cut these players (all when None) in id order into ranges of `size` players each.

    For all players this is one statement (ROW_NUMBER over the primary key, grouped by
    bucket), so no id list travels to Python or into the task messages; a given list is cut
    in Python. Raises ValueError for a size below 1.
    """
    if size < 1:
        raise ValueError("the chunk size must be at least 1")
    if player_ids is not None:
        ids = sorted(set(player_ids))
        return [
            IdRange(ids[i], ids[min(i + size, len(ids)) - 1], len(ids[i : i + size]))
            for i in range(0, len(ids), size)
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT MIN(id), MAX(id), COUNT(*) FROM (
                SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s AS bucket
                FROM players_player
            ) numbered
            GROUP BY bucket ORDER BY bucket
            """,
            [size],
        )
        return [IdRange(*row) for row in cursor.fetchall()]


def range_player_ids(*, first_id: int, last_id: int, within: Sequence[int] | None) -> list[int]:
    """The ids of a chunk: the players in [first_id, last_id] (of `within` when given)."""
    if within is not None:
        return sorted({i for i in within if first_id <= i <= last_id})
    return list(
        Player.objects.filter(pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def batch_job_create(
    *,
    kind: str,
    player_ids: Sequence[int] | None = None,
    as_of: datetime | None = None,
    chunk_size: int | None = None,
    start: bool = True,
) -> BatchJob:
    """Create a job of `kind` over these players (ids; None: all) and, if `start`, queue its
    execute task after commit. `as_of` (default now) is fixed here, so every chunk computes
    for the same instant. Raises `unknown_batch_kind` or `invalid_chunk_size` (400)."""
    if kind not in _kinds:
        raise DomainError(
            "unknown_batch_kind", f"Unknown batch job kind '{kind}'; one of {batch_kinds()}."
        )
    size = chunk_size if chunk_size is not None else chunk_size_default()
    if size < 1:
        raise DomainError("invalid_chunk_size", "The chunk size must be at least 1.")
    job = BatchJob.objects.create(
        kind=kind,
        player_ids=None if player_ids is None else sorted(set(player_ids)),
        params={"as_of": (as_of or timezone.now()).isoformat()},
        chunk_size=size,
    )
    if start:
        transaction.on_commit(lambda: signature(EXECUTE_TASK, kwargs={"job_id": job.pk}).delay())
    return job


def batch_job_execute(*, job_id: int, fan_out: bool = True) -> BatchJob:
    """Prepare a queued job (its ranges and totals; the kind's `prepare` step) and run its
    chunks: queued as one Celery group that every worker shares (`fan_out`), or one after the
    other in this process. Running it again for a running job queues the chunks again (the
    done ones do nothing): that is how a job whose fan-out was lost is resumed."""
    job = BatchJob.objects.get(pk=job_id)
    if job.status not in (BatchJob.Status.QUEUED, BatchJob.Status.RUNNING):
        return job
    kind = _kinds[job.kind]
    ranges = id_ranges(player_ids=job.player_ids, size=job.chunk_size)
    if job.status == BatchJob.Status.QUEUED:
        if kind.prepare is not None:
            kind.prepare(job=job)
        started = BatchJob.objects.filter(pk=job.pk, status=BatchJob.Status.QUEUED).update(
            status=BatchJob.Status.RUNNING,
            players_total=sum(r.players for r in ranges),
            chunks_total=len(ranges),
        )
        if started and not ranges:
            with transaction.atomic():
                _job_finish(job.pk, kind)
    job.refresh_from_db()
    log.info("batch.started", job=job.pk, kind=job.kind, chunks=len(ranges))
    messages = [
        {"job_id": job.pk, "index": i, "first_id": r.first_id, "last_id": r.last_id}
        for i, r in enumerate(ranges)
    ]
    if fan_out:
        group(signature(CHUNK_TASK, kwargs=m) for m in messages).apply_async()
    else:
        for message in messages:
            batch_chunk_run(**message)
        job.refresh_from_db()
    return job


def batch_chunk_run(
    *, job_id: int, index: int, first_id: int, last_id: int, worker: str = ""
) -> str:
    """Do one chunk of a job exactly once; → a short note ("already done" for a repeat). A
    chunk that loses a deadlock runs again (config/deadlocks.py)."""
    chunk = {"job_id": job_id, "index": index, "first_id": first_id, "last_id": last_id}
    return deadlock_retrying(
        lambda: _chunk_run(**chunk, worker=worker), what="batch_chunk", **chunk
    )


def _chunk_run(*, job_id: int, index: int, first_id: int, last_id: int, worker: str) -> str:
    job = BatchJob.objects.get(pk=job_id)
    kind = _kinds[job.kind]
    try:
        with transaction.atomic():
            if BatchChunk.objects.filter(job_id=job_id, index=index).exists():
                return "already done"
            ids = range_player_ids(first_id=first_id, last_id=last_id, within=job.player_ids)
            BatchChunk.objects.create(
                job_id=job_id, index=index, first_id=first_id, last_id=last_id,
                players=len(ids), worker=worker[:255],
            )  # fmt: skip
            counted = kind.chunk(job=job, player_ids=ids) if ids else 0
            BatchChunk.objects.filter(job_id=job_id, index=index).update(result=counted)
            BatchJob.objects.filter(pk=job_id).update(
                players_done=F("players_done") + len(ids),
                chunks_done=F("chunks_done") + 1,
                result=F("result") + counted,
            )
            _job_finish(job_id, kind)
    except IntegrityError:
        if BatchChunk.objects.filter(job_id=job_id, index=index).exists():
            return "already done"  # a concurrent delivery of this chunk won
        raise
    return f"chunk {index}: {len(ids)} players, {counted} counted"


def _job_finish(job_id: int, kind: BatchKind) -> None:
    finished = (
        BatchJob.objects.filter(
            pk=job_id, status=BatchJob.Status.RUNNING, chunks_done__gte=F("chunks_total")
        ).update(status=BatchJob.Status.SUCCEEDED, finished_at=timezone.now())
    )  # fmt: skip
    if finished:
        if kind.finish is not None:
            kind.finish(job=BatchJob.objects.get(pk=job_id))
        log.info("batch.finished", job=job_id)


def batch_job_fail(*, job_id: int, error: str) -> None:
    """Mark an unfinished job failed with the error (a chunk raised)."""
    BatchJob.objects.filter(pk=job_id).exclude(status=BatchJob.Status.SUCCEEDED).update(
        status=BatchJob.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def job_as_of(job: BatchJob) -> datetime:
    """The instant the job computes for (fixed when it was created)."""
    return parse_datetime(job.params["as_of"])
