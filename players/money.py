"""Money (SPEC §2): the currency table, amount validation, rounding and conversion — once.

Every door that takes an amount (the API serializers, the wallet services, the rules engine's
rewards) validates it with `amount_validate`, and every amount shown or booked in a currency's
minor units goes through `money_round_down` / `money_format`. Rounding is always DOWN: Pitboss
never creates money by rounding (a reward of 10.999 EUR pays 10.99).

Currencies are read on every event, so their rows are kept per process (`CURRENCY_CACHE_SECONDS`);
saving or deleting a currency, and every `migrate`/flush, forgets them at once (players/apps.py).
A bulk `update()` is seen within the cache's lifetime.
"""

import re
import time
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings

from config.errors import DomainError
from players.models import Currency, ExchangeRate

EIGHT_PLACES = Decimal("0.00000001")  # NUMERIC(20, 8): the storage precision of every amount
CURRENCY_CACHE_SECONDS = 60.0
_CACHE_SIZE = 1000
_currencies: dict[str, tuple[float, Currency]] = {}  # code -> (expires, currency row)


def currencies_forget(**_kwargs) -> None:
    """Drop the per-process currency cache (a currency was saved or deleted, or a flush)."""
    _currencies.clear()


def _currency(code: str) -> Currency | None:
    now = time.monotonic()
    hit = _currencies.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    currency = Currency.objects.filter(code=code).first()
    if currency is not None and len(_currencies) < _CACHE_SIZE:
        _currencies[code] = (now + CURRENCY_CACHE_SECONDS, currency)
    return currency


_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def decimal_text_parse(text: object, *, field: str = "amount") -> Decimal:
    """The Decimal written as `text`: plain ASCII decimal notation only (docs/api.md "Amounts").

    An optional minus sign, ASCII digits, optionally a point and more digits: "12.50", "-3",
    "0.00000001". Refused (DomainError `invalid_amount`): anything else — exponents ("1E+2"),
    other scripts' digits ("١٠", which Python's Decimal would read as 10), "NaN", "Infinity",
    "+5", separators ("1,000.50", "1_000"), ".5", "5." and values that are not text at all.
    """
    if not isinstance(text, str) or not _PLAIN_DECIMAL.fullmatch(text):
        raise DomainError(
            "invalid_amount",
            f"{field}: '{str(text)[:50]}' is not a plain decimal (ASCII digits, an optional "
            "minus sign and decimal point, no exponent).",
        )
    return Decimal(text)


def currency_get(code: str) -> Currency:
    """The active currency with this code; raises DomainError `unknown_currency` otherwise."""
    currency = _currency(code)
    if currency is None or not currency.active:
        raise DomainError("unknown_currency", f"Unknown currency '{code}'.")
    return currency


def currency_quantum(currency: str | Currency) -> Decimal:
    """The currency's minor unit as a Decimal (`Decimal("0.01")` for EUR, `1E-8` for BTC).

    Known but inactive currencies still have a quantum (balances held in them stay readable).
    Raises DomainError `unknown_currency` for a code not in the currency table.
    """
    if not isinstance(currency, Currency):
        found = _currency(currency)
        if found is None:
            raise DomainError("unknown_currency", f"Unknown currency '{currency}'.")
        currency = found
    return currency.quantum


def _code(currency: str | Currency) -> str:
    return currency.code if isinstance(currency, Currency) else currency


def money_round_down(amount: Decimal, currency: str | Currency) -> Decimal:
    """`amount` rounded DOWN to the currency's minor unit (SPEC §2: never create money)."""
    return Decimal(amount).quantize(currency_quantum(currency), rounding=ROUND_DOWN)


def money_format(amount: Decimal, currency: str | Currency) -> str:
    """`amount` in the currency's minor units, plain notation ("0.00000000", never "0E-8")."""
    return format(money_round_down(amount, currency), "f")


def amount_validate(
    amount: object,
    currency: str | Currency,
    *,
    field: str = "amount",
    allow_zero: bool = False,
) -> Decimal:
    """`amount` as a Decimal, refused — never rounded — unless it is a sane amount of `currency`.

    Refused with DomainError `invalid_amount` (the message starts with `field`): not a decimal
    number (text: not a plain ASCII decimal, `decimal_text_parse`), negative, zero (unless `allow_zero`), over `PITBOSS["MAX_AMOUNT"]` (SPEC §2's sane
    ceiling), or more decimal places than the currency's minor units. `unknown_currency` for a
    code not in the currency table.
    """
    if isinstance(amount, str):  # text from a door: plain ASCII decimals only
        value = decimal_text_parse(amount, field=field)
    else:
        try:
            value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        except (InvalidOperation, ValueError):
            raise DomainError(
                "invalid_amount", f"{field}: '{amount}' is not a decimal number."
            ) from None
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        wanted = "zero or positive" if allow_zero else "positive"
        raise DomainError("invalid_amount", f"{field}: must be {wanted}, got {value}.")
    if value > settings.PITBOSS["MAX_AMOUNT"]:
        raise DomainError("invalid_amount", f"{field}: {value:f} is over the allowed maximum.")
    if value != money_round_down(value, currency):
        places = -currency_quantum(currency).as_tuple().exponent
        raise DomainError(
            "invalid_amount",
            f"{field}: {_code(currency)} has {places} decimal places, got {value:f}.",
        )
    return value


def rate_at(currency_code: str, at: datetime) -> Decimal:
    """The exchange rate of `currency_code` to the base in force at `at`.

    Raises DomainError `no_exchange_rate` when none is in force.
    """
    rate = (
        ExchangeRate.objects.filter(currency_id=currency_code, valid_from__lte=at)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise DomainError(
            "no_exchange_rate", f"No exchange rate for {currency_code} in force at {at:%Y-%m-%d}."
        )
    return rate


def convert(amount: Decimal, *, source: str, target: str, at: datetime) -> Decimal:
    """`amount` in `source` expressed in `target`, at the rates in force at `at` (8 places)."""
    if source == target:
        return amount
    converted = amount * rate_at(source, at) / rate_at(target, at)
    return converted.quantize(EIGHT_PLACES)
