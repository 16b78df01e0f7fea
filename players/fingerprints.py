"""Fingerprints of players — device id, IP, payment-instrument hash (SPEC §3, §10).

They arrive on live events and in player imports and are stored once per (player, kind, value)
for multi-account detection (safety/clusters.py). A payment instrument must be a hash or token:
anything that looks like a card number (13–19 digits passing the Luhn check, spaces and dashes
ignored) is refused, so no primary account number is ever stored.
"""

import re
from collections.abc import Iterable

from config.errors import DomainError
from players.models import Fingerprint

_SEPARATORS = re.compile(r"[\s-]")
FIELDS = {"device_id": Fingerprint.Kind.DEVICE, "ip": Fingerprint.Kind.IP,
          "payment_instrument": Fingerprint.Kind.PAYMENT}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    """13–19 digits (spaces and dashes ignored) passing Luhn: a card number, not a hash."""
    digits = _SEPARATORS.sub("", value or "")
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn_valid(digits)


def payment_instrument_validate(value: str) -> str:
    """The value unchanged, or DomainError `card_number_refused` when it looks like a card."""
    if looks_like_card_number(value):
        raise DomainError(
            "card_number_refused",
            "payment_instrument looks like a card number; send a hash or token of it instead.",
        )
    return value


def fingerprints_record(*, rows: Iterable[tuple[int, str, str]]) -> int:
    """Store (player_id, kind, value) rows, each once per player (existing ones are ignored).

    Blank values are skipped; one INSERT … ON CONFLICT DO NOTHING. Returns rows offered.
    """
    objects = [
        Fingerprint(player_id=player_id, kind=kind, value=value[:128])
        for player_id, kind, value in rows
        if value
    ]
    if objects:
        Fingerprint.objects.bulk_create(objects, ignore_conflicts=True)
    return len(objects)
