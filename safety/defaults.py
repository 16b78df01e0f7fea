"""Documented defaults of the safety data (docs/safety.md); migrations seed them as rows.

No imports from the rest of the project: models, migrations and pure functions share these.
"""

from decimal import Decimal

# Expected house edge per game category (share of stakes the house keeps on average).
# Slots: typical RTP 96%; table: blackjack with basic strategy ~0.5%, European roulette 2.7%,
# baccarat ~1.1% — 1.5% as a mixed figure; live: the same games streamed; sports: a bookmaker
# margin of ~5%; poker: the rake the house keeps, ~2% of the pot; other (crash, dice, …): 3%.
DEFAULT_HOUSE_EDGES = {
    "slots": Decimal("0.04"),
    "table": Decimal("0.015"),
    "live": Decimal("0.015"),
    "sports": Decimal("0.05"),
    "poker": Decimal("0.02"),
    "other": Decimal("0.03"),
}
# The mix assumed for a player with no bets in the lookback: the game a bonus is designed for.
DEFAULT_GAME_MIX = {"slots": Decimal(1)}

REVIEW_THRESHOLD = 50
BLOCK_THRESHOLD = 80
MAX_COST_SHARE = Decimal("0.30")
SHARED_VALUE_MAX_PLAYERS = 50
BONUS_RATIO_THRESHOLD = Decimal("1.0")  # bonuses granted ≥ 100% of deposits
LOW_WAGERING_SHARE = Decimal("0.20")  # withdrew with < 20% of the wagering done
LOW_CONTRIBUTION_SHARE = Decimal("0.50")  # ≥ 50% of bonus-time stakes on weak games
LOW_CONTRIBUTION_WEIGHT = Decimal("0.5")  # a game counting < 50% towards wagering
LOW_EDGE = Decimal("0.01")  # or keeping < 1% of stakes
REWARD_VELOCITY_COUNT = 5  # rewards in LOOKBACK of VELOCITY_DAYS
VELOCITY_DAYS = 7
LOOKBACK_DAYS = 30

# Risk points per signal. A device or a card is one person's; an IP is shared by households,
# offices and mobile carriers, so it weighs far less. Cluster signals scale with cluster size.
SIGNAL_WEIGHTS = {
    "shared_device": (40, "Same device id as other players (multi-accounting)."),
    "shared_ip": (15, "Same IP as other players: weak alone (homes, offices, carrier NAT)."),
    "shared_payment": (50, "Same payment instrument as other players."),
    "bonus_ratio": (20, "Bonuses granted at least equal to deposits over the lookback."),
    "bonus_withdrawal": (50, "Deposit → bonus → withdrawal with little of the wagering done."),
    "low_contribution_wagering": (
        30,
        "Most of the stakes while a bonus is active on low-contribution or low-edge games.",
    ),
    "max_bet_breach": (30, "A bet above the bonus's max bet while the bonus was active."),
    "reward_velocity": (15, "Many rewards in a short time."),
    "chargeback": (80, "A deposit charged back: blocks rewards on its own."),
}
