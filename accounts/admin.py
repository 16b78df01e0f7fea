"""Staff accounts in the admin: API tokens (see, revoke; create them with `manage.py
create_service_account`), the audit log and the sign-in attempts — both read-only for everyone,
superusers included (docs/back-office-security.md)."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages

from accounts.models import ApiToken
from accounts.services import api_token_revoke
from config.admin import ReadOnlyAdminMixin


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

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_apitoken")

    @admin.action(description="Revoke (refused at once by every process)", permissions=["revoke"])
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        messages.success(request, f"{queryset.count()} token(s) revoked.")


class AuditLogAdmin(ReadOnlyAdminMixin, LogEntryAdmin):
    """Every audited change, newest first: filter by action, model or correlation id, search
    by object, actor or change. Nobody adds, edits or deletes entries here."""

    list_filter = [*LogEntryAdmin.list_filter, "actor"]


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditLogAdmin)

for model, model_admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, type(model_admin.__name__, (ReadOnlyAdminMixin, model_admin), {}))
