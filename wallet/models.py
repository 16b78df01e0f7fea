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

from players.models import MONEY, Currency, Player
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

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="bonuses")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
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
