"""Back office for the wallet: the ledger and balances read-only; grants, forfeits and manual
adjustments only through forms that call the services, each audited by its service (staff
user and reason on the ledger transaction, and an entry in the audit log, config/audit.py)."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from config.admin import ExportAdminMixin, MinorUnitsMixin
from config.errors import DomainError
from players.models import Currency, Player
from players.money import decimal_text_parse, money_format
from wallet import admin_player, services
from wallet.admin_player import wagering_shown
from wallet.aggregator import admin as aggregator_admin  # noqa: F401  (registers its models)
from wallet.models import (
    Account,
    BalancePolicy,
    Bonus,
    Entry,
    GameRound,
    GameSession,
    LedgerTransaction,
)

TEMPLATE = "admin/wallet/service_form.html"


class MoneyFormField(forms.DecimalField):
    """An amount typed by staff: plain ASCII decimals only, as in the API (docs/api.md)."""

    def to_python(self, value):
        if value not in self.empty_values:
            try:
                decimal_text_parse(str(value).strip())
            except DomainError as error:
                raise forms.ValidationError(error.message) from None
        return super().to_python(value)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(MinorUnitsMixin, ReadOnlyAdmin):
    list_display = ["id", "player", "currency", "kind", "bonus", "balance_shown", "is_open"]
    money_fields = ("balance",)
    list_select_related = ["player", "currency"]
    list_filter = ["kind", "currency", "is_open"]
    search_fields = ["player__external_id"]
    list_select_related = ["player"]
    raw_id_fields = ["player", "bonus"]


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount_shown"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="amount")
    def amount_shown(self, entry: Entry) -> str:
        return money_format(entry.amount, entry.account.currency_id)


class Posted(NamedTuple):
    """What a money form wrote: the row, the staff message, where to go next."""

    written: Model
    message: str
    route: str


def _filled(request) -> dict:
    """A new money form's initial values: a fresh idempotency key, and the player and currency
    when the form is opened from a player's page (`?player=<external id>&currency=EUR`)."""
    return {
        "key": uuid.uuid4().hex,
        **{name: request.GET[name] for name in ("player", "currency") if name in request.GET},
    }


