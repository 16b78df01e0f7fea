"""API views of the players app: players and the segment distribution."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from players.filters import PlayerFilter
from players.metrics import WINDOWS
from players.selectors import player_detail, players_for_api, segment_distribution
from players.serializers import PlayerSerializer, player_detail_as_json


class PlayerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Players with their metrics per window, lifecycle segment and custom segments."""

    serializer_class = PlayerSerializer
    filterset_class = PlayerFilter
    lookup_field = "external_id"
    lookup_value_converter = "player_id"  # the identifier rule (players/identifiers.py)

    def get_queryset(self):
        return players_for_api()

    def filter_queryset(self, queryset):
        # The list filters do not apply to one player; building the FilterSet (deep copies of
        # a min/max filter per metric and window) was most of a detail request's time (bench/).
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        # Plain values in two queries instead of model instances, prefetches and the
        # ModelSerializer: the same shape, in a fraction of the time (SPEC §12, bench/api.py).
        detail = player_detail(external_id=kwargs[self.lookup_field])
        if detail is None:
            raise Http404
        return Response(player_detail_as_json(detail))


class SegmentDistributionView(APIView):
    """Players and money per lifecycle segment, in the reporting currency."""

    @extend_schema(
        parameters=[OpenApiParameter("window", str, enum=list(WINDOWS), default="30d")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        window = request.query_params.get("window", "30d")
        if window not in WINDOWS:
            raise ValidationError({"window": [f"One of {', '.join(WINDOWS)}."]})
        return Response(segment_distribution(window=window))
