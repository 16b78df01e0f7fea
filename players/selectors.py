"""Reads of the players app: player querysets for the API and the segment distribution."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from config import prepared
from config.databases import analytics_database
from players.metrics import METRICS
from players.models import (
    Activity,
    ActivityDay,
    BonusActivity,
    Currency,
    ExchangeRate,
    Player,
    PlayerMetrics,
    Segment,
)

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
    """One player for `players/{id}/` as plain values (None if unknown): `{"pk", "external_id",
    "status", "currency_id", "country", "registered_at", "segment", "risk_score", "minor_units",
    "metrics": {window: {metric name: value}}, "custom_segments": [names, unordered]}`; money in
    the player's currency as stored (Decimal), a window without a stored row absent.

    On PostgreSQL one prepared statement (`_player_detail_sql`: the player, its currency's
    minor units, its custom segment names and one row per stored metric window); elsewhere two
    ORM queries. No model instances, no prefetch machinery (SPEC §12 latency).
    """
    if connection.vendor == "postgresql":
        rows = prepared.fetch(_player_detail_sql(), [external_id])
        if not rows:
            return None
        first = rows[0]
        fields = len(PLAYER_DETAIL_FIELDS)
        detail = dict(zip(PLAYER_DETAIL_FIELDS, first[:fields], strict=True))
        detail["minor_units"], detail["custom_segments"] = first[fields], first[fields + 1] or []
        names = [metric.name for metric in METRICS]
        detail["metrics"] = {
            row[fields + 2]: dict(zip(names, row[fields + 3 :], strict=True))
            for row in rows
            if row[fields + 2] is not None
        }
        return detail
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


@cache
def _player_detail_sql() -> str:
    """The player by external id joined to its currency, its custom segment names (aggregated
    once per player) and its metric rows: one row per stored window, or one row with a null
    window. Tables and columns come from the models; the custom segments (rewards/models.py)
    through their relation to Player, by name: the players app never imports the apps above."""
    player, metrics = Player._meta, PlayerMetrics._meta
    membership = player.get_field("custom_memberships").related_model._meta
    segment = membership.get_field("segment").related_model._meta
    currency = player.get_field("currency").related_model._meta

    def column(meta, name: str) -> str:
        return connection.ops.quote_name(meta.get_field(name).column)

    def table(meta) -> str:
        return connection.ops.quote_name(meta.db_table)

    player_columns = ", ".join(
        f"p.{column(player, 'id' if name == 'pk' else name)}" for name in PLAYER_DETAIL_FIELDS
    )
    metric_columns = ", ".join(f"m.{column(metrics, metric.name)}" for metric in METRICS)
    return f"""
SELECT {player_columns}, c.{column(currency, "minor_units")}, s.names,
       m.{column(metrics, "window")}, {metric_columns}
  FROM {table(player)} p
  JOIN {table(currency)} c ON c.{column(currency, "code")} = p.{column(player, "currency")}
 CROSS JOIN LATERAL (
       SELECT array_agg(cs.{column(segment, "name")}) AS names
         FROM {table(membership)} cm
         JOIN {table(segment)} cs ON cs.{column(segment, "id")} = cm.{column(membership, "segment")}
        WHERE cm.{column(membership, "player")} = p.{column(player, "id")}
       ) s
  LEFT JOIN {table(metrics)} m ON m.{column(metrics, "player")} = p.{column(player, "id")}
 WHERE p.{column(player, "external_id")} = %s
