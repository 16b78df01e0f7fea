"""Back office for players: profiles with metrics, activity, segment history; policy; currencies."""

from collections.abc import Callable, Iterable
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportMixin

from config.admin import ExportAdminMixin, MinorUnitsMixin, ReadOnlyAdminMixin
from config.errors import DomainError
from config.roles import may_see_pii
from players import services
from players.identifiers import PLAYER_ID_MAX_LENGTH, identifier_problem
from players.metrics import METRICS, WINDOWS
from players.models import (
    Activity,
    Currency,
    ExchangeRate,
    Fingerprint,
    Player,
    PlayerMetrics,
    SegmentChange,
    SegmentPolicy,
    VipThreshold,
    mask,
)
from players.resources import PlayerResource
from players.selectors import segment_distribution
from players.serializers import metrics_as_json, money_str


def _money(value, currency: Currency) -> str:
    """An amount in its currency's minor units, plain notation (never "0E-8" or 8 decimals)."""
    return money_str(value, currency.minor_units) or "–"


def evidence_display(change: SegmentChange) -> str:
    """The metric values behind a segment change, in the player's currency."""
    units = change.player.currency.minor_units
    items = []
    for name, value in (change.metrics or {}).items():
        if name == "bet_count_lifetime":
            shown = str(int(Decimal(str(value))))
        else:
            shown = money_str(Decimal(str(value)), units)
        items.append((name, shown))
    return format_html_join(", ", "{} {}", items)


RECENT_ACTIVITY = 50

# Links on a player's page to what the higher apps do for one player ("Grant a bonus", "Manual
# adjustment"): each tool gives (label, url) pairs for the staff user, who may lack the right.
PlayerTool = Callable[[HttpRequest, Player], Iterable[tuple[str, str]]]
PLAYER_TOOLS: list[PlayerTool] = []


def player_tool_register(tool: PlayerTool) -> PlayerTool:
    """Show `tool`'s links on every player's page (called from a higher app's admin module)."""
    if tool not in PLAYER_TOOLS:
        PLAYER_TOOLS.append(tool)
    return tool


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    show_change_link = False


class SegmentChangeInline(ReadOnlyInline):
    model = SegmentChange
    fields = readonly_fields = ("changed_at", "from_segment", "to_segment", "evidence")
    ordering = ("-changed_at",)
    verbose_name_plural = "segment history"

    @admin.display(description="metric values")
    def evidence(self, change: SegmentChange) -> str:
        return evidence_display(change)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("player__currency")


class FingerprintInline(admin.TabularInline):
    model = Fingerprint
    extra = 0
    fields = ("kind", "value", "first_seen_at")
    readonly_fields = ("first_seen_at",)

    def get_fields(self, request, obj=None):
        if may_see_pii(request.user):
            return self.fields
        return ("kind", "shown_value", "first_seen_at")

    def get_readonly_fields(self, request, obj=None):
        if may_see_pii(request.user):
            return self.readonly_fields
        return ("kind", "shown_value", "first_seen_at")

    @admin.display(description="value")
    def shown_value(self, fingerprint: Fingerprint) -> str:
        return (
            mask(fingerprint.value)
            if fingerprint.kind == Fingerprint.Kind.IP
            else fingerprint.value
        )


class PlayerForm(forms.ModelForm):
    """The player form: a new or changed external id follows the API's identifier rule."""

    class Meta:
        model = Player
        # the admin passes its fieldsets' fields; these are for the form used on its own
        fields = ["external_id", "username", "email", "country", "currency", "registered_at",
                  "status", "no_bonus"]  # fmt: skip

    def clean_external_id(self) -> str:
        value = self.cleaned_data["external_id"]
        if "external_id" in self.changed_data:  # a legacy id stays editable around it
            problem = identifier_problem(value, max_length=PLAYER_ID_MAX_LENGTH)
            if problem:
                raise forms.ValidationError(problem)
        return value