def _service_form_view(model_admin, request, form, title: str, submit_label: str, perform):
    """Show a money form; on a valid POST call `perform(player, data)` (its service audits).
    Only for users with the model's add permission (a grant, an adjustment): 403 otherwise."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            posted = perform(Player.objects.get(external_id=data["player"]), data)
        except Player.DoesNotExist:
            form.add_error("player", "No such player.")
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, posted.message)
            return redirect(posted.route, posted.written.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "submit_label": submit_label,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, TEMPLATE, context)


class AdjustmentForm(forms.Form):
    player = forms.CharField(label="Player external id")
    currency = forms.ModelChoiceField(Currency.objects.filter(active=True))
    amount = MoneyFormField(max_digits=20, decimal_places=8, help_text="Negative takes cash.")
    reason = forms.CharField(max_length=255)
    key = forms.CharField(widget=forms.HiddenInput)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ExportAdminMixin, ReadOnlyAdmin):
    export_name = "ledger"
    export_link = "transaction"  # the entries of the listed transactions
    list_display = ["id", "kind", "player", "bonus", "reason", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["player__external_id", "idempotency_key"]
    list_select_related = ["player", "created_by"]
    inlines = [EntryInline]
    raw_id_fields = ["player", "activity", "bonus", "reverses"]

    def has_add_permission(self, request) -> bool:
        # "Add" is the manual adjustment form: the only transaction staff write by hand.
        return request.user.has_perm("wallet.add_ledgertransaction")

    def add_view(self, request, form_url="", extra_context=None):
        form = AdjustmentForm(request.POST or None, initial=_filled(request))

        def adjust(player: Player, data: dict) -> Posted:
            posted = services.wallet_adjust(
                player=player,
                currency=data["currency"].code,
                amount=data["amount"],
                reason=data["reason"],
                idempotency_key=f"admin:adjust:{data['key']}",
                by=request.user,
            )
            return Posted(
                posted,
                f"Adjusted {player}: {data['amount']}.",
                "admin:wallet_ledgertransaction_change",
            )

        return _service_form_view(self, request, form, "Manual adjustment", "Adjust", adjust)


class BonusGrantForm(forms.Form):
    player = forms.CharField(label="Player external id")
    currency = forms.ModelChoiceField(Currency.objects.filter(active=True))
    amount = MoneyFormField(max_digits=20, decimal_places=8)
    wagering_multiplier = forms.DecimalField(max_digits=10, decimal_places=4, min_value=0)
    wagering_base = forms.ChoiceField(choices=Bonus.WageringBase.choices)
    deposit_amount = MoneyFormField(
        max_digits=20,
        decimal_places=8,
        min_value=0,
        required=False,
        help_text="Required (above 0) when wagering is based on the deposit.",
    )
    max_bet = MoneyFormField(max_digits=20, decimal_places=8, required=False)
    max_conversion = MoneyFormField(max_digits=20, decimal_places=8, required=False)
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, required=False)
    reason = forms.CharField(max_length=255)
    key = forms.CharField(widget=forms.HiddenInput)


class ForfeitForm(forms.Form):
    reason = forms.CharField(max_length=255)


@admin.register(Bonus)
class BonusAdmin(MinorUnitsMixin, admin.ModelAdmin):
    money_fields = ("amount", "deposit_amount", "converted", "max_bet", "max_conversion")
    shown_instead = {
        "wagering_required": "wagering",
        "wagering_done": "wagering",
        "wagering_multiplier": "multiplier",
    }
    list_display = [
        "id", "player", "currency", "status", "amount_shown", "wagering", "max_bet_shown",
        "expires_at", "granted_by",
    ]  # fmt: skip
    list_filter = ["status", "currency", "wagering_base"]
    search_fields = ["player__external_id"]
    list_select_related = ["player", "granted_by"]
    raw_id_fields = ["player", "granted_by"]
    actions = ["forfeit"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="wagering multiplier")
    def multiplier(self, bonus: Bonus) -> str:
        return format(bonus.wagering_multiplier.normalize(), "f")  # "1.5", not "1.5000"

    @admin.display(description="wagering done / required (left)")
    def wagering(self, bonus: Bonus) -> str:
        required, done, remaining, _ = wagering_shown(bonus)
        return f"{done:f} / {required:f} ({remaining:f} left)"

    def has_forfeit_permission(self, request) -> bool:
        return request.user.has_perm("wallet.change_bonus")

    def add_view(self, request, form_url="", extra_context=None):
        form = BonusGrantForm(request.POST or None, initial=_filled(request))

        def grant(player: Player, data: dict) -> Posted:
            days = data["expires_in_days"]
            bonus = services.bonus_grant(
                player=player,
                currency=data["currency"].code,
                amount=data["amount"],
                wagering_multiplier=data["wagering_multiplier"],
                wagering_base=data["wagering_base"],
                deposit_amount=data["deposit_amount"] or Decimal(0),
                max_bet=data["max_bet"],
                max_conversion=data["max_conversion"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                reason=data["reason"],
                source="admin",
                idempotency_key=f"admin:grant:{data['key']}",
                granted_by=request.user,
            )
            return Posted(
                bonus,
                f"Granted {bonus}.",
                "admin:wallet_bonus_change",
            )

        return _service_form_view(self, request, form, "Grant a bonus", "Grant", grant)

    def get_urls(self):
        forfeit = self.admin_site.admin_view(self.forfeit_view)
        return [
            path("<int:pk>/forfeit/", forfeit, name="wallet_bonus_forfeit"),
            *super().get_urls(),
        ]

    def _forfeit(self, request, bonus: Bonus, reason: str) -> bool:
        """Forfeit one bonus through the service (which audits it); False (with a message) if the
        wallet refuses."""
        try:
            services.bonus_forfeit(bonus=bonus, reason=reason, by=request.user)
        except DomainError as exc:
            messages.error(request, f"{bonus}: {exc.message}")
            return False
        return True  # the service records it in the audit log

    def _forfeit_form(self, request, form, bonuses, action: str = ""):
        context = {
            **self.admin_site.each_context(request),
            "title": "Forfeit bonuses" if action else f"Forfeit {bonuses[0]}",
            "form": form,
            "bonuses": bonuses,
            "action": action,
            "submit_label": "Forfeit",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, TEMPLATE, context)

    def forfeit_view(self, request, pk: int):
        """Forfeit one bonus with a reason (the link on the player's page), then back there."""
        if not self.has_forfeit_permission(request):
            raise PermissionDenied
        bonus = get_object_or_404(Bonus.objects.select_related("player"), pk=pk)
        form = ForfeitForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if self._forfeit(request, bonus, form.cleaned_data["reason"]):
                messages.success(request, f"Forfeited {bonus}.")
            return redirect("admin:players_player_change", bonus.player_id)
        return self._forfeit_form(request, form, [bonus])

    @admin.action(description="Forfeit selected bonuses…", permissions=["forfeit"])
    def forfeit(self, request, queryset):
        form = ForfeitForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            active = queryset.filter(status=Bonus.Status.ACTIVE)
            done = sum(self._forfeit(request, bonus, reason) for bonus in active)
            messages.success(request, f"Forfeited {done} bonus(es).")
            return None
        return self._forfeit_form(request, form, list(queryset), action="forfeit")


@admin.register(BalancePolicy)
class BalancePolicyAdmin(admin.ModelAdmin):
    """Per currency: which money a bet takes first and how a win comes back (docs/wallet.md)."""

    list_display = ["currency", "bet_order", "win_split"]


@admin.register(GameSession)
class GameSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "player", "aggregator", "currency", "game_id", "expires_at"]
    list_filter = ["aggregator"]
    search_fields = ["player__external_id"]
    exclude = ["token_hash"]
    raw_id_fields = ["player"]


@admin.register(GameRound)
class GameRoundAdmin(ReadOnlyAdmin):
    list_display = ["round_id", "player", "source", "game_id", "started_at", "ended_at"]
    list_filter = ["source"]
    search_fields = ["round_id", "player__external_id"]
    raw_id_fields = ["player"]


admin_player.player_admin_extend()  # a player's wallet on the player's page
