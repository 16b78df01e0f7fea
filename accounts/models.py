"""API tokens, stored as SHA-256 hashes: a leaked database does not leak usable tokens."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """One API token of a user (an external system's service account, or staff).

    The token itself is shown once, when it is created; only its hash is kept. `prefix` (its
    first 8 characters) lets staff recognise it. A token may expire and may be limited to
    client addresses (`allowed_ips`: IP addresses or CIDR networks).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    allowed_ips = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
