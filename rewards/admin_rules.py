"""Back office for the rules engine (SPEC §11): the rule editor (expression errors inline, a
"Simulate" button that runs the form's rule without saving or writing anything), the rule list
with issued / cost columns, runs, rewards with filters and traces, the review queue with bulk
approve / reject, jurisdiction limits, and decisions on the player's page."""

import json
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import ExportAdminMixin, ReadOnlyAdminMixin
from config.errors import DomainError
from players.models import Player
from rewards import selectors, services
from rewards.models import (
    Decision,
    JurisdictionLimit,
    ReviewQueueItem,
    Reward,
    Rule,
    RuleRun,
)
from rewards.rules import FIELDS, rule_save, rule_validate

JSON_WIDGET = forms.Textarea(attrs={"rows": 4, "cols": 80, "style": "font-family: monospace"})
EXPRESSION_WIDGET = forms.Textarea(attrs={"rows": 2, "cols": 80, "style": "font-family: monospace"})
NOTE_TEMPLATE = "admin/rewards/note_form.html"
# A rule's budget and thresholds: changed only with `rewards.change_rulebudget` (admins).
BUDGET_FIELDS = ["limits", "approval_threshold", "max_cost_share"]


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = FIELDS
        widgets = {
            "condition": EXPRESSION_WIDGET,
            "amount": EXPRESSION_WIDGET,
            "terms": JSON_WIDGET,
            "free_spins": JSON_WIDGET,
            "limits": JSON_WIDGET,
            "target_segments": forms.TextInput(attrs={"size": 60}),
        }
        help_texts = {
            "condition": 'e.g. net_loss_7d >= 50 and country != "SE" (docs/expressions.md)',
            "amount": "e.g. clamp(net_loss_7d * 0.10, 5, 100)",
            "terms": '{"wagering_multiplier": 10, "wagering_base": "bonus", "max_bet": "5.00", '
            '"expires_in_days": 7, "max_conversion": null, "contribution_weights": {}}',
            "limits": '{"max_amount": "100.00", "cooldown_days": 0, "per_player": [{"period": '
            '"week", "count": 1, "amount": null}], "budget": {"period": "month", "amount": '
            '"10000.00"}}',
            "free_spins": '{"count": 20, "spin_value": "0.20", "game_id": "g-1"}',
            "target_segments": '["losing", "weekend-slots"]',
        }

    def clean(self):
        data = super().clean()
        # a field the user may not change (read-only for their role) keeps the rule's value
        shape = {
            name: data.get(name) if name in self.fields else getattr(self.instance, name)
            for name in FIELDS
        }
        if "currency" in self.fields:
            shape["currency"] = data["currency"].pk if data.get("currency") else None
        else:
            shape["currency"] = self.instance.currency_id
        try:
            self.rule_data = rule_validate(shape)
        except DomainError as error:
            for field, problems in error.details.items():
                messages_ = [p["message"] if isinstance(p, dict) else str(p) for p in problems]
                for problem in problems:
                    if isinstance(problem, dict) and problem.get("suggestions"):
                        messages_.append("did you mean: " + ", ".join(problem["suggestions"]))
                target = field if field in self.fields else None
                self.add_error(target, messages_)
        return data


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    change_form_template = "admin/rewards/rule/change_form.html"
    list_display = [
        "name", "trigger", "active", "priority", "exclusive", "reward_type", "version",
        "issued", "issued_amount", "cost", "pending",
    ]  # fmt: skip
    list_filter = ["active", "trigger", "reward_type"]
    search_fields = ["name", "description", "condition"]
    readonly_fields = ["version", "periodic_task"]
    actions = ["run_now"]

    def get_readonly_fields(self, request, obj=None):
        # Budgets and thresholds are admins' (config/roles.py): an operator edits the rule's
        # expressions and terms and sees these fields, unchanged on save.
        locked = [] if request.user.has_perm("rewards.change_rulebudget") else BUDGET_FIELDS
        return [*super().get_readonly_fields(request, obj), *locked]

    def get_queryset(self, request):
        return selectors.rules_with_totals(super().get_queryset(request))

    @admin.display(description="issued", ordering="issued_count")
    def issued(self, rule) -> int:
        return rule.issued_count

    @admin.display(description="issued amount (reporting)", ordering="issued_amount")
    def issued_amount(self, rule) -> str:
        return f"{rule.issued_amount:.2f}"

    @admin.display(description="expected cost", ordering="issued_cost")
    def cost(self, rule) -> str:
        return f"{rule.issued_cost:.2f}"

    @admin.display(description="in review", ordering="pending_count")
    def pending(self, rule) -> int:
        return rule.pending_count

    def save_model(self, request, obj, form, change) -> None:
        existing = Rule.objects.get(pk=obj.pk) if change else None
        saved = rule_save(rule=existing, data=form.rule_data, by=request.user)
        obj.pk = saved.pk
        obj.version = saved.version

    def delete_model(self, request, obj) -> None:
        from rewards.rules import rule_delete

        try:
            rule_delete(rule=obj)
        except DomainError as error:
            messages.error(request, error.message)

    def get_urls(self):
        return [
            path(
                "<int:rule_id>/simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="rewards_rule_simulate",
            ),
            path(
                "simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="rewards_rule_simulate_new",
            ),
            *super().get_urls(),
        ]

    def simulate_view(self, request, rule_id: int | None = None):
        """Simulate the rule as the form stands (POST from the editor) or as saved (GET)."""
        rule = get_object_or_404(Rule, pk=rule_id) if rule_id else None
        form = None
        if request.method == "POST":
            # the editor's fields for this user: read-only ones keep the rule's values
            form = self.get_form(request, rule)(request.POST, instance=rule)
            if not form.is_valid():
                messages.error(request, "Fix the rule's errors before simulating.")
                return TemplateResponse(
                    request,
                    "admin/rewards/rule/simulate.html",
                    {**self.admin_site.each_context(request), "form": form, "result": None,
                     "title": "Simulate", "opts": self.model._meta},
                )  # fmt: skip
            draft = Rule(pk=rule.pk if rule else None, version=rule.version if rule else 0)
            for name, value in form.rule_data.items():
                setattr(draft, "currency_id" if name == "currency" else name, value)
        else:
            draft = rule
        result = services.rule_simulate(rule=draft)
        return TemplateResponse(
            request,
            "admin/rewards/rule/simulate.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Simulation of {draft.name or 'a new rule'}",
                "result": result,
                "result_json": json.dumps(result, indent=2),
                "rule": rule,
                "form": form,
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Run selected rules now (all players)", permissions=["change"])
    def run_now(self, request, queryset):
        run = services.run_create(
            rule_ids=list(queryset.values_list("pk", flat=True)), by=request.user
        )
        url = reverse("admin:rewards_rulerun_change", args=[run.pk])
        messages.success(request, format_html('Queued <a href="{}">run {}</a>.', url, run.pk))


@admin.register(RuleRun)
class RuleRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id", "trigger", "status", "players_done", "players_total", "issued", "review",
        "rejected", "held_out", "capped", "not_matched", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "trigger"]


