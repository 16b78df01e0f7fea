"""Reads of the rules engine: traces ("why did or didn't P get R?") and the rule report.

Amounts of the report are in the reporting currency; uplift compares, per player, deposits and
GGR in the `window_days` after the decision between treated (issued) and held-out players.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from config.errors import DomainError
from players.models import Activity, Player
from players.selectors import days_back
from rewards.models import Decision, Reward, RewardDay, Rule
from rewards.money import money_str, reporting_currency, reporting_rates
from rewards.serialize import decision_as_dict

ZERO = Decimal(0)
CENTS = Decimal("0.01")


def reward_trace(*, reward: Reward) -> dict:
    """The decision behind a reward, step by step (SPEC §10 trace shape)."""
    decision = (
        Decision.objects.select_related("player")
        .filter(run_id=reward.run_id, rule_id=reward.rule_id, player_id=reward.player_id)
        .first()
    )
    if decision is None:
        raise DomainError("not_found", "No decision was stored for this reward.", status=404)
    return decision_as_dict(decision, reward=reward)


def player_decisions(*, player: Player, rule_id: int | None = None, limit: int = 50) -> list[dict]:
    """The player's latest decisions, newest first (one rule, or every rule)."""
    decisions = Decision.objects.filter(player=player).select_related("player")
    if rule_id is not None:
        decisions = decisions.filter(rule_id=rule_id)
    decisions = list(decisions.order_by("-run_id", "rule_id")[:limit])
    rewards = {
        (r.run_id, r.rule_id): r
        for r in Reward.objects.filter(
            player=player, run_id__in={d.run_id for d in decisions}
        ).select_related("player")
    }
    return [decision_as_dict(d, reward=rewards.get((d.run_id, d.rule_id))) for d in decisions]


def _to_reporting(rows, field: str) -> Decimal:
    """Sum `(currency, amount)` rows converted at today's rates."""
    from django.utils import timezone

    rows = list(rows)
    rates = reporting_rates([r[0] for r in rows], at=timezone.now())
    return sum(((amount or ZERO) * rates[currency] for currency, amount in rows), ZERO)


def rule_report(*, rule: Rule, window_days: int = 14) -> dict:
    """Issued, amount, converted, forfeited, expired, cost and uplift of one rule (SPEC §10)."""
    rewards = Reward.objects.filter(rule=rule)
    issued = rewards.filter(status=Reward.Status.ISSUED)
    amount = issued.aggregate(total=Coalesce(Sum("reporting_amount"), ZERO))["total"]
    bonuses = issued.exclude(bonus=None)
    converted = _to_reporting(
        bonuses.values("currency_id")
        .annotate(s=Sum("bonus__converted"))
        .values_list("currency_id", "s"),
        "converted",
    )

    def bonus_sum(status: str) -> Decimal:
        return _to_reporting(
            bonuses.filter(bonus__status=status)
            .values("currency_id")
            .annotate(s=Sum("bonus__amount"))
            .values_list("currency_id", "s"),
            status,
        )

    cash = issued.filter(bonus=None).aggregate(total=Coalesce(Sum("reporting_amount"), ZERO))[
        "total"
    ]
    held_out = rewards.filter(status=Reward.Status.HELD_OUT)
    uplift = _uplift(issued=issued, held_out=held_out, window_days=window_days)
    return {
        "rule": rule.pk,
        "currency": reporting_currency(),
        "issued": issued.count(),
        "amount": money_str(amount.quantize(CENTS)),
        "converted": money_str(converted.quantize(CENTS)),
        "forfeited": money_str(bonus_sum("forfeited").quantize(CENTS)),
        "expired": money_str(bonus_sum("expired").quantize(CENTS)),
        "cost": money_str((converted + cash).quantize(CENTS)),
        "held_out": held_out.count(),
        "review": rewards.filter(status=Reward.Status.PENDING_REVIEW).count(),
        "rejected": rewards.filter(status=Reward.Status.REJECTED).count(),
        "uplift": uplift,
    }