"""


def currencies_without_rate(*, at=None) -> list[str]:
    """Codes of the currencies with no exchange rate in force at `at` (default: now), other
    than the reporting currency: figures that add up players leave them out."""
    at = at or timezone.now()
    with_rate = ExchangeRate.objects.filter(valid_from__lte=at).values("currency_id")
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    return list(
        Currency.objects.exclude(code__in=with_rate)
        .exclude(code=reporting)
        .order_by("code")
        .values_list("code", flat=True)
    )


def rates_to_reporting(*, at=None) -> dict[str, Decimal | None]:
    """Value of one unit of every currency in the reporting currency at `at` (default: now), in
    one query: `{"EUR": Decimal("1"), "USD": Decimal("0.92"), "XYZ": None, …}`.

    A currency with no rate in force maps to None (figures that add up players leave its money
    out and name it); when the reporting currency itself has no rate, so does every other one.
    """
    at = at or timezone.now()
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    in_force = ExchangeRate.objects.filter(currency=OuterRef("pk"), valid_from__lte=at).order_by(
        "-valid_from"
    )
    rates = dict(
        Currency.objects.using(analytics_database())
        .annotate(rate=Subquery(in_force.values("rate")[:1]))
        .values_list("code", "rate")
    )
    base = rates.get(reporting)
    converted: dict[str, Decimal | None] = {}
    for code, rate in rates.items():
        if code == reporting:
            converted[code] = Decimal(1)
        elif rate is None or base is None:
            converted[code] = None
        else:
            converted[code] = rate / base
    return converted


def in_reporting_currency(
    rows, *, currency_key: str, sums: tuple[str, ...], rates: dict[str, Decimal | None]
) -> tuple[list[dict], list[str]]:
    """Grouped rows of money in several currencies converted with `rates`: the rows (the money
    columns `sums` multiplied by their currency's rate) and the sorted codes left out because
    they have no rate (their rows are dropped). A code unknown to `rates` counts as rateless."""
    converted, left_out = [], set()
    for row in rows:
        rate = rates.get(row[currency_key])
        if rate is None:
            left_out.add(row[currency_key])
            continue
        converted.append({**row, **{name: (row[name] or Decimal(0)) * rate for name in sums}})
    return converted, sorted(left_out)


def segment_distribution(*, window: str = "30d") -> dict:
    """Players and money per lifecycle segment, summed in the reporting currency.

    One query: players left-joined to their metrics of `window`, grouped by (segment,
    currency), counted and summed; the sums are then converted with each currency's current
    rate (`rates_to_reporting`, one more query). Money in a currency with no rate in force is
    left out of the sums (never a failure for everyone) and the currency is named in
    `currencies_left_out`; player counts include every player. Money is a string with 2
    decimals in the reporting currency: `{"window", "currency", "as_of", "segments": [{"segment",
    "players", "turnover", "ggr", "ngr", "bonus_cost"}, …], "currencies_left_out": [...]}`.
    """
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    now = timezone.now()
    rows = list(
        Player.objects.using(analytics_database())  # the read replica when there is one
        .annotate(m=FilteredRelation("metrics", condition=Q(metrics__window=window)))
        .values("segment", "currency_id")
        .annotate(players=Count("pk"), **{name: Sum(f"m__{name}") for name in DISTRIBUTION_SUMS})
        .order_by()
    )
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["segment"]] += row["players"]
    converted, left_out = in_reporting_currency(
        rows, currency_key="currency_id", sums=DISTRIBUTION_SUMS, rates=rates_to_reporting(at=now)
    )
    sums: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(DISTRIBUTION_SUMS, Decimal(0))
    )
    for row in converted:
        for name in DISTRIBUTION_SUMS:
            sums[row["segment"]][name] += row[name]
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
    return {
        "window": window,
        "currency": reporting,
        "as_of": now.isoformat(),
        "segments": segments,
        "currencies_left_out": left_out,
    }


def _reporting_day(column: str) -> TruncDate:
    zone = ZoneInfo(settings.PITBOSS["REPORTING_TIME_ZONE"])
    return TruncDate(column, tzinfo=zone)


def days_back(days: int, *, now=None) -> list[date]:
    """The last `days` calendar days in the reporting time zone, oldest first, today included."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(settings.PITBOSS["REPORTING_TIME_ZONE"])).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


MONEY_SUM = DecimalField(max_digits=28, decimal_places=8)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.PITBOSS["REPORTING_TIME_ZONE"])


def day_start(day: date) -> datetime:
    """Midnight starting `day` in the reporting time zone."""
    return datetime.combine(day, time.min, tzinfo=_zone())


