"""A player's wallet on the player's page (SPEC §11): balances, bonuses with their wagering
progress bars, the latest ledger transactions, and links to grant, adjust or forfeit — each
through the wallet's forms, with a reason."""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.admin import PageOnlyInline, inlines_add
from players.admin import player_tool_register
from players.models import Player
from players.money import currency_quantum, money_format
from wallet.models import Account, Bonus, Entry, LedgerTransaction
from wallet.wagering import wagering_progress

LEDGER_ROWS = 20


def wagering_percent(*, required: Decimal, done: Decimal) -> int:
    """Whole percent of the requirement wagered, rounded down (99.9% is 99, never 100): the bar
    is full only when nothing is left. A bonus without a requirement is 100."""
    if required <= 0:
        return 100
    return min(100, int(done * 100 / required))


def wagering_shown(bonus: Bonus) -> tuple[Decimal, Decimal, Decimal, int]:
    """(required, done, remaining) in the bonus currency's minor units, as the player sees them
    (`wallet.wagering.wagering_progress`), and the whole percent wagered."""
    required, done, remaining = wagering_progress(
        required=bonus.wagering_required,
        done=bonus.wagering_done,
        quantum=currency_quantum(bonus.currency_id),
    )
    percent = wagering_percent(required=bonus.wagering_required, done=bonus.wagering_done)
    return required, done, remaining, percent


class PlayerAccountInline(PageOnlyInline):
    model = Account
    page_order = 10
    verbose_name_plural = "wallet (balances)"
    fields = readonly_fields = ["kind", "currency", "bonus", "balance_shown", "is_open"]
    ordering = ["kind", "currency", "pk"]

    @admin.display(description="balance")
    def balance_shown(self, account: Account) -> str:
        return money_format(account.balance, account.currency_id)


class PlayerBonusInline(PageOnlyInline):
    model = Bonus
    page_order = 20
    verbose_name_plural = "bonuses (wagering progress)"
    fields = readonly_fields = [
        "bonus", "status", "amount_shown", "wagering_bar", "expires_at", "source", "forfeit",
    ]  # fmt: skip
    ordering = ["-created_at", "-pk"]
    rows_limit = 50

    @admin.display(description="bonus")
    def bonus(self, bonus: Bonus) -> str:
        url = reverse("admin:wallet_bonus_change", args=[bonus.pk])
        return format_html('<a href="{}">{}</a>', url, bonus.pk)

    @admin.display(description="amount")
    def amount_shown(self, bonus: Bonus) -> str:
        return f"{money_format(bonus.amount, bonus.currency_id)} {bonus.currency_id}"

    @admin.display(description="wagered / required")
    def wagering_bar(self, bonus: Bonus) -> str:
        required, done, _, percent = wagering_shown(bonus)
        return format_html(
            '<progress class="wagering" max="100" value="{}"></progress> '
            '<span class="wagering-figures">{} / {} ({}%)</span>',
            percent,
            f"{done:f}",
            f"{required:f}",
            percent,
        )

    @admin.display(description="")
    def forfeit(self, bonus: Bonus) -> str:
        if bonus.status != Bonus.Status.ACTIVE:
            return ""
        url = reverse("admin:wallet_bonus_forfeit", args=[bonus.pk])
        return format_html('<a href="{}">Forfeit…</a>', url)


class PlayerLedgerInline(PageOnlyInline):
    model = LedgerTransaction
    fk_name = "player"
    page_order = 30
    verbose_name_plural = f"ledger (latest {LEDGER_ROWS} transactions)"
    fields = readonly_fields = ["transaction", "kind", "legs", "reason", "created_by", "created_at"]
    ordering = ["-created_at", "-pk"]
    rows_limit = LEDGER_ROWS

    def get_queryset(self, request):
        legs = Entry.objects.select_related("account").order_by("pk")
        return (
            super().get_queryset(request)
            .select_related("created_by")
            .prefetch_related(Prefetch("entries", queryset=legs))
        )  # fmt: skip

    @admin.display(description="transaction")
    def transaction(self, row: LedgerTransaction) -> str:
        url = reverse("admin:wallet_ledgertransaction_change", args=[row.pk])
        return format_html('<a href="{}">{}</a>', url, row.pk)

    @admin.display(description="player's legs")
    def legs(self, row: LedgerTransaction) -> str:
        mine = [e for e in row.entries.all() if e.account.player_id == row.player_id]
        return format_html_join(
            ", ",
            "{} {} {}",
            (
                (e.account.kind, money_format(e.amount, e.account.currency_id),
                 e.account.currency_id)
                for e in mine
            ),
        )  # fmt: skip


def wallet_tools(request, player: Player):
    """Grant and adjust from the player's page, the form filled with the player."""
    filled = urlencode({"player": player.external_id, "currency": player.currency_id})
    if request.user.has_perm("wallet.add_bonus"):
        yield "Grant a bonus", f"{reverse('admin:wallet_bonus_add')}?{filled}"
    if request.user.has_perm("wallet.add_ledgertransaction"):
        yield "Manual adjustment", f"{reverse('admin:wallet_ledgertransaction_add')}?{filled}"


def player_admin_extend() -> None:
    inlines_add(Player, PlayerAccountInline, PlayerBonusInline, PlayerLedgerInline)
    player_tool_register(wallet_tools)
