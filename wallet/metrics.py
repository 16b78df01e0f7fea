"""Prometheus metrics of the wallet: ledger transactions booked, counted when they commit."""

from django.db import transaction
from prometheus_client import Counter

OPERATIONS = Counter(
    "pitboss_wallet_operations_total",
    "Ledger transactions committed by kind (deposit, bet, win, bonus_grant, cash_reward, …).",
    ["kind"],
)


def operations_count(kind: str, count: int = 1) -> None:
    """Count `count` ledger transactions of `kind` once the caller's transaction commits (a
    rolled-back posting is not an operation)."""
    if count:
        transaction.on_commit(lambda: OPERATIONS.labels(kind).inc(count))
