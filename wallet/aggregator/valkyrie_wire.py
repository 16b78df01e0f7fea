"""The Valkyrie PAM API on the wire: its error, the JSON wrapper (amounts as exact JSON numbers),
the `Transaction` body checked against the spec's schema, and the amounts it carries."""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.errors import DomainError
from config.jsontext import json_loads
from players.models import Activity
from players.money import amount_validate, currency_get

BET, WIN, CANCEL = "WITHDRAW", "DEPOSIT", "CANCEL"
PROMO = "PROMO"
TYPES = {
    "WITHDRAW": Activity.Type.BET,
    "DEPOSIT": Activity.Type.WIN,
    "CANCEL": Activity.Type.ROLLBACK,
    "PROMOWITHDRAW": Activity.Type.BET,
    "PROMODEPOSIT": Activity.Type.WIN,
    "PROMOCANCEL": Activity.Type.ROLLBACK,
}
TYPE_NAMES = {Activity.Type.BET: BET, Activity.Type.WIN: WIN, Activity.Type.ROLLBACK: CANCEL}

PROVIDER_MAX = 64
_DECIMAL = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


class ValkyrieError(Exception):
    """A refusal in the spec's error shape; `balance` (a dict, or a function that reads it only
    when the refusal is answered) is added for transaction refusals."""

    def __init__(self, code: str, message: str, *, http_status: int = 200, balance=None):
        super().__init__(message)
        self.code, self.message, self.http_status, self.balance = (
            code,
            message,
            http_status,
            balance,
        )


def answer(body: dict, status: int = 200) -> HttpResponse:
    """JSON with amounts (Decimals) written as JSON numbers, exactly (never through float)."""

    def marked(value):
        if isinstance(value, Decimal):
            return f"\x00{value:f}\x00"
        if isinstance(value, dict):
            return {k: marked(v) for k, v in value.items()}
        if isinstance(value, list):
            return [marked(v) for v in value]
        return value

    text = _DECIMAL.sub(r"\1", json.dumps(marked(body)))
    return HttpResponse(text, status=status, content_type="application/json")


def error_answer(error: ValkyrieError) -> HttpResponse:
    body = {"status": "ERROR", "error": {"code": error.code, "message": error.message}}
    if error.balance is not None:
        balance = error.balance() if callable(error.balance) else error.balance
        body["transactionResult"] = {"balance": balance}
    return answer(body, error.http_status)


def balance_view(held: dict) -> dict:
    """One currency of `wallet_balances` (`{"cash": "…", "bonus": "…", "free_spins": "…"}`)
    as a Valkyrie Balance: free-spins money is the promo amount, the other bonus money the
    bonus amount."""
    promo = Decimal(held.get("free_spins", "0"))
    return {
        "cashAmount": Decimal(held.get("cash", "0")),
        "bonusAmount": Decimal(held.get("bonus", "0")) - promo,
        "promoAmount": promo,
    }


@dataclass(frozen=True)
class Transaction:
    """A checked Valkyrie `Transaction` body (amounts as Decimals, not yet validated against
    the currency)."""

    type: str
    currency: str
    cash: Decimal
    bonus: Decimal
    promo: Decimal
    occurred_at: datetime
    transaction_id: str
    bet_ref: str
    game_id: str
    round_id: str
    game_over: bool

    @property
    def promo_type(self) -> bool:
        return self.type.startswith(PROMO)


def bad(message: str) -> ValkyrieError:
    return ValkyrieError("PAM_ERR_UNDEFINED", message, http_status=400)


def string_field(body: Mapping, name: str, *, required: bool = False, max_length: int = 40) -> str:
    """`body[name]` (a JSON object's or a query string's) as a spec string: 1 to `max_length`
    printable characters; "" when it is absent and not `required`. ValkyrieError (400)
    otherwise."""
    value = body.get(name)
    if value is None and not required:
        return ""
    # printable only: a NUL (which PostgreSQL text cannot hold) or another control character
    # is no aggregator's id, and must never reach a query
    if not isinstance(value, str) or not 1 <= len(value) <= max_length or not value.isprintable():
        raise bad(f"{name}: a string of 1 to {max_length} printable characters is required.")
    return value


