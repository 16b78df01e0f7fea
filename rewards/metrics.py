"""Prometheus metrics of the rules engine: rewards decided, counted when the decision commits."""

from collections import Counter as Tally

from django.db import transaction
from prometheus_client import Counter

REWARDS = Counter(
    "pitboss_rewards_total",
    "Rewards decided by status (issued, rejected) and reason (empty when issued).",
    ["status", "reason"],
)


def rewards_count(decisions: list[tuple[str, str]]) -> None:
    """Count (status, reason) decisions once the caller's transaction commits."""
    tally = Tally(decisions)
    if tally:
        transaction.on_commit(
            lambda: [REWARDS.labels(status, reason).inc(n) for (status, reason), n in tally.items()]
        )
