"""Players, their money activity, stored metrics and segments (SPEC §2–5)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 20, "decimal_places": 8}


class Currency(models.Model):
    """A currency Pitboss can hold: ISO 4217 or a crypto code, with its minor-unit digits."""

    code = models.CharField(max_length=10, primary_key=True)
    name = models.CharField(max_length=64, blank=True)
    minor_units = models.PositiveSmallIntegerField(default=2)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(
                condition=Q(minor_units__lte=8), name="currency_minor_units_lte_8"
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.minor_units)


class ExchangeRate(models.Model):
    """Value of one unit of `currency` in the reporting currency, in force from `valid_from`."""

    currency = models.ForeignKey(Currency, on_delete=models.CASCADE, related_name="rates")
    valid_from = models.DateTimeField()
    rate = models.DecimalField(max_digits=24, decimal_places=12)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="rate_unique_start"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]
        indexes = [models.Index(fields=["currency", "-valid_from"])]

    def __str__(self) -> str:
        # str(), not a date format: a rate may be shown (audited) while valid_from is still
        # the text it was assigned from
        return f"1 {self.currency_id} = {self.rate} from {str(self.valid_from)[:10]}"


class Segment(models.TextChoices):
    NEW = "new"
    BREAKEVEN = "breakeven"
    LOSING = "losing"
    WINNING = "winning"
    VIP = "vip"


class Player(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        BLOCKED = "blocked"
        SELF_EXCLUDED = "self_excluded"
        CLOSED = "closed"

    external_id = models.CharField(max_length=128, unique=True)
    username = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    segment = models.CharField(max_length=16, choices=Segment.choices, default=Segment.NEW)
    risk_score = models.PositiveSmallIntegerField(default=0)
    no_bonus = models.BooleanField(default=False, help_text="Never offer this player a bonus.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(risk_score__lte=100), name="player_risk_lte_100"),
        ]
        indexes = [models.Index(fields=["segment"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.external_id

    @property
    def masked_email(self) -> str:
        return mask(self.email)

    @property
    def masked_username(self) -> str:
        return mask(self.username)


def mask(value: str) -> str:
    """Show enough of a personal value to recognise it, not to read it: `j***@e***.com`."""
    if not value:
        return ""
    if "@" in value:
        local, _, domain = value.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{local[:1]}***@{host[:1]}***.{tld}" if host else f"{local[:1]}***@***"
    return f"{value[:1]}***"


class Fingerprint(models.Model):
    """A device, IP or payment instrument seen on a player (multi-account detection)."""

    class Kind(models.TextChoices):
        DEVICE = "device"
        IP = "ip"
        PAYMENT = "payment"

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="fingerprints")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=128, help_text="Device id, IP or payment-instrument hash.")
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "kind", "value"], name="fingerprint_unique")
        ]
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        # a device id or instrument hash identifies nothing by itself; an IP address is PII
        return f"{self.kind} {mask(self.value) if self.kind == self.Kind.IP else self.value}"


class GameCategory(models.TextChoices):
    SLOTS = "slots"
    TABLE = "table"
    LIVE = "live"
    SPORTS = "sports"
    POKER = "poker"
    OTHER = "other"


class Activity(models.Model):
    """One money event, append-only. `count` > 1 stores a daily or period aggregate row."""

    class Type(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        BET = "bet"
        WIN = "win"
        ROLLBACK = "rollback"
        CHARGEBACK = "chargeback"

    source = models.CharField(max_length=32, default="api", help_text="api, or import:<kind>")
    external_id = models.CharField(max_length=200)
    # No single-column indexes: (player, occurred_at) serves player lookups, and currencies are
    # never searched by their activity; each index costs the bulk import dearly (bench/).
    player = models.ForeignKey(
        Player, on_delete=models.PROTECT, related_name="activity", db_index=False
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    amount = models.DecimalField(**MONEY)
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The amount in the player's primary currency at the rate in force when it occurred,
    # fixed at ingest so that metrics are a plain SUM (ADR 0002).
    player_amount = models.DecimalField(**MONEY)
    occurred_at = models.DateTimeField()
    game_id = models.CharField(max_length=100, blank=True)
    game_category = models.CharField(max_length=16, choices=GameCategory.choices, blank=True)
    round_id = models.CharField(max_length=200, blank=True)
    reference_id = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activity"
        # Each index names the queries that need it: every index costs the bulk import (the
        # (occurred_at) one alone ~2.5 s per 1,000,000 rows, bench/README.md).
        constraints = [
            # idempotency: a resent event's INSERT fails on it (wallet.events answers from the
            # receipt), the importer's ON CONFLICT and anti-joins (importer.loading), the
            # aggregator's lookup of a duplicate (wallet.aggregator.valkyrie); a rollback's bet
            # by its external id (players.analytics)
            models.UniqueConstraint(
                fields=["source", "external_id"], name="activity_unique_source_id"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="activity_amount_not_negative"),
            models.CheckConstraint(condition=Q(count__gte=1), name="activity_count_positive"),
        ]
        indexes = [
            # one player's activity in a window: the metrics' per-player windows for a scope
            # (players.analytics), the rewards' after-decision windows (rewards.selectors), the
            # game mix of a scope (safety.selectors), the admin player page's recent activity
            models.Index(fields=["player", "occurred_at"]),
            # every player's activity in a window: a full metrics refresh's short windows
            # (players.analytics), the dashboard's today and the nightly daily roll-up
            # (players.selectors.daily_money), the unscoped lookbacks of the abuse detectors
            # (safety.fraud: bonus ratio, chargebacks, max-bet breaches).
            # A BRIN would cost the import nothing but reads every block range when the rows
            # are not stored in time order (an export sorted by player): kept a B-tree.
            models.Index(fields=["occurred_at"]),
            # Live wins and rollbacks find their bets by round (wallet.services.bets_referenced),
            # for the API and the aggregators alike; imports (`import:<kind>`) skip it. A range,
            # not NOT LIKE: PostgreSQL proves `source = 'agg:x'` implies `source < 'import:'`,
            # so the index serves every live source (they all sort before "import:").
            models.Index(
                fields=["player", "round_id"],
                condition=Q(source__lt="import:") & ~Q(round_id=""),
                name="activity_live_round",
            ),
        ]

    def __str__(self) -> str:
        amount = format(self.amount.quantize(self.currency.quantum), "f")  # "5.00", not 5.00000000
        return f"{self.type} {amount} {self.currency_id} ({self.external_id})"


class BonusActivity(models.Model):
    """Bonus money facts that analytics needs (granted, converted, cash rewards paid).

    Written by the wallet in the same transaction as the ledger movement, in the player's
    primary currency, so that `bonus_cost` and `bonus_to_deposit_ratio` are plain sums here.
    """

    class Kind(models.TextChoices):
        GRANTED = "granted"
        CONVERTED = "converted"
        CASH_PAID = "cash_paid"

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="bonus_activity")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    player_amount = models.DecimalField(**MONEY)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "bonus activity"
        indexes = [models.Index(fields=["player", "occurred_at"])]

    def __str__(self) -> str:
        amount = format(self.player_amount.normalize(), "f")
        return f"{self.kind} {amount} on {self.occurred_at:%Y-%m-%d}"


class PlayerMetrics(models.Model):
    """Stored metrics of one player over one window (players/metrics.py defines them)."""

    class Window(models.TextChoices):
        LIFETIME = "lifetime"
        D30 = "30d"
        D7 = "7d"

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="metrics")
    window = models.CharField(max_length=8, choices=Window.choices)
    as_of = models.DateTimeField()
    deposits = models.DecimalField(**MONEY, default=0)
    deposit_count = models.IntegerField(default=0)
    withdrawals = models.DecimalField(**MONEY, default=0)
    withdrawal_count = models.IntegerField(default=0)
    net_deposits = models.DecimalField(**MONEY, default=0)
    turnover = models.DecimalField(**MONEY, default=0)
    bet_count = models.IntegerField(default=0)
    wins = models.DecimalField(**MONEY, default=0)
    ggr = models.DecimalField(**MONEY, default=0)
    bonus_cost = models.DecimalField(**MONEY, default=0)
    ngr = models.DecimalField(**MONEY, default=0)
    player_net = models.DecimalField(**MONEY, default=0)
    net_loss = models.DecimalField(**MONEY, default=0)
    rtp = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    avg_bet = models.DecimalField(**MONEY, null=True)
    active_days = models.IntegerField(default=0)
    days_since_last_bet = models.IntegerField(null=True)
    days_since_last_deposit = models.IntegerField(null=True)
    days_since_registration = models.IntegerField(null=True)
    bonus_granted = models.DecimalField(**MONEY, default=0)
    bonus_to_deposit_ratio = models.DecimalField(max_digits=20, decimal_places=6, null=True)

    class Meta:
        verbose_name_plural = "player metrics"
        constraints = [
            models.UniqueConstraint(fields=["player", "window"], name="metrics_unique_window")
        ]
        indexes = [models.Index(fields=["window", "player"])]

    def __str__(self) -> str:
        return f"{self.window} metrics as of {self.as_of:%Y-%m-%d %H:%M}"


class SegmentPolicy(models.Model):
    """The staff-editable lifecycle thresholds (SPEC §5). One row; `SegmentPolicy.current()`."""

    vip_turnover_30d = models.DecimalField(**MONEY, default=Decimal("50000"))
    vip_deposits_30d = models.DecimalField(**MONEY, default=Decimal("10000"))
    band_minimum = models.DecimalField(**MONEY, default=Decimal("50"))
    band_turnover_share = models.DecimalField(
        max_digits=6, decimal_places=4, default=Decimal("0.05")
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "segment policy"

    def __str__(self) -> str:
        return "Segmentation policy"

    @classmethod
    def current(cls) -> "SegmentPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class VipThreshold(models.Model):
    """Per-currency VIP thresholds; a currency without a row uses the policy's defaults."""

    policy = models.ForeignKey(
        SegmentPolicy, on_delete=models.CASCADE, related_name="vip_thresholds"
    )
    currency = models.ForeignKey(Currency, on_delete=models.CASCADE, related_name="+")
    vip_turnover_30d = models.DecimalField(**MONEY)
    vip_deposits_30d = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "currency"], name="vip_threshold_unique")
        ]

    def __str__(self) -> str:
        return f"VIP thresholds in {self.currency_id}"