def _trace_html(steps: list) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        ((s.get("step"), s.get("outcome"), json.dumps(s.get("details"))) for s in steps),
    )
    return format_html(
        "<table><tr><th>step</th><th>outcome</th><th>details</th></tr>{}</table>", rows
    )


class _RewardAdminBase(ExportAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    export_name = "rewards"
    list_display = [
        "id", "player", "rule", "rule_version", "run", "reward_type", "status", "amount",
        "currency", "requested_amount", "expected_cost", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "reward_type", "rule", "currency"]
    search_fields = ["player__external_id", "rule__name"]
    list_select_related = ["player", "rule"]
    readonly_fields = ["trace"]
    actions = ["approve", "reject"]

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("rewards.change_reward")  # admins and operators

    @admin.display(description="decision trace")
    def trace(self, reward) -> str:
        try:
            steps = selectors.reward_trace(reward=reward)["steps"]
        except DomainError:
            return "—"
        return _trace_html(steps)

    @admin.action(description="Approve selected rewards (issue them)", permissions=["review"])
    def approve(self, request, queryset):
        done = 0
        for reward_id in queryset.filter(status=Reward.Status.PENDING_REVIEW).values_list(
            "pk", flat=True
        ):
            try:
                services.reward_approve(reward_id=reward_id, by=request.user)
            except DomainError as error:
                messages.error(request, f"reward {reward_id}: {error.message}")
                continue
            done += 1
        messages.success(request, f"Approved {done} reward(s).")

    @admin.action(description="Reject selected rewards…", permissions=["review"])
    def reject(self, request, queryset):
        form = NoteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for reward_id in queryset.filter(status=Reward.Status.PENDING_REVIEW).values_list(
                "pk", flat=True
            ):
                services.reward_reject(
                    reward_id=reward_id, note=form.cleaned_data["note"], by=request.user
                )
                done += 1
            messages.success(request, f"Rejected {done} reward(s).")
            return None
        return TemplateResponse(
            request,
            NOTE_TEMPLATE,
            {
                **self.admin_site.each_context(request),
                "title": "Reject rewards",
                "form": form,
                "objects": list(queryset),
                "action": "reject",
                "submit_label": "Reject",
                "opts": self.model._meta,
            },
        )


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(Reward)
class RewardAdmin(_RewardAdminBase):
    list_filter = [*_RewardAdminBase.list_filter, "run"]


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(_RewardAdminBase):
    """Rewards over their rule's approval threshold (or sent by safety), oldest first."""

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .filter(status=Reward.Status.PENDING_REVIEW)
            .order_by("created_at")
        )  # fmt: skip


