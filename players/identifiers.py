"""The identifier rule for players, events and rounds (docs/api.md "Identifiers").

Every id that a casino platform or a game aggregator sends — a player's `external_id`, an
event's `external_id`, `round_id` and `reference_id` — is 1 to N characters from the set below:
letters and digits (of any script, as Python's `str.isalnum` sees them, so `ü-spieler` is one)
and `- _ . : @ + = ~`. That covers what PAMs and game providers use (numbers, UUIDs, hex hashes,
`brand:123`, `EU-123`, `user@brand`, base64url, user names) and keeps every id one URL path
segment: `/`, `?`, `#`, `%`, spaces, control characters (NUL) and other punctuation are refused
at every door (API, imports, admin; the aggregator adapter must call `identifier_problem` too),
so every accepted id is addressable in every per-player endpoint.

Lengths are the database columns': players 128, events and rounds 200.
"""

import re

IDENTIFIER_CHARACTERS = r"\w.:@+=~-"  # \w: letters, digits (any script) and _
PLAYER_ID_MAX_LENGTH = 128
EVENT_ID_MAX_LENGTH = 200

# A URL path segment that can hold a player id (players/<player_id>/…): the same characters.
PLAYER_ID_PATH_REGEX = f"[{IDENTIFIER_CHARACTERS}]{{1,{PLAYER_ID_MAX_LENGTH}}}"
_IDENTIFIER = re.compile(f"[{IDENTIFIER_CHARACTERS}]+")


def identifier_problem(value: object, *, max_length: int) -> str | None:
    """Why `value` is not a valid identifier (a sentence for the error message), or None."""
    if not isinstance(value, str) or not value:
        return "An identifier is a non-empty string."
    if len(value) > max_length:
        return f"An identifier has at most {max_length} characters, got {len(value)}."
    if not _IDENTIFIER.fullmatch(value):
        return (
            "An identifier may hold only letters, digits and - _ . : @ + = ~ "
            "(no '/', '?', '#', '%', spaces or other characters)."
        )
    return None


class PlayerIdConverter:
    """URL converter for player ids: exactly the identifier rule, so a NUL or `/` is a 404."""

    regex = PLAYER_ID_PATH_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