@admin.register(Player)
class PlayerAdmin(ImportMixin, ExportAdminMixin, admin.ModelAdmin):
    form = PlayerForm
    export_name = "players"
    # our template has the import and export links; import-export's would hide them (and the
    # other tools) from users who may not add players
    import_export_change_list_template = None
    resource_classes = (PlayerResource,)
    list_display = (
        "external_id",
        "masked_username",
        "country",
        "currency",
        "status",
        "segment",
        "risk_score",
        "registered_at",
    )
    list_filter = ("status", "segment", "currency", "country", "no_bonus")
    search_fields = ("=external_id", "username", "email")
    readonly_fields = (
        "segment", "risk_score", "fraud_flags", "created_at", "metrics_table", "recent_activity",
    )  # fmt: skip
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "external_id",
                    "username",
                    "email",
                    "country",
                    "currency",
                    "registered_at",
                )
            },
        ),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "no_bonus",
                    "segment",
                    "risk_score",
                    "fraud_flags",
                    "created_at",
                )
            },
        ),
        ("Metrics", {"fields": ("metrics_table",)}),
        ("Activity", {"fields": ("recent_activity",)}),
    )
    inlines = (SegmentChangeInline, FingerprintInline)
    actions = ("refresh_metrics",)
    list_select_related = ("currency",)
    change_list_template = "admin/players/player/change_list.html"
    change_form_template = "admin/players/player/change_form.html"

    def get_inlines(self, request, obj):
        # the higher apps add theirs (config.admin.inlines_add); `page_order` places them
        return sorted(super().get_inlines(request, obj), key=lambda i: getattr(i, "page_order", 0))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        player = self.get_object(request, object_id)
        tools = [link for tool in PLAYER_TOOLS for link in tool(request, player)] if player else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "player_tools": tools}
        )

    @admin.display(description="username")
    def masked_username(self, player: Player) -> str:
        return player.masked_username

    @admin.display(description="email")
    def masked_email(self, player: Player) -> str:
        return player.masked_email

    # Personal data in full only for the roles that may see it (config/roles.py PII_ROLES).
    def get_fieldsets(self, request, obj=None):
        if may_see_pii(request.user):
            return self.fieldsets
        masked = {"username": "masked_username", "email": "masked_email"}
        (name, options), *rest = self.fieldsets
        fields = tuple(masked.get(field, field) for field in options["fields"])
        return ((name, {**options, "fields": fields}), *rest)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(self.readonly_fields)
        return fields if may_see_pii(request.user) else (*fields, "masked_username", "masked_email")

    def get_search_fields(self, request):
        return self.search_fields if may_see_pii(request.user) else ("=external_id",)

    @admin.display(description="fraud flags")
    def fraud_flags(self, player: Player) -> str:
        # the safety app's flags, by relation name (players sits below safety, ADR 0008)
        flags = player.fraud_flags.order_by("status", "-created_at")[:20]
        if not flags:
            return "None."
        link = reverse("admin:safety_fraudflag_changelist") + f"?q={player.external_id}"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((f.signal, f.score, f.status, f.created_at) for f in flags),
        )
        return format_html(
            "<table><tr><th>signal</th><th>score</th><th>status</th><th>raised</th></tr>{}"
            '</table><p><a href="{}">Resolve in the flags queue</a></p>',
            body,
            link,
        )

    @admin.display(description="metrics per window")
    def metrics_table(self, player: Player) -> str:
        rows = {row.window: row for row in player.metrics.all()}
        if not rows:
            return "No metrics yet."
        units = player.currency.minor_units
        shown = {window: metrics_as_json(row, units) for window, row in rows.items()}
        header = format_html_join("", "<th>{}</th>", ((w,) for w in WINDOWS))
        body = format_html_join(
            "",
            "<tr><th>{}</th>{}</tr>",
            (
                (
                    metric.name,
                    format_html_join(
                        "",
                        "<td>{}</td>",
                        ((_shown(shown[w][metric.name]) if w in shown else "–",) for w in WINDOWS),
                    ),
                )
                for metric in METRICS
            ),
        )
        return format_html("<table><tr><th>metric</th>{}</tr>{}</table>", header, body)

    @admin.display(description=f"latest {RECENT_ACTIVITY} activity rows")
    def recent_activity(self, player: Player) -> str:
        rows = player.activity.select_related("currency").order_by("-occurred_at")[:RECENT_ACTIVITY]
        link = reverse("admin:players_activity_changelist") + f"?player__id__exact={player.pk}"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    a.occurred_at,
                    a.type,
                    _money(a.amount, a.currency),
                    a.currency_id,
                    a.count,
                    a.game_category,
                    a.external_id,
                )
                for a in rows
            ),
        )
        return format_html(
            "<table><tr><th>when</th><th>type</th><th>amount</th><th>count</th><th>category</th>"
            '<th>external id</th></tr>{}</table><p><a href="{}">All activity of this player</a></p>',
            body,
            link,
        )

    @admin.action(description="Refresh metrics and segments", permissions=["change"])
    def refresh_metrics(self, request: HttpRequest, queryset: QuerySet[Player]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        services.players_refresh(player_ids=ids)
        self.message_user(request, f"Refreshed {len(ids)} players.", messages.SUCCESS)

    def save_model(self, request, obj, form, change) -> None:
        # A status change goes through the service: leaving `active` forfeits bonuses at once.
        status_changed = change and "status" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.player_status_set(player=obj, status=obj.status, by=request.user)

    def get_urls(self):
        distribution = self.admin_site.admin_view(self.distribution_view)
        return [
            path("distribution/", distribution, name="players_segment_distribution"),
            *super().get_urls(),
        ]

    def distribution_view(self, request: HttpRequest):
        window = request.GET.get("window", "30d")
        if window not in WINDOWS:
            window = "30d"
        try:
            distribution = segment_distribution(window=window)
        except DomainError as error:  # e.g. a currency without an exchange rate
            self.message_user(request, error.message, messages.ERROR)
            distribution = {"window": window, "currency": "", "as_of": "", "segments": []}
        context = {
            **self.admin_site.each_context(request),
            "title": "Segment distribution",
            "distribution": distribution,
            "windows": WINDOWS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/players/segment_distribution.html", context)


def _shown(value) -> str:
    return "–" if value is None else str(value)


@admin.register(Activity)
class ActivityAdmin(MinorUnitsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields = ("amount",)
    list_display = (
        "occurred_at",
        "player",
        "type",
        "amount_shown",
        "currency",
        "count",
        "game_category",
        "source",
        "external_id",
    )
    list_filter = ("type", "source", "game_category", "currency")
    search_fields = ("=external_id", "=player__external_id", "=round_id")
    list_select_related = ("player", "currency")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    @admin.display(description="player amount")
    def player_amount_shown(self, activity: Activity) -> str:
        return _money(activity.player_amount, activity.player.currency)

    shown_instead = {"player_amount": "player_amount_shown"}


LISTED_METRICS = ("turnover", "ggr", "ngr", "deposits", "rtp")


def _metric_column(name: str):
    @admin.display(description=name, ordering=name)
    def column(self, row: PlayerMetrics) -> str:
        return _shown(metrics_as_json(row, row.player.currency.minor_units)[name])

    return column


@admin.register(PlayerMetrics)
class PlayerMetricsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("player", "window", *(f"{n}_shown" for n in LISTED_METRICS), "as_of")
    list_filter = ("window",)
    search_fields = ("=player__external_id",)
    list_select_related = ("player__currency",)
    fields = readonly_fields = ("player", "window", "as_of", "values")
    turnover_shown = _metric_column("turnover")
    ggr_shown = _metric_column("ggr")
    ngr_shown = _metric_column("ngr")
    deposits_shown = _metric_column("deposits")
    rtp_shown = _metric_column("rtp")

    @admin.display(description="metrics")
    def values(self, row: PlayerMetrics) -> str:
        shown = metrics_as_json(row, row.player.currency.minor_units)
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", ((k, _shown(v)) for k, v in shown.items())
        )
        return format_html("<table>{}</table>", rows)


class VipThresholdInline(admin.TabularInline):
    model = VipThreshold
    extra = 0


@admin.register(SegmentPolicy)
class SegmentPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "vip_turnover_30d",
        "vip_deposits_30d",
        "band_minimum",
        "band_turnover_share",
        "updated_at",
        "updated_by",
    )
    readonly_fields = ("updated_at", "updated_by")
    inlines = (VipThresholdInline,)

    def has_add_permission(self, request) -> bool:
        return not SegmentPolicy.objects.exists()

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class ExchangeRateInline(admin.TabularInline):
    model = ExchangeRate
    extra = 1
    ordering = ("-valid_from",)


def _rate_in_force():
    """The rate in force now of the outer currency (a subquery)."""
    return Subquery(
        ExchangeRate.objects.filter(currency=OuterRef("pk"), valid_from__lte=timezone.now())
        .order_by("-valid_from")
        .values("rate")[:1]
    )


class RateInForceFilter(admin.SimpleListFilter):
    title = "exchange rate"
    parameter_name = "rate"

    def lookups(self, request, model_admin):
        return (("missing", "No rate in force"), ("in_force", "Rate in force"))

    def queryset(self, request, queryset):
        reporting = settings.PITBOSS["REPORTING_CURRENCY"]
        if self.value() == "missing":
            return queryset.filter(rate_in_force__isnull=True).exclude(code=reporting)
        if self.value() == "in_force":
            return queryset.filter(Q(rate_in_force__isnull=False) | Q(code=reporting))
        return queryset


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "minor_units", "active", "rate_shown")
    list_filter = ("active", RateInForceFilter)
    search_fields = ("code", "name")
    inlines = (ExchangeRateInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rate_in_force=_rate_in_force())

    @admin.display(description="rate in force (reporting currency)", ordering="rate_in_force")
    def rate_shown(self, currency: Currency) -> str:
        if currency.code == settings.PITBOSS["REPORTING_CURRENCY"]:
            return "reporting currency"
        if currency.rate_in_force is None:
            return format_html(
                '<strong class="errornote">{}</strong>', "none: left out of the reporting sums"
            )
        return format(currency.rate_in_force.normalize(), "f")


@admin.register(SegmentChange)
class SegmentChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("changed_at", "player", "from_segment", "to_segment", "evidence")
    list_filter = ("to_segment", "from_segment")
    search_fields = ("=player__external_id",)
    list_select_related = ("player__currency",)
    fields = readonly_fields = ("player", "changed_at", "from_segment", "to_segment", "evidence")

    @admin.display(description="metric values")
    def evidence(self, change: SegmentChange) -> str:
        return evidence_display(change)


from players import admin_batch  # noqa: E402, F401  (batch jobs: a module of their own)
