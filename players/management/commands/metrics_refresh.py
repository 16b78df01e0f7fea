"""`manage.py metrics_refresh`: recompute players' metrics and segments (the batch job).

It runs as a `players_refresh` batch job (players/batch.py): chunk by chunk in this process, or
with `--queue` fanned out to the Celery workers, which share its chunks.
"""

from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from players.batch import batch_job_create, batch_job_execute, chunk_size_default


class Command(BaseCommand):
    help = "Recompute stored metrics and segments for all players (or the given external ids)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="ISO timestamp for a backfill (default: now).")
        parser.add_argument("--player", action="append", default=[], help="external id; repeat")
        parser.add_argument(
            "--chunk-size", type=int, default=None,
            help=f"players per chunk (default PITBOSS_BATCH_CHUNK_SIZE, {chunk_size_default()})",
        )  # fmt: skip
        parser.add_argument(
            "--queue", action="store_true",
            help="queue the job for the Celery workers (they share its chunks) and return",
        )  # fmt: skip

    def handle(self, *args, as_of: str | None, player: list[str], chunk_size: int | None,
               queue: bool, **options) -> None:  # fmt: skip
        from players.models import Player

        when = None
        if as_of:
            try:
                when = parse_datetime(as_of)
            except ValueError:
                when = None
            if when is None:
                raise CommandError(f"--as-of: '{as_of}' is not an ISO timestamp.")
            if timezone.is_naive(when):
                when = timezone.make_aware(when, UTC)
        if chunk_size is not None and chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        ids = (
            list(Player.objects.filter(external_id__in=player).values_list("pk", flat=True))
            if player
            else None
        )
        job = batch_job_create(
            kind="players_refresh", player_ids=ids, as_of=when, chunk_size=chunk_size,
            start=queue,
        )  # fmt: skip
        if queue:
            self.stdout.write(f"Queued batch job {job.pk} (admin: Players › Batch jobs).")
            return
        job = batch_job_execute(job_id=job.pk, fan_out=False)
        self.stdout.write(
            self.style.SUCCESS(
                f"Metrics and segments refreshed: {job.players_done} players in "
                f"{job.chunks_done} chunks, {job.result} segment changes (batch job {job.pk})."
            )
        )
