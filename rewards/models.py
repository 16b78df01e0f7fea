"""Rules, rewards and custom segments (SPEC §5, §6).

Custom segments live here, beside the expression language that defines them: model, service
(rewards/segments.py), API and admin in one app. Their tables keep the names they were created
with (`players_customsegment…`): the models moved apps, the data did not.

Rules: a rule, its versions, runs and their chunks, decisions, rewards, budgets and
jurisdiction limits. A decision is one row per (player, rule, run) with its steps as JSON
(ADR 0007); a reward is one row per (run, rule, player) that matched, keyed so that a retried
run pays nobody twice.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from players.models import MONEY, Currency, Player
from players.money import money_format


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


class Rule(models.Model):
    """A reward rule. Every edit bumps `version` and stores a `RuleVersion` snapshot."""

    class RewardType(models.TextChoices):
        BONUS = "bonus"
        CASHBACK = "cashback"
        FREE_SPINS = "free_spins"
        CASH = "cash"

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=0, help_text="Higher runs first.")
    exclusive = models.BooleanField(
        default=False, help_text="A player rewarded by this rule gets no lower-priority rule."
    )
    trigger = models.CharField(
        max_length=64,
        default="manual",
        help_text="manual, after_import, schedule or on_event:<type> (e.g. on_event:deposit)",
    )
    schedule = models.CharField(
        max_length=100, blank=True, help_text='cron for trigger "schedule": "0 6 * * 1"'
    )
    target_segments = models.JSONField(default=list, blank=True)
    condition = models.TextField(blank=True, help_text="empty: every player in the segments")
    reward_type = models.CharField(max_length=16, choices=RewardType.choices)
    amount = models.TextField(blank=True, help_text="formula; free spins: count × spin value")
    currency = models.ForeignKey(
        Currency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    terms = models.JSONField(null=True, blank=True)
    free_spins = models.JSONField(null=True, blank=True)
    limits = models.JSONField(default=dict, blank=True)
    approval_threshold = models.DecimalField(**MONEY, null=True, blank=True)
    holdout_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0), help_text="0–100"
    )
    acquisition = models.BooleanField(default=False)
    # SPEC §7: a reward's expected house cost may not exceed this share of the player's NGR
    # over the lookback (acquisition rules are exempt)
    max_cost_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.30"),
        blank=True,
        help_text="0–1 (0.30 = 30%)",
    )
    lookback = models.CharField(max_length=16, default="30d")
    version = models.PositiveIntegerField(default=1)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(holdout_percent__gte=0, holdout_percent__lte=100),
                name="rule_holdout_percent_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RuleVersion(models.Model):
    """What a rule said at one version; a reward records the version that produced it."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="rule_version_unique")
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} v{self.version}"


