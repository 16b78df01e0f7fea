"""Rule runs: chunks of players evaluated set-based, decided, stored in bulk and issued.

A run is split into chunks by player-id range (`PITBOSS_BATCH_CHUNK_SIZE` players each,
players/batch.py), queued as one Celery group that every worker shares; each chunk is one transaction that
first claims `RuleRunChunk(run, index)` (unique), evaluates the pipeline (rewards/pipeline.py), writes every decision (COPY on
PostgreSQL) and every reward, issues the rewards through the wallet services with the key
`reward:<run>:<rule>:<player>`, spends from the budgets with a conditional UPDATE (see
`chunk_run`) and adds the counts to the run. A chunk
delivered twice finds its claim and does nothing; one that dies rolls back entirely; a second
delivery racing the first waits on the claim's unique index and then rolls back. So a retried
run pays nobody twice (ADR 0007).
"""

import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import structlog
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config.deadlocks import deadlock_retrying
from config.domain_events import domain_events_emit
from players.batch import IdRange, chunk_size_default, id_ranges, range_player_ids
from players.models import Segment
from rewards import history, pipeline
from rewards.metrics import rewards_count
from rewards.models import Decision, Reward, Rule, RuleBudget, RuleRun, RuleRunChunk
from rewards.serialize import reward_as_dict
from wallet.batch import RewardPayment, rewards_pay_batch
from wallet.models import Bonus

log = structlog.get_logger(__name__)

OUT = Decision.Outcome
COUNTED = {
    OUT.ISSUED: "issued",
    OUT.PENDING_REVIEW: "review",
    OUT.REJECTED: "rejected",
    OUT.HELD_OUT: "held_out",
    OUT.NOT_MATCHED: "not_matched",
}


def rules_for_run(*, rule_ids: list[int] | None, trigger: str, now: datetime) -> list[Rule]:
    """Active rules in their validity window: the given ids, or every rule of `trigger`."""
    rules = Rule.objects.filter(active=True)
    rules = rules.filter(pk__in=rule_ids) if rule_ids else rules.filter(trigger=trigger)
    return [
        r
        for r in rules.select_related("currency")
        if (r.valid_from is None or r.valid_from <= now)
        and (r.valid_until is None or r.valid_until > now)
    ]


def run_chunks(run: RuleRun) -> list[IdRange]:
    """The run's players (its list, or everyone) cut into id ranges of the chunk size."""
    return id_ranges(player_ids=run.player_ids, size=chunk_size_default())


def run_prepare(*, run: RuleRun) -> list[IdRange]:
    """Fix the run's chunks (id ranges) and mark it running; → the ranges."""
    chunks = run_chunks(run)
    RuleRun.objects.filter(pk=run.pk, status=RuleRun.Status.QUEUED).update(
        status=RuleRun.Status.RUNNING,
        players_total=sum(c.players for c in chunks),
        chunks_total=len(chunks),
    )
    if not chunks:
        RuleRun.objects.filter(pk=run.pk).update(
            status=RuleRun.Status.SUCCEEDED, finished_at=timezone.now()
        )
    run.refresh_from_db()
    return chunks


def chunk_player_ids(*, run: RuleRun, chunk: IdRange) -> list[int]:
    """The players of one chunk of the run (the run's own list when it has one)."""
    return range_player_ids(first_id=chunk.first_id, last_id=chunk.last_id, within=run.player_ids)


@dataclass
class ChunkResult:
    outcomes: list[pipeline.RuleOutcome]
    frame: object
    skipped: bool = False


def _budget_periods(rules: list[Rule], now: datetime) -> dict[tuple[int, datetime], Decimal]:
    wanted = {}
    for rule in rules:
        budget = (rule.limits or {}).get("budget")
        if budget:
            start = history.period_start(budget["period"], now)
            wanted[(rule.pk, start)] = Decimal(budget["amount"])
    return wanted


def budgets_ensure(rules: list[Rule], now: datetime) -> None:
    """Create this period's budget rows (each in its own short transaction), so that chunks
    never wait on each other to create one."""
    for (rule_id, start), limit in _budget_periods(rules, now).items():
        RuleBudget.objects.get_or_create(
            rule_id=rule_id, period_start=start, defaults={"limit": limit}
        )


