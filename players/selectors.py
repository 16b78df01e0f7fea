"""Reads of the players app: player querysets for the API and the segment distribution."""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from players.models import CustomSegmentMembership, Player, PlayerMetrics, Segment
from players.money import rate_at

DISTRIBUTION_SUMS = ("turnover", "ggr", "ngr", "bonus_cost")


def players_for_api() -> QuerySet[Player]:
    """Players with everything the API shows, in a fixed number of queries per page."""
    return (
        Player.objects.select_related("currency")
        .prefetch_related(
            Prefetch("metrics", queryset=PlayerMetrics.objects.order_by("window")),
            Prefetch(
                "custom_memberships",
                queryset=CustomSegmentMembership.objects.select_related("segment"),
            ),
        )
        .order_by("pk")
    )


def segment_distribution(*, window: str = "30d") -> dict:
    """Players and money per lifecycle segment, summed in the reporting currency.

    Sums are grouped by (segment, currency) in SQL and converted with each currency's current
    rate, so the cost is one query plus one rate lookup per currency.
    """
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    now = timezone.now()
    counts = dict(Player.objects.values_list("segment").annotate(n=Count("pk")).order_by())
    rows = (
        PlayerMetrics.objects.filter(window=window)
        .values("player__segment", "player__currency_id")
        .annotate(**{name: Sum(name) for name in DISTRIBUTION_SUMS})
        .order_by()
    )
    sums: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(DISTRIBUTION_SUMS, Decimal(0))
    )
    rates: dict[str, Decimal] = {}
    for row in rows:
        currency = row["player__currency_id"]
        if currency not in rates:
            rates[currency] = rate_at(currency, now) / rate_at(reporting, now)
        for name in DISTRIBUTION_SUMS:
            sums[row["player__segment"]][name] += (row[name] or Decimal(0)) * rates[currency]
    segments = []
    for segment in Segment.values:
        totals = sums[segment]
        segments.append(
            {
                "segment": segment,
                "players": counts.get(segment, 0),
                **{name: str(totals[name].quantize(Decimal("0.01"))) for name in DISTRIBUTION_SUMS},
            }
        )
    return {"window": window, "currency": reporting, "as_of": now.isoformat(), "segments": segments}
