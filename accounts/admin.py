"""API tokens in the admin: see, revoke (create them with `manage.py create_service_account`)."""

from django.contrib import admin, messages

from accounts.models import ApiToken
from accounts.services import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "expires_at",
        "revoked_at",
        "allowed_ips",
        "created_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["prefix", "user__username", "name"]
    readonly_fields = ["prefix", "user", "created_at", "revoked_at"]
    fields = ["prefix", "user", "name", "expires_at", "allowed_ips", "revoked_at", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # the token must be shown once: create_service_account prints it

    @admin.action(description="Revoke (refused at once by every process)")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        messages.success(request, f"{queryset.count()} token(s) revoked.")
