"""`python manage.py fraud_scan`: the fraud batch job on demand; exits non-zero on failure."""

from django.core.management.base import BaseCommand, CommandError

from players.models import Player
from safety.services import CHUNK, fraud_scan


class Command(BaseCommand):
    help = "Find multi-account clusters and run every fraud detector; refresh risk scores."

    def add_arguments(self, parser):
        parser.add_argument("--player", action="append", default=[], help="external id (repeat)")
        parser.add_argument("--chunk-size", type=int, default=CHUNK)

    def handle(self, *args, player: list[str], chunk_size: int, **options):
        ids = None
        if player:
            ids = list(Player.objects.filter(external_id__in=player).values_list("pk", flat=True))
            if len(ids) != len(set(player)):
                raise CommandError("Unknown player external id.")
        try:
            result = fraud_scan(player_ids=ids, chunk_size=chunk_size)
        except Exception as error:  # the exit status tells cron / CI that the scan failed
            raise CommandError(f"fraud scan failed: {error}") from error
        self.stdout.write(str(result))
