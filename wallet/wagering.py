"""Pure wagering arithmetic: contribution weights and how stakes and wins split by source.

No database access here, so the same rules serve the services and can be tested alone.
"""

from decimal import ROUND_DOWN, ROUND_UP, Decimal

# Copied onto a grant when the grant names no weights (a category absent from a grant's
# weights contributes nothing).
DEFAULT_CONTRIBUTION_WEIGHTS = {
    "slots": "1.0",
    "table": "0.1",
    "live": "0.1",
    "poker": "0.1",
    "sports": "0.5",
    "other": "0",
}


def contribution_weight(
    *, contribution_weights: dict, game_weights: dict, game_category: str, game_id: str
) -> Decimal:
    """Weight of one bet for wagering: the game's override, else its category's weight, else 0."""
    if game_id and game_id in game_weights:
        return Decimal(str(game_weights[game_id]))
    return Decimal(str(contribution_weights.get(game_category or "other", "0")))


def stake_split(
    *, amount: Decimal, cash: Decimal, bonuses: list[tuple[int, Decimal]], bonus_first=False
) -> tuple[Decimal, dict[int, Decimal]]:
    """Take `amount` from cash first, then from bonus balances in the given (oldest-first) order;
    with `bonus_first` (the `bonus_first` balance policy) from the bonuses first, then cash."""
    rest = amount
    from_cash = Decimal(0) if bonus_first else min(cash, rest)
    rest -= from_cash
    from_bonus: dict[int, Decimal] = {}
    for bonus_id, balance in bonuses:
        if rest <= 0:
            break
        part = min(balance, rest)
        if part > 0:
            from_bonus[bonus_id] = part
            rest -= part
    if bonus_first:
        from_cash = min(cash, rest)
        rest -= from_cash
    if rest > 0:
        raise ValueError("stake_split called without enough funds")
    return from_cash, from_bonus


def win_split(
    *,
    amount: Decimal,
    cash_stake: Decimal,
    bonus_stakes: dict[int, Decimal],
    quantum: Decimal,
    cash_stake_first: bool = False,
    target_bonus: int | None = None,
) -> tuple[Decimal, dict[int, Decimal]]:
    """Split a win between cash and the bonuses its stake came from.

    `proportional` (default, SPEC §8): in proportion to where the stake came from. The cash
    share is rounded down to the minor unit; each bonus share too, and the rounding remainder
    goes to the last bonus share, so withdrawable cash is never rounded up.

    `cash_stake_first` (the Softswiss-style policy): the win first repays the cash part of the
    stake to cash; the rest goes to the bonuses in proportion to their stakes, or, when the
    stake was all cash, to `target_bonus` (the grant the bet's wagering counted for, active
    when the bet was placed); with no bonus at all the whole win is cash.
    """
    stake = cash_stake + sum(bonus_stakes.values(), Decimal(0))
    if cash_stake_first:
        to_cash = min(amount, cash_stake)
        rest = amount - to_cash
        if not rest:
            return to_cash, {}
        if bonus_stakes:
            _, shares = win_split(
                amount=rest, cash_stake=Decimal(0), bonus_stakes=bonus_stakes, quantum=quantum
            )
            return to_cash, shares
        if target_bonus is not None:
            return to_cash, {target_bonus: rest}
        return amount, {}
    if stake == 0 or not bonus_stakes:
        return amount, {}
    cash_share = (amount * cash_stake / stake).quantize(quantum, rounding=ROUND_DOWN)
    shares = {
        bonus_id: (amount * part / stake).quantize(quantum, rounding=ROUND_DOWN)
        for bonus_id, part in bonus_stakes.items()
    }
    remainder = amount - cash_share - sum(shares.values(), Decimal(0))
    last = list(shares)[-1]
    shares[last] += remainder
    return cash_share, shares


def wagering_required(
    *, amount: Decimal, deposit_amount: Decimal, multiplier: Decimal, base: str
) -> Decimal:
    base_amount = {
        "bonus": amount,
        "deposit": deposit_amount,
        "bonus_plus_deposit": amount + deposit_amount,
    }[base]
    return (base_amount * multiplier).quantize(Decimal("0.00000001"))


def wagering_progress(
    *, required: Decimal, done: Decimal, quantum: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(required, done, remaining) as shown, in the currency's minor unit `quantum`.

    Stored wagering has 8 decimals (a 10% contribution of 0.01 is 0.001). Shown to the player,
    what is still to wager rounds UP — 0.005 left is "0.01", never "0.00" — so a bonus never
    looks complete while it is not; the requirement rounds up too, and done is what remains of
    it, so done + remaining = required, digit for digit.
    """
    shown_required = required.quantize(quantum, rounding=ROUND_UP)
    remaining = max(Decimal(0), required - done).quantize(quantum, rounding=ROUND_UP)
    return shown_required, shown_required - remaining, remaining
