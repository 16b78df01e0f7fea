"""Webhooks API (admin role): endpoints with their secrets, the delivery log, re-sending."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.domain_events import EVENT_TYPES
from config.roles import ADMIN, user_roles
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint


class AdminRole(BasePermission):
    message = "Only the admin role manages webhooks."

    def has_permission(self, request, view) -> bool:
        return ADMIN in user_roles(request.user)


class EndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "active",
            "max_in_flight",
            "disabled_reason",
            "failing_since",
            "created_at",
        ]
        read_only_fields = ["id", "disabled_reason", "failing_since", "created_at"]
        extra_kwargs = {"max_in_flight": {"min_value": 1, "max_value": 50}}


class EndpointViewSet(viewsets.ModelViewSet):
    """Receivers of outgoing webhooks. The signing secret is in the answer to a create and to
    `rotate-secret/` only: store it then."""

    lookup_value_regex = "[0-9]+"  # ids only: a NUL or other junk is a 404, never a query
    serializer_class = EndpointSerializer
    permission_classes = [AdminRole]
    queryset = WebhookEndpoint.objects.order_by("pk")

    def create(self, request, *args, **kwargs):
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(by=request.user, **form.validated_data)
        body = {**self.get_serializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret (shown this once); the old one keeps signing for 24 hours."""
        secret = services.endpoint_secret_rotate(endpoint=self.get_object())
        return Response({"id": int(pk), "secret": secret})


class DeliverySerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="event.type")
    event_created_at = serializers.DateTimeField(source="event.created_at")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "type",
            "event_created_at",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "delivered_at",
        ]


class DeliveryFilter(filters.FilterSet):
    type = filters.ChoiceFilter(field_name="event__type", choices=[(t, t) for t in EVENT_TYPES])

    class Meta:
        model = WebhookDelivery
        fields = ["status", "endpoint", "type"]


class ResendSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=1000)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log, newest first; filters `status`, `endpoint`, `type`."""

    lookup_value_regex = "[0-9]+"
    serializer_class = DeliverySerializer
    permission_classes = [AdminRole]
    filterset_class = DeliveryFilter
    queryset = WebhookDelivery.objects.select_related("event").order_by("-created_at")

    @extend_schema(request=ResendSerializer, responses={202: dict})
    @action(detail=False, methods=["post"])
    def resend(self, request):
        """Send deliveries again under their own ids (receivers deduplicate by id)."""
        form = ResendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        count = services.deliveries_resend(delivery_ids=form.validated_data["ids"])
        return Response({"resent": count}, status=status.HTTP_202_ACCEPTED)
