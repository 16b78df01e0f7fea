"""After-commit listeners on the ingestion path (ADR 0008): the cheap per-event detectors.

They run in the request, so they only enqueue: chargebacks become flags, and live bets the
wallet refused over a bonus's max bet become `max_bet_breach` flags (safety/tasks.py).
Fingerprints need no listener: the ingestion path stores them in the event's own transaction.
"""

from collections.abc import Sequence


def events_applied(applied: Sequence) -> None:
    chargebacks = [event.activity_id for event in applied if event.type == "chargeback"]
    if chargebacks:
        from safety.tasks import fraud_activities_check

        fraud_activities_check.delay(chargebacks)


def events_refused(refused: Sequence) -> None:
    attempts = [
        {"player_id": e.player_id, "external_id": e.external_id, "amount": str(e.amount),
         "currency": e.currency, "reason_code": e.reason_code}
        for e in refused
        if e.reason_code == "max_bet_exceeded"
    ]  # fmt: skip
    if attempts:
        from safety.tasks import fraud_refusals_check

        fraud_refusals_check.delay(attempts)
