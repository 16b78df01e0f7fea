"""`GET fraud/flags/` and `POST fraud/flags/{id}/resolve/` (SPEC §10): thin edges on services."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import ADMIN, OPERATOR
from safety.models import FraudFlag, Signal
from safety.selectors import flags_filtered
from safety.services import RESOLUTIONS, flag_resolve


class FraudFlagSerializer(serializers.ModelSerializer):
    """The SPEC §10 flag shape, plus who resolved it, when and why."""

    player = serializers.CharField(source="player.external_id")
    resolved_by = serializers.CharField(source="resolved_by.username", default=None)

    class Meta:
        model = FraudFlag
        fields = ["id", "player", "signal", "score", "status", "evidence", "created_at",
                  "updated_at", "resolved_at", "resolved_by", "note"]  # fmt: skip


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=RESOLUTIONS)
    note = serializers.CharField(max_length=2000)


FILTERS = [
    OpenApiParameter("player", OpenApiTypes.STR, description="player external id"),
    OpenApiParameter("signal", OpenApiTypes.STR, enum=Signal.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=FraudFlag.Status.values),
]


class FraudFlagListView(generics.ListAPIView):
    """Fraud flags, newest first; filters `player`, `signal`, `status`."""

    serializer_class = FraudFlagSerializer
    filter_backends: list = []

    @extend_schema(parameters=FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return flags_filtered(
            player=params.get("player"), signal=params.get("signal"), status=params.get("status")
        ).select_related("resolved_by")


class FraudFlagResolveView(APIView):
    """Confirm (keeps its weight) or dismiss (drops it from the risk score) an open flag."""

    write_roles = frozenset({ADMIN, OPERATOR})

    @extend_schema(request=ResolveSerializer, responses={200: FraudFlagSerializer, 409: dict})
    def post(self, request, flag_id: int):
        flag = get_object_or_404(FraudFlag, pk=flag_id)
        form = ResolveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        resolved = flag_resolve(flag=flag, by=request.user, **form.validated_data)
        return Response(FraudFlagSerializer(resolved).data)
