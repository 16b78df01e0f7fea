"""Back office for the rules engine (SPEC §11): the rule editor (expression errors inline, a
"Simulate" button that runs the form's rule without saving or writing anything), the rule list
with issued / cost columns, runs, rewards with filters and traces, the review queue with bulk
approve / reject, jurisdiction limits, and decisions on the player's page."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from config.admin import (
    ExportAdminMixin,
    MinorUnitsMixin,
    PageOnlyInline,
    ReadOnlyAdminMixin,
    inlines_add,
)
from config.errors import DomainError
from players.models import Player
from players.money import money_format
from rewards import selectors, services
from rewards.models import (
    Decision,
    JurisdictionLimit,
    ReviewQueueItem,
    Reward,
    Rule,
    RuleRun,
)
from rewards.rules import BUDGET_FIELDS, FIELDS, rule_save, rule_validate

JSON_WIDGET = forms.Textarea(attrs={"rows": 4, "cols": 80, "style": "font-family: monospace"})
EXPRESSION_WIDGET = forms.Textarea(attrs={"rows": 2, "cols": 80, "style": "font-family: monospace"})
NOTE_TEMPLATE = "admin/rewards/note_form.html"
SIMULATION_TEMPLATE = "admin/rewards/rule/simulation_table.html"


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
            path(
                "<int:rule_id>/run/",
                self.admin_site.admin_view(self.run_view),
                name="rewards_rule_run",
            ),
            *super().get_urls(),
        ]

    def simulate_view(self, request, rule_id: int | None = None):
        """Simulate the rule as the form stands (POST from the editor) or as saved (GET).

        Asked for JSON (the editor's script, `Accept: application/json`) it answers
        `{"html": <the simulation table>, "errors": {field: [message, ...]}}` for the panel
        beside the form, so the rule need not be saved first; otherwise a page of its own."""
        rule = get_object_or_404(Rule, pk=rule_id) if rule_id else None
        form = None
        if request.method == "POST":
            if not self.has_view_permission(request, rule):
                raise PermissionDenied
            # the editor's fields for this user: read-only ones keep the rule's values
            form = self.get_form(request, rule)(request.POST, instance=rule)
            if form.is_valid():
                draft = Rule(pk=rule.pk if rule else None, version=rule.version if rule else 0)
                for name, value in form.rule_data.items():
                    setattr(draft, "currency_id" if name == "currency" else name, value)
            else:
                draft = None
        else:
            draft = rule
        result = services.rule_simulate(rule=draft) if draft is not None else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Simulation of {draft.name or 'a new rule'}" if draft else "Simulate",
            "result": result,
            "result_json": json.dumps(result, indent=2, default=str),
            "rule": rule,
            "form": form,
            "opts": self.model._meta,
        }
        if "application/json" in request.headers.get("Accept", ""):
            errors = {
                name: list(problems) for name, problems in (form.errors if form else {}).items()
            }
            html = render_to_string(SIMULATION_TEMPLATE, context, request=request)
            return JsonResponse({"html": html, "errors": errors})
        if form is not None and form.errors:
            messages.error(request, "Fix the rule's errors before simulating.")
        return TemplateResponse(request, "admin/rewards/rule/simulate.html", context)

    def render_change_form(self, request, context, *args, **kwargs):
        context["has_run_permission"] = self.has_run_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)

    def has_run_permission(self, request) -> bool:
        return request.user.has_perm("rewards.add_rulerun")

    def run_view(self, request, rule_id: int):
        """Run the saved rule now over all players (POST, from the editor), then its run."""
        rule = get_object_or_404(Rule, pk=rule_id)
        if request.method != "POST" or not self.has_run_permission(request):
            raise PermissionDenied
        run = services.run_create(rule_ids=[rule.pk], by=request.user)
        messages.success(request, f"Queued run {run.pk} of {rule.name}.")
        return redirect("admin:rewards_rulerun_change", run.pk)

    @admin.action(description="Run selected rules now (all players)", permissions=["run"])
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
    readonly_fields = ["outcomes"]

    @admin.display(description="what it decided")
    def outcomes(self, run: RuleRun) -> str:
        rewards = reverse("admin:rewards_reward_changelist") + f"?run__id__exact={run.pk}"
        queue = reverse("admin:rewards_reviewqueueitem_changelist") + f"?run__id__exact={run.pk}"
        decisions = reverse("admin:rewards_decision_changelist") + f"?run__id__exact={run.pk}"
        return format_html(
            '<a href="{}">rewards of this run</a> · <a href="{}">its review queue</a> · '
            '<a href="{}">every decision</a>',
            rewards,
            queue,
            decisions,
        )


def _trace_html(steps: list) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        ((s.get("step"), s.get("outcome"), json.dumps(s.get("details"))) for s in steps),
    )
    return format_html(
        "<table><tr><th>step</th><th>outcome</th><th>details</th></tr>{}</table>", rows
    )


class _RewardAdminBase(ExportAdminMixin, MinorUnitsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    export_name = "rewards"
    money_fields = ("amount", "requested_amount", "expected_cost")
    list_display = [
        "id", "player", "rule", "rule_version", "run", "reward_type", "status", "amount_shown",
        "currency", "requested_amount_shown", "expected_cost_shown", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "reward_type", "rule", "currency"]
    search_fields = ["player__external_id", "rule__name"]
    list_select_related = ["player", "rule", "currency", "run"]
    date_hierarchy = "created_at"
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

    def _decide(self, request, queryset, *, action: str, past: str, decide, note_required: bool):
        """Approve or reject the pending rewards among `queryset` with one note (asked for on a
        page of its own first), each through the service and audited; one message per refusal.
        """
        form = NoteForm(request.POST if "apply" in request.POST else None)
        form.fields["note"].required = note_required
        if not form.is_valid():
            return TemplateResponse(
                request,
                NOTE_TEMPLATE,
                {
                    **self.admin_site.each_context(request),
                    "title": f"{action.capitalize()} rewards",
                    "form": form,
                    "objects": list(queryset),
                    "action": action,
                    "submit_label": action.capitalize(),
                    "opts": self.model._meta,
                },
            )
        note = form.cleaned_data["note"]
        done = 0
        pending = queryset.filter(status=Reward.Status.PENDING_REVIEW)
        for reward_id in pending.values_list("pk", flat=True):
            try:
                decide(reward_id=reward_id, note=note, by=request.user)
            except DomainError as error:
                messages.error(request, f"reward {reward_id}: {error.message}")
                continue
            done += 1
        messages.success(request, f"{past} {done} reward(s).")
        return None

    @admin.action(description="Approve selected rewards (issue them)…", permissions=["review"])
    def approve(self, request, queryset):
        return self._decide(
            request, queryset, action="approve", past="Approved",
            decide=services.reward_approve, note_required=False,
        )  # fmt: skip

    @admin.action(description="Reject selected rewards…", permissions=["review"])
    def reject(self, request, queryset):
        return self._decide(
            request, queryset, action="reject", past="Rejected",
            decide=services.reward_reject, note_required=True,
        )  # fmt: skip


class NoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each reward and in its history.",
    )


@admin.register(Reward)
class RewardAdmin(_RewardAdminBase):
    list_filter = [*_RewardAdminBase.list_filter, "run"]


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(_RewardAdminBase):
    """Rewards over their rule's approval threshold (or sent by safety), oldest first: who (a
    link to the player's page, to investigate), what, and how long it has waited."""

    list_display = [
        "id", "player_link", "rule", "run", "reward_type", "amount_shown", "waiting",
    ]  # fmt: skip
    list_filter = ["rule", "run", "reward_type", "currency"]
    list_select_related = ["player", "rule", "run"]

    @admin.display(description="player", ordering="player__external_id")
    def player_link(self, reward: Reward) -> str:
        url = reverse("admin:players_player_change", args=[reward.player_id])
        return format_html('<a href="{}">{}</a>', url, reward.player.external_id)

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, reward: Reward) -> str:
        return f"{money_format(reward.amount, reward.currency_id)} {reward.currency_id}"

    @admin.display(description="waiting", ordering="created_at")
    def waiting(self, reward: Reward) -> str:
        return timesince(reward.created_at)

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .filter(status=Reward.Status.PENDING_REVIEW)
            .order_by("created_at")
        )  # fmt: skip


