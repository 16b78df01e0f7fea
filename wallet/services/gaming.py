"""Game money: bets, wins and rollbacks of bets, with wagering progress (SPEC §8).

A bet takes real money first, then bonus money (oldest grant first); a win is split back in
proportion to where its bets' stakes came from; a rollback returns each stake to where it came
from. Wagering progress goes to the grant the bet drew on, else to the oldest active grant.

Free-spins grants (`Bonus.Kind.FREE_SPINS`) are promo money for one game: a promo bet (an
aggregator's free round, `promo=True`) draws on them alone, an ordinary bet draws on them only
when it is on their game, and a promo win with no stake (free-round winnings) is paid to the
player's free-spins grant for the game, or to cash when there is none.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Greatest

from config.errors import DomainError
from players.models import Activity, Player
from players.money import EIGHT_PLACES, amount_validate, currency_quantum, money_format
from wallet.ledger import Leg, ledger_post
from wallet.models import Account, BalancePolicy, Bonus, LedgerTransaction, RememberedRollback
from wallet.policies import balance_policy
from wallet.services.base import (
    Locked,
    cash_only_post,
    player_refuse_unless_active,
    wallet_operation,
)
from wallet.services.bonuses import bonus_end
from wallet.wagering import contribution_weight, stake_split, win_split

Kind = LedgerTransaction.Kind
HOUSE = Account.Kind


def _wagering_add(*, bonus_id: int, amount: Decimal) -> tuple[Decimal, Decimal] | None:
    """Add wagering to an active bonus; returns (done, required) after it, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_bonus SET wagering_done = ROUND(wagering_done + %s, 8) "
            "WHERE id = %s AND status = 'active' RETURNING wagering_done, wagering_required",
            [amount, bonus_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    # str() first: SQLite hands NUMERIC back as float
    return (
        Decimal(str(row[0])).quantize(EIGHT_PLACES),
        Decimal(str(row[1])).quantize(EIGHT_PLACES),
    )


def _free_spins_for(account: Account, game_id: str) -> bool:
    """Whether a free-spins grant may be played on `game_id` (a grant naming no game: any)."""
    games = account.bonus.game_weights or {}
    return not games or game_id in games


def _bonuses_drawable(*, locked: Locked, game_id: str, promo: bool) -> list[Account]:
    """The bonus accounts a bet may draw on, oldest grant first: every grant but the
    free-spins grants of other games; for a promo bet, the free-spins grants for its game
    alone (empty when the player holds none)."""
    free_spins = Bonus.Kind.FREE_SPINS
    return [
        account
        for account in locked.bonuses
        if (account.bonus.kind == free_spins and _free_spins_for(account, game_id))
        or (not promo and account.bonus.kind != free_spins)
    ]


def wallet_bet_place(
    *,
    player: Player,
    currency: str,
    amount: Decimal,
    idempotency_key: str,
    game_category: str = "",
    game_id: str = "",
    activity=None,
    promo: bool = False,
) -> LedgerTransaction:
    """Take a stake from cash first, then bonus (oldest grant first), or bonus first under the
    currency's `bonus_first` balance policy (wallet/policies.py); add wagering progress. A
    `promo` bet (a free round) is taken from the player's free-spins grants for `game_id`
    alone; without any, it is an ordinary bet (the aggregator's own free round).

    Raises player_blocked, invalid_amount, max_bet_exceeded (over a bonus's max bet),
    insufficient_funds, insufficient_promo_funds (a promo bet over the free-spins balance),
    bet_rolled_back (its rollback arrived first, `activity` given), idempotency_conflict.
    """
    player_refuse_unless_active(player, "bet")
    stake = amount_validate(amount, currency)
    # a cash-only player's bet (any game; a promo bet without free spins is an ordinary one)
    posted = cash_only_post(
        kind=Kind.BET,
        player=player,
        currency=currency,
        amount=stake,
        idempotency_key=idempotency_key,
        activity=activity,
        remembered_check=True,
        details={"cash": money_format(stake, currency), "bonus": {}, "wagering": {}},
        refusal=lambda outcome, balance: (
            _bet_rolled_back()
            if outcome == "bet_rolled_back"
            else _funds_short(promo=False, available=balance, amount=stake, currency=currency)
        ),
    )
    if posted is not None:
        return posted
    with wallet_operation(
        player=player, currency=currency, amount=amount, active_only="bet"
    ) as operation:
        locked, amount = operation.locked, operation.amount
        if activity is not None:
            _bet_refuse_if_rolled_back(player=player, activity=activity)
        max_bets = [a.bonus.max_bet for a in locked.bonuses if a.bonus.max_bet is not None]
        if max_bets and amount > min(max_bets):
            raise DomainError(
                "max_bet_exceeded",
                f"Maximum bet while a bonus is active is {money_format(min(max_bets), currency)}.",
            )
        drawable = _bonuses_drawable(locked=locked, game_id=game_id, promo=promo)
        if promo and not drawable:
            # a player without free spins for the game: the aggregator's own free round, whose
            # stake (cash and bonus amounts, usually 0) is an ordinary one
            promo = False
            drawable = _bonuses_drawable(locked=locked, game_id=game_id, promo=False)
        cash = Decimal(0) if promo else locked.cash.balance
        available = cash + sum((a.balance for a in drawable), Decimal(0))
        if available < amount:
            raise _funds_short(promo=promo, available=available, amount=amount, currency=currency)
        from_cash, from_bonus = stake_split(
            amount=amount,
            cash=cash,
            bonuses=[(a.bonus_id, a.balance) for a in drawable],
            # the order matters only with bonus money to draw on (no policy read otherwise)
            bonus_first=bool(drawable)
            and not promo
            and balance_policy(currency).bet_order == BalancePolicy.BetOrder.BONUS_FIRST,
        )
        # Wagering goes to the grant the bet drew on, else to the oldest active grant.
        target = locked.bonus_account(next(iter(from_bonus))) if from_bonus else None
        target = target or (drawable[0] if drawable else None)
        contribution = Decimal(0)
        if target is not None:
            weight = contribution_weight(
                contribution_weights=target.bonus.contribution_weights,
                game_weights=target.bonus.game_weights,
                game_category=game_category,
                game_id=game_id,
            )
            contribution = (amount * weight).quantize(EIGHT_PLACES)
        game = locked.house_id(HOUSE.HOUSE_GAME)
        legs = [Leg(locked.cash.pk, currency, -from_cash), Leg(game, currency, amount)]
        legs += [
            Leg(locked.bonus_account(bonus_id).pk, currency, -part)
            for bonus_id, part in from_bonus.items()
        ]
        posted = ledger_post(
            kind=Kind.BET,
            idempotency_key=idempotency_key,
            player_id=player.pk,
            legs=legs,
            activity=activity,
            details={
                "cash": money_format(from_cash, currency),
                "bonus": {str(k): money_format(v, currency) for k, v in from_bonus.items()},
                "wagering": {"bonus": target.bonus_id, "amount": str(contribution)}
                if contribution
                else {},
                # the grant a `cash_stake_first` win pays its surplus to
                **({"target": target.bonus_id} if target is not None else {}),
            },
        )
        if contribution:
            progress = _wagering_add(bonus_id=target.bonus_id, amount=contribution)
            if progress is not None and progress[0] >= progress[1]:
                target.balance -= from_bonus.get(target.bonus_id, Decimal(0))
                bonus_end(
                    bonus=target.bonus,
                    account=target,
                    status=Bonus.Status.COMPLETED,
                    reason="wagering complete",
                )
        return posted


def _funds_short(*, promo: bool, available: Decimal, amount: Decimal, currency: str) -> DomainError:
    return DomainError(
        "insufficient_promo_funds" if promo else "insufficient_funds",
        f"{'Free-spins balance' if promo else 'Balance'} is "
        f"{money_format(available, currency)}, stake {money_format(amount, currency)}.",
    )


def _bet_rolled_back() -> DomainError:
    return DomainError(
        "bet_rolled_back",
        "A rollback of this bet arrived before it: the bet is refused and no stake is taken.",
    )


def bets_referenced(
    *, player: Player, currency: str, reference_id: str = "", round_id: str = "", source="api"
) -> list[LedgerTransaction]:
    """The bet transactions a win or rollback refers to: by `reference_id` (a bet's external id,
    or the reference a bet was placed under, e.g. an aggregator's bet ref), else by round."""
    bets = Activity.objects.filter(player_id=player.pk, type=Activity.Type.BET, source=source)
    if reference_id:  # the bet's external id, or the reference it was placed under
        bets = bets.filter(Q(external_id=reference_id) | Q(reference_id=reference_id))
    elif round_id:
        bets = bets.filter(round_id=round_id)
    else:
        raise DomainError("unknown_reference", "No reference_id or round_id given.")
    found = list(bets.values_list("pk", "currency_id"))
    if not found:
        raise DomainError("unknown_reference", "No bet with that reference.")
    if any(code != currency for _, code in found):
        raise DomainError("currency_mismatch", "The bet was placed in another currency.")
    return list(
        LedgerTransaction.objects.filter(activity_id__in=[pk for pk, _ in found], kind=Kind.BET)
    )


def _bets_of_rollback(
    *, player: Player, currency: str, activity: Activity
) -> list[LedgerTransaction]:
    """The bets a rollback event references; none yet: the rollback is remembered."""
    if not (activity.reference_id or activity.round_id):
        raise DomainError("unknown_reference", "No reference_id or round_id given.")
    try:
        return bets_referenced(
            player=player,
            currency=currency,
            reference_id=activity.reference_id,
            round_id=activity.round_id,
            source=activity.source,
        )
    except DomainError as error:
        if error.code != "unknown_reference":
            raise
    remembered = RememberedRollback.objects.filter(player_id=player.pk, source=activity.source)
    if activity.reference_id:
        remembered = remembered.filter(reference_id=activity.reference_id)
    else:
        remembered = remembered.filter(reference_id="", round_id=activity.round_id)
    if remembered.exists():
        raise DomainError("already_rolled_back", "A rollback of this bet is already remembered.")
    RememberedRollback.objects.create(
        activity=activity,
        player=player,
        source=activity.source,
        reference_id=activity.reference_id,
        round_id="" if activity.reference_id else activity.round_id,
    )
    return []


def _bet_refuse_if_rolled_back(*, player: Player, activity: Activity) -> None:
    """A bet whose rollback arrived first is refused (under the player's lock)."""
    named = Q(reference_id=activity.external_id)
    if activity.reference_id:  # the reference the bet is placed under (an aggregator's bet ref)
        named |= Q(reference_id=activity.reference_id)
    if activity.round_id:
        named |= Q(reference_id="", round_id=activity.round_id)
    remembered = RememberedRollback.objects.filter(
        named, player_id=player.pk, source=activity.source
    )
    if remembered.exists():
        raise _bet_rolled_back()


def wallet_bet_zero_check(*, player: Player, currency: str, activity: Activity) -> None:
    """A zero-stake bet moves no money, but its rollback may have arrived first: then it is
    refused (`bet_rolled_back`) like any bet, so no win can be settled on a cancelled round."""
    with wallet_operation(player=player, currency=currency):
        _bet_refuse_if_rolled_back(player=player, activity=activity)


def _bets_unreversed(bets: list[LedgerTransaction]) -> list[LedgerTransaction]:
    """The bets not rolled back, read under the player's lock (a concurrent rollback of the
    same bet has committed by then)."""
    if not bets:
        return []
    reversed_ids = set(
        LedgerTransaction.objects.filter(reverses__in=[b.pk for b in bets]).values_list(
            "reverses_id", flat=True
        )
    )
    return [bet for bet in bets if bet.pk not in reversed_ids]


def _bonus_share_legs(
    *, locked: Locked, currency: str, shares: dict[int, Decimal], win: bool
) -> tuple[list[Leg], dict[int, Decimal]]:
    """Where money coming back to each bonus goes (docs/wallet.md, "Money owed to an ended
    bonus"): an active bonus's own account; for a win, a completed (converted) bonus's share
    goes to cash only up to what its `max_conversion` still allows; everything else (the rest
    of such a win, any share of an expired or forfeited bonus, and every stake refunded by a
    rollback to a bonus no longer active) goes to the forfeited-bonus house account.

    Returns the legs and the cash paid per completed bonus, which the caller adds to
    `Bonus.converted` once the posting is written.
    """
    closed = [b for b in shares if locked.bonus_account(b) is None]
    ended = {}
    if win and closed:
        ended = {
            pk: (status, cap, converted)
            for pk, status, cap, converted in Bonus.objects.filter(pk__in=closed).values_list(
                "pk", "status", "max_conversion", "converted"
            )
        }
    legs, paid = [], {}
    for bonus_id, share in shares.items():
        account = locked.bonus_account(bonus_id)
        if account is not None:
            legs.append(Leg(account.pk, currency, share))
            continue
        to_cash = Decimal(0)
        status, cap, converted = ended.get(bonus_id, (None, None, None))
        if status == Bonus.Status.COMPLETED:
            room = share if cap is None else max(Decimal(0), Decimal(cap) - Decimal(converted))
            to_cash = min(share, room)
        if to_cash:
            paid[bonus_id] = to_cash
            legs.append(Leg(locked.cash.pk, currency, to_cash))
        legs.append(Leg(locked.house_id(HOUSE.HOUSE_BONUS_FORFEIT), currency, share - to_cash))
    return legs, paid


def _bonuses_converted_add(paid: dict[int, Decimal]) -> None:
    """Add the cash that completed bonuses paid out of a win to their `converted` counters."""
    for bonus_id, amount in paid.items():
        Bonus.objects.filter(pk=bonus_id).update(converted=F("converted") + amount)


def _bets_settled(*, player_id: int, bets: list[LedgerTransaction]) -> bool:
    """Whether a win was settled against any of `bets` (wins record the bets they paid on)."""
    if not bets:
        return False
    ids = {b.pk for b in bets}
    wins = LedgerTransaction.objects.filter(
        player_id=player_id, kind=Kind.WIN, pk__gt=min(ids)
    ).values_list("details", flat=True)
    return any(ids.intersection(details.get("bets", ())) for details in wins)


def _win_post(
    *,
    locked: Locked,
    currency: str,
    amount: Decimal,
    idempotency_key: str,
    player: Player,
    live: list[LedgerTransaction],
    activity,
    free_spins: Account | None = None,
) -> LedgerTransaction | None:
    """Post a win split over the stakes of `live` (no stakes: to cash, or all to the
    `free_spins` grant if given); None (nothing written) if one of them has been rolled back."""
    cash_stake = sum((Decimal(b.details.get("cash", "0")) for b in live), Decimal(0))
    bonus_stakes: dict[int, Decimal] = defaultdict(Decimal)
    for bet in live:
        for bonus_id, part in bet.details.get("bonus", {}).items():
            bonus_stakes[int(bonus_id)] += Decimal(part)
    targets = [b.details["target"] for b in live if b.details.get("target") is not None]
    if not live and free_spins is not None:  # free-round winnings: to the free spins
        cash_share, bonus_shares = Decimal(0), {free_spins.bonus_id: amount}
    else:
        cash_share, bonus_shares = win_split(
            amount=amount,
            cash_stake=cash_stake,
            bonus_stakes=bonus_stakes,
            quantum=currency_quantum(currency),
            # the split matters only when a bonus was involved (no policy read otherwise)
            cash_stake_first=bool(bonus_stakes or targets)
            and balance_policy(currency).win_split == BalancePolicy.WinSplit.CASH_STAKE_FIRST,
            target_bonus=targets[0] if targets else None,
        )
    bonus_legs, paid = _bonus_share_legs(
        locked=locked, currency=currency, shares=bonus_shares, win=True
    )
    game = locked.house_id(HOUSE.HOUSE_GAME)
    legs = [Leg(game, currency, -amount), Leg(locked.cash.pk, currency, cash_share)]
    details = {
        "cash": money_format(cash_share, currency),
        "bonus": {str(k): money_format(v, currency) for k, v in bonus_shares.items()},
        "bets": [b.pk for b in live],
    }
    if paid:
        details["converted"] = {str(k): money_format(v, currency) for k, v in paid.items()}
    posted = ledger_post(
        kind=Kind.WIN,
        idempotency_key=idempotency_key,
        player_id=player.pk,
        legs=legs + bonus_legs,
        activity=activity,
        details=details,
        unless_reversed=[b.pk for b in live],
    )
    if posted is not None:  # nothing written: the caller posts again without the rolled back
        _bonuses_converted_add(paid)
    return posted


def wallet_win_settle(
    *,
    player: Player,
    currency: str,
    amount: Decimal,
    idempotency_key: str,
    bets: list[LedgerTransaction],
    activity=None,
    promo: bool = False,
    game_id: str = "",
) -> LedgerTransaction:
    """Pay a win back to cash and bonus by the currency's win-split balance policy
    (`proportional`: in proportion to where the stakes of `bets` came from; `cash_stake_first`:
    the cash stake back to cash first, the rest to the bonus; wallet/wagering.py `win_split`).
    A `promo` win with no `bets` (free-round winnings) goes to the oldest active free-spins
    grant for `game_id`, or to cash when the player has none.

    Bets rolled back are left out (all of them rolled back: `already_rolled_back`). The posting
    assumes none was and checks it in the same statement; only if one was does it look them up
    and post again (under the player's lock, which a rollback also takes, so the second answer
    holds).

    A win on bets staked from cash alone (no bonus part, no wagering target) is a cash-only
    player's win, posted by the server-side function when the player holds no bonus either.
    Raises invalid_amount, already_rolled_back, idempotency_conflict.
    """
    if not any(b.details.get("bonus") or b.details.get("target") is not None for b in bets):
        won = amount_validate(amount, currency, allow_zero=True)
        posted = cash_only_post(
            kind=Kind.WIN,
            player=player,
            currency=currency,
            amount=won,
            idempotency_key=idempotency_key,
            activity=activity,
            bets=[b.pk for b in bets],
            details={"cash": money_format(won, currency), "bonus": {}},
            refusal=lambda *_: DomainError("already_rolled_back", "The bet was rolled back."),
        )
        if posted is not None:
            return posted
    with wallet_operation(
        player=player, currency=currency, amount=amount, allow_zero=True
    ) as operation:
        locked, amount = operation.locked, operation.amount
        live = list(bets)
        common = {"locked": locked, "currency": currency, "amount": amount, "player": player}
        if promo and not live:
            drawable = _bonuses_drawable(locked=locked, game_id=game_id, promo=True)
            common["free_spins"] = drawable[0] if drawable else None
        while True:
            posted = _win_post(
                idempotency_key=idempotency_key, live=live, activity=activity, **common
            )
            if posted is not None:
                return posted
            live = _bets_unreversed(bets)
            if not live:
                raise DomainError("already_rolled_back", "The bet was rolled back.")


def wallet_bet_rollback(
    *,
    player: Player,
    currency: str,
    idempotency_key: str,
    bets: list[LedgerTransaction] | None = None,
    amount: Decimal | None = None,
    activity: Activity | None = None,
) -> list[LedgerTransaction]:
    """Reverse the stakes of `bets` (each once) and the wagering they added.

    With `bets=None` the bets are the ones `activity` (a rollback event) references, looked up
    under the player's lock. If none has arrived yet, the rollback is remembered
    (`RememberedRollback`): nothing moves, [] is returned, and the bet is refused when it comes
    (`bet_rolled_back`, see `wallet_bet_place`). Raises unknown_reference (no reference at
    all), currency_mismatch, already_rolled_back, bet_settled, invalid_amount (not the stake).
    """
    reversals = []
    with wallet_operation(player=player, currency=currency) as operation:
        locked = operation.locked
        if bets is None:
            bets = _bets_of_rollback(player=player, currency=currency, activity=activity)
            if not bets:
                return []
        live = _bets_unreversed(bets)
        if bets and not live:
            raise DomainError("already_rolled_back", "The bet was already rolled back.")
        if _bets_settled(player_id=player.pk, bets=live):
            raise DomainError(
                "bet_settled", "A win was settled against the bet; it can no longer be rolled back."
            )
        stake = sum(
            (
                Decimal(b.details.get("cash", "0"))
                + sum(map(Decimal, b.details.get("bonus", {}).values()), Decimal(0))
                for b in live
            ),
            Decimal(0),
        )
        if amount is not None and amount != stake:
            raise DomainError(
                "invalid_amount",
                f"The rollback amount must equal the stake {money_format(stake, currency)}.",
            )
        game = locked.house_id(HOUSE.HOUSE_GAME)
        for bet in live:
            parts = {int(k): Decimal(v) for k, v in bet.details.get("bonus", {}).items()}
            bonus_legs, _ = _bonus_share_legs(
                locked=locked, currency=currency, shares=parts, win=False
            )
            cash_part = Decimal(bet.details.get("cash", "0"))
            legs = [Leg(locked.cash.pk, currency, cash_part), *bonus_legs]
            legs.append(Leg(game, currency, -(cash_part + sum(parts.values(), Decimal(0)))))
            reversals.append(
                ledger_post(
                    kind=Kind.ROLLBACK,
                    idempotency_key=idempotency_key
                    if len(live) == 1
                    else f"{idempotency_key}:{bet.pk}",
                    player_id=player.pk,
                    legs=legs,
                    activity=activity,
                    reverses=bet,
                )
            )
            wagering = bet.details.get("wagering") or {}
            if wagering and locked.bonus_account(wagering["bonus"]) is not None:
                Bonus.objects.filter(pk=wagering["bonus"], status=Bonus.Status.ACTIVE).update(
                    wagering_done=Greatest(F("wagering_done") - Decimal(wagering["amount"]), 0)
                )
    return reversals
