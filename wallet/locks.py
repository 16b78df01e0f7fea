"""Row locks of the wallet, always taken in primary-key order so that operations never deadlock.

Rule: whoever changes a bonus (wagering, status) or reads a player balance to decide holds the
lock on that player's accounts in the bonus currency first.
"""

import json

from django.db import connection
from django.db.models import Q

from config import prepared
from wallet.models import Account, Bonus

# One round trip on PostgreSQL: the accounts locked, their bonus terms joined (the terms never
# change; wagering progress is re-read by the UPDATE … RETURNING that adds to it), and the ids
# of the currency's house accounts (read, not locked) so that no process-wide cache is needed.
LOCK_SQL = """
WITH locked AS (
    SELECT a.id, a.kind, a.balance, a.bonus_id, b.amount, b.max_bet, b.max_conversion,
           b.contribution_weights, b.game_weights, b.wagering_required, b.wagering_done,
           b.expires_at, b.kind AS bonus_kind
      FROM wallet_account a LEFT JOIN wallet_bonus b ON b.id = a.bonus_id
     WHERE a.player_id = %s AND a.currency_id = %s AND a.is_open AND a.kind IN ('cash', 'bonus')
     ORDER BY a.id
       FOR UPDATE OF a
)
SELECT * FROM locked
UNION ALL
SELECT h.id, h.kind, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM wallet_account h WHERE h.player_id IS NULL AND h.currency_id = %s
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value  # Django leaves jsonb as text


def player_accounts_lock(*, player_id: int, currency: str) -> list[Account]:
    """The player's cash account and open bonus accounts in `currency`, locked in pk order."""
    return player_accounts_lock_with_house(player_id=player_id, currency=currency)[0]


def player_accounts_lock_with_house(
    *, player_id: int, currency: str
) -> tuple[list[Account], dict[str, int]]:
    """`player_accounts_lock`, plus the ids of the currency's house accounts by kind."""
    if connection.vendor != "postgresql":
        accounts = list(
            Account.objects.filter(player_id=player_id, currency_id=currency, is_open=True)
            .filter(Q(kind=Account.Kind.CASH) | Q(kind=Account.Kind.BONUS))
            .select_related("bonus")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        house = dict(
            Account.objects.filter(player=None, currency_id=currency).values_list("kind", "pk")
        )
        return accounts, house
    rows = prepared.fetch(LOCK_SQL, [player_id, currency, currency])
    accounts, house = [], {}
    for (pk, kind, balance, bonus_id, amount, max_bet, max_conversion, weights, game_weights,
         required, done, expires_at, bonus_kind) in rows:  # fmt: skip
        if kind not in (Account.Kind.CASH, Account.Kind.BONUS):
            house[kind] = pk
            continue
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
                kind=bonus_kind,
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
    accounts.sort(key=lambda a: a.pk)
    return accounts, house