def _budgets(rules: list[Rule], now: datetime, *, lock: bool) -> dict[int, history.Budget]:
    """What is left of each rule's budget this period (rows locked in pk order if `lock`)."""
    budgets: dict[int, history.Budget] = {}
    wanted = _budget_periods(rules, now)
    if not wanted:
        return budgets
    rows = RuleBudget.objects.filter(
        rule_id__in=[k[0] for k in wanted], period_start__in={k[1] for k in wanted}
    ).order_by("pk")
    if lock:
        rows = rows.select_for_update()
    found = {(row.rule_id, row.period_start): row for row in rows}
    for (rule_id, start), limit in wanted.items():
        row = found.get((rule_id, start))
        if row is None:
            budgets[rule_id] = history.Budget(remaining=limit)
        else:
            budgets[rule_id] = history.Budget(
                remaining=max(min(row.limit, limit) - row.spent, Decimal(0)), budget_id=row.pk
            )
    return budgets


class BudgetContention(Exception):
    """Another run spent from a budget since this chunk read it: redo the chunk locked."""


def chunk_evaluate(
    *, rules: list[Rule], player_ids: list[int], now: datetime, event: dict | None, lock: bool
) -> ChunkResult:
    """Run the pipeline over one chunk (reads only)."""
    names: set[str] = set()
    for rule in rules:
        names |= pipeline.rule_names(rule)
    frame = pipeline.frame_load(player_ids=player_ids, names=names, event=event)
    custom = sorted({s for r in rules for s in r.target_segments or []} - set(Segment.values))
    memberships: dict[str, set[int]] = {}
    for player_id, name in pipeline.custom_memberships(player_ids=player_ids, names=custom):
        memberships.setdefault(name, set()).add(player_id)
    evaluation = pipeline.Evaluation(
        frame=frame,
        now=now,
        history=history.history_load(player_ids=player_ids, rules=rules, now=now),
        budgets=_budgets(rules, now, lock=lock),
        jurisdictions=history.jurisdiction_limits(),
        memberships=memberships,
    )
    outcomes = pipeline.rules_evaluate(rules=rules, evaluation=evaluation)
    for outcome in outcomes:
        budget = evaluation.budgets.get(outcome.rule.pk)
        outcome.budget_id = budget.budget_id if budget else None
    return ChunkResult(outcomes=outcomes, frame=frame)


def chunk_range_run(
    *, run_id: int, index: int, first_id: int, last_id: int, worker: str = ""
) -> str:
    """One chunk of a run given by its id range (what the chunk task carries)."""
    run = RuleRun.objects.get(pk=run_id)
    ids = chunk_player_ids(run=run, chunk=IdRange(first_id, last_id, 0))
    return chunk_run(run_id=run_id, index=index, player_ids=ids, worker=worker)


def chunk_run(*, run_id: int, index: int, player_ids: list[int], worker: str = "") -> str:
    """Evaluate, store and issue one chunk of a run, exactly once. → a short note.

    Budgets are optimistic: the chunk reads what is left, decides, and at the end spends with
    a conditional UPDATE (`spent + x <= limit`). If a concurrent run spent in between, that
    UPDATE matches no row; the chunk rolls back and runs again with the budget rows locked
    from the start, so the budget never overspends and chunks rarely wait for each other. A
    chunk that loses a deadlock (config/deadlocks.py) runs again, up to three times in all."""
    run = RuleRun.objects.get(pk=run_id)
    now = timezone.now()
    rules = rules_for_run(rule_ids=run.rule_ids, trigger=run.trigger, now=now)
    budgets_ensure(rules, now)
    chunk = {"run": run, "index": index, "player_ids": player_ids, "worker": worker}

    def attempt() -> str:
        try:
            return _chunk_run(**chunk, rules=rules, now=now, lock=False)
        except BudgetContention:
            return _chunk_run(**chunk, rules=rules, now=now, lock=True)

    # its payouts lock many players' accounts at once: a chunk that loses a deadlock with live
    # events runs again (nothing of the lost attempt stayed)
    return deadlock_retrying(attempt, what="rule_run_chunk", run=run_id, chunk=index)


def _chunk_run(*, run, index, player_ids, worker, rules, now, lock: bool) -> str:
    run_id = run.pk
    try:
        with transaction.atomic():
            if RuleRunChunk.objects.filter(run_id=run_id, index=index).exists():
                return "already done"
            RuleRunChunk.objects.create(
                run_id=run_id, index=index, players=len(player_ids), worker=worker[:255]
            )
            counts = dict.fromkeys(RuleRun.COUNTS, 0)
            if rules and player_ids:
                result = chunk_evaluate(
                    rules=rules, player_ids=player_ids, now=now, event=run.event, lock=lock
                )
                counts = decisions_store(run=run, result=result, now=now, locked=lock)
            done = RuleRun.objects.filter(pk=run_id)
            done.update(
                players_done=F("players_done") + len(player_ids),
                chunks_done=F("chunks_done") + 1,
                **{name: F(name) + value for name, value in counts.items()},
            )
            done.filter(chunks_done__gte=F("chunks_total")).update(
                status=RuleRun.Status.SUCCEEDED, finished_at=timezone.now()
            )
    except IntegrityError:
        if RuleRunChunk.objects.filter(run_id=run_id, index=index).exists():
            return "already done"  # a concurrent delivery of this chunk won
        raise
    return f"chunk {index}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)


