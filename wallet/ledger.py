"""Posting to the double-entry ledger: money rules, house accounts and the one write path.

`ledger_post` is the only function that inserts entries. It checks in Python what the database
checks again at commit on PostgreSQL (every transaction sums to zero per currency), drops zero
legs, and writes the transaction and its entries in two statements; the entry trigger moves the
cached balances of player accounts.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError
from django.utils import timezone

from config.errors import DomainError
from players.models import Currency, ExchangeRate, Player
from wallet.models import Account, Entry, LedgerTransaction

AMOUNT_CEILING = Decimal("1000000000")  # a sane ceiling for one movement (SPEC §2)
EIGHT_PLACES = Decimal("0.00000001")

_minor_units: dict[str, int] = {}
_house_accounts: dict[tuple[str, str], int] = {}


def caches_clear() -> None:
    """Forget cached currencies and house account ids (tests roll the database back)."""
    _minor_units.clear()
    _house_accounts.clear()


def currency_quantum(currency: str) -> Decimal:
    units = _minor_units.get(currency)
    if units is None:
        try:
            units = Currency.objects.values_list("minor_units", flat=True).get(code=currency)
        except Currency.DoesNotExist:
            raise DomainError("unknown_currency", f"Unknown currency {currency}.") from None
        _minor_units[currency] = units
    return Decimal(1).scaleb(-units)


def money_round_down(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded down to the currency's minor unit (never create money by rounding)."""
    return Decimal(amount).quantize(currency_quantum(currency), rounding=ROUND_DOWN)


def money_format(amount: Decimal, currency: str) -> str:
    return str(money_round_down(amount, currency))


def amount_validate(amount: Decimal, currency: str, *, allow_zero: bool = False) -> Decimal:
    """Refuse an amount that is negative, zero (unless allowed), too precise or absurdly large."""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise DomainError("invalid_amount", f"Amount must be positive, got {amount}.")
    if amount > AMOUNT_CEILING:
        raise DomainError("invalid_amount", f"Amount {amount} is above the ceiling.")
    if amount != money_round_down(amount, currency):
        raise DomainError(
            "invalid_amount", f"{amount} has more decimal places than {currency} allows."
        )
    return amount


def house_account_id(*, currency: str, kind: str) -> int:
    """Id of the house account of `kind` in `currency`, created on first use."""
    key = (currency, kind)
    account_id = _house_accounts.get(key)
    if account_id is None:
        Account.objects.bulk_create(
            [Account(player=None, currency_id=currency, kind=kind)], ignore_conflicts=True
        )
        account_id = Account.objects.get(player=None, currency_id=currency, kind=kind).pk
        _house_accounts[key] = account_id
    return account_id


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
    **fields,
) -> LedgerTransaction:
    """Write one balanced ledger transaction (caller holds the locks and an atomic block)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        totals[leg.currency] += leg.amount
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        raise DomainError("ledger_unbalanced", f"Entries do not balance: {unbalanced}.")
    try:
        transaction = LedgerTransaction.objects.create(
            kind=kind, idempotency_key=idempotency_key, player_id=player_id, **fields
        )
    except IntegrityError as exc:  # a concurrent call with the same key (or reversal) won
        raise DomainError(
            "idempotency_conflict", "This operation was already applied.", status=409
        ) from exc
    entries = [
        Entry(transaction=transaction, account_id=leg.account_id, amount=leg.amount)
        for leg in legs
        if leg.amount != 0
    ]
    if entries:
        try:
            Entry.objects.bulk_create(entries)
        except IntegrityError as exc:  # the balance CHECK: a caller skipped its funds check
            raise DomainError("insufficient_funds", "Not enough money.") from exc
    return transaction


def amount_in_player_currency(*, player: Player, amount: Decimal, currency: str) -> Decimal:
    """`amount` in the player's primary currency at the rates in force now."""
    if currency == player.currency_id:
        return amount
    now = timezone.now()
    rates = {}
    for code in (currency, player.currency_id):
        rate = (
            ExchangeRate.objects.filter(currency_id=code, valid_from__lte=now)
            .order_by("-valid_from")
            .values_list("rate", flat=True)
            .first()
        )
        if rate is None:
            raise DomainError("unknown_rate", f"No exchange rate for {code}.")
        rates[code] = rate
    return (amount * rates[currency] / rates[player.currency_id]).quantize(EIGHT_PLACES)
