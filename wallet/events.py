"""The seam between the events API and the wallet: move the money of one live event.

The events service (players/events.py) validates an event, creates its `Activity` inside a
savepoint and calls `event_money_apply`. A refusal is a `DomainError`; the caller rolls the
savepoint back, so a refused event leaves neither activity nor ledger rows.
"""

from players.models import Activity


def event_money_apply(*, activity: Activity) -> dict:
    """Move the money of `activity` and return the player's balances after it.

    Shape: `{"EUR": {"cash": "70.00", "bonus": "0.00"}}` (strings in the currency's minor units).
    Raises `DomainError` with code insufficient_funds | max_bet_exceeded | unknown_reference |
    currency_mismatch | player_blocked | invalid_amount | already_rolled_back | bet_settled.
    """
    from wallet import services

    return services.wallet_event_apply(activity=activity)
