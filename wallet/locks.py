"""Row locks of the wallet, always taken in primary-key order so that operations never deadlock.

Rule: whoever changes a bonus (wagering, status) or reads a player balance to decide holds the
lock on that player's accounts in the bonus currency first.
"""

import json

from django.db import connection
from django.db.models import Q

from wallet.models import Account, Bonus

# One round trip on PostgreSQL: the accounts locked, their bonus terms joined (the terms never
# change; wagering progress is re-read by the UPDATE … RETURNING that adds to it).
LOCK_SQL = """
SELECT a.id, a.kind, a.balance, a.bonus_id, b.amount, b.max_bet, b.max_conversion,
       b.contribution_weights, b.game_weights, b.wagering_required, b.wagering_done,
       b.expires_at
  FROM wallet_account a LEFT JOIN wallet_bonus b ON b.id = a.bonus_id
 WHERE a.player_id = %s AND a.currency_id = %s AND a.is_open AND a.kind IN ('cash', 'bonus')
 ORDER BY a.id
   FOR UPDATE OF a
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value  # Django leaves jsonb as text


def player_accounts_lock(*, player_id: int, currency: str) -> list[Account]:
    """The player's cash account and open bonus accounts in `currency`, locked in pk order."""
    if connection.vendor != "postgresql":
        return list(
            Account.objects.filter(player_id=player_id, currency_id=currency, is_open=True)
            .filter(Q(kind=Account.Kind.CASH) | Q(kind=Account.Kind.BONUS))
            .select_related("bonus")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, [player_id, currency])
        rows = cursor.fetchall()
    accounts = []
    for (pk, kind, balance, bonus_id, amount, max_bet, max_conversion, weights, game_weights,
         required, done, expires_at) in rows:  # fmt: skip
        account = Account(
            pk=pk,
            player_id=player_id,
            currency_id=currency,
            kind=kind,
            bonus_id=bonus_id,
            balance=balance,
            is_open=True,
        )
        account._state.adding, account._state.db = False, connection.alias
        if bonus_id is not None:
            bonus = Bonus(
                pk=bonus_id,
                player_id=player_id,
                currency_id=currency,
                status=Bonus.Status.ACTIVE,
                amount=amount,
                max_bet=max_bet,
                max_conversion=max_conversion,
                contribution_weights=_json(weights),
                game_weights=_json(game_weights),
                wagering_required=required,
                wagering_done=done,
                expires_at=expires_at,
            )
            bonus._state.adding, bonus._state.db = False, connection.alias
            account.bonus = bonus
        accounts.append(account)
    return accounts