def daily_money(*, since, until=None, database: str = "default") -> tuple[QuerySet, QuerySet]:
    """GGR and bonus cost per (day, currency) of the activity from `since` (a datetime, or an
    expression the database evaluates) to `until` (None: no end), straight from the activity
    tables: two querysets of `{"day", "code", "ggr", "bonus_cost"}` rows to glue with UNION ALL
    (the activity's, the bonus activity's). GGR = bets − rolled-back stakes − wins in the
    activity's currency; bonus cost = converted bonus money + cash rewards paid, in the
    player's currency."""
    zero = Value(Decimal(0), output_field=MONEY_SUM)
    ggr = Sum(
        Case(
            When(type=Activity.Type.BET, then=F("amount")),
            default=-F("amount"),  # wins and rollbacks: only those three types are read
            output_field=MONEY_SUM,
        )
    )
    window = Q(occurred_at__gte=since) & (Q() if until is None else Q(occurred_at__lt=until))
    activity = (
        Activity.objects.using(database)
        .filter(window, type__in=[Activity.Type.BET, Activity.Type.WIN, Activity.Type.ROLLBACK])
        .values(day=_reporting_day("occurred_at"), code=F("currency_id"))
        .annotate(ggr=ggr, bonus_cost=zero)
        .order_by()
    )
    bonus = (
        BonusActivity.objects.using(database)
        .filter(window, kind__in=[BonusActivity.Kind.CONVERTED, BonusActivity.Kind.CASH_PAID])
        .values(day=_reporting_day("occurred_at"), code=F("player__currency_id"))
        .annotate(ggr=zero, bonus_cost=Sum("player_amount", output_field=MONEY_SUM))
        .order_by()
    )
    return activity, bonus


def bonus_cost_share_by_day(*, days: int = 30, now=None) -> dict:
    """GGR, bonus cost and bonus cost as a share of GGR per calendar day over the last `days`
    days (reporting time zone), summed in the reporting currency.

    One grouped query, UNION ALL of: the daily roll-up (`ActivityDay`) for the days it covers,
    and the activity and bonus activity after its cut-off (`daily_money`: today, or the whole
    range when it was never built), by (day, currency) — after a one-row read of the cut-off;
    then converted with the current rates (`rates_to_reporting`). GGR = bets − rolled-back stakes − wins (SPEC §4, per day rather
    than per player). A currency with no rate in force is left out and named.

    Returns `{"currency": "EUR", "days": [{"day": "2026-11-01", "ggr": "123.45",
    "bonus_cost": "12.00", "share": "0.0972" | None}, …], "currencies_left_out": [...]}`:
    money as strings with 2 decimals, `share` = bonus_cost / ggr with 4 decimals, None when
    GGR is zero or negative (a share of a loss means nothing).
    """
    now = now or timezone.now()
    calendar = days_back(days, now=now)
    since = day_start(calendar[0])
    database = analytics_database()
    # The roll-up's cut-off, read first (one row): as a literal, the planner reads only the
    # activity after it through the occurred_at index; as a subquery it planned for all rows.
    cut_off = (
        ActivityDay.objects.using(database)
        .order_by("-covered_until")
        .values_list("covered_until", flat=True)
        .first()
    )
    live_from = max(cut_off or since, since)
    # positional columns (a UNION takes the first part's names): day, code, ggr, bonus_cost
    rolled_up = (
        ActivityDay.objects.using(database)
        .filter(day__gte=calendar[0])
        .values(d=F("day"), c=F("currency_id"), g=F("ggr"), b=F("bonus_cost"))
        .order_by()
    )
    activity, bonus = daily_money(since=live_from, database=database)
    rows = activity.union(bonus, rolled_up, all=True)
    converted, left_out = in_reporting_currency(
        rows, currency_key="code", sums=("ggr", "bonus_cost"), rates=rates_to_reporting(at=now)
    )
    totals = {day: {"ggr": Decimal(0), "bonus_cost": Decimal(0)} for day in calendar}
    for row in converted:
        if row["day"] in totals:
            totals[row["day"]]["ggr"] += row["ggr"]
            totals[row["day"]]["bonus_cost"] += row["bonus_cost"]
    cent = Decimal("0.01")
    series = []
    for day, sums in totals.items():
        share = (
            (sums["bonus_cost"] / sums["ggr"]).quantize(Decimal("0.0001"))
            if sums["ggr"] > 0
            else None
        )
        series.append(
            {
                "day": day.isoformat(),
                "ggr": str(sums["ggr"].quantize(cent)),
                "bonus_cost": str(sums["bonus_cost"].quantize(cent)),
                "share": None if share is None else str(share),
            }
        )
    return {
        "currency": settings.PITBOSS["REPORTING_CURRENCY"],
        "days": series,
        "currencies_left_out": left_out,
    }
