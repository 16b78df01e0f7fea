"""Back office for safety: the flags queue (evidence, bulk confirm/dismiss with a note), one page
per multi-account cluster (players, shared values, their bonuses and wallets), and the data staff
tune — house edges, signal weights, the safety policy. Every resolution is audited (the staff
user and note on the flag, plus an admin log entry)."""

import json

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from config.admin import PageOnlyInline, inlines_add
from config.errors import DomainError
from players.models import Player
from safety.models import (
    FraudCluster,
    FraudClusterMember,
    FraudFlag,
    HouseEdge,
    SafetyPolicy,
    SignalWeight,
)
from safety.services import flag_resolve
from wallet.models import Bonus
from wallet.selectors import wallet_balances


@admin.register(HouseEdge)
class HouseEdgeAdmin(admin.ModelAdmin):
    list_display = ("__str__", "game_category", "game_id", "edge", "note")
    list_editable = ("edge",)
    search_fields = ("game_id",)


@admin.register(SignalWeight)
class SignalWeightAdmin(admin.ModelAdmin):
    list_display = ("signal", "weight", "description")
    list_editable = ("weight",)


@admin.register(SafetyPolicy)
class SafetyPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "review_threshold", "block_threshold", "forfeit_on_block",
                    "max_cost_share")  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return not SafetyPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=[("confirmed", "Confirm"), ("dismissed", "Dismiss")])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def _evidence(evidence: dict) -> str:
    text = json.dumps(evidence, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "…"


@admin.register(FraudFlag)
class FraudFlagAdmin(admin.ModelAdmin):
    """The flags queue: open flags first, newest first; resolve in bulk with a note."""

    list_display = ("id", "player_link", "signal", "score", "status", "evidence_short",
                    "created_at", "resolved_by")  # fmt: skip
    list_filter = ("status", "signal")
    search_fields = ("=player__external_id",)
    list_select_related = ("player", "resolved_by")
    ordering = ("status", "-created_at")
    actions = ["resolve"]
    readonly_fields = ("player", "signal", "key", "score", "strength", "status", "evidence_pretty",
                       "created_at", "updated_at", "resolved_at", "resolved_by", "note")  # fmt: skip
    exclude = ("evidence",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("safety.change_fraudflag")

    @admin.display(description="player", ordering="player__external_id")
    def player_link(self, flag):
        url = reverse("admin:players_player_change", args=[flag.player_id])
        return format_html(
            '<a href="{}">{}</a> (risk {})', url, flag.player, flag.player.risk_score
        )

    @admin.display(description="evidence")
    def evidence_short(self, flag):
        return _evidence(flag.evidence)

    @admin.display(description="evidence")
    def evidence_pretty(self, flag):
        return format_html("<pre>{}</pre>", json.dumps(flag.evidence, indent=2, ensure_ascii=False))

    @admin.action(description="Confirm or dismiss selected flags…", permissions=["resolve"])
    def resolve(self, request, queryset):
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for flag in queryset.filter(status=FraudFlag.Status.OPEN):
                try:
                    flag_resolve(flag=flag, by=request.user, **form.cleaned_data)
                except DomainError as exc:
                    messages.error(request, f"{flag}: {exc.message}")
                    continue
                done += 1
            messages.success(request, f"Resolved {done} flag(s).")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Resolve fraud flags",
            "form": form,
            "flags": list(queryset.select_related("player")),
            "action": "resolve",
            "submit_label": "Resolve",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/safety/resolve_flags.html", context)


def shared_counts(cluster: FraudCluster) -> str:
    """ "device: 2, ip: 1": how many values of each kind the cluster's players share."""
    return ", ".join(
        f"{kind}: {len(values)}" for kind, values in sorted(cluster.shared_values.items())
    )


@admin.register(FraudCluster)
class FraudClusterAdmin(admin.ModelAdmin):
    """One page per cluster: its players, the values they share, their bonuses and wallets."""

    list_display = ("id", "size", "shared_summary", "detected_at")
    ordering = ("-size", "id")
    fields = readonly_fields = ("size", "detected_at", "shared_values_table", "members_table")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="shared values")
    def shared_summary(self, cluster):
        return shared_counts(cluster)

    @admin.display(description="shared values")
    def shared_values_table(self, cluster):
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                (
                    (kind, ", ".join(values))
                    for kind, values in sorted(cluster.shared_values.items())
                ),
            ),
        )

    @admin.display(description="players")
    def members_table(self, cluster):
        players = list(cluster.players.order_by("external_id"))
        bonuses: dict[int, list[str]] = {}
        for bonus in Bonus.objects.filter(player__in=players).order_by("-created_at"):
            bonuses.setdefault(bonus.player_id, []).append(
                f"#{bonus.pk} {bonus.amount} {bonus.currency_id} {bonus.status}"
            )
        rows = (
            (
                reverse("admin:players_player_change", args=[p.pk]),
                p.external_id,
                p.status,
                p.risk_score,
                "; ".join(
                    f"{code} cash {b['cash']} bonus {b['bonus']}"
                    for code, b in wallet_balances(player=p).items()
                ),
                "; ".join(bonuses.get(p.pk, [])) or "—",
                reverse("admin:safety_fraudflag_changelist") + f"?q={p.external_id}",
            )
            for p in players
        )
        return format_html(
            "<table><tr><th>player</th><th>status</th><th>risk</th><th>wallet</th>"
            "<th>bonuses</th><th>flags</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
                '<td><a href="{}">flags</a></td></tr>',
                rows,
            ),
        )


class PlayerClusterInline(PageOnlyInline):
    """The player's multi-account clusters on the player's page, each linked to its page."""

    model = FraudClusterMember
    page_order = 40
    verbose_name_plural = "fraud clusters"
    fields = readonly_fields = ("cluster_link", "size", "shared", "detected_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cluster")

    @admin.display(description="cluster")
    def cluster_link(self, member: FraudClusterMember) -> str:
        url = reverse("admin:safety_fraudcluster_change", args=[member.cluster_id])
        return format_html('<a href="{}">{}</a>', url, member.cluster)

    @admin.display(description="players")
    def size(self, member: FraudClusterMember) -> int:
        return member.cluster.size

    @admin.display(description="shared values")
    def shared(self, member: FraudClusterMember) -> str:
        return shared_counts(member.cluster)

    @admin.display(description="detected")
    def detected_at(self, member: FraudClusterMember) -> str:
        return formats.localize(timezone.template_localtime(member.cluster.detected_at))


inlines_add(Player, PlayerClusterInline)
