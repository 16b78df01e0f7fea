"""Exports of rewards and decisions (config/exports.py): their columns (django-import-export
resources, formula-safe), the filters of their list endpoints and their rows."""

import json

import django_filters
from django.db.models import QuerySet
from import_export import fields

from config.resources import FormulaSafeResource
from players.filters import AwareIsoDateTimeFilter
from players.money import currency_quantum
from rewards.models import Decision, Reward

MONEY_COLUMNS = ("amount", "requested_amount", "expected_cost")


class _RuleOutcomeResource(FormulaSafeResource):
    """The columns a reward and a decision share: which rule (and version), run and player."""

    rule = fields.Field(attribute="rule_id", column_name="rule")
    rule_name = fields.Field(attribute="rule__name", column_name="rule_name")
    run = fields.Field(attribute="run_id", column_name="run")
    player = fields.Field(attribute="player__external_id", column_name="player")


class RewardResource(_RuleOutcomeResource):
    """One row per reward; amounts as numbers in the reward's currency units."""

    bonus = fields.Field(attribute="bonus_id", column_name="bonus")
    currency = fields.Field(attribute="currency_id", column_name="currency")
    decided_by = fields.Field(attribute="decided_by__username", column_name="decided_by")

    class Meta:
        model = Reward
        fields = [
            "id", "rule", "rule_name", "rule_version", "run", "player", "reward_type", "status",
            "reason", "amount", "currency", "requested_amount", "expected_cost", "bonus", "note",
            "decided_by", "created_at", "decided_at",
        ]  # fmt: skip
        export_order = fields

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if field.attribute in MONEY_COLUMNS and value is not None:
            return value.quantize(currency_quantum(instance.currency_id))
        return value


class DecisionResource(_RuleOutcomeResource):
    """One row per decision (not matched included), its steps as JSON text."""

    steps = fields.Field(attribute="steps", column_name="steps")

    class Meta:
        model = Decision
        fields = [
            "id", "rule", "rule_name", "rule_version", "run", "player", "outcome", "reason",
            "steps", "created_at",
        ]  # fmt: skip
        export_order = fields

    def dehydrate_steps(self, decision: Decision) -> str:
        return json.dumps(decision.steps, ensure_ascii=False)


class _RuleOutcomeFilter(django_filters.FilterSet):
    """Filters a reward and a decision share: rule, run, player (external id), time range."""

    rule = django_filters.NumberFilter(field_name="rule_id")
    run = django_filters.NumberFilter(field_name="run_id")
    player = django_filters.CharFilter(field_name="player__external_id")
    created_after = AwareIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = AwareIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")


class RewardExportFilter(_RuleOutcomeFilter):
    """`GET rewards/`'s filters (status, rule, run, player) and a time range."""

    status = django_filters.ChoiceFilter(choices=Reward.Status.choices)

    class Meta:
        model = Reward
        fields: list[str] = []


class DecisionExportFilter(_RuleOutcomeFilter):
    """`GET players/{id}/decisions/`'s filter (rule), with run, outcome, player, time range."""

    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices)

    class Meta:
        model = Decision
        fields: list[str] = []


def rewards_for_export() -> QuerySet[Reward]:
    """Every reward, oldest first, with what its columns read (one query per chunk)."""
    return Reward.objects.select_related("player", "rule", "decided_by").order_by("pk")


def decisions_for_export() -> QuerySet[Decision]:
    """Every decision, oldest first, with its player and rule."""
    return Decision.objects.select_related("player", "rule").order_by("pk")
