"""Money rules (SPEC §2): validating incoming amounts and converting between currencies."""

import re
import time
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from config.errors import DomainError
from players.models import Currency, ExchangeRate

CURRENCY_CACHE_SECONDS = 60.0
_currencies: dict[str, tuple[float, Currency]] = {}  # code -> (expires, active currency)


def currencies_forget(**_kwargs) -> None:
    """Drop the per-process currency cache (a currency was saved or deleted, or a flush)."""
    _currencies.clear()


def currency_get(code: str) -> Currency:
    """The active currency with this code, or a DomainError `unknown_currency`.

    Every event names its currency, so active ones are kept per process for a minute; saving or
    deleting a currency forgets them at once (players/apps.py), a bulk `update()` within a minute.
    """
    now = time.monotonic()
    hit = _currencies.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    currency = Currency.objects.filter(code=code, active=True).first()
    if currency is None:
        raise DomainError("unknown_currency", f"Unknown currency '{code}'.")
    if len(_currencies) < 1000:
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


def amount_check(
    amount: object, currency: Currency, *, field: str = "amount", allow_zero: bool = False
) -> Decimal:
    """A positive Decimal within the currency's minor units and the sane ceiling.

    Refused, never rounded: text that is not a plain decimal (`decimal_text_parse`), an amount
    with more decimals than the currency has, zero (unless `allow_zero`) or negative, or over
    `PITBOSS["MAX_AMOUNT"]`.
    """
    value = amount if isinstance(amount, Decimal) else decimal_text_parse(amount, field=field)
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise DomainError("invalid_amount", f"{field}: must be positive, got {value}.")
    if value > settings.PITBOSS["MAX_AMOUNT"]:
        raise DomainError("invalid_amount", f"{field}: {value} is over the allowed maximum.")
    if value != value.quantize(currency.quantum, rounding=ROUND_DOWN):
        raise DomainError(
            "invalid_amount",
            f"{field}: {currency.code} has {currency.minor_units} decimal places, got {value}.",
        )
    return value


def rate_at(currency_code: str, at: datetime) -> Decimal:
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
    return converted.quantize(Decimal("0.00000001"))
