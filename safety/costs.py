"""Expected house cost and the NGR-share limit for many players at once (SPEC §7 step 2).

The rules pipeline's profit step in a few lines:

    costs = expected_cost_frame(player_ids=ids, amounts=amounts, reward_type=rule.reward_type,
                                terms=rule.terms, free_spins=rule.free_spins, since=lookback_start)
    checked = profit_check_frame(costs=costs, ngr=ngr_per_row, max_cost_share=share,
                                 acquisition=rule.acquisition)
    # checked["passed"], checked["expected_cost"], checked["details"] (dict for the trace)

One query for the game mix of the whole chunk (`players_game_mix`) and one for the house edges;
the arithmetic is safety/profit.py, per row in Decimal.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import pandas as pd

from safety import profit
from safety.models import SafetyPolicy
from safety.selectors import house_edges, players_game_mix
from wallet.wagering import DEFAULT_CONTRIBUTION_WEIGHTS


def _terms_weights(terms: dict | None) -> tuple[dict, dict]:
    terms = terms or {}
    weights = terms.get("contribution_weights") or DEFAULT_CONTRIBUTION_WEIGHTS
    return dict(weights), dict(terms.get("game_weights") or {})


def expected_cost_frame(
    *,
    player_ids: Sequence[int],
    amounts: Sequence[Decimal],
    reward_type: str,
    terms: dict | None = None,
    free_spins: dict | None = None,
    deposit_amounts: Sequence[Decimal] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Expected house cost of giving `amounts[i]` to `player_ids[i]` (one reward type, terms).

    - bonus: max(0, B − W·X·h), h from the player's game mix over [since, until) weighted by
      the terms' contribution profile (profit.expected_house_edge); X per `terms.wagering_base`
      (`bonus`, or `bonus+deposit` with `deposit_amounts[i]`, the qualifying deposit);
    - cashback: the amount (p·L is what the formula computed; p < 100% is the rule's check);
    - free_spins: count × spin value × (1 − edge of the spins' game);
    - cash: the amount.
    Returns a frame with columns player_id, amount, expected_cost (Decimal), house_edge
    (Decimal or None) and details (dict for the decision trace), in input order.
    """
    n = len(player_ids)
    categories, games = house_edges()
    costs: list[Decimal] = []
    edges: list[Decimal | None] = []
    details: list[dict] = []
    if reward_type == "bonus":
        terms = terms or {}
        weights, game_weights = _terms_weights(terms)
        multiplier = Decimal(str(terms.get("wagering_multiplier", 0)))
        base = terms.get("wagering_base", "bonus")
        mixes = players_game_mix(
            player_ids=player_ids, since=since, until=until, games=set(games) | set(game_weights)
        )
        deposits = deposit_amounts if deposit_amounts is not None else [Decimal(0)] * n
        for player_id, amount, deposit in zip(player_ids, amounts, deposits, strict=True):
            h, mix_details = profit.expected_house_edge(
                game_mix=mixes.get(player_id, {}),
                contribution_weights=weights,
                game_weights=game_weights,
                house_edges=categories,
                game_edges=games,
            )
            x = profit.wagering_base_amount(
                amount=Decimal(amount), deposit_amount=Decimal(deposit or 0), wagering_base=base
            )
            cost = profit.bonus_expected_cost(
                amount=amount, wagering_multiplier=multiplier, wagering_base_amount=x, house_edge=h
            )
            costs.append(cost)
            edges.append(h)
            details.append(
                {
                    "expected_cost": f"{cost:f}",
                    "formula": "max(0, B - W*X*h)",
                    "B": f"{Decimal(amount):f}",
                    "W": f"{multiplier:f}",
                    "X": f"{x:f}",
                    "h": f"{h:f}",
                    **{k: v for k, v in mix_details.items() if k != "house_edge"},
                }
            )
    elif reward_type == "free_spins":
        spins = free_spins or {}
        game_id = spins.get("game_id", "")
        h = profit.house_edge_of(
            game_category=spins.get("game_category", "slots"),
            game_id=game_id,
            house_edges=categories,
            game_edges=games,
        )
        count, value = int(spins.get("count", 0)), Decimal(str(spins.get("spin_value", "0")))
        for _amount in amounts:
            cost = profit.free_spins_expected_cost(count=count, spin_value=value, house_edge=h)
            costs.append(cost)
            edges.append(h)
            details.append(
                {
                    "expected_cost": f"{cost:f}",
                    "formula": "count * spin_value * (1 - h)",
                    "count": count,
                    "spin_value": f"{value:f}",
                    "h": f"{h:f}",
                }
            )
    else:  # cash and cashback: the amount paid is the cost
        formula = "p * L" if reward_type == "cashback" else "amount"
        for amount in amounts:
            cost = profit.cash_expected_cost(amount=amount)
            costs.append(cost)
            edges.append(None)
            details.append({"expected_cost": f"{cost:f}", "formula": formula})
    return pd.DataFrame(
        {
            "player_id": list(player_ids),
            "amount": list(amounts),
            "expected_cost": costs,
            "house_edge": edges,
            "details": details,
        }
    )


def profit_check_frame(
    *,
    costs: pd.DataFrame,
    ngr: Sequence[Decimal],
    max_cost_share: Decimal | None = None,
    acquisition: bool = False,
) -> pd.DataFrame:
    """The max_cost_share rule (SPEC §7) on `expected_cost_frame`'s rows: adds `passed` (bool)
    and folds the limit into `details` ({"expected_cost", "ngr", "limit", "max_cost_share", …}).
    `ngr[i]` is the player's NGR over the rule's lookback, in the reward's currency;
    `max_cost_share` defaults to the safety policy's (30%). A failed row's reason code is
    `profit_share`."""
    share = SafetyPolicy.current().max_cost_share if max_cost_share is None else max_cost_share
    passed, merged = [], []
    for cost, player_ngr, details in zip(
        costs["expected_cost"], ngr, costs["details"], strict=True
    ):
        ok, limit_details = profit.cost_share_check(
            expected_cost=cost, ngr=Decimal(player_ngr or 0), max_cost_share=share,
            acquisition=acquisition,
        )  # fmt: skip
        passed.append(ok)
        merged.append({**details, **limit_details})
    out = costs.copy()
    out["passed"] = passed
    out["details"] = merged
    return out
