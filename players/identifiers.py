"""The identifier rule for players, events and rounds (docs/api.md "Input rules").

Every id that a casino platform or a game aggregator sends — a player's `external_id`, an
event's `external_id`, `round_id` and `reference_id` — is the platform's own string, so the rule
refuses only what cannot be an id or cannot be addressed in a URL:
- 1 to 128 characters for players, 1 to 200 for events and rounds (the database columns);
- printable characters only (`str.isprintable`: no NUL — PostgreSQL text cannot hold it — no
  tabs, newlines, zero-width or other invisible characters; the ASCII space is printable);
- no `/` or `\\`: a percent-encoded `%2F` is decoded before routing and proxies turn `\\` into `/`,
  so such an id could never be one path segment;
- no leading or trailing space, and not `.` or `..` (clients normalise those path segments away).

So numbers, UUIDs, `EU-123`, `brand:42`, `john.doe@casino.example`, `ü-spieler`, and the ids
real PAM exports hold (bustabit's `#NAME?`, `100%`, `John Smith`) are ids, and each one is
addressable in every per-player endpoint when percent-encoded (`quote(id, safe="")`). Every door
calls `identifier_problem`: the API serializers, the URL converter, imports, the admin's player
form and players import, and the aggregator adapter to come.
"""

import re

PLAYER_ID_MAX_LENGTH = 128
EVENT_ID_MAX_LENGTH = 200

IDENTIFIER_RULE = (
    "An identifier is 1 to {max_length} printable characters without '/' or '\\', "
    "without leading or trailing spaces, and not '.' or '..'."
)
# What a vectorised check (imports) can refuse with a regex; non-ASCII text needs
# `identifier_problem` for the printable test.
IDENTIFIER_ASCII_FORBIDDEN = r"[/\\\x00-\x1f\x7f]|^\s|\s$|^\.\.?$"
_FORBIDDEN = re.compile(r"[/\\]")


def identifier_problem(value: object, *, max_length: int) -> str | None:
    """Why `value` is not a valid identifier (a sentence for the error message), or None."""
    rule = IDENTIFIER_RULE.format(max_length=max_length)
    if not isinstance(value, str) or not value:
        return "An identifier is a non-empty string. " + rule
    if len(value) > max_length:
        return f"An identifier has at most {max_length} characters, got {len(value)}."
    if (
        not value.isprintable()
        or _FORBIDDEN.search(value)
        or value != value.strip()
        or value in {".", ".."}
    ):
        return rule
    return None


class PlayerIdConverter:
    """URL converter for `players/<player_id:…>/`: a segment outside the rule is a 404."""

    regex = f"[^/]{{1,{PLAYER_ID_MAX_LENGTH}}}"

    def to_python(self, value: str) -> str:
        if identifier_problem(value, max_length=PLAYER_ID_MAX_LENGTH):
            raise ValueError(value)  # no match: the API's JSON 404, and no query with a NUL
        return value

    def to_url(self, value: str) -> str:
        return value
