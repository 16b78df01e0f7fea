"""Fraud and bonus-abuse detectors (SPEC §7 step 3): each a small function → `FlagDraft`s.

A detector reads set-based (one or two grouped queries for a chunk of players) and returns what
it found, with the evidence; it writes nothing. `safety.services.flags_raise` stores the drafts
and scores them (weight × strength, weights in `SignalWeight` rows). Signals and evidence:

| signal | found by | evidence |
|---|---|---|
| shared_device / shared_ip / shared_payment | `cluster_drafts` (safety/clusters.py) | value(s), players, cluster size |
| bonus_ratio | `detect_bonus_ratio` | bonus granted, deposits, ratio, grants |
| bonus_withdrawal | `detect_bonus_withdrawal` | bonus, deposit, withdrawal, wagering done/required |
| low_contribution_wagering | `detect_low_contribution_wagering` | bonus, stakes per game, weak share |
| max_bet_breach | `detect_max_bet_breach`, `max_bet_attempt_drafts` (live refusals) | stake, max bet |
| reward_velocity | `detect_reward_velocity` | rewards in the last 7 days |
| chargeback | `detect_chargebacks` | the chargeback activity |
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, F, Min, OuterRef, Q, Subquery, Sum

from players.models import Activity, BonusActivity, Player
from safety import defaults
from safety.clusters import SIGNAL_OF_KIND, Cluster, size_factor
from safety.models import SafetyPolicy
from safety.profit import house_edge_of
from safety.selectors import scoped
from wallet.models import Bonus
from wallet.wagering import contribution_weight

ONE = Decimal(1)


@dataclass(frozen=True)
class FlagDraft:
    """A flag a detector wants raised: score = the signal's weight × strength (capped at 100)."""

    player_id: int
    signal: str
    key: str
    evidence: dict = field(default_factory=dict)
    strength: Decimal = ONE


def _money(value) -> str:
    return f"{Decimal(value or 0).quantize(Decimal('0.01')):f}"


def cluster_drafts(clusters: Sequence[Cluster], *, max_listed: int = 50) -> list[FlagDraft]:
    """One flag per member and kind shared: `shared_device`, `shared_ip`, `shared_payment`."""
    ids = {p for cluster in clusters for p in cluster.players}
    names = dict(Player.objects.filter(pk__in=ids).values_list("pk", "external_id"))
    drafts = []
    for cluster in clusters:
        strength = size_factor(cluster.size)
        players = [names.get(p, str(p)) for p in cluster.players[:max_listed]]
        mine: dict[tuple[int, str], list[str]] = defaultdict(list)
        for (kind, value), sharing in cluster.shared.items():
            for player_id in sharing:
                mine[(player_id, kind)].append(value)
        for (player_id, kind), values in sorted(mine.items()):
            values.sort()
            signal = SIGNAL_OF_KIND[kind]
            drafts.append(
                FlagDraft(
                    player_id=player_id,
                    signal=signal,
                    key=signal,
                    strength=strength,
                    evidence={
                        "value": values[0],
                        "values": values[:max_listed],
                        "players": players,
                        "cluster_size": cluster.size,
                    },
                )
            )
    return drafts


def detect_chargebacks(
    *, player_ids: Iterable[int] | None = None, activity_ids: Iterable[int] | None = None,
    since: datetime | None = None,
) -> list[FlagDraft]:  # fmt: skip
    """Every chargeback is a flag (the per-event detector passes the new activity ids)."""
    rows = scoped(
        Activity.objects.filter(type=Activity.Type.CHARGEBACK), player_ids=player_ids, since=since
    )
    if activity_ids is not None:
        rows = rows.filter(pk__in=list(activity_ids))
    return [
        FlagDraft(
            player_id=player_id,
            signal="chargeback",
            key=f"activity:{pk}",
            evidence={
                "activity": external_id,
                "amount": _money(amount),
                "currency": currency,
                "occurred_at": occurred_at.isoformat(),
            },
        )  # fmt: skip
        for pk, player_id, external_id, amount, currency, occurred_at in rows.values_list(
            "pk", "player_id", "external_id", "amount", "currency_id", "occurred_at"
        )
    ]


