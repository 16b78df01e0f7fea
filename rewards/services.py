"""Rules engine services: runs (manual, after import, scheduled, event-triggered), simulation,
and the review queue (SPEC §6, §10). Celery tasks and API views are thin wrappers over these.

Errors are `DomainError`s: `unknown_rule` / `unknown_player` (400), `not_pending` (409),
`note_required` (400), plus the wallet's codes when issuing an approved reward fails.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.audit import audit_record
from config.errors import DomainError
from players.batch import chunk_size_default
from players.models import Player
from rewards import queueing, selectors
from rewards.event_triggers import event_triggers
from rewards.models import Reward, RewardDay, Rule, RuleBudget, RuleRun
from rewards.money import money_str, reporting_currency
from rewards.runs import (
    chunk_evaluate,
    chunk_player_ids,
    chunk_run,
    rewards_announce,
    rewards_pay,
    run_prepare,
)

OUT = Reward.Status


def _player_ids(external_ids: Sequence[str] | None) -> list[int] | None:
    if external_ids is None:
        return None
    found = dict(
        Player.objects.filter(external_id__in=list(external_ids)).values_list("external_id", "pk")
    )
    missing = sorted(set(external_ids) - set(found))
    if missing:
        raise DomainError(
            "unknown_player", f"Unknown player(s): {', '.join(missing[:10])}.",
            details={"players": missing[:100]},
        )  # fmt: skip
    return sorted(found.values())


def run_create(
    *,
    rule_ids: Sequence[int] | None = None,
    players: Sequence[str] | None = None,
    trigger: str = "manual",
    by=None,
    start: bool = True,
) -> RuleRun:
    """Queue a run of `rule_ids` (default: every active rule of `trigger`) over `players`
    (external ids; default all). The run starts after commit (Celery)."""
    if rule_ids:
        known = set(Rule.objects.filter(pk__in=rule_ids).values_list("pk", flat=True))
        unknown = sorted(set(rule_ids) - known)
        if unknown:
            raise DomainError(
                "unknown_rule", f"Unknown rule(s): {unknown}.", details={"rules": unknown}
            )
        ids = sorted(set(rule_ids))
    else:
        ids = list(
            Rule.objects.filter(active=True, trigger=trigger)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    run = RuleRun.objects.create(
        trigger=trigger, rule_ids=ids, player_ids=_player_ids(players), created_by=by
    )
    if start:
        transaction.on_commit(lambda: queueing.run_enqueue(run.pk))
    return run


def run_execute(*, run_id: int, fan_out: bool = True) -> None:
    """Split a queued run into chunks and evaluate them: as a Celery group that several
    workers share (`fan_out`), or one after the other in this process."""
    run = RuleRun.objects.get(pk=run_id)
    if run.status not in (RuleRun.Status.QUEUED, RuleRun.Status.RUNNING):
        return
    chunks = run_prepare(run=run)
    if fan_out:
        queueing.chunks_enqueue(run.pk, chunks)
        return
    for index, chunk in enumerate(chunks):
        chunk_run(run_id=run.pk, index=index, player_ids=chunk_player_ids(run=run, chunk=chunk))


def run_fail(*, run_id: int, error: str) -> None:
    RuleRun.objects.filter(pk=run_id).exclude(status=RuleRun.Status.SUCCEEDED).update(
        status=RuleRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _run_note(run: RuleRun) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in run.counts().items() if v)
    return f"rule run {run.pk}: {counts or 'nothing decided'}"


def rules_run_after_import(*, player_ids: list[int] | None, job_id: int) -> str:
    """The importer's post-import step: the active `after_import` rules, with safety and
    issuing, for the players the import touched (None: all). → a note for the job."""
    ids = list(
        Rule.objects.filter(active=True, trigger="after_import").values_list("pk", flat=True)
    )
    if not ids:
        return "no active after_import rules"
    run = RuleRun.objects.create(
        trigger="after_import", rule_ids=ids, player_ids=player_ids, job_id=job_id
    )
    run_execute(run_id=run.pk, fan_out=False)
    run.refresh_from_db()
    return _run_note(run)


def rule_run_scheduled(*, rule_id: int) -> RuleRun | None:
    """Beat's entry point for a `schedule` rule: a run of that rule over every player."""
    if not Rule.objects.filter(pk=rule_id, active=True, trigger="schedule").exists():
        return None
    run = RuleRun.objects.create(trigger="schedule", rule_ids=[rule_id])
    run_execute(run_id=run.pk)
    return run