def decisions_store(
    *, run: RuleRun, result: ChunkResult, now: datetime, locked: bool = True
) -> dict[str, int]:
    """Write the chunk's decisions and rewards, issue the rewards, spend the budgets."""
    player_ids = result.frame["_player_id"].to_numpy(dtype=np.int64)
    counts = dict.fromkeys(RuleRun.COUNTS, 0)
    rewards: list[Reward] = []
    decision_rows = []
    for outcome in result.outcomes:
        rule = outcome.rule
        values, tallies = np.unique(outcome.outcome, return_counts=True)
        for value, tally in zip(values, tallies, strict=True):
            counts[COUNTED[value]] += int(tally)
        counts["capped"] += int(outcome.capped.sum())
        decision_rows.append((rule, outcome, player_ids))
        for i in outcome.matched_rows:
            status = outcome.outcome[i]
            amount = outcome.amount[i] if outcome.amount[i] is not None else Decimal(0)
            rewards.append(
                Reward(
                    rule=rule,
                    rule_version=rule.version,
                    player_id=int(player_ids[i]),
                    run=run,
                    reward_type=rule.reward_type,
                    status=status,
                    reason=outcome.reason[i] if status == OUT.REJECTED else "",
                    amount=amount,
                    currency_id=outcome.currency[i],
                    requested_amount=outcome.requested[i] or Decimal(0),
                    expected_cost=(
                        outcome.expected_cost[i]
                        if outcome.expected_cost is not None
                        and outcome.expected_cost[i] is not None
                        and status in (OUT.ISSUED, OUT.PENDING_REVIEW)
                        else Decimal(0)
                    ),
                    reporting_amount=outcome.reporting_amount[i] or Decimal(0),
                    terms=outcome.terms.get(int(i), rule.terms),
                    budget_id=outcome.budget_id
                    if status in (OUT.ISSUED, OUT.PENDING_REVIEW)
                    else None,
                    created_at=now,
                    decided_at=now if status != OUT.PENDING_REVIEW else None,
                )
            )
    _decisions_write(run=run, rows=decision_rows, now=now)
    unpaid = Decimal(0)
    issued = [r for r in rewards if r.status == OUT.ISSUED]
    refunds: dict[int, Decimal] = {}
    for reward in rewards_pay(rewards=issued, event=run.event):
        reward.status = Reward.Status.REJECTED
        counts["issued"] -= 1
        counts["rejected"] += 1
        if reward.budget_id:
            refunds[reward.budget_id] = refunds.get(reward.budget_id, 0) + reward.reporting_amount
        unpaid += reward.amount
    Reward.objects.bulk_create(rewards, batch_size=2000)
    rewards_announce(rewards)
    for outcome in result.outcomes:
        spent = outcome.budget_spent - refunds.get(outcome.budget_id, Decimal(0))
        if outcome.budget_id and spent:
            fits = RuleBudget.objects.filter(pk=outcome.budget_id)
            if not locked:
                fits = fits.filter(spent__lte=F("limit") - spent)
            if not fits.update(spent=F("spent") + spent):
                raise BudgetContention(outcome.rule.pk)
    if unpaid:
        log.warning("rewards.unpaid", run=run.pk, amount=str(unpaid))
    return counts


def rewards_announce(rewards: list[Reward]) -> None:
    """`reward.issued` / `reward.rejected` domain events (webhooks) in the deciding transaction,
    and `pitboss_rewards_total` once it commits."""
    rewards_count(
        [
            (r.status, r.reason or "")
            for r in rewards
            if r.status in (Reward.Status.ISSUED, Reward.Status.REJECTED)
        ]
    )
    for status, event_type in (
        (Reward.Status.ISSUED, "reward.issued"),
        (Reward.Status.REJECTED, "reward.rejected"),
    ):
        ids = [r.pk for r in rewards if r.status == status]
        if ids:
            domain_events_emit(
                event_type,
                lambda ids=ids: [
                    reward_as_dict(r)
                    for r in Reward.objects.filter(pk__in=ids).select_related("player")
                ],
            )


