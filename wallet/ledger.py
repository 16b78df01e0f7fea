"""Posting to the double-entry ledger: money rules, house accounts and the one write path.

`ledger_post` is the only Python function that inserts entries. It checks in Python what the
database checks again at commit on PostgreSQL (every transaction sums to zero per currency),
drops zero legs, and writes the transaction and its entries in two statements; the entry trigger
moves the cached balances of player accounts. The one other writer is the server-side function
`wallet_cash_only_post` (a cash-only player's deposit, withdrawal, bet or win on PostgreSQL,
ADR 0022), under the same triggers and constraints.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection
from django.utils import timezone

from config import prepared
from config.errors import DomainError
from players.models import Player
from players.money import convert, currency_quantum
from wallet.metrics import operations_count
from wallet.models import Account, Entry, LedgerTransaction


def house_account_id(*, currency: str, kind: str) -> int:
    """Id of the house account of `kind` in `currency`, created on first use.

    Not cached across transactions: a cached id could name a row that another transaction has
    not committed or that a rolled-back test created. The hot paths get these ids from the lock
    statement instead (wallet/locks.py).
    """
    ids = list(
        Account.objects.filter(player=None, currency_id=currency, kind=kind).values_list(
            "pk", flat=True
        )
    )
    if ids:
        return ids[0]
    Account.objects.bulk_create(
        [Account(player=None, currency_id=currency, kind=kind)], ignore_conflicts=True
    )
    return Account.objects.get(player=None, currency_id=currency, kind=kind).pk


def cash_account_id(*, player_id: int, currency: str) -> int:
    """Id of the player's cash account in `currency`, created on first use."""
    ids = list(
        Account.objects.filter(
            player_id=player_id, currency_id=currency, kind=Account.Kind.CASH
        ).values_list("pk", flat=True)
    )
    if ids:
        return ids[0]
    currency_quantum(currency)  # refuse unknown currencies with a domain error
    Account.objects.bulk_create(
        [Account(player_id=player_id, currency_id=currency, kind=Account.Kind.CASH)],
        ignore_conflicts=True,
    )
    return Account.objects.get(player_id=player_id, currency_id=currency, kind=Account.Kind.CASH).pk


@dataclass(frozen=True)
class Leg:
    account_id: int
    currency: str
    amount: Decimal


def ledger_post(
    *,
    kind: str,
    idempotency_key: str,
    legs: list[Leg],
    player_id: int | None = None,
    unless_reversed: list[int] | None = None,
    **fields,
) -> LedgerTransaction | None:
    """Write one balanced ledger transaction (caller holds the locks and an atomic block).

    With `unless_reversed` (transaction ids), nothing is written and None is returned if any of
    them has been reversed: on PostgreSQL that check is part of the posting statement, so a win
    costs no extra round trip for it (the caller holds the player's lock, which a rollback takes
    too, so the answer cannot change before commit).
    """
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        totals[leg.currency] += leg.amount
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        raise DomainError("ledger_unbalanced", f"Entries do not balance: {unbalanced}.")
    row = {
        "kind": kind,
        "idempotency_key": idempotency_key,
        "player_id": player_id,
        "activity_id": _pk(fields.pop("activity", None)),
        "bonus_id": _pk(fields.pop("bonus", None)),
        "reverses_id": _pk(fields.pop("reverses", None)),
        "details": fields.pop("details", {}),
        "reason": fields.pop("reason", ""),
        "created_by_id": _pk(fields.pop("created_by", None)),
        "created_at": timezone.now(),
    }
    if fields:
        raise TypeError(f"unknown ledger transaction fields: {sorted(fields)}")
    legs = [leg for leg in legs if leg.amount != 0]
    guard = list(unless_reversed or ())
    if connection.vendor == "postgresql":
        pk = _insert_postgresql(row, legs, guard)
        if pk is None:
            return None
        posted = LedgerTransaction(pk=pk, **row)
        posted._state.adding, posted._state.db = False, connection.alias
    else:
        if guard and LedgerTransaction.objects.filter(reverses__in=guard).exists():
            return None
        posted = _insert_orm(row, legs)
    operations_count(kind)
    return posted


def _pk(obj) -> int | None:
    return getattr(obj, "pk", obj)


# The transaction row is inserted only if none of the guard ids (an empty array: no guard) has
# been reversed; no row posted means no entries and no id returned.
POST_SQL = """
WITH posted AS (
    INSERT INTO wallet_ledgertransaction (kind, idempotency_key, player_id, activity_id, bonus_id,
        reverses_id, details, reason, created_by_id, created_at)
    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
     WHERE NOT EXISTS (SELECT 1 FROM wallet_ledgertransaction r
                        WHERE r.reverses_id = ANY(%s::bigint[]))
    RETURNING id
), legs AS (
    INSERT INTO wallet_entry (transaction_id, account_id, amount)
    SELECT posted.id, leg.account_id, leg.amount
      FROM posted, unnest(%s::bigint[], %s::numeric[]) AS leg(account_id, amount)
)
SELECT id FROM posted
"""


def _insert_postgresql(row: dict, legs: list[Leg], guard: list[int]) -> int | None:
    """The transaction and its entries in one statement: one round trip per posting."""
    from psycopg.errors import UniqueViolation
    from psycopg.types.json import Jsonb

    params = [*row.values(), guard, [leg.account_id for leg in legs], [leg.amount for leg in legs]]
    params[6] = Jsonb(row["details"])
    try:
        rows = prepared.fetch(POST_SQL, params)
        return rows[0][0] if rows else None
    except IntegrityError as exc:
        raise posting_error(isinstance(exc.__cause__, UniqueViolation)) from exc


def _insert_orm(row: dict, legs: list[Leg]) -> LedgerTransaction:
    try:
        posted = LedgerTransaction.objects.create(**row)
    except IntegrityError as exc:
        raise posting_error(True) from exc
    try:
        Entry.objects.bulk_create(
            [
                Entry(transaction=posted, account_id=leg.account_id, amount=leg.amount)
                for leg in legs
            ]
        )
    except IntegrityError as exc:
        raise posting_error(False) from exc
    return posted


def posting_error(duplicate: bool) -> DomainError:
    """The DomainError for a posting the database refused: a duplicate key, or the balance CHECK."""
    if duplicate:  # a concurrent call with the same key (or a second reversal) won
        return DomainError(
            "idempotency_conflict", "This operation was already applied.", status=409
        )
    # the balance CHECK: only reachable if a caller skipped its funds check under the lock
    return DomainError("insufficient_funds", "Not enough money.")


def amount_in_player_currency(*, player: Player, amount: Decimal, currency: str) -> Decimal:
    """`amount` in the player's primary currency at the rates in force now."""
    return convert(amount, source=currency, target=player.currency_id, at=timezone.now())
