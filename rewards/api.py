"""Rewards API: custom segments (`segments/custom/`) and live expression validation."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.permissions import RolePermission
from config.roles import ADMIN, OPERATOR
from rewards.expressions import CONTEXTS, compile_expression
from rewards.expressions.checker import TYPE_WORDS
from rewards.models import CustomSegment
from rewards.segments import custom_segment_save


class CustomSegmentSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = CustomSegment
        fields = [
            "id",
            "name",
            "description",
            "expression",
            "active",
            "member_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "member_count", "created_at", "updated_at"]


class ExpressionCheckSerializer(serializers.Serializer):
    expression = serializers.CharField(trim_whitespace=False, max_length=10_000)
    context = serializers.ChoiceField(choices=sorted(CONTEXTS), default="segment")
    columns = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class CustomSegmentViewSet(viewsets.ModelViewSet):
    """Staff-defined segments; an invalid expression answers 400 `invalid_expression` with
    every error's line, column, offset and suggestions in `details.errors`."""

    serializer_class = CustomSegmentSerializer
    permission_classes = [RolePermission]
    write_roles = frozenset({ADMIN, OPERATOR})
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return CustomSegment.objects.annotate(member_count=Count("memberships")).order_by("name")

    def _save(self, serializer, segment=None):
        data = {**({} if segment is None else _current(segment)), **serializer.validated_data}
        saved = custom_segment_save(
            segment=segment,
            name=data["name"],
            expression=data["expression"],
            description=data.get("description", ""),
            active=data.get("active", True),
        )
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    @extend_schema(request=ExpressionCheckSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="validate")
    def validate_expression(self, request):
        """Live validation: `{"expression", "context"}` → its names and type, or a 400."""
        check = ExpressionCheckSerializer(data=request.data)
        check.is_valid(raise_exception=True)
        expression = compile_expression(
            check.validated_data["expression"],
            context=check.validated_data["context"],
            columns=check.validated_data["columns"],
        )
        return Response(
            {
                "valid": True,
                "context": expression.context,
                "type": TYPE_WORDS.get(expression.result.type, expression.result.type),
                "names": sorted(expression.names),
            },
            status=status.HTTP_200_OK,
        )


def _current(segment: CustomSegment) -> dict:
    return {
        "name": segment.name,
        "expression": segment.expression,
        "description": segment.description,
        "active": segment.active,
    }