def _after_decision(kind: str, window_days: int, sign: int = 1):
    """Per reward: the player's `kind` activity (player currency) in the window after it."""
    window = Activity.objects.filter(
        player_id=OuterRef("player_id"),
        type=kind,
        occurred_at__gte=OuterRef("created_at"),
        occurred_at__lt=ExpressionWrapper(
            OuterRef("created_at") + timedelta(days=window_days),
            output_field=DateTimeField(),
        ),
    )
    return Coalesce(
        Subquery(
            window.values("player_id").annotate(s=Sum("player_amount")).values("s")[:1],
            output_field=DecimalField(max_digits=20, decimal_places=8),
        ),
        ZERO,
    )


def _group(rewards, window_days: int) -> tuple[int, Decimal, Decimal]:
    """(players, deposits per player, GGR per player) in the reporting currency."""
    from django.utils import timezone

    rows = list(
        rewards.annotate(
            deposits=_after_decision(Activity.Type.DEPOSIT, window_days),
            bets=_after_decision(Activity.Type.BET, window_days),
            wins=_after_decision(Activity.Type.WIN, window_days),
        ).values_list("player__currency_id", "deposits", "bets", "wins")
    )
    if not rows:
        return 0, ZERO, ZERO
    rates = reporting_rates([r[0] for r in rows], at=timezone.now())
    deposits = sum((r[1] * rates[r[0]] for r in rows), ZERO)
    ggr = sum(((r[2] - r[3]) * rates[r[0]] for r in rows), ZERO)
    return len(rows), deposits / len(rows), ggr / len(rows)


def _uplift(*, issued, held_out, window_days: int) -> dict:
    treated_n, treated_deposits, treated_ggr = _group(issued, window_days)
    holdout_n, holdout_deposits, holdout_ggr = _group(held_out, window_days)

    def compare(treated: Decimal, holdout: Decimal) -> dict:
        return {
            "treated": money_str(treated.quantize(CENTS)),
            "holdout": money_str(holdout.quantize(CENTS)),
            "difference": money_str((treated - holdout).quantize(CENTS)),
        }

    return {
        "window_days": window_days,
        "treated_players": treated_n,
        "holdout_players": holdout_n,
        "deposits_per_player": compare(treated_deposits, holdout_deposits),
        "ggr_per_player": compare(treated_ggr, holdout_ggr),
    }


def rules_with_totals(queryset=None):
    """Rules annotated with `issued_count` and `issued_amount` (reporting currency)."""
    queryset = Rule.objects.all() if queryset is None else queryset
    issued = Q(rewards__status=Reward.Status.ISSUED)
    return queryset.annotate(
        issued_count=Count("rewards", filter=issued),
        issued_amount=Coalesce(Sum("rewards__reporting_amount", filter=issued), ZERO),
        issued_cost=Coalesce(Sum("rewards__expected_cost", filter=issued), ZERO),
        pending_count=Count("rewards", filter=Q(rewards__status=Reward.Status.PENDING_REVIEW)),
    )


def rewards_issued_by_rule_and_day(*, since, issued_before=None, issued_since=None):
    """Rewards issued per (rule id, calendar day of `created_at` in the reporting time zone)
    since `since`: `{"rule_id", "day", "issued", "cost"}` rows (cost: `reporting_amount`
    summed), one grouped query. `issued_before` / `issued_since` bound when each was issued
    (`decided_at`, else `created_at`): the daily roll-up holds those issued before its cut-off
    and the dashboard reads the later ones live."""
    zone = ZoneInfo(settings.PITBOSS["REPORTING_TIME_ZONE"])
    issued = Reward.objects.filter(status=Reward.Status.ISSUED, created_at__gte=since).annotate(
        issued_at=Coalesce("decided_at", "created_at")
    )
    if issued_before is not None:
        issued = issued.filter(issued_at__lt=issued_before)
    if issued_since is not None:
        issued = issued.filter(issued_at__gte=issued_since)
    # grouped by rule id alone (no join): hashing (rule, day) over the range's rewards is what
    # the query costs; the few rules' names are read after
    return (
        issued.values("rule_id", day=TruncDate("created_at", tzinfo=zone))
        .annotate(issued=Count("pk"), cost=Sum("reporting_amount"))
        .order_by()
    )


