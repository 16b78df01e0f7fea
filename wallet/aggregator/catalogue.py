"""The game catalogue: which wagering category an aggregator's game counts in (SPEC §8).

Staff map game ids to categories in the admin. A game seen for the first time is added as
`other` and left unreviewed, and the admin warns about unreviewed games; a bet or win is never
refused because its game is unknown (it just contributes `other`'s weight to wagering).
"""

from players.models import GameCategory
from wallet.models import Aggregator, Game


def game_category(*, aggregator: Aggregator, game_id: str) -> str:
    """The category of `game_id` (`other` when absent; an unknown id is added, unreviewed)."""
    if not game_id:
        return GameCategory.OTHER
    category = (
        Game.objects.filter(aggregator=aggregator, game_id=game_id)
        .values_list("category", flat=True)
        .first()
    )
    if category is None:
        game, _ = Game.objects.get_or_create(aggregator=aggregator, game_id=game_id)
        category = game.category
    return category


def games_unreviewed_count() -> int:
    return Game.objects.filter(reviewed=False).count()
