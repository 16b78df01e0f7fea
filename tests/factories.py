"""factory-boy factories for the domain models."""

from datetime import UTC, datetime
from decimal import Decimal

import factory

from players.models import Activity, Currency, Player


def currency(code: str = "EUR") -> Currency:
    return Currency.objects.get(code=code)


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    external_id = factory.Sequence(lambda n: f"player-{n}")
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda p: f"{p.username}@example.test")
    country = "DE"
    currency = factory.LazyFunction(currency)
    registered_at = datetime(2026, 1, 1, tzinfo=UTC)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    source = "test"
    external_id = factory.Sequence(lambda n: f"tx-{n}")
    player = factory.SubFactory(PlayerFactory)
    type = Activity.Type.BET
    amount = Decimal("10.00")
    currency = factory.LazyAttribute(lambda a: a.player.currency)
    player_amount = factory.LazyAttribute(lambda a: a.amount)
    occurred_at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    count = 1
