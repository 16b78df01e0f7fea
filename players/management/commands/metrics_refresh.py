"""`manage.py metrics_refresh`: recompute every player's metrics and segments (the batch job)."""

from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from players.services import players_refresh


class Command(BaseCommand):
    help = "Recompute stored metrics and segments for all players (or the given external ids)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="ISO timestamp for a backfill (default: now).")
        parser.add_argument("--player", action="append", default=[], help="external id; repeat")

    def handle(self, *args, as_of: str | None, player: list[str], **options) -> None:
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
        ids = (
            list(Player.objects.filter(external_id__in=player).values_list("pk", flat=True))
            if player
            else None
        )
        players_refresh(player_ids=ids, as_of=when)
        self.stdout.write(self.style.SUCCESS("Metrics and segments refreshed."))