def _active_bonus(outer: str = "occurred_at"):
    """Bonuses of the bet's player and currency that were active when the bet was placed."""
    return Bonus.objects.filter(
        player_id=OuterRef("player_id"),
        currency_id=OuterRef("currency_id"),
        max_bet__isnull=False,
        created_at__lte=OuterRef(outer),
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=OuterRef(outer)))


def detect_max_bet_breach(
    *, player_ids: Iterable[int] | None, since: datetime | None = None
) -> list[FlagDraft]:
    """Recorded bets above the max bet of a bonus active at the time (imported history: live
    bets over the max are refused by the wallet and reach `max_bet_attempt_drafts` instead)."""
    max_bet = (
        _active_bonus().order_by().values("player_id").annotate(m=Min("max_bet")).values("m")[:1]
    )
    bets = scoped(
        Activity.objects.filter(type=Activity.Type.BET), player_ids=player_ids, since=since
    )
    bets = bets.annotate(
        max_bet=Subquery(max_bet, output_field=DecimalField(max_digits=20, decimal_places=8))
    ).filter(max_bet__isnull=False, amount__gt=F("max_bet"))
    return [
        FlagDraft(
            player_id=player_id,
            signal="max_bet_breach",
            key=f"activity:{pk}",
            evidence={
                "activity": external_id,
                "stake": _money(amount),
                "max_bet": _money(limit),
                "currency": currency,
            },
        )  # fmt: skip
        for pk, player_id, external_id, amount, limit, currency in bets.values_list(
            "pk", "player_id", "external_id", "amount", "max_bet", "currency_id"
        )
    ]


def max_bet_attempt_drafts(refused: Sequence) -> list[FlagDraft]:
    """Live bets the wallet refused with `max_bet_exceeded` (wallet.events.RefusedEvent)."""
    attempts = [r for r in refused if r.reason_code == "max_bet_exceeded"]
    if not attempts:
        return []
    limits = dict(
        Bonus.objects.filter(
            player_id__in={r.player_id for r in attempts},
            status=Bonus.Status.ACTIVE,
            max_bet__isnull=False,
        )
        .values_list("player_id")
        .annotate(m=Min("max_bet"))
    )
    return [
        FlagDraft(
            player_id=r.player_id,
            signal="max_bet_breach",
            key=f"event:{r.external_id}",
            evidence={
                "event": r.external_id,
                "stake": _money(r.amount),
                "max_bet": _money(limits.get(r.player_id)),
                "currency": r.currency,
                "refused": True,
            },
        )  # fmt: skip
        for r in attempts
    ]


def detect_bonus_ratio(
    *, player_ids: Iterable[int] | None, since: datetime, policy: SafetyPolicy
) -> list[FlagDraft]:
    """Bonus granted ≥ threshold × deposits (minus chargebacks) over the lookback, with at least
    two grants (one matched welcome bonus is what honest players take)."""
    ids = None if player_ids is None else list(player_ids)
    grants = BonusActivity.objects.filter(kind=BonusActivity.Kind.GRANTED, occurred_at__gte=since)
    money = Activity.objects.filter(
        type__in=[Activity.Type.DEPOSIT, Activity.Type.CHARGEBACK], occurred_at__gte=since
    )
    if ids is not None:
        grants, money = grants.filter(player_id__in=ids), money.filter(player_id__in=ids)
    granted = {
        p: (total, count)
        for p, total, count in grants.values_list("player_id")
        .annotate(total=Sum("player_amount"), count=Count("pk"))
        .order_by()
    }
    if not granted:
        return []
    deposits: dict[int, Decimal] = defaultdict(Decimal)
    for p, kind, total in (
        money.filter(player_id__in=list(granted))
        .values_list("player_id", "type")
        .annotate(total=Sum("player_amount"))
        .order_by()
    ):
        deposits[p] += total if kind == Activity.Type.DEPOSIT else -total
    drafts = []
    for player_id, (total, count) in granted.items():
        deposit = deposits.get(player_id, Decimal(0))
        if count < 2 or total < policy.bonus_ratio_threshold * max(deposit, Decimal(0)):
            continue
        ratio = None if deposit <= 0 else f"{(total / deposit).quantize(Decimal('0.01')):f}"
        drafts.append(
            FlagDraft(
                player_id=player_id,
                signal="bonus_ratio",
                key="lookback",
                evidence={
                    "bonus_granted": _money(total),
                    "deposits": _money(deposit),
                    "ratio": ratio,
                    "grants": count,
                    "threshold": f"{policy.bonus_ratio_threshold:f}",
                },
            )  # fmt: skip
        )
    return drafts


