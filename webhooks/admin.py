"""Back office of webhooks: endpoints (secret shown once), the delivery log, re-sending."""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from config.admin import ReadOnlyAdminMixin
from config.domain_events import EVENT_TYPES
from config.errors import DomainError
from config.logging import PII_KEYS
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

MASKED_KEYS = PII_KEYS | {"ip", "device_id", "payment_instrument"}


def masked(value):
    """A payload with personal data masked (staff see what was sent, not who)."""
    if isinstance(value, dict):
        return {k: ("***" if k in MASKED_KEYS and v else masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(t, t) for t in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "active", "max_in_flight"]

    def clean_url(self) -> str:
        try:
            return services.endpoint_url_check(self.cleaned_data["url"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


class EndpointStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("disabled", "Disabled"),
            ("failing", "Failing, still retried"),
            ("receiving", "Receiving"),
        )

    def queryset(self, request, queryset):
        return {
            "disabled": queryset.filter(active=False),
            "failing": queryset.filter(active=True, failing_since__isnull=False),
            "receiving": queryset.filter(active=True, failing_since__isnull=True),
        }.get(self.value(), queryset)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "types", "state", "created_at"]
    list_filter = [EndpointStateFilter, "active"]
    ordering = ["active", "-failing_since", "pk"]  # disabled endpoints first

    @admin.display(description="state (disabled since / why)", ordering="active")
    def state(self, endpoint: WebhookEndpoint) -> str:
        if not endpoint.active:
            since = (
                f" (failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC)"
                if endpoint.failing_since
                else ""
            )
            return format_html(
                '<strong class="errornote">Disabled{}: {}</strong>',
                since,
                endpoint.disabled_reason or "switched off by staff",
            )
        if endpoint.failing_since:
            return format_html(
                "Failing since {} UTC: retrying", f"{endpoint.failing_since:%Y-%m-%d %H:%M}"
            )
        return "Receiving"

    actions = ["rotate_secret"]

    @admin.display(description="event types")
    def types(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if change:
            services.endpoint_update(endpoint=obj, **data)
            return
        endpoint, secret = services.endpoint_create(
            by=request.user, **{k: v for k, v in data.items() if k != "active"}
        )
        obj.pk = endpoint.pk
        messages.warning(
            request,
            format_html(
                "Signing secret — copy it now, it is not shown again: <code>{}</code>", secret
            ),
        )

    @admin.action(
        description="Rotate the signing secret (the old one signs for 24 h more)",
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = services.endpoint_secret_rotate(endpoint=endpoint)
            messages.warning(
                request,
                format_html(
                    "New secret of {} — copy it now: <code>{}</code>", endpoint.url, secret
                ),
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "last_duration_ms",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type", "endpoint", "created_at"]
    search_fields = ["id", "event__id"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = ["payload"]
    actions = ["resend"]

    @admin.display(description="type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="payload (personal data masked)")
    def payload(self, delivery: WebhookDelivery) -> str:
        body = json.loads(services.delivery_body(delivery))
        body["data"] = masked(body["data"])
        return format_html("<pre>{}</pre>", json.dumps(body, indent=2, sort_keys=True))

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Send again (same delivery ids)", permissions=["resend"])
    def resend(self, request, queryset):
        count = services.deliveries_resend(delivery_ids=queryset.values_list("pk", flat=True))
        messages.success(request, f"{count} deliveries queued again.")
