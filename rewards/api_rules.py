"""Rules API (SPEC §10): rules CRUD, simulate, report, runs, rewards with the review queue,
traces. Views are thin: a serializer checks the shape, one service or selector does the work."""

from django.shortcuts import get_object_or_404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from players.models import Player
from rewards import selectors, services
from rewards.models import Reward, Rule, RuleRun
from rewards.rules import rule_delete, rule_save
from rewards.serialize import reward_as_dict, rule_as_dict, run_as_dict


class RuleSerializer(serializers.Serializer):
    """The SPEC §10 rule shape; the rules service checks the meaning (expressions, limits)."""

    id = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, min_value=-1_000_000, max_value=1_000_000)
    exclusive = serializers.BooleanField(required=False)
    trigger = serializers.CharField(max_length=64, required=False)
    schedule = serializers.CharField(
        max_length=100, required=False, allow_null=True, allow_blank=True
    )
    target_segments = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )
    condition = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, trim_whitespace=False
    )
    reward_type = serializers.ChoiceField(choices=Rule.RewardType.values)
    amount = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, trim_whitespace=False
    )
    currency = serializers.CharField(max_length=10, required=False, allow_null=True)
    terms = serializers.JSONField(required=False, allow_null=True)
    free_spins = serializers.JSONField(required=False, allow_null=True)
    limits = serializers.JSONField(required=False, allow_null=True)
    approval_threshold = serializers.CharField(max_length=40, required=False, allow_null=True)
    holdout_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100
    )
    acquisition = serializers.BooleanField(required=False)
    max_cost_share = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, min_value=0, max_value=1
    )
    lookback = serializers.CharField(max_length=16, required=False)


class SimulateSerializer(serializers.Serializer):
    players = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, max_length=100_000
    )


class RunSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    players = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, max_length=100_000
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class _UnwrappedListSchema(AutoSchema):
    """`rules/` answers `{"results": [...]}` (not a bare array): its declared response is the
    whole body, so drf-spectacular must not wrap the list action's response in an array."""

    def _is_list_view(self, serializer=None) -> bool:
        return False

    def get_operation_id(self) -> str:
        return "rules_list" if self.view.action == "list" else super().get_operation_id()


def _budget_locked(request) -> bool:
    """Operators write rules but not their budget and thresholds (rewards.rules.BUDGET_FIELDS)."""
    return not request.user.has_perm("rewards.change_rulebudget")


