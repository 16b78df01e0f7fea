"""What every money-moving wallet service does first: refuse, validate, open a transaction, lock.

`wallet_operation` is that opening, once: it refuses a player who may not do the operation,
validates the amount (players/money.py), opens `transaction.atomic()` and locks the player's
accounts in the currency (wallet/locks.py, primary-key order). The service then decides on the
locked balances and posts one ledger transaction.

On PostgreSQL a cash-only player's deposit, withdrawal, bet and win go first through
`cash_only_post` (ADR 0022): one call of the server-side function `wallet_cash_only_post`
(migration wallet 0008) locks, decides and posts, in autocommit when the caller holds no
transaction — the whole operation one round trip — or inside the caller's. It answers
`fallback` (having written nothing) for any other player, and the service then runs the Python
path. The two decide alike; tests/wallet/test_cash_only_function.py proves it on random
sequences.

Player status (ADR 0003): `blocked`, `self_excluded` and `closed` players may not deposit, bet
or receive bonuses or rewards; wins and rollbacks of bets already placed still settle, and
withdrawals, chargebacks, forfeits and staff adjustments are always allowed.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from config import prepared
from config.errors import DomainError
from players.models import Player
from players.money import amount_validate
from wallet.ledger import Leg, cash_account_id, house_account_id, ledger_post, posting_error
from wallet.locks import player_accounts_lock_with_house
from wallet.metrics import operations_count
from wallet.models import Account, Bonus, LedgerTransaction
from wallet.services.bonuses import bonus_end


@dataclass
class Locked:
    """The player's cash account and open bonus accounts (oldest grant first), locked."""

    cash: Account
    bonuses: list[Account] = field(default_factory=list)
    house: dict[str, int] = field(default_factory=dict)

    def house_id(self, kind: str) -> int:
        if kind not in self.house:
            self.house[kind] = house_account_id(currency=self.cash.currency_id, kind=kind)
        return self.house[kind]

    def bonus_account(self, bonus_id: int) -> Account | None:
        return next((a for a in self.bonuses if a.bonus_id == bonus_id), None)

    def cash_post(
        self, *, house: str, amount: Decimal, kind: str, idempotency_key: str, **fields
    ) -> LedgerTransaction:
        """Post `amount` from the house account of kind `house` to the player's cash (a
        negative amount goes from cash to the house account): the two-leg movements."""
        currency = self.cash.currency_id
        return ledger_post(
            kind=kind,
            idempotency_key=idempotency_key,
            player_id=self.cash.player_id,
            legs=[
                Leg(self.house_id(house), currency, -amount),
                Leg(self.cash.pk, currency, amount),
            ],
            **fields,
        )


def accounts_lock(*, player_id: int, currency: str) -> Locked:
    """Lock the player's accounts in `currency` (cash created on first use).

    A bonus past its expiry that the hourly job has not swept yet is expired here, unused.
    """
    accounts, house = player_accounts_lock_with_house(player_id=player_id, currency=currency)
    if not any(a.kind == Account.Kind.CASH for a in accounts):
        cash_account_id(player_id=player_id, currency=currency)
        accounts, house = player_accounts_lock_with_house(player_id=player_id, currency=currency)
    cash = next(a for a in accounts if a.kind == Account.Kind.CASH)
    bonuses = []
    now = timezone.now()
    for account in sorted(
        (a for a in accounts if a.kind == Account.Kind.BONUS), key=lambda a: a.bonus_id
    ):
        if account.bonus.expires_at is not None and account.bonus.expires_at <= now:
            bonus_end(
                bonus=account.bonus, account=account, status=Bonus.Status.EXPIRED, reason="expired"
            )
        else:
            bonuses.append(account)
    return Locked(cash=cash, bonuses=bonuses, house=house)


def player_refuse_unless_active(player: Player, operation: str) -> None:
    """DomainError `player_blocked` (403) unless the player's status is `active`."""
    if player.status != Player.Status.ACTIVE:
        raise DomainError(
            "player_blocked", f"Player is {player.status}: {operation} refused.", status=403
        )


# Whether an operation opens a savepoint of its own when its caller holds a transaction. The
# ingestion path (wallet/events.py) runs each event in a transaction or savepoint of its own and
# rolls all of it back on any refusal, so there the operation's savepoint is two round trips
# (SAVEPOINT, RELEASE) for nothing; every other caller keeps it, since it may catch a refusal
# and go on in the same transaction.
_own_savepoint: ContextVar[bool] = ContextVar("wallet_own_savepoint", default=True)


@contextmanager
def operations_in_callers_savepoint() -> Iterator[None]:
    """Inside this block wallet operations open no savepoint: the caller rolls back its own
    transaction or savepoint whenever an operation raises (a refusal included)."""
    token = _own_savepoint.set(False)
    try:
        yield
    finally:
        _own_savepoint.reset(token)


@dataclass
class Operation:
    locked: Locked
    amount: Decimal | None