def detect_bonus_withdrawal(
    *, player_ids: Iterable[int] | None, since: datetime, policy: SafetyPolicy,
    days: int = 7,
) -> list[FlagDraft]:  # fmt: skip
    """Deposit → bonus → withdrawal within `days`, with under `low_wagering_share` of the
    bonus's wagering done: the bonus hunter's pattern."""
    window = timedelta(days=days)
    bonuses = scoped(
        Bonus.objects.filter(wagering_required__gt=0), player_ids=player_ids, since=since,
        field="created_at",
    )  # fmt: skip
    money = DecimalField(max_digits=20, decimal_places=8)
    deposit = Activity.objects.filter(
        player_id=OuterRef("player_id"), type=Activity.Type.DEPOSIT,
        occurred_at__lte=OuterRef("created_at"),
        occurred_at__gte=OuterRef("created_at") - window,
    ).order_by("-occurred_at")  # fmt: skip
    withdrawal = Activity.objects.filter(
        player_id=OuterRef("player_id"), type=Activity.Type.WITHDRAWAL,
        occurred_at__gte=OuterRef("created_at"),
        occurred_at__lte=OuterRef("created_at") + window,
    ).order_by("occurred_at")  # fmt: skip
    rows = (
        bonuses.annotate(
            deposit=Subquery(deposit.values("amount")[:1], output_field=money),
            withdrawal=Subquery(withdrawal.values("amount")[:1], output_field=money),
            withdrawal_id=Subquery(withdrawal.values("external_id")[:1]),
        )
        .filter(deposit__isnull=False, withdrawal__isnull=False)
        .filter(wagering_done__lt=F("wagering_required") * policy.low_wagering_share)
        .values_list(
            "pk",
            "player_id",
            "amount",
            "currency_id",
            "deposit",
            "withdrawal",
            "withdrawal_id",
            "wagering_done",
            "wagering_required",
            "status",
        )  # fmt: skip
    )
    return [
        FlagDraft(
            player_id=player_id,
            signal="bonus_withdrawal",
            key=f"bonus:{pk}",
            evidence={
                "bonus": pk,
                "bonus_amount": _money(amount),
                "currency": currency,
                "deposit": _money(dep),
                "withdrawal": _money(wd),
                "withdrawal_id": wd_id,
                "wagering_done": _money(done),
                "wagering_required": _money(required),
                "bonus_status": status,
            },
        )  # fmt: skip
        for pk, player_id, amount, currency, dep, wd, wd_id, done, required, status in rows
    ]


_BONUS_STAKES_SQL = f"""
SELECT b.id, a.game_category, a.game_id, SUM(a.amount)
  FROM {Bonus._meta.db_table} b
  JOIN {Activity._meta.db_table} a
    ON a.player_id = b.player_id AND a.currency_id = b.currency_id AND a.type = 'bet'
   AND a.occurred_at >= b.created_at AND (b.ended_at IS NULL OR a.occurred_at < b.ended_at)
 WHERE b.id IN ({{ids}})
 GROUP BY b.id, a.game_category, a.game_id
"""


