"""Profit safety as numbers (SPEC §7 step 2): the expected house cost of a reward, and its limit.

Pure arithmetic on Decimals (no database access) so that every formula is tested on its worked
examples and reused by the rules pipeline over whole chunks (`expected_cost_frame`). Amounts are
decimals in one currency (the player's primary currency in the pipeline); shares and edges are
fractions (0.04 = 4%).

Why the house edge is weighted the way it is: a wagering requirement R = W·X counts each stake
times its contribution weight w. A player whose stakes fall in category c with shares m_c must
stake S = R / Σ m_c·w_c to complete it, and the house expects to keep S · Σ m_c·e_c of that. So
the effective edge per unit of wagering is h = Σ m_c·e_c / Σ m_c·w_c: slots at 4% edge counted
100% give h = 4%; a table game at 0.5% edge that the terms count 100% gives h = 0.5% (the
abuse: cheap wagering); the same table game counted 10% gives h = 5% (ten times the stakes).
"""

from collections.abc import Mapping
from decimal import Decimal

from safety.defaults import DEFAULT_GAME_MIX, DEFAULT_HOUSE_EDGES

ZERO = Decimal(0)
PLACES = Decimal("0.00000001")
EDGE_PLACES = Decimal("0.000001")


def _q(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


def house_edge_of(
    *,
    game_category: str,
    game_id: str = "",
    house_edges: Mapping[str, Decimal] | None = None,
    game_edges: Mapping[str, Decimal] | None = None,
) -> Decimal:
    """The expected house edge of a game: its own override, else its category's (SPEC §7)."""
    if game_id and game_edges and game_id in game_edges:
        return Decimal(game_edges[game_id])
    edges = DEFAULT_HOUSE_EDGES if house_edges is None else house_edges
    category = game_category or "other"
    return Decimal(edges.get(category, DEFAULT_HOUSE_EDGES.get(category, ZERO)))


def expected_house_edge(
    *,
    game_mix: Mapping[tuple[str, str] | str, Decimal],
    contribution_weights: Mapping[str, object],
    game_weights: Mapping[str, object] | None = None,
    house_edges: Mapping[str, Decimal] | None = None,
    game_edges: Mapping[str, Decimal] | None = None,
) -> tuple[Decimal, dict]:
    """h = Σ m·e / Σ m·w over the player's game mix (module docstring; SPEC §7).

    `game_mix` maps a category, or a (category, game_id) pair for games with an override, to the
    stakes (or shares) there. An empty mix, or one where nothing counts towards wagering, falls
    back to `DEFAULT_GAME_MIX` (slots). Returns (h, details) — details for the decision trace:
    the mix as shares, the weighted edge and the weighted contribution.
    """
    game_weights = game_weights or {}
    edge_sum = weight_sum = total = ZERO
    rows = []
    for key, stakes in game_mix.items():
        category, game_id = key if isinstance(key, tuple) else (key, "")
        stakes = Decimal(stakes)
        if stakes <= 0:
            continue
        if game_id and game_id in game_weights:
            weight = Decimal(str(game_weights[game_id]))
        else:
            weight = Decimal(str(contribution_weights.get(category or "other", "0")))
        edge = house_edge_of(
            game_category=category, game_id=game_id, house_edges=house_edges, game_edges=game_edges
        )
        rows.append((game_id or category, stakes, weight, edge))
        total += stakes
        edge_sum += stakes * edge
        weight_sum += stakes * weight
    if weight_sum <= 0:
        if game_mix is DEFAULT_GAME_MIX:
            return ZERO, {"house_edge": "0", "game_mix": {}, "note": "nothing counts"}
        h, details = expected_house_edge(
            game_mix=DEFAULT_GAME_MIX,
            contribution_weights=contribution_weights,
            game_weights=game_weights,
            house_edges=house_edges,
            game_edges=game_edges,
        )
        return h, {**details, "mix_source": "default"}
    h = (edge_sum / weight_sum).quantize(EDGE_PLACES)
    details = {
        "house_edge": f"{h:f}",
        "game_mix": {
            name: {
                "share": f"{(s / total).quantize(Decimal('0.0001')):f}",
                "weight": f"{w:f}",
                "edge": f"{e:f}",
            }
            for name, s, w, e in rows
        },  # fmt: skip
        "mix_edge": f"{(edge_sum / total).quantize(EDGE_PLACES):f}",
        "mix_contribution": f"{(weight_sum / total).quantize(EDGE_PLACES):f}",
        "mix_source": "player",
    }
    return h, details


def wagering_base_amount(
    *, amount: Decimal, deposit_amount: Decimal, wagering_base: str
) -> Decimal:
    """X of SPEC §7: the bonus, the qualifying deposit, or both (`bonus_plus_deposit`)."""
    return {
        "bonus": amount,
        "deposit": deposit_amount,
        "bonus_plus_deposit": amount + deposit_amount,
        "bonus+deposit": amount + deposit_amount,
    }[wagering_base]


def bonus_expected_cost(
    *,
    amount: Decimal,
    wagering_multiplier: Decimal,
    wagering_base_amount: Decimal,
    house_edge: Decimal,
) -> Decimal:
    """SPEC §7: cost = max(0, B − W·X·h) — the bonus minus what the house expects to win back
    while the player wagers W·X at effective edge h. B=100, W=35, X=100, h=0.04 → 0;
    B=100, W=5, X=100, h=0.02 → 90."""
    cost = Decimal(amount) - Decimal(wagering_multiplier) * Decimal(wagering_base_amount) * Decimal(
        house_edge
    )
    return _q(max(ZERO, cost))


def cashback_expected_cost(*, percent: Decimal, net_loss: Decimal) -> Decimal:
    """SPEC §7: cashback of p on net loss L costs p·L, with 0 ≤ p < 1 (ValueError otherwise).
    p=0.10, L=500 → 50."""
    percent = Decimal(percent)
    if not 0 <= percent < 1:
        raise ValueError("cashback share must be at least 0 and below 100%")
    return _q(percent * max(ZERO, Decimal(net_loss)))


def free_spins_expected_cost(*, count: int, spin_value: Decimal, house_edge: Decimal) -> Decimal:
    """SPEC §7 / issue 15: count × spin value × (1 − h) — the spins' expected payout (RTP)."""
    return _q(Decimal(count) * Decimal(spin_value) * (1 - Decimal(house_edge)))


def cash_expected_cost(*, amount: Decimal) -> Decimal:
    """Cash costs exactly its amount."""
    return _q(Decimal(amount))


def cost_share_check(
    *,
    expected_cost: Decimal,
    ngr: Decimal,
    max_cost_share: Decimal,
    acquisition: bool = False,
) -> tuple[bool, dict]:
    """SPEC §7: the expected cost may not exceed max_cost_share × the player's NGR over the
    rule's lookback (a negative NGR allows nothing). Acquisition rules are exempt (their budget
    still applies, in the rules engine). → (passed, details for the trace:
    {"expected_cost", "ngr", "limit", "max_cost_share"[, "exempt"]})."""
    limit = _q(max(ZERO, Decimal(ngr)) * Decimal(max_cost_share))
    details = {
        "expected_cost": f"{_q(Decimal(expected_cost)):f}",
        "ngr": f"{_q(Decimal(ngr)):f}",
        "limit": f"{limit:f}",
        "max_cost_share": f"{Decimal(max_cost_share):f}",
    }
    if acquisition:
        return True, {**details, "exempt": "acquisition"}
    return Decimal(expected_cost) <= limit, details
