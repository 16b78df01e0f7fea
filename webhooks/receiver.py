"""A webhook receiver's signature check, in plain Python (docs/webhooks.md shows this file).

Pitboss signs as the Standard Webhooks specification says, so a receiver may instead use that
specification's libraries (`standardwebhooks` on PyPI). Keep the raw body bytes: verify before
parsing, and deduplicate by the `webhook-id` header (the delivery id, the same on every retry).
"""

import base64
import hashlib
import hmac
import time

TOLERANCE_SECONDS = 5 * 60


class InvalidSignature(Exception):
    pass


def webhook_verify(secret: str, headers: dict, body: bytes, *, now: float | None = None) -> None:
    """Raise InvalidSignature unless `body` was signed by Pitboss with `secret` (`whsec_…`)
    less than five minutes ago. `headers` are the request's headers (any case)."""
    headers = {name.lower(): value for name, value in headers.items()}
    try:
        msg_id = headers["webhook-id"]
        timestamp = headers["webhook-timestamp"]
        signatures = headers["webhook-signature"]
    except KeyError as missing:
        raise InvalidSignature(f"missing header {missing}") from None
    now = time.time() if now is None else now
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp too old or too new (a replay?)")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():  # several during a secret rotation
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise InvalidSignature("no signature matches")
