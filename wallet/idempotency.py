"""`Idempotency-Key` handling for the wallet's money-moving API calls (SPEC §8, §10).

When a key is consumed (docs/api.md), the one rule for every money-moving endpoint, as payment
APIs do it: a request refused by validation — its shape, amount, currency, terms or reason,
anything wrong whatever the wallet holds (`REQUEST_ERRORS`) — ran nothing and stores nothing, so
the corrected retry under the same key goes through. Any other answer (success, or a refusal
that depends on the state: insufficient funds, a blocked player, a bonus no longer active) is
stored in the same transaction as the money it moved; a replay with the same payload answers it
again; the same key with a different payload answers 409 `idempotency_conflict`. Two concurrent
calls with one key serialise on the unique key: the loser waits for the winner's commit and
replays its answer.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from config.api.errors import error_body
from config.errors import DomainError
from wallet.models import IdempotentRequest

HEADER = "Idempotency-Key"

# Refusals of the request itself: they do not consume its key.
REQUEST_ERRORS = frozenset(
    {
        "invalid_amount",
        "unknown_currency",
        "invalid_terms",
        "reason_required",
        "invalid_request",
        "validation_error",
    }
)


class _NotConsumed(Exception):
    """Carries a request refusal out of the transaction, which rolls back: nothing is stored."""

    def __init__(self, error: DomainError):
        super().__init__(error.message)
        self.error = error


def _replay(record: IdempotentRequest, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise DomainError(
            "idempotency_conflict",
            "This Idempotency-Key was used with a different request.",
            status=409,
        )
    return Response(
        record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )


def idempotent_answer(
    *, request, scope: str, payload: dict, call: Callable[[str], tuple[int, dict]]
) -> Response:
    """Answer `call(ledger_key)` once per Idempotency-Key; replay or 409 afterwards."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key or len(key) > 200:
        raise DomainError(
            "idempotency_key_required", f"Send an {HEADER} header (1-200 characters)."
        )
    full_key = f"{scope}:{key}"
    request_hash = hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str).encode()
    ).hexdigest()
    record = IdempotentRequest.objects.filter(key=full_key).first()
    if record is not None:
        return _replay(record, request_hash)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    status, body = call(f"api:{full_key}")
            except DomainError as exc:
                if exc.code in REQUEST_ERRORS:
                    raise _NotConsumed(exc) from exc
                if exc.code == "idempotency_conflict":
                    raise  # a concurrent call with this key won; replay its answer below
                status, body = exc.status_code, error_body(exc.code, exc.message, exc.details)
            IdempotentRequest.objects.create(
                key=full_key, request_hash=request_hash, status_code=status, response=body
            )
    except _NotConsumed as refused:
        raise refused.error from None
    except (IntegrityError, DomainError) as exc:
        record = IdempotentRequest.objects.filter(key=full_key).first()
        if record is None:
            raise exc
        return _replay(record, request_hash)
    return Response(body, status=status)
