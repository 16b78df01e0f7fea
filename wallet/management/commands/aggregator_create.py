"""`manage.py aggregator_create NAME --slug SLUG`: a game aggregator allowed to call the wallet;
prints its API token (bearer) as the last line. `--rotate` replaces the token of an existing one."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from wallet.aggregator.sessions import aggregator_create, aggregator_token_rotate
from wallet.models import Aggregator


class Command(BaseCommand):
    help = "Create a game aggregator (or rotate its token) and print its API token last."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--slug", help="Its event source is agg:<slug> (default: from NAME).")
        parser.add_argument("--session-minutes", type=int, default=30)
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token.")

    @transaction.atomic
    def handle(self, *args, name: str, slug, session_minutes: int, rotate: bool, **options):
        existing = Aggregator.objects.filter(name=name).first()
        if existing is not None:
            if not rotate:
                raise CommandError(f"Aggregator '{name}' exists; --rotate replaces its token.")
            token = aggregator_token_rotate(aggregator=existing)
            self.stderr.write(f"Rotated the token of '{name}'.")
        else:
            slug = slug or "".join(c for c in name.lower() if c.isalnum())[:20]
            if not slug:
                raise CommandError("Give a --slug (letters and digits).")
            _, token = aggregator_create(name=name, slug=slug, session_minutes=session_minutes)
            self.stderr.write(f"Created aggregator '{name}' (source agg:{slug}).")
        self.stdout.write(token)
