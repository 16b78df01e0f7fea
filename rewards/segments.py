"""The rules engine's one door to segments and player names (moves with the seams issue).

Custom segments and `players_with_names` are moving (custom segments into rewards/, the name
binding into players/); everything in the rules engine imports them from here only.
"""

from players.models import CustomSegment, CustomSegmentMembership
from rewards.expressions.players import players_with_names

__all__ = ["custom_segment_names", "custom_memberships", "players_with_names"]


def custom_segment_names() -> set[str]:
    return set(CustomSegment.objects.values_list("name", flat=True))


def custom_memberships(*, player_ids: list[int], names: list[str]) -> list[tuple[int, str]]:
    """(player id, segment name) for the players' memberships of the named custom segments."""
    if not names:
        return []
    return list(
        CustomSegmentMembership.objects.filter(
            player_id__in=player_ids, segment__name__in=names
        ).values_list("player_id", "segment__name")
    )