class RuleViewSet(viewsets.ViewSet):
    """`rules/` CRUD; an invalid condition or amount answers 400 `invalid_expression` with
    `details.condition` / `details.amount`: `[{message, position, line, column, suggestions}]`."""

    schema = _UnwrappedListSchema()

    lookup_value_regex = r"\d+"

    def _rule(self, pk) -> Rule:
        return get_object_or_404(Rule, pk=pk)

    @extend_schema(
        responses=inline_serializer("RuleList", {"results": RuleSerializer(many=True)}),
        parameters=[
            OpenApiParameter("active", bool, description="Only active (true) or inactive rules."),
            OpenApiParameter("trigger", str, description="Only rules with this trigger."),
        ],
    )
    def list(self, request):
        rules = Rule.objects.select_related("currency").order_by("-priority", "pk")
        active = request.query_params.get("active")
        if active in ("true", "false"):
            rules = rules.filter(active=active == "true")
        trigger = request.query_params.get("trigger")
        if trigger:
            rules = rules.filter(trigger=trigger)
        return Response({"results": [rule_as_dict(r) for r in rules]})

    @extend_schema(responses=RuleSerializer)
    def retrieve(self, request, pk=None):
        return Response(rule_as_dict(self._rule(pk)))

    @extend_schema(request=RuleSerializer, responses={201: RuleSerializer})
    def create(self, request):
        shape = RuleSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        rule = rule_save(
            data=dict(shape.validated_data), by=request.user, budget_locked=_budget_locked(request)
        )
        return Response(rule_as_dict(rule), status=status.HTTP_201_CREATED)

    @extend_schema(request=RuleSerializer, responses=RuleSerializer)
    def partial_update(self, request, pk=None):
        rule = self._rule(pk)
        shape = RuleSerializer(data=request.data, partial=True)
        shape.is_valid(raise_exception=True)
        rule = rule_save(
            rule=rule,
            data=dict(shape.validated_data),
            by=request.user,
            budget_locked=_budget_locked(request),
        )
        return Response(rule_as_dict(rule))

    @extend_schema(request=RuleSerializer, responses=RuleSerializer)
    def update(self, request, pk=None):
        rule = self._rule(pk)
        shape = RuleSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        rule = rule_save(
            rule=rule,
            data=dict(shape.validated_data),
            by=request.user,
            budget_locked=_budget_locked(request),
        )
        return Response(rule_as_dict(rule))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        rule_delete(rule=self._rule(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SimulateSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def simulate(self, request, pk=None):
        """What the rule would decide now, for all players or some; writes nothing."""
        body = SimulateSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        players = body.validated_data.get("players")
        return Response(services.rule_simulate(rule=self._rule(pk), players=players))

    @extend_schema(
        parameters=[OpenApiParameter("window_days", int, description="uplift window (1–90)")],
        responses={200: dict},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        try:
            days = int(request.query_params.get("window_days", 14))
        except ValueError:
            days = 0
        if not 1 <= days <= 90:
            raise DomainError("invalid", "window_days must be a whole number from 1 to 90.")
        return Response(selectors.rule_report(rule=self._rule(pk), window_days=days))

    @extend_schema(request=RunSerializer, responses={202: dict})
    @action(detail=False, methods=["post"])
    def run(self, request):
        """Queue a run: `{"rules": [3, 4], "players": ["p-1"]}` (both optional)."""
        body = RunSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        run = services.run_create(
            rule_ids=body.validated_data.get("rules"),
            players=body.validated_data.get("players"),
            by=request.user,
        )
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)


class RuleRunViewSet(viewsets.GenericViewSet, mixins.RetrieveModelMixin):
    """`GET rules/runs/{id}/`: status, players done/total and the counts by outcome."""

    queryset = RuleRun.objects.all()
    lookup_value_regex = r"\d+"

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        return Response(run_as_dict(get_object_or_404(RuleRun, pk=pk)))


class RewardViewSet(viewsets.GenericViewSet):
    """`rewards/` (filters status, rule, player, run), the review queue's approve / reject
    (409 unless pending_review), and the trace."""

    lookup_value_regex = r"\d+"
    queryset = Reward.objects.select_related("player").order_by("-pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("rule", int),
            OpenApiParameter("player", str, description="external id"),
            OpenApiParameter("run", int),
        ],
        responses={200: dict},
        operation_id="rewards_list",
    )
    def list(self, request):
        rewards = self.get_queryset()
        params = request.query_params
        if params.get("status"):
            rewards = rewards.filter(status=params["status"])
        for name in ("rule", "run"):
            if params.get(name):
                if not params[name].isdigit():
                    raise DomainError("invalid", f"{name} must be an id.")
                rewards = rewards.filter(**{f"{name}_id": int(params[name])})
        if params.get("player"):
            rewards = rewards.filter(player__external_id=params["player"])
        page = self.paginate_queryset(rewards)
        return self.get_paginated_response([reward_as_dict(r) for r in page])

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        return Response(reward_as_dict(get_object_or_404(self.get_queryset(), pk=pk)))

    def _review(self, request, pk, service):
        body = NoteSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        get_object_or_404(Reward, pk=pk)
        reward = service(reward_id=int(pk), note=body.validated_data["note"], by=request.user)
        return Response(reward_as_dict(reward))

    @extend_schema(request=NoteSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Issue a reward waiting for review (exactly once)."""
        return self._review(request, pk, services.reward_approve)

    @extend_schema(request=NoteSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a reward waiting for review; `note` is required."""
        return self._review(request, pk, services.reward_reject)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def trace(self, request, pk=None):
        return Response(
            selectors.reward_trace(reward=get_object_or_404(self.get_queryset(), pk=pk))
        )


class PlayerDecisionsView(APIView):
    """`GET players/{external_id}/decisions/?rule=3`: the latest decision of that rule for the
    player (why did or didn't they get it); without `rule`, the latest decisions of every rule."""

    @extend_schema(parameters=[OpenApiParameter("rule", int)], responses={200: dict})
    def get(self, request, external_id: str):
        player = get_object_or_404(Player, external_id=external_id)
        rule = request.query_params.get("rule")
        if rule is not None:
            if not rule.isdigit():
                raise DomainError("invalid", "rule must be an id.")
            decisions = selectors.player_decisions(player=player, rule_id=int(rule), limit=1)
            if not decisions:
                raise DomainError(
                    "not_found", "No decision of this rule for this player yet.", status=404
                )
            return Response(decisions[0])
        return Response({"results": selectors.player_decisions(player=player)})