class RuleRun(models.Model):
    """One evaluation of some rules over some players, split into chunks (SPEC §10 runs)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    key = models.CharField(
        max_length=200, unique=True, null=True, blank=True, help_text="e.g. event:<activity id>"
    )
    trigger = models.CharField(max_length=64, default="manual")
    rule_ids = models.JSONField(default=list)
    player_ids = models.JSONField(null=True, blank=True, help_text="null: all players")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    players_total = models.IntegerField(default=0)
    players_done = models.IntegerField(default=0)
    chunks_total = models.IntegerField(default=0)
    chunks_done = models.IntegerField(default=0)
    issued = models.IntegerField(default=0)
    review = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    held_out = models.IntegerField(default=0)
    capped = models.IntegerField(default=0)
    not_matched = models.IntegerField(default=0)
    event = models.JSONField(null=True, blank=True, help_text="the triggering event's fields")
    job_id = models.IntegerField(null=True, blank=True, help_text="the import job, if any")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    COUNTS = ("issued", "review", "rejected", "held_out", "capped", "not_matched")

    def __str__(self) -> str:
        return f"run {self.pk} ({self.trigger}, {self.status})"

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTS}


class RuleRunChunk(models.Model):
    """A chunk that finished: written in the chunk's own transaction, so a re-delivered chunk
    finds it and does nothing."""

    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.IntegerField()
    players = models.IntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, help_text="the Celery worker's name")
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="rule_run_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index}"


class Decision(models.Model):
    """One rule for one player in one run: the outcome and every step (SPEC §10 trace)."""

    class Outcome(models.TextChoices):
        ISSUED = "issued"
        PENDING_REVIEW = "pending_review"
        REJECTED = "rejected"
        HELD_OUT = "held_out"
        NOT_MATCHED = "not_matched"

    # No database foreign keys: a run writes 100,000s of rows by COPY and PostgreSQL would
    # queue and check three deferred constraint triggers per row at commit (ADR 0007). The
    # rows are written only by the run with ids it just read; Django still cascades deletes.
    run = models.ForeignKey(
        RuleRun, on_delete=models.CASCADE, related_name="decisions", db_constraint=False
    )
    rule = models.ForeignKey(
        Rule, on_delete=models.CASCADE, related_name="decisions", db_constraint=False
    )
    rule_version = models.PositiveIntegerField()
    player = models.ForeignKey(
        Player, on_delete=models.CASCADE, related_name="decisions", db_constraint=False
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=64, blank=True)
    steps = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # player first: it also answers "the latest decisions of P (for rule R)"
            models.UniqueConstraint(
                fields=["player", "rule", "run"], name="decision_player_rule_run_unique"
            )
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} × player {self.player_id}: {self.outcome}"


class Reward(models.Model):
    """A reward decided for a player by a rule in a run (SPEC §10 reward shape)."""

    class Status(models.TextChoices):
        ISSUED = "issued"
        PENDING_REVIEW = "pending_review"
        REJECTED = "rejected"
        HELD_OUT = "held_out"

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="rewards")
    rule_version = models.PositiveIntegerField()
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="rewards")
    run = models.ForeignKey(RuleRun, on_delete=models.PROTECT, related_name="rewards")
    reward_type = models.CharField(max_length=16, choices=Rule.RewardType.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    requested_amount = models.DecimalField(**MONEY)
    expected_cost = models.DecimalField(**MONEY, default=Decimal(0))
    reporting_amount = models.DecimalField(
        **MONEY, default=Decimal(0), help_text="amount in the reporting currency"
    )
    terms = models.JSONField(null=True, blank=True, help_text="the terms granted (copied)")
    budget = models.ForeignKey(
        "RuleBudget", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bonus = models.ForeignKey(
        "wallet.Bonus", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transaction = models.ForeignKey(
        "wallet.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "rule", "player"], name="reward_run_rule_player_unique"
            )
        ]
        indexes = [
            models.Index(fields=["player", "rule", "created_at"]),
            models.Index(fields=["status", "rule"]),
            # the dashboard's live part: rewards issued since the daily roll-up's cut-off
            models.Index(
                Coalesce("decided_at", "created_at"),
                condition=models.Q(status="issued"),
                name="reward_issued_at",
            ),
        ]

    def __str__(self) -> str:
        amount = money_format(self.amount, self.currency_id)  # "5.00", not 5.00000000
        return f"reward {self.pk}: {self.reward_type} {amount} {self.currency_id}"

    @property
    def idempotency_key(self) -> str:
        return f"reward:{self.run_id}:{self.rule_id}:{self.player_id}"


class ReviewQueueItem(Reward):
    """The review queue in the admin: rewards waiting for approval."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"


class RuleBudget(models.Model):
    """A rule's spend in one budget period, in the reporting currency. Concurrent runs reserve
    from it under a row lock, so their total never passes `limit`."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="budgets")
    period_start = models.DateTimeField()
    limit = models.DecimalField(**MONEY)
    spent = models.DecimalField(**MONEY, default=Decimal(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "period_start"], name="rule_budget_unique"),
            models.CheckConstraint(
                condition=models.Q(spent__lte=models.F("limit")), name="rule_budget_not_overspent"
            ),
        ]

    def __str__(self) -> str:
        spent, limit = (format(v.normalize(), "f") for v in (self.spent, self.limit))
        return f"rule {self.rule_id} budget from {self.period_start:%Y-%m-%d}: {spent}/{limit}"


class JurisdictionLimit(models.Model):
    """A limit that applies on top of every rule for players of one country (data, SPEC §6)."""

    class Kind(models.TextChoices):
        MAX_WAGERING_MULTIPLIER = "max_wagering_multiplier"
        ONE_WELCOME_BONUS = "one_welcome_bonus"
        MAX_AMOUNT = "max_amount"

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    value = models.DecimalField(**MONEY, null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "kind"], name="jurisdiction_limit_unique")
        ]

    def __str__(self) -> str:
        # Decimal(str()): before a save the value may still be the text it was given
        value = "" if self.value is None else format(Decimal(str(self.value)).normalize(), "f")
        return f"{self.country}: {self.kind} {value}".rstrip()


class RewardDay(models.Model):
    """Rewards issued per rule per calendar day (reporting time zone, by the reward's
    `created_at`), with their cost in the reporting currency (`reporting_amount`): a roll-up for
    the back office's chart, rebuilt with the daily activity roll-up
    (`rewards.services.reward_days_refresh`). It holds the rewards issued before
    `covered_until` (by `decided_at`, else `created_at`); later ones are read live (ADR 0015).
    """

    day = models.DateField()
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    issued = models.IntegerField(default=0)
    cost = models.DecimalField(max_digits=24, decimal_places=8, default=0)
    covered_until = models.DateTimeField(help_text="the refresh's cut-off: issued before it")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rule"], name="reward_day_unique")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} rule {self.rule_id}"
