"""Money for the rules engine: rounding rewards down (SPEC §2, players/money.py), converting
to the reporting currency, and decimal strings for answers."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings

from players.money import currency_quantum, money_round_down, rate_at

__all__ = ["currency_quantum", "money_round_down", "reporting_currency", "reporting_rates"]


def reporting_currency() -> str:
    return settings.PITBOSS["REPORTING_CURRENCY"]


def reporting_rates(currencies, *, at: datetime) -> dict[str, Decimal]:
    """currency → factor that turns an amount in it into the reporting currency."""
    target = reporting_currency()
    codes = set(currencies)
    if codes <= {target}:
        return dict.fromkeys(codes, Decimal(1))
    reporting = rate_at(target, at)
    return {code: Decimal(1) if code == target else rate_at(code, at) / reporting for code in codes}


def money_str(amount: Decimal | None, places: int = 2) -> str | None:
    """A decimal string for answers: at least `places` decimals, never exponent notation."""
    if amount is None:
        return None
    amount = Decimal(amount)
    quantum = Decimal(1).scaleb(-places)
    if amount == amount.quantize(quantum):
        return f"{amount.quantize(quantum):f}"
    return f"{amount.normalize():f}"
