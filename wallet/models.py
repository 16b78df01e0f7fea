"""Accounts, the double-entry ledger, bonuses and wagering (SPEC §8, ADR 0003).

The database holds the invariants: entries of a transaction sum to zero per currency (a
deferred constraint trigger), entries are append-only (a trigger), an entry's amount is never
zero and a player account's cached balance never negative (CHECK), idempotency keys are unique.
The cached `balance` of a player account is maintained by a trigger on entry insert, so no code
path can move money without moving the balance; house accounts keep no cached balance.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from players.models import MONEY, Currency, GameCategory, Player
from players.money import money_format


class Bonus(models.Model):
    """One bonus grant with its terms copied on; its money lives in its own bonus account."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        COMPLETED = "completed"
        EXPIRED = "expired"
        FORFEITED = "forfeited"
        CANCELLED = "cancelled"

    class WageringBase(models.TextChoices):
        BONUS = "bonus"
        DEPOSIT = "deposit"
        BONUS_PLUS_DEPOSIT = "bonus_plus_deposit"

    class Kind(models.TextChoices):
        """`free_spins`: a free-spins grant (count × spin value), the promo money an aggregator
        plays with PROMO transactions (wallet/aggregator/); `bonus`: any other grant."""

        BONUS = "bonus"
        FREE_SPINS = "free_spins", "Free spins"

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="bonuses")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BONUS)
    amount = models.DecimalField(**MONEY)
    wagering_multiplier = models.DecimalField(max_digits=10, decimal_places=4)
    wagering_base = models.CharField(
        max_length=24, choices=WageringBase.choices, default=WageringBase.BONUS
    )
    deposit_amount = models.DecimalField(**MONEY, default=Decimal(0))
    wagering_required = models.DecimalField(**MONEY)
    wagering_done = models.DecimalField(**MONEY, default=Decimal(0))
    # Cash this grant has paid so far (its conversion plus the bonus shares of later wins),
    # kept so that max_conversion caps everything the grant ever pays.
    converted = models.DecimalField(**MONEY, default=Decimal(0))
    contribution_weights = models.JSONField(default=dict, help_text='{"slots": "1.0", ...}')
    game_weights = models.JSONField(default=dict, help_text='Per game id: {"g-1": "0.5"}')
    max_bet = models.DecimalField(**MONEY, null=True, blank=True)
    max_conversion = models.DecimalField(**MONEY, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=64, blank=True, help_text="manual, reward:<id>, …")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name_plural = "bonuses"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bonus_amount_positive"),
            models.CheckConstraint(
                condition=Q(wagering_multiplier__gte=0), name="bonus_multiplier_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(wagering_done__gte=0), name="bonus_wagering_done_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_bet__isnull=True) | Q(max_bet__gt=0), name="bonus_max_bet_positive"
            ),
            models.CheckConstraint(
                condition=Q(converted__gte=0)
                & (Q(max_conversion__isnull=True) | Q(converted__lte=F("max_conversion"))),
                name="bonus_converted_within_cap",
            ),
            models.CheckConstraint(
                condition=Q(max_conversion__isnull=True) | Q(max_conversion__gte=0),
                name="bonus_max_conversion_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["player", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        amount = money_format(self.amount, self.currency_id)
        return f"bonus {self.pk} {amount} {self.currency_id} ({self.status})"

    @property
    def wagering_remaining(self) -> Decimal:
        return max(Decimal(0), self.wagering_required - self.wagering_done)


class Account(models.Model):
    """A player's cash account per currency, a bonus account per grant, or a house account."""

    class Kind(models.TextChoices):
        CASH = "cash"
        BONUS = "bonus"
        HOUSE_BANK = "house_bank", "house: bank / payment settlement"
        HOUSE_GAME = "house_game", "house: game (stakes and wins)"
        HOUSE_BONUS_EXPENSE = "house_bonus_expense", "house: bonus expense"
        HOUSE_BONUS_FORFEIT = "house_bonus_forfeit", "house: forfeited bonus"
        HOUSE_ADJUSTMENT = "house_adjustment", "house: manual adjustments"

    player = models.ForeignKey(
        Player, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    bonus = models.OneToOneField(
        Bonus, null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    # Player accounts only (kept by the entry trigger); house balances are derived from entries
    # so that no house row is updated by every operation.
    balance = models.DecimalField(**MONEY, default=Decimal(0))
    # A bonus account is open while its bonus is active; closing it is part of ending the bonus.
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="cash", player__isnull=False, bonus__isnull=True)
                    | Q(kind="bonus", player__isnull=False, bonus__isnull=False)
                    | Q(kind__startswith="house_", player__isnull=True, bonus__isnull=True)
                ),
                name="account_kind_shape",
            ),
            models.UniqueConstraint(
                fields=["player", "currency"],
                condition=Q(kind="cash"),
                name="account_one_cash_per_currency",
            ),
            models.UniqueConstraint(
                fields=["currency", "kind"],
                condition=Q(player__isnull=True),
                name="account_one_house_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["player", "currency", "kind"])]

    def __str__(self) -> str:
        owner = self.player_id and f"player {self.player_id}" or "house"
        return f"{owner} {self.kind} {self.currency_id}"


class LedgerTransaction(models.Model):
    """One movement of money: entries that sum to zero per currency. Append-only."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        BET = "bet"
        WIN = "win"
        ROLLBACK = "rollback"
        CHARGEBACK = "chargeback"
        BONUS_GRANT = "bonus_grant"
        BONUS_CONVERT = "bonus_convert"
        BONUS_FORFEIT = "bonus_forfeit"
        BONUS_EXPIRE = "bonus_expire"
        ADJUSTMENT = "adjustment"
        CASH_REWARD = "cash_reward"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=255, unique=True)
    player = models.ForeignKey(
        Player, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    activity = models.ForeignKey(
        "players.Activity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_transactions",
    )
    bonus = models.ForeignKey(
        Bonus, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # For a bet: where the stake came from ({"cash": "3.00", "bonus": {"<id>": "2.00"}}) and the
    # wagering it added, so that wins split and rollbacks reverse without re-deriving it.
    details = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["player", "-created_at"]),
            models.Index(fields=["activity"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Entry(models.Model):
    """One leg of a ledger transaction: a signed amount on one account. Append-only."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**MONEY)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return f"entry {self.pk} of transaction {self.transaction_id}"


class IdempotentRequest(models.Model):
    """The first answer to a money-moving API call with an `Idempotency-Key` header."""

    key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


class RememberedRollback(models.Model):
    """A rollback that arrived before the bet it cancels (providers send one when a bet timed
    out on their side). It moved no money; a bet it names that arrives later is refused
    (`bet_rolled_back`), so the player never loses a stake the provider considers cancelled."""

    activity = models.OneToOneField(
        "players.Activity", on_delete=models.PROTECT, related_name="remembered_rollback"
    )
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=32)
    reference_id = models.CharField(max_length=200, blank=True)
    round_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["player", "source"])]

    def __str__(self) -> str:
        return f"rollback of {self.reference_id or 'round ' + self.round_id} (before its bet)"


