"""Serializer fields for the API's input rules (docs/api.md "Timestamps")."""

from django.utils import timezone
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp that must carry its UTC offset (`Z` or `+01:00`), as SPEC §10 says.

    DRF would read a timestamp without an offset in the server's time zone, silently; the
    sender's clock may be anywhere, so it is refused instead.
    """

    default_error_messages = {
        "naive": "A timestamp needs its UTC offset, e.g. 2026-11-20T10:00:00Z or "
        "2026-11-20T11:00:00+01:00.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