@admin.register(JurisdictionLimit)
class JurisdictionLimitAdmin(admin.ModelAdmin):
    list_display = ["country", "kind", "value", "active", "note"]
    list_filter = ["kind", "active"]


@admin.register(Decision)
class DecisionAdmin(ExportAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every decision, "not matched" included: search a player to see why they got nothing."""

    export_name = "decisions"
    list_display = [
        "id",
        "player",
        "rule",
        "rule_version",
        "run",
        "outcome",
        "reason",
        "created_at",
    ]
    list_filter = ["outcome", "rule"]
    search_fields = ["player__external_id"]
    list_select_related = ["player", "rule"]
    readonly_fields = ["trace"]
    fields = ["player", "rule", "rule_version", "run", "outcome", "reason", "created_at", "trace"]
    show_full_result_count = False

    @admin.display(description="steps")
    def trace(self, decision) -> str:
        return _trace_html(decision.steps)


class PlayerDecisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The player's latest decisions on the player's page."""

    model = Decision
    fields = ["rule", "run", "outcome", "reason", "created_at", "link"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]
    verbose_name_plural = "rule decisions (traces)"

    def has_view_permission(self, request, obj=None) -> bool:
        # shown on the page, never part of the player form's POST (no formset to submit)
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    @admin.display(description="trace")
    def link(self, decision) -> str:
        return format_html(
            '<a href="{}">steps</a>', reverse("admin:rewards_decision_change", args=[decision.pk])
        )

    def get_queryset(self, request):
        since = timezone.now() - timedelta(days=30)
        return super().get_queryset(request).filter(created_at__gte=since).select_related("rule")


def player_admin_extend() -> None:
    """Add the decisions inline to the players app's admin without editing it."""
    player_admin = admin.site._registry.get(Player)
    if player_admin is not None and PlayerDecisionInline not in player_admin.inlines:
        player_admin.inlines = [*player_admin.inlines, PlayerDecisionInline]
