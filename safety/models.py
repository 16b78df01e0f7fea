"""Safety data (SPEC §7): house edges, the safety policy, signal weights, fraud flags, clusters.

Everything staff tune is a row, not code: the expected house edge per game category (a game
overrides its category), the thresholds and the weight of each fraud signal. The defaults live in
`safety/defaults.py` and are seeded by migrations; a missing row falls back to them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from players.models import GameCategory, Player
from safety import defaults


class HouseEdge(models.Model):
    """The expected house edge of a game category, or of one game (which beats its category)."""

    game_category = models.CharField(
        max_length=16, choices=GameCategory.choices, blank=True, help_text="blank for a game row"
    )
    game_id = models.CharField(max_length=100, blank=True, help_text="blank for a category row")
    edge = models.DecimalField(
        max_digits=7, decimal_places=5, help_text="0.04 = 4% of stakes kept by the house"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(game_category="") & ~Q(game_id=""))
                | (~Q(game_category="") & Q(game_id="")),
                name="house_edge_category_xor_game",
            ),
            models.CheckConstraint(
                condition=Q(edge__gte=0, edge__lte=1), name="house_edge_between_0_and_1"
            ),
            models.UniqueConstraint(
                fields=["game_category"],
                condition=~Q(game_category=""),
                name="house_edge_unique_category",
            ),
            models.UniqueConstraint(
                fields=["game_id"], condition=~Q(game_id=""), name="house_edge_unique_game"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.game_id or self.game_category}: {self.edge:%}"


class SafetyPolicy(models.Model):
    """The one row of safety thresholds (`SafetyPolicy.current()`); defaults in defaults.py."""

    review_threshold = models.PositiveSmallIntegerField(default=defaults.REVIEW_THRESHOLD)
    block_threshold = models.PositiveSmallIntegerField(default=defaults.BLOCK_THRESHOLD)
    forfeit_on_block = models.BooleanField(
        default=True, help_text="Forfeit active bonuses when a risk score reaches the block level."
    )
    max_cost_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=defaults.MAX_COST_SHARE,
        help_text="Default share of the player's NGR a reward's expected cost may take (0.30).",
    )
    shared_value_max_players = models.PositiveIntegerField(
        default=defaults.SHARED_VALUE_MAX_PLAYERS,
        help_text="A device/IP/card seen on more players than this (a carrier NAT, an internet "
        "café) links nobody.",
    )
    bonus_ratio_threshold = models.DecimalField(
        max_digits=8, decimal_places=4, default=defaults.BONUS_RATIO_THRESHOLD
    )
    low_wagering_share = models.DecimalField(
        max_digits=5, decimal_places=4, default=defaults.LOW_WAGERING_SHARE
    )
    low_contribution_share = models.DecimalField(
        max_digits=5, decimal_places=4, default=defaults.LOW_CONTRIBUTION_SHARE
    )
    reward_velocity_count = models.PositiveSmallIntegerField(default=defaults.REWARD_VELOCITY_COUNT)
    lookback_days = models.PositiveSmallIntegerField(default=defaults.LOOKBACK_DAYS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "safety policy"
        constraints = [
            models.CheckConstraint(
                condition=Q(review_threshold__lte=100, block_threshold__lte=100),
                name="safety_thresholds_lte_100",
            ),
            models.CheckConstraint(
                condition=Q(max_cost_share__gte=0, max_cost_share__lte=1),
                name="safety_cost_share_0_1",
            ),
        ]

    def __str__(self) -> str:
        return "Safety policy"

    @classmethod
    def current(cls) -> "SafetyPolicy":
        policy = cls.objects.filter(pk=1).first()
        return policy if policy is not None else cls(pk=1)


class Signal(models.TextChoices):
    SHARED_DEVICE = "shared_device"
    SHARED_IP = "shared_ip"
    SHARED_PAYMENT = "shared_payment"
    BONUS_RATIO = "bonus_ratio"
    BONUS_WITHDRAWAL = "bonus_withdrawal"
    LOW_CONTRIBUTION_WAGERING = "low_contribution_wagering"
    MAX_BET_BREACH = "max_bet_breach"
    REWARD_VELOCITY = "reward_velocity"
    CHARGEBACK = "chargeback"


class SignalWeight(models.Model):
    """Points a signal adds to the risk score (a cluster signal scales with the cluster size)."""

    signal = models.CharField(max_length=32, choices=Signal.choices, primary_key=True)
    weight = models.PositiveSmallIntegerField(help_text="risk points, 0–100")
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(weight__lte=100), name="weight_lte_100")]

    def __str__(self) -> str:
        return f"{self.signal}: {self.weight}"


class FraudFlag(models.Model):
    """One signal raised on one player, with its evidence (SPEC §10 flag shape).

    `key` identifies what the flag is about (`shared_device` for the cluster signals, an
    activity or a bonus for the others), so a rescan updates the flag instead of repeating it,
    and a dismissed flag stays dismissed.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CONFIRMED = "confirmed"
        DISMISSED = "dismissed"

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="fraud_flags")
    signal = models.CharField(max_length=32, choices=Signal.choices)
    key = models.CharField(max_length=200)
    score = models.PositiveSmallIntegerField(help_text="risk points this flag adds while counted")
    strength = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(1), help_text="score = weight × strength"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "signal", "key"], name="fraud_flag_unique"),
            models.CheckConstraint(condition=Q(score__lte=100), name="fraud_flag_score_lte_100"),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(note=""), name="fraud_flag_resolved_with_note"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["player", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.signal} on {self.player_id} ({self.status})"


class FraudCluster(models.Model):
    """Players linked by shared devices, IPs or payment instruments (rebuilt by each scan)."""

    size = models.PositiveIntegerField()
    shared_values = models.JSONField(
        default=dict, help_text='{"device": ["dev-77"], "ip": [...], "payment": [...]}'
    )
    detected_at = models.DateTimeField()
    players = models.ManyToManyField(Player, through="FraudClusterMember", related_name="+")

    class Meta:
        indexes = [models.Index(fields=["-size"])]

    def __str__(self) -> str:
        return f"cluster {self.pk} ({self.size} players)"


class FraudClusterMember(models.Model):
    cluster = models.ForeignKey(FraudCluster, on_delete=models.CASCADE, related_name="members")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="fraud_clusters")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "player"], name="cluster_member_unique")
        ]

    def __str__(self) -> str:
        return f"player {self.player_id} in cluster {self.cluster_id}"
