"""The SPEC §10 shapes of rules, rewards, runs and decisions (plain dicts, JSON-ready)."""

from rewards.models import Decision, Reward, Rule, RuleRun
from rewards.money import money_str


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def rule_as_dict(rule: Rule) -> dict:
    return {
        "id": rule.pk,
        "name": rule.name,
        "description": rule.description,
        "active": rule.active,
        "valid_from": rule.valid_from,
        "valid_until": rule.valid_until,
        "priority": rule.priority,
        "exclusive": rule.exclusive,
        "trigger": rule.trigger,
        "schedule": rule.schedule or None,
        "target_segments": list(rule.target_segments or []),
        "condition": rule.condition,
        "reward_type": rule.reward_type,
        "amount": rule.amount,
        "currency": rule.currency_id,
        "terms": rule.terms,
        "free_spins": rule.free_spins,
        "limits": rule.limits or {},
        "approval_threshold": money_str(rule.approval_threshold),
        "holdout_percent": float(rule.holdout_percent)
        if rule.holdout_percent != int(rule.holdout_percent)
        else int(rule.holdout_percent),
        "acquisition": rule.acquisition,
        "max_cost_share": f"{rule.max_cost_share:f}",
        "lookback": rule.lookback,
        "version": rule.version,
    }


def reward_as_dict(reward: Reward) -> dict:
    return {
        "id": reward.pk,
        "rule": reward.rule_id,
        "rule_version": reward.rule_version,
        "player": reward.player.external_id,
        "run": reward.run_id,
        "reward_type": reward.reward_type,
        "status": reward.status,
        "reason": reward.reason or None,
        "amount": money_str(reward.amount),
        "currency": reward.currency_id,
        "requested_amount": money_str(reward.requested_amount),
        "expected_cost": money_str(reward.expected_cost),
        "bonus_id": reward.bonus_id,
        "note": reward.note or None,
        "created_at": _iso(reward.created_at),
        "decided_at": _iso(reward.decided_at),
    }


def run_as_dict(run: RuleRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "trigger": run.trigger,
        "rules": run.rule_ids,
        "players_done": run.players_done,
        "players_total": run.players_total,
        "counts": run.counts(),
        "error": run.error or None,
        "created_at": _iso(run.created_at),
        "finished_at": _iso(run.finished_at),
    }


def decision_as_dict(decision: Decision, *, reward: Reward | None = None) -> dict:
    """The trace shape; the outcome is the reward's current status when it has one (a review
    that was approved reads `issued`)."""
    return {
        "player": decision.player.external_id,
        "rule": decision.rule_id,
        "rule_version": decision.rule_version,
        "run": decision.run_id,
        "outcome": reward.status if reward is not None else decision.outcome,
        "reason": decision.reason or None,
        "decided_at": _iso(decision.created_at),
        "steps": decision.steps,
    }
