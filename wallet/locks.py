"""Row locks of the wallet, always taken in primary-key order so that operations never deadlock.

Rule: whoever changes a bonus (wagering, status) or reads a player balance to decide holds the
lock on that player's accounts in the bonus currency first.
"""

from django.db.models import Q, QuerySet

from wallet.models import Account


def player_accounts_lock(*, player_id: int, currency: str) -> QuerySet[Account]:
    """The player's cash account and open bonus accounts in `currency`, locked in pk order."""
    return (
        Account.objects.filter(player_id=player_id, currency_id=currency, is_open=True)
        .filter(Q(kind=Account.Kind.CASH) | Q(kind=Account.Kind.BONUS))
        .select_related("bonus")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
