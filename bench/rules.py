"""Rule run: 100,000 players × 20 rules, full pipeline with issuing (SPEC §12: ≤ 30 s).

    DATABASE_URL=postgres://… python -m bench --only rules [--scale 0.1]

Runs on the scratch database the runner gives it. Players and their metrics are generated in
SQL (bench/expressions.py's generator: five segments, five countries, random metrics), then 20
rules of every reward type — with segments, conditions, caps, per-player limits, budgets,
hold-outs, approval thresholds and exclusivity — are run once, end to end: chunked set-based
evaluation, one decision row per (player, rule) written by COPY, rewards issued through the
wallet services. The baseline in the same run is a naive per-player loop (load one player's
values, evaluate each rule with the scalar evaluator, look at the player's past rewards, issue)
on a 1,000-player sample (a tenth of the players below 10,000: `sample_size`), rolled back,
extrapolated to all players.
"""

import os
import time
from decimal import Decimal

from bench.common import BenchResult

PLAYERS = 100_000
SAMPLE = 1_000
WORKERS = 2  # the machine's cores: two Celery worker processes
TARGET_SECONDS = 30.0

TERMS = {"wagering_multiplier": 30, "wagering_base": "bonus", "max_bet": "5.00",
         "expires_in_days": 14, "max_conversion": None, "contribution_weights": {}}  # fmt: skip