def event_as_dict(event) -> dict:
    """The fields of an applied event that rules read (`event.amount`, …), JSON-safe."""
    return {
        "activity_id": event.activity_id,
        "external_id": event.external_id,
        "type": event.type,
        "amount": str(event.amount),
        "currency": event.currency,
        "game_category": event.game_category or None,
        "game_id": event.game_id or None,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
    }


def rules_event_listener(events) -> None:
    """Registered with the event ingestion: called after commit with the applied events.
    Enqueues one evaluation per event that some active `on_event:<type>` rule listens to;
    the event API's answer does not wait for it."""
    triggers = event_triggers()  # cached per process (rewards/event_triggers.py)
    if not triggers:
        return
    for event in events:
        if f"on_event:{event.type}" in triggers:
            queueing.event_enqueue(event.player_id, event_as_dict(event))


def rules_event_evaluate(*, player_id: int, event: dict) -> RuleRun:
    """Run the `on_event:<type>` rules for one player and one event. Keyed by the event's
    activity: a re-delivered task or a replayed event finds the run and pays nothing again."""
    run, _ = RuleRun.objects.get_or_create(
        key=f"event:{event['activity_id']}",
        defaults={
            "trigger": f"on_event:{event['type']}",
            "player_ids": [player_id],
            "event": event,
        },
    )
    if run.status == RuleRun.Status.QUEUED:
        run_prepare(run=run)
    chunk_run(run_id=run.pk, index=0, player_ids=[player_id])
    run.refresh_from_db()
    return run


def rule_simulate(*, rule: Rule, players: Sequence[str] | None = None) -> dict:
    """The rule's decisions for the players (default all) without writing anything: no
    reward, no ledger row, no budget spend, no decision. Amounts in the reporting currency
    (SPEC §10 simulate shape)."""
    now = timezone.now()
    ids = _player_ids(players)
    if ids is None:
        ids = list(Player.objects.order_by("pk").values_list("pk", flat=True))
    totals = dict.fromkeys(("matched", "held_out", "issued", "capped", "rejected", "review"), 0)
    amount = cost = Decimal(0)
    by_segment: dict[str, dict] = defaultdict(
        lambda: {"players": 0, "amount": Decimal(0), "expected_cost": Decimal(0)}
    )
    rejected_by_reason: dict[str, int] = defaultdict(int)
    size = chunk_size_default()
    for start in range(0, len(ids), size):
        result = chunk_evaluate(
            rules=[rule], player_ids=ids[start : start + size], now=now, event=None,
            lock=False,
        )  # fmt: skip
        outcome = result.outcomes[0]
        segments = result.frame["segment"].to_numpy(dtype=object)
        totals["matched"] += len(outcome.matched_rows)
        totals["held_out"] += int((outcome.outcome == OUT.HELD_OUT).sum())
        totals["issued"] += int((outcome.outcome == OUT.ISSUED).sum())
        totals["review"] += int((outcome.outcome == OUT.PENDING_REVIEW).sum())
        totals["capped"] += int(outcome.capped.sum())
        rejected = outcome.outcome == OUT.REJECTED
        totals["rejected"] += int(rejected.sum())
        for reason in outcome.reason[rejected]:
            rejected_by_reason[reason] += 1
        paying = np.flatnonzero(np.isin(outcome.outcome, [OUT.ISSUED, OUT.PENDING_REVIEW]))
        for i in paying:
            reporting = outcome.reporting_amount[i] or Decimal(0)
            factor = reporting / outcome.amount[i] if outcome.amount[i] else Decimal(1)
            expected = (outcome.expected_cost[i] or Decimal(0)) * factor
            amount += reporting
            cost += expected
            segment = by_segment[segments[i]]
            segment["players"] += 1
            segment["amount"] += reporting
            segment["expected_cost"] += expected
    return {
        "rule": rule.pk,
        "players_evaluated": len(ids),
        **totals,
        "currency": reporting_currency(),
        "total_amount": money_str(amount.quantize(Decimal("0.01"))),
        "expected_cost": money_str(cost.quantize(Decimal("0.01"))),
        "by_segment": {
            name: {
                "players": row["players"],
                "amount": money_str(row["amount"].quantize(Decimal("0.01"))),
                "expected_cost": money_str(row["expected_cost"].quantize(Decimal("0.01"))),
            }
            for name, row in sorted(by_segment.items())
        },
        "rejected_by_reason": dict(sorted(rejected_by_reason.items())),
    }


