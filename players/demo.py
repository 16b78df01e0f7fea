"""Deterministic generated casino data for the demo and the benchmarks (never real data).

Players across currencies and countries with heavy-tailed stakes (most small, a few whales),
sessions of bets and wins with a house edge per game category, deposits and withdrawals, and
fingerprints with a few multi-account rings. The same seed gives the same rows.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

COUNTRIES = ("DE", "GB", "SE", "FI", "NO", "CA", "BR", "AT", "ES", "IT")
CURRENCY_BY_COUNTRY = {"GB": "GBP", "SE": "SEK", "NO": "NOK", "CA": "CAD", "BR": "BRL"}
HOUSE_EDGE = {"slots": 0.04, "table": 0.015, "live": 0.02, "sports": 0.06, "poker": 0.03}
CATEGORY_WEIGHTS = {"slots": 60, "table": 10, "live": 15, "sports": 10, "poker": 5}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DemoPlayer:
    external_id: str
    username: str
    email: str
    country: str
    currency: str
    registered_at: datetime
    device: str


@dataclass(frozen=True)
class DemoActivity:
    external_id: str
    player_id: str
    type: str
    amount: Decimal
    currency: str
    occurred_at: datetime
    game_category: str = ""
    game_id: str = ""


def _money(value: float) -> Decimal:
    return Decimal(str(round(max(value, 0.01), 2))).quantize(CENT)


def demo_players(count: int, *, seed: int = 7, now: datetime | None = None) -> list[DemoPlayer]:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    players = []
    rings = max(1, count // 200)
    for index in range(count):
        country = rng.choice(COUNTRIES)
        in_ring = index % 50 == 0
        device = f"ring-{index % rings}" if in_ring else f"dev-{seed}-{index}"
        players.append(
            DemoPlayer(
                external_id=f"p-{index:07d}",
                username=f"player{index}",
                email=f"player{index}@example.test",
                country=country,
                currency=CURRENCY_BY_COUNTRY.get(country, "EUR"),
                registered_at=now
                - timedelta(days=rng.randint(1, 720), minutes=rng.randint(0, 1439)),
                device=device,
            )
        )
    return players


def demo_activity(
    players: list[DemoPlayer], *, per_player: int = 50, seed: int = 7, now: datetime | None = None
) -> Iterator[DemoActivity]:
    """About `per_player` rows per player on average: a deposit, sessions of bets and wins."""
    rng = random.Random(seed + 1)
    now = now or datetime.now(UTC)
    categories, weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    serial = 0
    for player in players:
        stake_scale = rng.paretovariate(1.5)  # heavy tail: a few whales
        rows = max(1, int(rng.expovariate(1 / per_player)))
        span = max(1.0, (now - player.registered_at).total_seconds())
        moments = sorted(
            player.registered_at + timedelta(seconds=rng.random() * span) for _ in range(rows)
        )
        deposited = False
        for moment in moments:
            serial += 1
            ref = f"demo-{serial}"
            roll = rng.random()
            if not deposited or roll < 0.06:
                deposited = True
                amount = _money(rng.choice((10, 20, 50, 100, 200)) * stake_scale)
                yield DemoActivity(
                    ref, player.external_id, "deposit", amount, player.currency, moment
                )
            elif roll < 0.08:
                amount = _money(rng.uniform(20, 300) * stake_scale)
                yield DemoActivity(
                    ref, player.external_id, "withdrawal", amount, player.currency, moment
                )
            else:
                category = rng.choices(categories, weights)[0]
                stake = _money(rng.lognormvariate(0.5, 0.8) * stake_scale)
                game = f"{category}-{rng.randint(1, 40)}"
                yield DemoActivity(
                    ref, player.external_id, "bet", stake, player.currency, moment, category, game
                )
                # Wins pay back (1 - edge) of stakes on average, in fewer, larger amounts.
                if rng.random() < 0.4:
                    payout = float(stake) * (1 - HOUSE_EDGE[category]) / 0.4 * rng.uniform(0.5, 1.5)
                    yield DemoActivity(
                        f"{ref}-w",
                        player.external_id,
                        "win",
                        _money(payout),
                        player.currency,
                        moment + timedelta(seconds=5),
                        category,
                        game,
                    )
