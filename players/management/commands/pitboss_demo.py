"""`manage.py pitboss_demo`: load generated demo players and activity, and an admin login."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from players.demo import demo_activity, demo_players
from players.models import Activity, Currency, Fingerprint, Player
from players.money import convert
from players.services import players_refresh


class Command(BaseCommand):
    help = "Load deterministic generated demo data (idempotent) and create/refresh the admin login."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--players", type=int, default=300)
        parser.add_argument("--per-player", type=int, default=40)
        parser.add_argument("--admin-user", default="admin")

    def handle(self, *args, players: int, per_player: int, admin_user: str, **options) -> None:
        if not Player.objects.filter(external_id__startswith="p-").exists():
            self._load(players, per_player)
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=admin_user)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Admin login: {admin_user} / {password}")

    @transaction.atomic
    def _load(self, count: int, per_player: int) -> None:
        people = demo_players(count)
        currencies = {c.code: c for c in Currency.objects.all()}
        Player.objects.bulk_create(
            Player(
                external_id=p.external_id,
                username=p.username,
                email=p.email,
                country=p.country,
                currency=currencies[p.currency],
                registered_at=p.registered_at,
            )
            for p in people
        )
        by_external = dict(Player.objects.values_list("external_id", "pk"))
        Fingerprint.objects.bulk_create(
            Fingerprint(player_id=by_external[p.external_id], kind="device", value=p.device)
            for p in people
        )
        rows = [
            Activity(
                source="demo",
                external_id=a.external_id,
                player_id=by_external[a.player_id],
                type=a.type,
                amount=a.amount,
                currency_id=a.currency,
                player_amount=convert(
                    a.amount, source=a.currency, target=a.currency, at=a.occurred_at
                ),
                occurred_at=a.occurred_at,
                game_category=a.game_category,
                game_id=a.game_id,
            )
            for a in demo_activity(people, per_player=per_player)
        ]
        Activity.objects.bulk_create(rows, batch_size=2000)
        players_refresh()
        self.stdout.write(f"Loaded {len(people)} demo players and {len(rows)} activity rows.")