class SegmentChange(models.Model):
    """Every change of a player's lifecycle segment, with the metric values behind it."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="segment_changes")
    from_segment = models.CharField(max_length=16, choices=Segment.choices)
    to_segment = models.CharField(max_length=16, choices=Segment.choices)
    changed_at = models.DateTimeField()
    metrics = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["player", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_segment} → {self.to_segment} on {self.changed_at:%Y-%m-%d %H:%M}"


class EventReceipt(models.Model):
    """The first answer given to an event `external_id`; replays answer it again (SPEC §10)."""

    external_id = models.CharField(max_length=200, unique=True)
    payload_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16)  # applied | rejected
    reason_code = models.CharField(max_length=32, blank=True)
    reason_message = models.CharField(max_length=255, blank=True)
    balances = models.JSONField(default=dict)
    warnings = models.JSONField(default=list, blank=True)
    activity = models.OneToOneField(
        Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="receipt"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"event {self.external_id}: {self.status}"


class ActivityDay(models.Model):
    """Money of one calendar day (reporting time zone) in one currency, summed over all players:
    GGR (stakes − rolled-back stakes − wins, in the activity's currency) and bonus cost
    (converted bonus money and cash rewards paid, in the player's currency).

    A roll-up for the back office's daily charts, rebuilt for the last days by
    `players.services.activity_days_refresh` (the full refresh, after each import): the days
    before `covered_until` are read from here, later ones from the activity itself (ADR 0015).
    """

    day = models.DateField()
    currency = models.ForeignKey(Currency, on_delete=models.CASCADE, related_name="+")
    ggr = models.DecimalField(max_digits=24, decimal_places=8, default=0)
    bonus_cost = models.DecimalField(max_digits=24, decimal_places=8, default=0)
    covered_until = models.DateTimeField(help_text="the refresh's cut-off: activity before it")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "currency"], name="activity_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.currency_id}"


class BatchJob(models.Model):
    """One batch job over many players (metrics refresh, segmentation, fraud scan), split into
    id-range chunks that any number of Celery workers share (players/batch.py, ADR 0018).

    The counters are the job's progress: each chunk adds to them, set-based, in its own
    transaction; the chunk that brings `chunks_done` to `chunks_total` finishes the job.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=32, help_text="a registered kind: players/batch.py")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    player_ids = models.JSONField(null=True, blank=True, help_text="null: all players")
    params = models.JSONField(default=dict, blank=True, help_text="e.g. as_of (ISO timestamp)")
    chunk_size = models.PositiveIntegerField(default=5000)
    players_total = models.IntegerField(default=0)
    players_done = models.IntegerField(default=0)
    chunks_total = models.IntegerField(default=0)
    chunks_done = models.IntegerField(default=0)
    result = models.BigIntegerField(
        default=0, help_text="what the chunks counted: metric rows, segment changes, flags"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"


class BatchChunk(models.Model):
    """A chunk that finished (the players with ids in [first_id, last_id] of its job): written
    in the chunk's own transaction, so a re-delivered chunk finds it and does nothing."""

    job = models.ForeignKey(BatchJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.IntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    players = models.IntegerField(default=0)
    result = models.BigIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, help_text="the Celery worker's name")
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="batch_chunk_unique")]

    def __str__(self) -> str:
        return f"{self.job} chunk {self.index}"
