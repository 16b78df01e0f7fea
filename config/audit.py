"""The audit trail (django-auditlog, ADR 0016): who changed what, when, before and after.

Configuration models are tracked by auditlog's signals (`AUDITLOG_INCLUDE_TRACKING_MODELS` in
settings). Staff money actions (grant, forfeit, adjustment, approval, rejection, fraud flag
resolution) change rows with compare-and-set `.update()` calls or live on tables too hot to
track, which no signal sees: their services call `audit_record` with the before/after they
wrote, in the same transaction. Both land in auditlog's one `LogEntry` table, shown read-only in
the admin (per object and as one list under Settings).
"""

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string

ACTIONS = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE}


class AuditActorMiddleware(AuditlogMiddleware):
    """auditlog's middleware, with the actor read when an entry is written rather than when the
    request arrives: an API request's user is known only once DRF has checked its token (DRF
    sets it on the underlying request), a browser session's at once."""

    @staticmethod
    def _get_actor(request):
        return SimpleLazyObject(lambda: getattr(request, "user", None))

    @staticmethod
    def _get_remote_addr(request):
        # the client as the API and the sign-in lockout see it (only trusted proxies' hops),
        # not the first X-Forwarded-For hop, which any client can write
        return import_string(settings.AXES_CLIENT_IP_CALLABLE)(request) or None


def audit_record(
    *,
    instance: Any,
    action: str,
    changes: dict[str, list],
    by=None,
    reason: str = "",
) -> LogEntry:
    """Log a staff action on `instance` that no auditlog signal saw.

    `action` is "create" or "update"; `changes` maps each field to `[before, after]` (as text or
    JSON values; `None` for "not set"); `by` is the staff user (None: the system, or the actor
    of the current request); `reason` is kept in `additional_data`.
    """
    extra = {"reason": reason} if reason else None
    fields = {"additional_data": extra}
    if by is not None and getattr(by, "is_authenticated", False):
        fields["actor"] = by
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=ACTIONS[action],
        changes={name: [_text(old), _text(new)] for name, (old, new) in changes.items()},
        **fields,
    )


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | str) else str(value)
