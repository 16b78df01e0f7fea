"""Running a transaction again when PostgreSQL picks it as a deadlock's victim.

Every writer locks rows in primary-key order (wallet/locks.py), but some pairs of writers cannot:
an event inserts its activity before it locks the player's accounts, a batch locks first
(ADR 0021), a reward payout creates a cash account an event chunk may be creating too. When
PostgreSQL detects such a cycle it aborts one transaction (SQLSTATE 40P01) and the other goes
on. The aborted one left nothing behind, so whoever owns the whole transaction may simply run
it again; code running inside someone else's transaction must let the error go up instead.
"""

from collections.abc import Callable
from typing import TypeVar

import structlog
from django.db import OperationalError, connection

DEADLOCK_ATTEMPTS = 3

log = structlog.get_logger(__name__)
T = TypeVar("T")


def deadlock_lost(error: BaseException) -> bool:
    """Whether `error` is PostgreSQL aborting this transaction to break a deadlock."""
    from psycopg.errors import DeadlockDetected

    return isinstance(error, OperationalError) and isinstance(error.__cause__, DeadlockDetected)


def deadlock_retrying(
    work: Callable[[], T], *, what: str, attempts: int = DEADLOCK_ATTEMPTS, **context
) -> T:
    """`work()`, run again (up to `attempts` times in all) when it loses a deadlock.

    `work` must own its transaction (it opens `transaction.atomic()` itself): inside a caller's
    transaction nothing is retried, since the caller's earlier statements were rolled back with
    it. Logs `deadlock_retried` with `what` and `context`; the last loss is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as error:
            if connection.in_atomic_block or attempt == attempts or not deadlock_lost(error):
                raise
            log.warning("deadlock_retried", what=what, attempt=attempt, **context)
    raise AssertionError("unreachable")