def _pending(reward_id: int) -> Reward:
    reward = (
        Reward.objects.select_for_update().select_related("rule", "run", "player").get(pk=reward_id)
    )
    if reward.status != OUT.PENDING_REVIEW:
        raise DomainError(
            "not_pending", f"Reward {reward.pk} is {reward.status}, not pending_review.", status=409
        )
    return reward


def _review_audit(reward: Reward, *, by, note: str) -> None:
    audit_record(
        instance=reward,
        action="update",
        by=by,
        reason=note,
        changes={"status": [OUT.PENDING_REVIEW, reward.status], "amount": [None, reward.amount]},
    )


@transaction.atomic
def reward_approve(*, reward_id: int, note: str = "", by=None) -> Reward:
    """Issue a reward that waits for review, exactly once (a row lock and the status check;
    the wallet's key `reward:<run>:<rule>:<player>` backs it). Raises `not_pending` (409) or
    the wallet's error (e.g. `player_blocked`), leaving the reward pending."""
    reward = _pending(reward_id)
    refused = rewards_pay(rewards=[reward], event=reward.run.event)
    if refused:
        raise refused[0].refusal
    reward.status = OUT.ISSUED
    reward.note = note
    reward.decided_by = by if by is not None and by.is_authenticated else None
    reward.decided_at = timezone.now()
    reward.save(
        update_fields=["status", "note", "decided_by", "decided_at", "bonus", "transaction"]
    )
    _review_audit(reward, by=by, note=note)
    rewards_announce([reward])
    return reward


@transaction.atomic
def reward_reject(*, reward_id: int, note: str, by=None) -> Reward:
    """Reject a reward that waits for review (note required); its budget is given back."""
    if not (note or "").strip():
        raise DomainError("note_required", "A note is required to reject a reward.")
    reward = _pending(reward_id)
    reward.status = OUT.REJECTED
    reward.reason = "staff"
    reward.note = note
    reward.decided_by = by if by is not None and by.is_authenticated else None
    reward.decided_at = timezone.now()
    reward.save(update_fields=["status", "reason", "note", "decided_by", "decided_at"])
    _review_audit(reward, by=by, note=note)
    rewards_announce([reward])
    if reward.budget_id:
        RuleBudget.objects.filter(pk=reward.budget_id).update(
            spent=F("spent") - reward.reporting_amount
        )
    return reward


def reward_days_refresh(*, since: datetime, until: datetime) -> int:
    """Rebuild the per-rule daily roll-up (`RewardDay`) for the days from `since` to the
    cut-off `until` (the start of today, reporting time zone), set-based: one grouped read of
    the rewards issued before `until` (by `decided_at`, else `created_at`), one delete, one
    bulk insert. Called in `players.services.activity_days_refresh`'s transaction (registered
    in rewards/apps.py). Returns the rows written."""
    rows = list(selectors.rewards_issued_by_rule_and_day(since=since, issued_before=until))
    RewardDay.objects.filter(day__gte=since.date()).delete()
    RewardDay.objects.all().update(covered_until=until)
    RewardDay.objects.bulk_create(
        RewardDay(
            day=row["day"],
            rule_id=row["rule_id"],
            issued=row["issued"],
            cost=row["cost"] or 0,
            covered_until=until,
        )
        for row in rows
    )
    return len(rows)
