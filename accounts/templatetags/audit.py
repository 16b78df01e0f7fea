"""`{% audit_trail object %}`: an object's audit log entries (who, when, before → after),
shown on every admin object's History page (templates/admin/object_history.html)."""

from auditlog.models import LogEntry
from django import template

register = template.Library()
SHOWN = 100


@register.inclusion_tag("admin/accounts/audit_trail.html")
def audit_trail(obj) -> dict:
    entries = (
        LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp")[:SHOWN]
    )
    return {
        "entries": [
            {
                "entry": entry,
                "changes": [
                    (field, *values)
                    if isinstance(values, list | tuple) and len(values) == 2
                    else (field, "", values)
                    for field, values in (entry.changes_dict or {}).items()
                ],
            }
            for entry in entries
        ],
        "shown": SHOWN,
    }
