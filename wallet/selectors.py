"""Reads of the wallet: balances, bonuses with wagering, the ledger, and house balances."""

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Sum

from config import prepared
from players.models import Player
from players.money import EIGHT_PLACES, currency_quantum, money_format
from wallet.models import Account, Bonus, Entry, LedgerTransaction
from wallet.wagering import wagering_progress

BALANCES_SQL = """
SELECT a.currency_id, a.kind, b.kind, SUM(a.balance)
  FROM wallet_account a LEFT JOIN wallet_bonus b ON b.id = a.bonus_id
 WHERE a.player_id = %s
 GROUP BY a.currency_id, a.kind, b.kind
"""


def wallet_balances(*, player: Player) -> dict:
    """`{"EUR": {"cash": "70.00", "bonus": "0.00"}}` over every currency the player holds.

    Where the player holds free-spins money, `"free_spins"` says how much of `bonus` it is
    (`{"cash": "70.00", "bonus": "12.00", "free_spins": "2.00"}`).
    """
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"cash": Decimal(0), "bonus": Decimal(0)}
    )
    if connection.vendor == "postgresql":
        # every event's answer carries them: a prepared statement, not an ORM query to compile
        rows = prepared.fetch(BALANCES_SQL, [player.pk])
    else:
        rows = (
            Account.objects.filter(player_id=player.pk)
            .values_list("currency_id", "kind", "bonus__kind")
            .annotate(total=Sum("balance"))
        )
    for currency, kind, bonus_kind, total in rows:
        totals[currency][kind] += total or Decimal(0)
        if bonus_kind == Bonus.Kind.FREE_SPINS and total:
            held = totals[currency]
            held["free_spins"] = held.get("free_spins", Decimal(0)) + total
    return balances_view(totals)


def balances_view(totals: dict[str, dict[str, Decimal]]) -> dict:
    """Balances as the API shows them, from `{currency: {"cash": Decimal, "bonus": Decimal}}`
    (and `"free_spins"` where held): minor-unit strings, currencies in code order
    (`wallet_balances`' shape)."""
    return {
        currency: {name: money_format(value, currency) for name, value in sums.items()}
        for currency, sums in sorted(totals.items())
    }


def free_spins_held(*, player: Player, currency: str, game_id: str) -> bool:
    """Whether the player holds an active free-spins grant in `currency` playable on `game_id`
    (one naming no game is playable on any) — a promo bet would be taken from it."""
    grants = Bonus.objects.filter(
        player_id=player.pk, currency_id=currency, kind=Bonus.Kind.FREE_SPINS, status="active"
    ).values_list("game_weights", flat=True)
    return any(not games or game_id in games for games in grants)


def bonus_view(bonus: Bonus, *, balance: Decimal | None = None) -> dict:
    """A bonus as the wallet API shows it (SPEC §10); wagering per `wagering_progress`."""
    currency = bonus.currency_id
    if balance is None:
        balance = Account.objects.filter(bonus=bonus).values_list("balance", flat=True).first()
    required, done, remaining = wagering_progress(
        required=bonus.wagering_required,
        done=bonus.wagering_done,
        quantum=currency_quantum(currency),
    )
    return {
        "id": bonus.pk,
        "status": bonus.status,
        "currency": currency,
        "amount": money_format(bonus.amount, currency),
        "balance": money_format(balance or Decimal(0), currency),
        "wagering_required": format(required, "f"),
        "wagering_done": format(done, "f"),
        "wagering_remaining": format(remaining, "f"),
        "max_bet": money_format(bonus.max_bet, currency) if bonus.max_bet is not None else None,
        "max_conversion": money_format(bonus.max_conversion, currency)
        if bonus.max_conversion is not None
        else None,
        "contribution_weights": bonus.contribution_weights,
        "expires_at": bonus.expires_at.isoformat() if bonus.expires_at else None,
    }


def wallet_overview(*, player: Player) -> dict:
    """Balances per currency and the active bonuses with their wagering progress."""
    bonuses = (
        Bonus.objects.filter(player=player, status__in=[Bonus.Status.ACTIVE, Bonus.Status.PENDING])
        .select_related("account")
        .order_by("pk")
    )
    return {
        "balances": wallet_balances(player=player),
        "bonuses": [bonus_view(b, balance=b.account.balance) for b in bonuses],
    }


def ledger_entries(*, player: Player) -> QuerySet[Entry]:
    """The player's ledger entries, newest first, with their transaction and account."""
    return (
        Entry.objects.filter(account__player=player)
        .select_related("transaction", "account")
        .order_by("-transaction_id", "-pk")
    )


def house_balances(*, currency: str) -> dict[str, Decimal]:
    """House balances per kind, derived from entries (house accounts keep no cached balance)."""
    rows = (
        Entry.objects.filter(account__player__isnull=True, account__currency_id=currency)
        .values_list("account__kind")
        .annotate(total=Sum("amount"))
    )
    return dict(rows)


def _exact(value) -> Decimal:
    # SQLite sums NUMERIC columns in floating point; 8 places is the ledger's precision.
    return Decimal(str(value or 0)).quantize(EIGHT_PLACES)


def ledger_drift() -> dict:
    """Every breach of the ledger's invariants: per-currency totals, unbalanced transactions,
    and player accounts whose cached balance differs from the sum of their entries."""
    currency_totals = {
        currency: _exact(total)
        for currency, total in Entry.objects.values_list("account__currency_id")
        .annotate(total=Sum("amount"))
        .order_by()
        if _exact(total) != 0
    }
    unbalanced = [
        (transaction_id, currency, _exact(total))
        for transaction_id, currency, total in Entry.objects.values_list(
            "transaction_id", "account__currency_id"
        )
        .annotate(total=Sum("amount"))
        .order_by()
        .iterator()
        if _exact(total) != 0
    ][:100]
    sums = dict(
        Entry.objects.filter(account__player__isnull=False)
        .values_list("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    accounts = []
    for account_id, balance in Account.objects.filter(player__isnull=False).values_list(
        "pk", "balance"
    ):
        expected = _exact(sums.get(account_id))
        if _exact(balance) != expected:
            accounts.append({"account": account_id, "cached": balance, "entries": expected})
    return {"currencies": currency_totals, "transactions": unbalanced, "accounts": accounts}


def event_warnings(*, activity) -> list[dict]:
    """What an applied event did beyond moving its own money (a withdrawal forfeiting bonuses)."""
    if activity.type != "withdrawal":
        return []
    forfeited = [
        bonus_id
        for details in LedgerTransaction.objects.filter(activity=activity).values_list(
            "details", flat=True
        )
        for bonus_id in (details or {}).get("forfeited_bonuses", [])
    ]
    if not forfeited:
        return []
    return [
        {
            "code": "bonuses_forfeited",
            "message": "The withdrawal forfeited active bonuses whose wagering was incomplete.",
            "bonus_ids": forfeited,
        }
    ]