def _amount(body: dict, name: str) -> Decimal:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise bad(f"{name}: a number is required.")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise bad(f"{name}: a number is required.") from None
    if not amount.is_finite():
        raise bad(f"{name}: a number is required.")
    return amount


def _timestamp(stamp: object) -> datetime:
    """An ISO 8601 timestamp in UTC (naive: taken as UTC). Any offset RFC 3339 allows is read,
    including those PostgreSQL would refuse (beyond ±15:59), because it is stored in UTC."""
    try:
        parsed = parse_datetime(stamp) if isinstance(stamp, str) else None
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # an impossible date, or UTC before year 1
        pass
    raise bad("transactionDateTime: an ISO 8601 date and time is required.")


def transaction_parse(raw: bytes) -> Transaction:
    """The request body as a `Transaction`; ValkyrieError (400) when the spec's schema refuses
    it. Amounts are read as decimals straight from the JSON text (never through float)."""
    try:
        body = json_loads(raw or b"null", parse_float=Decimal)
    except (ValueError, RecursionError):
        raise bad("The body is not JSON.") from None
    if not isinstance(body, dict):
        raise bad("The body must be a Transaction object.")
    kind = body.get("transactionType")
    if kind not in TYPES:
        raise bad(f"transactionType: one of {', '.join(TYPES)} is required.")
    currency = string_field(body, "currency", required=True, max_length=3)
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise bad("currency: three capital letters are required.")
    if not isinstance(body.get("provider"), str):  # the query's provider is the one used
        raise bad("provider: a string is required.")
    occurred_at = _timestamp(body.get("transactionDateTime"))
    game_over = body.get("isGameOver", False)
    if not isinstance(game_over, bool):
        raise bad("isGameOver: a boolean is required.")
    return Transaction(
        type=kind,
        currency=currency,
        cash=_amount(body, "cashAmount"),
        bonus=_amount(body, "bonusAmount"),
        promo=_amount(body, "promoAmount"),
        occurred_at=occurred_at,
        transaction_id=string_field(body, "providerTransactionId", required=True),
        bet_ref=string_field(body, "providerBetRef"),
        game_id=string_field(body, "providerGameId"),
        round_id=string_field(body, "providerRoundId"),
        game_over=game_over,
    )


def amount_checked(
    tx: Transaction, balance: Callable[[], dict], *, promo_staked: bool = False
) -> Decimal:
    """The event amount: cash + bonus, + promo for a PROMODEPOSIT (free-round winnings) and for
    a PROMOWITHDRAW that is `promo_staked` (a free round played with the player's free-spins
    grant); otherwise the promo value of a free round is the aggregator's, not the player's
    money, so no stake. Each part a valid amount of the currency (zero allowed: a lost round's
    DEPOSIT, a free round's WITHDRAW)."""
    parts = {"cashAmount": tx.cash, "bonusAmount": tx.bonus, "promoAmount": tx.promo}
    if any(value < 0 for value in parts.values()):
        raise ValkyrieError(
            "PAM_ERR_NEGATIVE_STAKE", "Amounts may not be negative.", balance=balance
        )
    if tx.promo and not tx.promo_type:
        raise ValkyrieError(
            "PAM_ERR_UNDEFINED", "promoAmount is for PROMO transactions only.", balance=balance
        )
    try:
        currency = currency_get(tx.currency)
        checked = {
            k: amount_validate(v, currency, field=k, allow_zero=True) for k, v in parts.items()
        }
        if tx.type != "PROMODEPOSIT" and not promo_staked:
            checked.pop("promoAmount")
        total = sum(checked.values(), Decimal(0))
        return amount_validate(total, currency, allow_zero=True)
    except DomainError as error:
        code = "PAM_ERR_TRANS_CURRENCY" if error.code == "unknown_currency" else "PAM_ERR_UNDEFINED"
        raise ValkyrieError(code, error.message, balance=balance) from None