RULES = [
    # (name, segments, condition, type, amount, extra)
    (
        "vip weekly cash",
        ["vip"],
        "turnover_30d >= 1900 and net_loss_7d > 1700",
        "cash",
        "round(net_loss_7d * 0.05, 2)",
        {"priority": 900, "exclusive": True, "approval_threshold": "85"},
    ),
    (
        "losing cashback",
        ["losing"],
        "net_loss_7d >= 1750",
        "cashback",
        "net_loss_7d * 0.10",
        {
            "limits": {
                "max_amount": "150.00",
                "per_player": [{"period": "week", "count": 1, "amount": None}],
            }
        },
    ),
    (
        "losing cashback bonus",
        ["losing"],
        "net_loss_30d >= 1780 and deposits_30d > 100",
        "cashback",
        "net_loss_30d * 0.05",
        {"terms": {**TERMS, "wagering_multiplier": 5}},
    ),
    (
        "breakeven reload",
        ["breakeven"],
        "deposits_7d > 1750 and rtp_30d < 0.9",
        "bonus",
        "clamp(deposits_7d * 0.05, 5, 50)",
        {"terms": TERMS},
    ),
    (
        "winner spins",
        ["winning"],
        "bet_count_7d > 48",
        "free_spins",
        "",
        {
            "free_spins": {"count": 10, "spin_value": "0.20", "game_id": "g-7"},
            "terms": {**TERMS, "wagering_multiplier": 1},
        },
    ),
    (
        "new player welcome",
        ["new"],
        "days_since_registration < 2",
        "bonus",
        "20",
        {"terms": TERMS, "acquisition": True},
    ),
    (
        "GB reload capped",
        [],
        'country == "GB" and deposits_30d > 1790',
        "bonus",
        "25",
        {"terms": {**TERMS, "wagering_multiplier": 35}},
    ),
    (
        "budgeted cash",
        [],
        "ggr_30d > 1770",
        "cash",
        "10",
        {"limits": {"budget": {"period": "month", "amount": "1000.00"}}},
    ),
    (
        "holdout test",
        ["losing", "breakeven"],
        "turnover_7d > 1700",
        "bonus",
        "15",
        {"terms": TERMS, "holdout_percent": 20},
    ),
    (
        "high roller review",
        ["vip"],
        "deposits_30d > 1780",
        "bonus",
        "deposits_30d * 0.1",
        {"terms": TERMS, "approval_threshold": "150"},
    ),
]
NEVER = [  # conditions that rarely or never match: most decisions are "not matched"
    (f"dormant {i}", [], f"days_since_last_bet_30d > {25 + i} and deposits_7d > 1790", "cash", "5",
     {}) for i in range(10)
]  # fmt: skip


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def sample_size(count: int) -> int:
    """Players in the naive baseline's sample: `SAMPLE` from 10,000 players up (scale 0.1),
    a tenth of them below (at least 100): the figure is per player, and at the smoke's 1,000
    players a 1,000-player sample was the whole population and most of the run's time."""
    return min(SAMPLE, max(100, count // 10))


def _rules() -> list:
    from rewards.rules import rule_save

    rules = []
    for i, (name, segments, condition, kind, amount, extra) in enumerate(RULES + NEVER):
        data = {
            "name": f"bench {name}", "trigger": "manual", "target_segments": segments,
            "condition": condition, "reward_type": kind, "amount": amount,
            "priority": 500 - i, **extra,
        }  # fmt: skip
        rules.append(rule_save(data=data))
    return rules


def _naive(rules, player_ids: list[int]) -> float:
    """Per player, per rule: load values, evaluate, check history, issue. Seconds per player."""
    from django.db import transaction
    from django.utils import timezone

    from config.errors import DomainError
    from players.models import Player
    from rewards.expressions import compile_expression
    from rewards.models import Reward
    from rewards.money import money_round_down
    from rewards.names import players_values
    from rewards.rules import amount_context, condition_context
    from wallet.services import bonus_grant, wallet_cash_reward_pay

    class _Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic():
            for player_id in player_ids:
                player = Player.objects.get(pk=player_id)
                for rule in rules:
                    condition = compile_expression(
                        rule.condition or "true", context=condition_context(rule)
                    )
                    names = set(condition.names)
                    if rule.amount:
                        amount_expr = compile_expression(rule.amount, context=amount_context(rule))
                        names |= amount_expr.names
                    (values,) = players_values(Player.objects.filter(pk=player_id), names)
                    if rule.target_segments and player.segment not in rule.target_segments:
                        continue
                    if not condition.evaluate(values):
                        continue
                    if rule.free_spins:
                        value = Decimal(rule.free_spins["spin_value"]) * rule.free_spins["count"]
                    else:
                        value = amount_expr.evaluate(values)
                    if not value or value <= 0:
                        continue
                    value = money_round_down(value, player.currency_id)
                    Reward.objects.filter(player=player, rule=rule).exists()
                    if player.status != "active" or value <= 0:
                        continue
                    key = f"naive:{rule.pk}:{player_id}:{timezone.now().timestamp()}"
                    try:
                        with transaction.atomic():  # a refusal (the safety guard) rolls back
                            if rule.terms is None:
                                wallet_cash_reward_pay(
                                    player=player, currency=player.currency_id, amount=value,
                                    reason="naive", idempotency_key=key,
                                )  # fmt: skip
                            else:
                                bonus_grant(
                                    player=player, currency=player.currency_id, amount=value,
                                    wagering_multiplier=Decimal(10), idempotency_key=key,
                                )  # fmt: skip
                    except DomainError:
                        continue  # refused, as the pipeline's safety steps refuse it
            raise _Rollback
    except _Rollback:
        pass
    return (time.perf_counter() - started) / len(player_ids)


def _chunk(args: tuple[int, int, int, int]) -> str:
    from rewards.runs import chunk_range_run

    run_id, index, first_id, last_id = args
    return chunk_range_run(run_id=run_id, index=index, first_id=first_id, last_id=last_id)


def _run_in_workers(run_id: int, workers: int = WORKERS) -> None:
    """The run's chunks shared by `workers` forked processes, as Celery workers would share the
    group."""
    import multiprocessing

    from django.db import connections

    from rewards.models import RuleRun
    from rewards.runs import run_prepare

    chunks = run_prepare(run=RuleRun.objects.get(pk=run_id))
    connections.close_all()  # each forked worker opens its own connection
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        jobs = [(run_id, i, c.first_id, c.last_id) for i, c in enumerate(chunks)]
        pool.map(_chunk, jobs, chunksize=1)


def run(scale: float = 1.0) -> list[BenchResult]:
    _setup_django()
    from django.db import connection

    from bench.expressions import _generate
    from players.money import currencies_forget
    from rewards.models import Decision, Reward
    from rewards.services import run_create

    if connection.vendor != "postgresql":
        raise RuntimeError("bench.rules needs PostgreSQL: set DATABASE_URL")
    currencies_forget()
    count = max(1000, int(PLAYERS * scale))
    low, high = _generate(count)
    rules = _rules()
    size = sample_size(count)
    sample = list(range(low, high + 1, max(1, count // size)))[:size]
    naive_per_player = _naive(rules, sample)

    started = time.perf_counter()
    job = run_create(rule_ids=[r.pk for r in rules], start=False)
    _run_in_workers(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    decisions = Decision.objects.filter(run=job).count()
    issued = Reward.objects.filter(run=job, status="issued").count()
    assert job.status == "succeeded" and decisions == count * len(rules), (job.status, decisions)
    naive_seconds = naive_per_player * count
    full = scale >= 1
    return [
        BenchResult(
            name="rules.run_100k_x_20",
            measured=seconds,
            unit="s",
            baseline=naive_seconds,
            baseline_name="naive loop (extrapolated)",
            target=f"<= {TARGET_SECONDS:.0f} s at 100,000 players × 20 rules",
            met=(seconds <= TARGET_SECONDS) if full else None,
            notes=(
                f"{count} players × {len(rules)} rules: {decisions} decisions, {issued} issued "
                f"({job.review} review, {job.held_out} held out, {job.capped} capped, "
                f"{job.rejected} rejected); {count / seconds:,.0f} players/s; naive "
                f"{1 / naive_per_player:,.1f} players/s on {len(sample)}"
            ),
        )
    ]


if __name__ == "__main__":
    for result in run(float(os.environ.get("BENCH_SCALE", "1"))):
        print(result.line())
