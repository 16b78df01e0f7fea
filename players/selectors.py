"""Reads of the players app: player querysets for the API and the segment distribution."""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from config.databases import analytics_database
from players.metrics import METRICS
from players.models import Player, PlayerMetrics, Segment
from players.money import rate_at

DISTRIBUTION_SUMS = ("turnover", "ggr", "ngr", "bonus_cost")


def players_for_api() -> QuerySet[Player]:
    """Players with everything the API shows, in a fixed number of queries per page (from the
    read replica when there is one: a list with filters is an analytics read)."""
    return (
        Player.objects.using(analytics_database())
        .select_related("currency")
        .prefetch_related(
            Prefetch("metrics", queryset=PlayerMetrics.objects.order_by("window")),
            # custom segments (rewards/models.py) are reached through their relation to
            # Player, by name: the players app never imports the apps above it
            "custom_memberships__segment",
        )
        .order_by("pk")
    )


PLAYER_DETAIL_FIELDS = (
    "pk",
    "external_id",
    "status",
    "currency_id",
    "country",
    "registered_at",
    "segment",
    "risk_score",
)


def player_detail(*, external_id: str) -> dict | None:
    """One player for `players/{id}/` as plain values, in two queries (None if unknown).

    The player joined to its currency and its metric rows (one row per stored window), then its
    custom segment names: no model instances, no prefetch machinery (SPEC §12 latency).
    """
    metric_fields = [f"metrics__{metric.name}" for metric in METRICS]
    rows = list(
        Player.objects.filter(external_id=external_id).values(
            *PLAYER_DETAIL_FIELDS, "currency__minor_units", "metrics__window", *metric_fields
        )
    )
    if not rows:
        return None
    first = rows[0]
    detail = {name: first[name] for name in PLAYER_DETAIL_FIELDS}
    detail["minor_units"] = first["currency__minor_units"]
    detail["metrics"] = {
        row["metrics__window"]: {metric.name: row[f"metrics__{metric.name}"] for metric in METRICS}
        for row in rows
        if row["metrics__window"] is not None
    }
    detail["custom_segments"] = list(
        Player.objects.filter(pk=first["pk"], custom_memberships__isnull=False).values_list(
            "custom_memberships__segment__name", flat=True
        )
    )
    return detail


def segment_distribution(*, window: str = "30d") -> dict:
    """Players and money per lifecycle segment, summed in the reporting currency.

    Sums are grouped by (segment, currency) in SQL and converted with each currency's current
    rate, so the cost is one query plus one rate lookup per currency.
    """
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    now = timezone.now()
    database = analytics_database()  # the read replica when there is one
    counts = dict(
        Player.objects.using(database).values_list("segment").annotate(n=Count("pk")).order_by()
    )
    rows = (
        PlayerMetrics.objects.using(database)
        .filter(window=window)
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