def reward_payment(*, reward: Reward, event: dict | None = None) -> RewardPayment:
    """What the wallet books for a reward: cash when it has no terms, else a bonus grant with
    the terms copied on (free spins: a bonus wagered on their game only)."""
    payment = RewardPayment(
        player_id=reward.player_id,
        currency=reward.currency_id,
        amount=reward.amount,
        idempotency_key=reward.idempotency_key,
        reason=f"rule {reward.rule_id} v{reward.rule_version}",
        source=f"rule:{reward.rule_id}",
    )
    terms = reward.terms
    if terms is None:  # cash, or cashback paid as real money
        return payment
    base = terms.get("wagering_base") or "bonus"
    deposit = Decimal(0)
    if base != "bonus":
        base = "bonus_plus_deposit" if base.startswith("bonus") else "deposit"
        if event and event.get("type") == "deposit" and event.get("amount"):
            deposit = Decimal(str(event["amount"]))
        else:
            base = "bonus"  # no qualifying deposit in a batch run: wager on the bonus alone
    weights = terms.get("contribution_weights") or None
    game_weights = None
    kind = Bonus.Kind.BONUS
    if reward.reward_type == Rule.RewardType.FREE_SPINS:
        kind = Bonus.Kind.FREE_SPINS
        game_id = (reward.rule.free_spins or {}).get("game_id")
        if game_id:  # free spins are played on one game: only it counts
            weights = dict.fromkeys(("slots", "table", "live", "sports", "poker", "other"), "0")
            game_weights = {game_id: "1"}
    days = terms.get("expires_in_days")
    max_bet = terms.get("max_bet")
    max_conversion = terms.get("max_conversion")
    payment.bonus_terms = {
        "kind": kind,
        "wagering_multiplier": Decimal(str(terms.get("wagering_multiplier") or 0)),
        "wagering_base": base,
        "deposit_amount": deposit,
        "contribution_weights": weights,
        "game_weights": game_weights,
        "max_bet": Decimal(max_bet) if max_bet else None,
        "expires_at": timezone.now() + timedelta(days=days) if days else None,
        "max_conversion": Decimal(max_conversion) if max_conversion is not None else None,
    }
    return payment


def rewards_pay(*, rewards: list[Reward], event: dict | None = None) -> list[Reward]:
    """Issue rewards through the wallet in one batch, each with its unique key (a replay pays
    nothing twice); → the rewards the wallet refused (their `reason` says why)."""
    payments = rewards_pay_batch([reward_payment(reward=r, event=event) for r in rewards])
    refused = []
    for reward, payment in zip(rewards, payments, strict=True):
        if payment.error is not None:
            reward.reason = payment.error.code
            reward.refusal = payment.error
            refused.append(reward)
        else:
            reward.bonus_id = payment.bonus_id
            reward.transaction_id = payment.transaction_id
    return refused


def _decisions_write(*, run: RuleRun, rows: list, now: datetime) -> None:
    """One row per (rule, player): COPY on PostgreSQL, bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        stamp = now.isoformat()
        per_rule = []
        for rule, outcome, player_ids in sorted(rows, key=lambda row: row[0].pk):
            prefix = f"{run.pk}\t{rule.pk}\t{rule.version}\t"
            per_rule.append(
                prefix
                + player_ids.astype(str).astype(object)
                + "\t"
                + outcome.outcome
                + "\t"
                + outcome.reason
                + "\t"
                + outcome.steps
                + f"\t{stamp}\n"
            )
        # player-major, rule-minor: the order of the (player, rule, run) index, so a run's
        # rows mostly append to index pages instead of scattering over them
        lines = np.stack(per_rule, axis=1).ravel() if per_rule else []
        buffer = io.StringIO()
        buffer.write("".join(lines))
        columns = "run_id, rule_id, rule_version, player_id, outcome, reason, steps, created_at"
        text = buffer.getvalue()
        if "\\" in text:  # COPY's text format escapes backslashes (only JSON has them)
            text = text.replace("\\", "\\\\")
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY rewards_decision ({columns}) FROM STDIN") as copy,
        ):
            copy.write(text)
        return
    Decision.objects.bulk_create(
        [
            Decision(
                run=run,
                rule=rule,
                rule_version=rule.version,
                player_id=int(player_ids[i]),
                outcome=outcome.outcome[i],
                reason=outcome.reason[i],
                steps=json.loads(outcome.steps[i]),
                created_at=now,
            )
            for rule, outcome, player_ids in rows
            for i in range(len(player_ids))
        ],
        batch_size=2000,
    )