def rewards_by_rule_and_day(*, days: int = 30, now=None) -> dict:
    """Rewards issued and their amount (the bonus cost, in the reporting currency: each
    reward's `reporting_amount`, converted at the rate in force when it was decided) per rule
    per calendar day over the last `days` days (reporting time zone), by the reward's
    `created_at`.

    Complete days come from the daily roll-up (`RewardDay`: the rewards issued before its
    cut-off) and the rewards issued since from `Reward` itself (a functional index on when
    each was issued), so the cost does not grow with the days shown (ADR 0015); with no
    roll-up yet, everything is read live. Three small queries: the cut-off, the two parts
    (one UNION ALL), the rules' names.

    Returns `{"currency": "EUR", "days": ["2026-10-03", …] (oldest first, every day),
    "rules": [{"id", "name", "issued": [int per day], "cost": ["12.50" per day],
    "issued_total": int, "cost_total": "…"}, …]}`, rules by total cost, largest first; a rule
    with no reward issued in the range is not listed.
    """
    calendar = days_back(days, now=now)
    zone = ZoneInfo(settings.PITBOSS["REPORTING_TIME_ZONE"])
    since = datetime.combine(calendar[0], time.min, tzinfo=zone)
    cut_off = RewardDay.objects.values_list("covered_until", flat=True).first()
    if cut_off is None or cut_off <= since:
        rows = list(rewards_issued_by_rule_and_day(since=since))
    else:
        rolled = (
            RewardDay.objects.filter(day__gte=calendar[0])
            .values("rule_id", "day", "issued", "cost")
            .order_by()
        )
        live = rewards_issued_by_rule_and_day(since=since, issued_since=cut_off)
        rows = list(rolled.union(live, all=True))
    names = dict(
        Rule.objects.filter(pk__in={row["rule_id"] for row in rows}).values_list("pk", "name")
    )
    position = {day: n for n, day in enumerate(calendar)}
    rules: dict[int, dict] = {}
    for row in rows:
        if row["day"] not in position:
            continue
        rule = rules.setdefault(
            row["rule_id"],
            {
                "id": row["rule_id"],
                "name": names.get(row["rule_id"], ""),
                "issued": [0] * len(calendar),
                "cost": [ZERO] * len(calendar),
            },
        )
        rule["issued"][position[row["day"]]] += row["issued"]
        rule["cost"][position[row["day"]]] += row["cost"]
    listed = []
    for rule in sorted(rules.values(), key=lambda r: (-sum(r["cost"]), r["name"])):
        listed.append(
            {
                **rule,
                "cost": [str(c.quantize(CENTS)) for c in rule["cost"]],
                "issued_total": sum(rule["issued"]),
                "cost_total": str(sum(rule["cost"], ZERO).quantize(CENTS)),
            }
        )
    return {
        "currency": settings.PITBOSS["REPORTING_CURRENCY"],
        "days": [day.isoformat() for day in calendar],
        "rules": listed,
    }


def review_queue_summary(*, now=None) -> dict:
    """The review queue's size and its oldest item, in one query: `{"size": int,
    "oldest_at": datetime | None, "oldest_age_hours": float | None}` (age from `now`)."""
    now = now or timezone.now()
    summary = Reward.objects.filter(status=Reward.Status.PENDING_REVIEW).aggregate(
        size=Count("pk"), oldest_at=Min("created_at")
    )
    oldest = summary["oldest_at"]
    age = None if oldest is None else round((now - oldest).total_seconds() / 3600, 1)
    return {**summary, "oldest_age_hours": age}