class BalancePolicy(models.Model):
    """How bets draw on cash and bonus money and how wins come back, per currency (SPEC §8
    fixes the defaults: real money first, wins split in proportion to the stake's sources).

    A currency without a row uses the defaults. Staff edit the rows in the admin; the wallet
    reads them through `wallet.policies.balance_policy` (cached per process).
    """

    class BetOrder(models.TextChoices):
        CASH_FIRST = "cash_first", "cash first, then bonus (default)"
        BONUS_FIRST = "bonus_first", "bonus first, then cash"

    class WinSplit(models.TextChoices):
        PROPORTIONAL = "proportional", "in proportion to the stake's sources (default)"
        CASH_STAKE_FIRST = "cash_stake_first", "repay the cash stake first, the rest to the bonus"

    currency = models.OneToOneField(
        Currency, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    bet_order = models.CharField(
        max_length=16, choices=BetOrder.choices, default=BetOrder.CASH_FIRST
    )
    win_split = models.CharField(
        max_length=16, choices=WinSplit.choices, default=WinSplit.PROPORTIONAL
    )

    class Meta:
        verbose_name_plural = "balance policies"

    def __str__(self) -> str:
        return f"{self.currency_id}: {self.bet_order}, {self.win_split}"


class Aggregator(models.Model):
    """A game aggregator deployment allowed to call the wallet (wallet/aggregator/).

    Its API token is stored as a SHA-256 hash (the token is 32 random bytes, so a fast hash
    is enough); `source` namespaces its events, rounds and transaction ids in the ledger.
    """

    class Protocol(models.TextChoices):
        VALKYRIE = "valkyrie", "Valkyrie PAM API"

    name = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=20, unique=True, help_text="Its events' source: agg:<slug>")
    protocol = models.CharField(max_length=16, choices=Protocol.choices, default=Protocol.VALKYRIE)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    session_minutes = models.PositiveIntegerField(
        default=30, help_text="Game session lifetime; each use in the second half renews it."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        return f"agg:{self.slug}"


class GameSession(models.Model):
    """A game session Pitboss issued to a player for one aggregator (the launch token).

    Only the token's SHA-256 hash is stored. A refresh replaces the session by a new one and
    marks this one `replaced_at`; an expired or replaced session may still settle wins and
    cancels of its bets, never place a bet.
    """

    aggregator = models.ForeignKey(Aggregator, on_delete=models.PROTECT, related_name="sessions")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="game_sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    country = models.CharField(max_length=2)
    language = models.CharField(max_length=2, default="EN")
    game_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["player", "-created_at"])]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.player_id} ({self.aggregator_id})"


class GameRound(models.Model):
    """A game round of a source that reports round ends (aggregators): opened by its first
    bet, closed by the win that says the game is over. Kept by the ingestion path
    (wallet/events.py) in the events' transactions; no money lives here."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=32)
    round_id = models.CharField(max_length=200)
    game_id = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["player", "source", "round_id"], name="game_round_unique"
            )
        ]

    def __str__(self) -> str:
        return f"round {self.round_id} ({'closed' if self.ended_at else 'open'})"


class Game(models.Model):
    """The game catalogue: an aggregator's game id mapped to a wagering category.

    A game first seen in a bet is added as `other`, unreviewed (the admin warns about it);
    staff set its category, which marks it reviewed. A bet is never refused for its game.
    """

    aggregator = models.ForeignKey(Aggregator, on_delete=models.CASCADE, related_name="games")
    game_id = models.CharField(max_length=100)
    name = models.CharField(max_length=128, blank=True)
    category = models.CharField(
        max_length=16, choices=GameCategory.choices, default=GameCategory.OTHER
    )
    reviewed = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["aggregator", "game_id"], name="game_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.game_id} ({self.category})"
