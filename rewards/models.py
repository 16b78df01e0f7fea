"""Rules, rewards and custom segments (SPEC §5, §6).

Custom segments live here, beside the expression language that defines them: model, service
(rewards/segments.py), API and admin in one app. Their tables keep the names they were created
with (`players_customsegment…`): the models moved apps, the data did not.
"""

from django.db import models

from players.models import Player


class CustomSegment(models.Model):
    """A staff-defined segment: every player for whom `expression` is true."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True)
    expression = models.TextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "players_customsegment"

    def __str__(self) -> str:
        return self.name


class CustomSegmentMembership(models.Model):
    segment = models.ForeignKey(CustomSegment, on_delete=models.CASCADE, related_name="memberships")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="custom_memberships")
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "players_customsegmentmembership"
        constraints = [
            models.UniqueConstraint(fields=["segment", "player"], name="custom_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.player_id} in {self.segment_id}"
