"""`manage.py pitboss_demo`: load generated demo players and activity, and an admin login."""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from players.demo import demo_activity, demo_players
from players.models import Activity, Currency, Fingerprint, Player
from players.services import players_refresh
from rewards.segments import custom_segment_save
from wallet.events import EventInput, events_ingest
from wallet.services import bonus_grant

LIVE_PLAYERS = 20


class Command(BaseCommand):
    help = "Load deterministic generated demo data (idempotent) and create/refresh the admin login."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--players", type=int, default=300)
        parser.add_argument("--per-player", type=int, default=40)
        parser.add_argument("--admin-user", default="admin")
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Give an existing admin user a new password (printed). Without it an existing "
            "user keeps the password it has.",
        )

    def handle(
        self,
        *args,
        players: int,
        per_player: int,
        admin_user: str,
        reset_password: bool = False,
        **options,
    ) -> None:
        if not Player.objects.filter(external_id__startswith="p-").exists():
            self._load(players, per_player)
        user, created = get_user_model().objects.get_or_create(username=admin_user)
        user.is_staff = user.is_superuser = True
        if created or reset_password or not user.has_usable_password():
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
            what = "new admin user" if created else "password reset"
            self.stdout.write(f"Admin login ({what}): {admin_user} / {password}")
        else:
            user.save()
            self.stdout.write(
                f"Admin login: {admin_user} (existing user: password unchanged; "
                "`make demo DEMO_ARGS=--reset-password` or `manage.py pitboss_demo "
                "--reset-password` sets and prints a new one)"
            )

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
                player_amount=a.amount,  # demo players play in their own currency
                occurred_at=a.occurred_at,
                game_category=a.game_category,
                game_id=a.game_id,
            )
            for a in demo_activity(people, per_player=per_player)
        ]
        Activity.objects.bulk_create(rows, batch_size=2000)
        self._live_wallets(people[:LIVE_PLAYERS], currencies)
        custom_segment_save(
            name="high-rollers",
            expression="turnover_30d >= 500 and rtp_30d < 1",
            description="Demo: big 30-day stakes while losing.",
        )
        players_refresh()
        self.stdout.write(f"Loaded {len(people)} demo players and {len(rows)} activity rows.")

    def _live_wallets(self, people: list, currencies: dict) -> None:
        """Live events through the events service (they move wallet money) and a few bonuses."""
        now = timezone.now()
        events = []
        for index, person in enumerate(people):
            at = now - timedelta(hours=index + 1)
            events.extend(_live_events(person, currencies[person.currency], at))
        events_ingest(events=events)
        for person in people[::4]:
            bonus_grant(
                player=Player.objects.get(external_id=person.external_id),
                currency=person.currency,
                amount=Decimal("20.00"),
                wagering_multiplier=10,
                max_bet=Decimal("5.00"),
                expires_at=now + timedelta(days=7),
                idempotency_key=f"demo-bonus-{person.external_id}",
                reason="demo welcome bonus",
            )


def _live_events(person, currency, at) -> list[EventInput]:
    """A deposit, five slot bets and a win on the first round."""

    def event(suffix: str, kind: str, amount: str, **extra) -> EventInput:
        return EventInput(
            external_id=f"live-{person.external_id}-{suffix}",
            player_id=person.external_id,
            type=kind,
            amount=Decimal(amount),
            currency=currency,
            occurred_at=at,
            game_category="" if kind == "deposit" else "slots",
            **extra,
        )

    bets = [event(f"bet{n}", "bet", "5.00", round_id=f"r{n}") for n in range(5)]
    return [event("dep", "deposit", "200.00"), *bets, event("win0", "win", "12.00", round_id="r0")]