@admin.register(JurisdictionLimit)
class JurisdictionLimitAdmin(admin.ModelAdmin):
    list_display = ["country", "kind", "value_shown", "active", "note"]
    list_filter = ["kind", "active", "country"]
    search_fields = ["=country", "note"]

    @admin.display(description="value", ordering="value")
    def value_shown(self, limit: JurisdictionLimit) -> str:
        # a multiplier or an amount in the player's currency: the digits given, not 8 decimals
        return "–" if limit.value is None else format(limit.value.normalize(), "f")


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


class PlayerDecisionInline(PageOnlyInline):
    """On the player's page: the latest decision of every rule about the player (matched or
    not), each linked to its trace."""

    model = Decision
    page_order = 50
    fields = readonly_fields = [
        "rule", "run", "outcome", "reward_now", "reason", "created_at", "link",
    ]  # fmt: skip
    ordering = ["rule__name", "rule_id"]
    verbose_name_plural = "rule decisions (latest per rule, with traces)"

    @admin.display(description="trace")
    def link(self, decision) -> str:
        return format_html(
            '<a href="{}">steps</a>', reverse("admin:rewards_decision_change", args=[decision.pk])
        )

    def get_queryset(self, request):
        latest = (
            Decision.objects.filter(player=OuterRef("player"), rule=OuterRef("rule"))
            .order_by("-created_at", "-pk")
            .values("pk")[:1]
        )
        reward = Reward.objects.filter(
            run=OuterRef("run"), rule=OuterRef("rule"), player=OuterRef("player")
        ).values("status")[:1]
        return (
            super().get_queryset(request)
            .filter(pk=Subquery(latest))
            .annotate(reward_status=Subquery(reward))
            .select_related("rule", "run")
        )  # fmt: skip

    @admin.display(description="reward now")
    def reward_now(self, decision) -> str:
        # a decision keeps what the run decided; its reward may have been approved since
        if decision.reward_status is None:
            return "–"
        return Reward.Status(decision.reward_status).label


def player_admin_extend() -> None:
    """Add the decisions inline to the players app's admin without editing it."""
    inlines_add(Player, PlayerDecisionInline)
