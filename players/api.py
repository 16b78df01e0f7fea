"""API views of the players app: players, events and the segment distribution."""

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import ADMIN, OPERATOR, SERVICE
from players.events import REJECTED, events_record, result
from players.filters import PlayerFilter
from players.metrics import WINDOWS
from players.selectors import player_detail, players_for_api, segment_distribution
from players.serializers import (
    EventSerializer,
    PlayerSerializer,
    event_error_code,
    player_detail_as_json,
)


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


EVENTS_REQUEST = inline_serializer("EventsRequest", fields={"events": EventSerializer(many=True)})
EVENT_RESULTS = inline_serializer(
    "EventResult",
    many=True,
    fields={
        "external_id": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["applied", "duplicate", "rejected"]),
        "reason": serializers.DictField(allow_null=True),
        "balances": serializers.DictField(),
        "warnings": serializers.ListField(child=serializers.DictField()),
        "original_status": serializers.CharField(required=False),
    },
)


class EventsView(APIView):
    """Record activity events: one event object, or `{"events": [...]}` of up to 1,000."""

    write_roles = frozenset({ADMIN, OPERATOR, SERVICE})

    @extend_schema(
        request=EVENTS_REQUEST,
        responses={
            200: inline_serializer("EventsResponse", fields={"results": EVENT_RESULTS}),
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request):
        payload = request.data
        single = isinstance(payload, dict) and "events" not in payload
        items = (
            [payload] if single else payload.get("events") if isinstance(payload, dict) else None
        )
        if not isinstance(items, list) or not items:
            raise ValidationError({"events": ['Send one event object or {"events": [...]}.']})
        limit = settings.PITBOSS["MAX_EVENTS_PER_REQUEST"]
        if len(items) > limit:
            raise ValidationError({"events": [f"At most {limit} events per request."]})

        outcomes: list[dict | None] = []
        valid = []
        for item in items:
            serializer = EventSerializer(data=item)
            if serializer.is_valid():
                outcomes.append(None)
                valid.append(serializer.to_event())
            elif single:
                raise ValidationError(serializer.errors)
            else:
                external_id = item.get("external_id") if isinstance(item, dict) else None
                reason = {
                    "code": event_error_code(serializer.errors),
                    "message": "The event is invalid.",
                    "details": serializer.errors,
                }
                outcomes.append(result(str(external_id or ""), REJECTED, reason, {}))
        recorded = iter(events_record(events=valid))
        results = [outcome or next(recorded) for outcome in outcomes]
        conflict = single and (results[0]["reason"] or {}).get("code") == "idempotency_conflict"
        return Response(
            {"results": results},
            status=status.HTTP_409_CONFLICT if conflict else status.HTTP_200_OK,
        )


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