def detect_low_contribution_wagering(
    *, player_ids: Iterable[int] | None, since: datetime, policy: SafetyPolicy,
    house_edges: dict | None = None, game_edges: dict | None = None,
) -> list[FlagDraft]:  # fmt: skip
    """While a bonus was active, ≥ `low_contribution_share` of its stakes went to games that
    count under 50% towards its wagering or keep under 1% of stakes (low edge), and those stakes
    reach at least the bonus amount (so a few stray bets raise nothing)."""
    bonuses = scoped(
        Bonus.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since)),
        player_ids=player_ids,
    )
    terms = {
        b[0]: b
        for b in bonuses.values_list(
            "pk", "player_id", "amount", "contribution_weights", "game_weights", "currency_id"
        )
    }
    if not terms:
        return []
    stakes: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    ids = list(terms)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with connection.cursor() as cursor:
            cursor.execute(_BONUS_STAKES_SQL.format(ids=", ".join(["%s"] * len(chunk))), chunk)
            for bonus_id, category, game_id, total in cursor.fetchall():
                stakes[bonus_id].append((category or "other", game_id, Decimal(total)))
    drafts = []
    for bonus_id, rows in stakes.items():
        _, player_id, amount, weights, game_weights, currency = terms[bonus_id]
        total = weak = Decimal(0)
        per_game: dict[str, dict] = {}
        for category, game_id, staked in rows:
            weight = contribution_weight(
                contribution_weights=weights, game_weights=game_weights,
                game_category=category, game_id=game_id,
            )  # fmt: skip
            edge = house_edge_of(
                game_category=category, game_id=game_id, house_edges=house_edges,
                game_edges=game_edges,
            )  # fmt: skip
            total += staked
            is_weak = weight < defaults.LOW_CONTRIBUTION_WEIGHT or edge < defaults.LOW_EDGE
            if is_weak:
                weak += staked
            name = game_id or category
            entry = per_game.setdefault(
                name, {"stakes": Decimal(0), "weight": f"{weight:f}", "edge": f"{edge.normalize():f}",
                       "weak": is_weak},
            )  # fmt: skip
            entry["stakes"] += staked
        if total <= 0 or weak < amount or weak / total < policy.low_contribution_share:
            continue
        drafts.append(
            FlagDraft(
                player_id=player_id,
                signal="low_contribution_wagering",
                key=f"bonus:{bonus_id}",
                evidence={
                    "bonus": bonus_id,
                    "currency": currency,
                    "weak_share": f"{(weak / total).quantize(Decimal('0.01')):f}",
                    "stakes": {
                        k: {**v, "stakes": _money(v["stakes"])} for k, v in per_game.items()
                    },
                },
            )  # fmt: skip
        )
    return drafts


def detect_reward_velocity(
    *, player_ids: Iterable[int] | None, now: datetime, policy: SafetyPolicy
) -> list[FlagDraft]:
    """At least `reward_velocity_count` rewards (bonus grants and cash rewards) in 7 days."""
    since = now - timedelta(days=defaults.VELOCITY_DAYS)
    rewards = scoped(
        BonusActivity.objects.filter(
            kind__in=[BonusActivity.Kind.GRANTED, BonusActivity.Kind.CASH_PAID]
        ),
        player_ids=player_ids,
        since=since,
    )
    rows = (
        rewards.values_list("player_id")
        .annotate(count=Count("pk"), total=Sum("player_amount"))
        .filter(count__gte=policy.reward_velocity_count)
        .order_by()
    )
    return [
        FlagDraft(
            player_id=player_id,
            signal="reward_velocity",
            key="recent",
            evidence={
                "rewards": count,
                "amount": _money(total),
                "days": defaults.VELOCITY_DAYS,
                "threshold": policy.reward_velocity_count,
            },
        )  # fmt: skip
        for player_id, count, total in rows
    ]
