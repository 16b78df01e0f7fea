"""Safety test helpers: live events through the one ingestion path, bonuses through the wallet."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.test import TestCase
from django.utils import timezone

from players.models import Player
from players.money import currency_get
from wallet.events import EventInput, events_ingest
from wallet.services import bonus_grant

_ids = itertools.count(1)


def event(player: str, type_: str, amount, *, at=None, **extra):
    """Ingest one live event now; its after-commit listeners run at once."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        [result] = _ingest(player, type_, amount, at=at, **extra)
    return result


def _ingest(player, type_, amount, *, at, **extra):
    return events_ingest(
        events=[
            EventInput(
                external_id=f"ev-{next(_ids)}",
                player_id=player,
                type=type_,
                amount=Decimal(str(amount)),
                currency=currency_get("EUR"),
                occurred_at=at or timezone.now(),
                **extra,
            )
        ]
    )


def grant(player: str, amount, **terms):
    terms.setdefault("wagering_multiplier", 35)
    return bonus_grant(
        player=Player.objects.get(external_id=player),
        currency="EUR",
        amount=Decimal(str(amount)),
        idempotency_key=f"grant-{next(_ids)}",
        expires_at=timezone.now() + timedelta(days=7),
        **terms,
    )