@contextmanager
def wallet_operation(
    *,
    player: Player,
    currency: str,
    amount: Decimal | None = None,
    allow_zero: bool = False,
    active_only: str | None = None,
) -> Iterator[Operation]:
    """Open a wallet operation: yields the locked accounts and the validated amount.

    `active_only` names the operation for the `player_blocked` refusal (None: any status may).
    Raises `player_blocked`, `invalid_amount`, `unknown_currency` before anything is written.
    """
    if active_only is not None:
        player_refuse_unless_active(player, active_only)
    if amount is not None:
        amount = amount_validate(amount, currency, allow_zero=allow_zero)
    with transaction.atomic(savepoint=_own_savepoint.get()):
        yield Operation(locked=accounts_lock(player_id=player.pk, currency=currency), amount=amount)


# Whether the services try the server-side function first (tests turn it off to run the Python
# path on the same players: tests/wallet/test_cash_only_function.py).
_server_function: ContextVar[bool] = ContextVar("wallet_server_function", default=True)


@contextmanager
def server_function_off() -> Iterator[None]:
    """Inside this block the services decide in Python only (the function is not called)."""
    token = _server_function.set(False)
    try:
        yield
    finally:
        _server_function.reset(token)


CASH_ONLY_SQL = (
    "SELECT outcome, transaction_id, balance, bets FROM wallet_cash_only_post("
    "%s::text, %s::bigint, %s::text, %s::numeric, %s::text, %s::bigint, %s::jsonb, "
    "%s::timestamptz, %s::bigint[], %s::text, %s::text, %s::text, %s::text)"
)

# A refusal the function answered, as the service's DomainError: (outcome, cash balance) -> error
Refusal = Callable[[str, Decimal], DomainError]


def cash_only_post(
    *,
    kind: str,
    player: Player,
    currency: str,
    amount: Decimal,
    idempotency_key: str,
    details: dict,
    refusal: Refusal,
    activity=None,
    bets: list[int] | None = None,
    remembered_check: bool = False,
) -> LedgerTransaction | None:
    """A cash-only player's deposit, withdrawal, bet or win (`kind`) as one call of the
    server-side function; None when it does not apply (not PostgreSQL, turned off, or the
    function answered `fallback`: the player holds bonus money, has no cash account yet — a
    deposit opens it (migration wallet 0009); another operation waits for a first deposit
    still in flight and goes on once it committed (migration wallet 0010, ADR 0032) —, …),
    having written nothing — the caller then runs its Python path.

    The caller has refused the player's status and validated `amount` (a Decimal in the
    currency's minor units). `details` are the transaction's (a win's without "bets": the
    function adds the bets of `bets` not rolled back). With `remembered_check` (a bet with an
    `activity`) a remembered rollback of the bet refuses it. Without a caller's transaction the
    call is a statement in autocommit (no BEGIN/COMMIT); in one, it runs inside it (in a
    savepoint unless `operations_in_callers_savepoint`), as `wallet_operation` would.

    Raises `refusal(outcome, cash balance)` for insufficient_funds, bet_rolled_back and
    already_rolled_back; `idempotency_conflict` for a key already posted.
    """
    if connection.vendor != "postgresql" or not _server_function.get():
        return None
    from psycopg.errors import UniqueViolation
    from psycopg.types.json import Jsonb

    created_at = timezone.now()
    activity_id = getattr(activity, "pk", activity)
    checked = activity if remembered_check and activity is not None else None
    params = [
        kind,
        player.pk,
        currency,
        amount,
        idempotency_key,
        activity_id,
        Jsonb(details),
        created_at,
        list(bets or ()),
        checked and checked.source,
        checked and checked.external_id,
        checked and checked.reference_id,
        checked and checked.round_id,
    ]
    db = connections[DEFAULT_DB_ALIAS]  # what `connection` stands for, looked up once
    own = db.in_atomic_block or not db.get_autocommit()
    with transaction.atomic(savepoint=_own_savepoint.get()) if own else nullcontext():
        try:
            ((outcome, pk, balance, live),) = prepared.fetch(CASH_ONLY_SQL, params)
        except IntegrityError as exc:
            raise posting_error(isinstance(exc.__cause__, UniqueViolation)) from exc
        if outcome == "fallback":
            return None
        if outcome != "posted":
            raise refusal(outcome, balance)
        operations_count(kind)
    if live is not None:
        details = {**details, "bets": live}
    row = {
        "id": pk,
        "kind": kind,
        "idempotency_key": idempotency_key,
        "player_id": player.pk,
        "activity_id": activity_id,
        "bonus_id": None,
        "reverses_id": None,
        "details": details,
        "reason": "",
        "created_by_id": None,
        "created_at": created_at,
    }
    # the row the function wrote, as a loaded instance (positional: Model.__init__'s short path)
    return LedgerTransaction.from_db(DEFAULT_DB_ALIAS, None, [row[name] for name in _POSTED])


_POSTED = [field.attname for field in LedgerTransaction._meta.concrete_fields]
