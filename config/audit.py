"""The audit trail (django-auditlog, ADR 0016): who changed what, when, before and after.

Configuration models are tracked by auditlog's signals (`AUDITLOG_INCLUDE_TRACKING_MODELS` in
settings). Staff money actions (grant, forfeit, adjustment, approval, rejection, fraud flag
resolution) change rows with compare-and-set `.update()` calls or live on tables too hot to
track, which no signal sees: their services call `audit_record` with the before/after they
wrote, in the same transaction. Both land in auditlog's one `LogEntry` table, shown read-only in
the admin (per object and as one list under Settings).
"""

from functools import partial
from typing import Any

from auditlog.cid import set_cid
from auditlog.context import _set_extra_data, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.conf import settings
from django.db.models.signals import pre_save
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string

ACTIONS = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE}


# auditlog's own receiver, bound to this id, connected once per process: it fills a LogEntry
# from auditlog's context variable when the variable holds a request's context.
REQUEST_CONTEXT = ("pitboss-audit-request", 0)


class AuditActorMiddleware(AuditlogMiddleware):
    """auditlog's middleware — the request's actor, address, port and correlation id on every
    entry written while it runs — with the actor read when an entry is written rather than when
    the request arrives: an API request's user is known only once DRF has checked its token (DRF
    sets it on the underlying request), a browser session's at once.

    auditlog's `set_extra_data` connects a `pre_save` receiver for each request and disconnects
    it after (~130 Python calls, and each connect empties the `pre_save` receivers cache every
    model save then rebuilds). Here the same receiver (auditlog's `_set_extra_data`) is
    connected once, for `REQUEST_CONTEXT`, and a request only sets auditlog's context variable
    for its duration; the address and port are worked out when an entry is written. A
    `set_actor` block inside a request still takes over, as with auditlog's middleware (its
    context has another id). ADR 0033; tests/backoffice/test_audit.py.
    """

    def __init__(self, get_response=None):
        super().__init__(get_response)
        pre_save.connect(
            partial(_set_extra_data, signal_duid=REQUEST_CONTEXT),
            sender=LogEntry,
            dispatch_uid=REQUEST_CONTEXT,
            weak=False,
        )

    def __call__(self, request):
        set_cid(request)
        context = auditlog_value.set(
            {
                "actor": self._get_actor(request),
                # callables: auditlog calls them when it fills an entry
                "remote_addr": partial(self._get_remote_addr, request),
                "remote_port": partial(self._get_remote_port, request),
                "signal_duid": REQUEST_CONTEXT,
            }
        )
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(context)

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
