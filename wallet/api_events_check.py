"""A single event's payload checked as `EventSerializer` checks it, without DRF's per-field
machinery (ADR 0029): the serializer's field loop was about 600 of a first deposit's 4,100
Python calls (bench/request_work.py), its hand-written equivalent is under 100.

`EventCheck(serializer).attrs(item)` returns exactly the `validated_data` the serializer would
give, or None when the payload is not in the common form checked here: anything but plain
`str` values where text is expected, non-ASCII text in a trimmed text field, a missing or blank
required field, an amount the field itself refuses… The caller then runs the serializer, which
answers as it always did. The only refusals decided here are the serializer's own `validate`
(unknown currency, an amount the currency refuses), reached with the same attributes and the
same `currency_get` call, so an invalid event still costs the same queries.

So the serializer stays the reference: every error message, code and their order come from it
(the view words the errors with `is_valid`), it still describes the OpenAPI schema, and
tests/api/test_events_check.py compares the two on generated valid and invalid payloads. The
optional fingerprint fields, rarely sent, are checked by the serializer's own field objects.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from config.api.parsers import JsonNumber
from config.errors import DomainError
from players.identifiers import EVENT_ID_MAX_LENGTH, PLAYER_ID_MAX_LENGTH, identifier_problem
from players.money import decimal_text_parse

# The fields and their order in `validated_data`; a serializer with other fields (or field-
# level `validate_<name>` methods other than payment_instrument's, or validators of its own)
# is not what this module checks for: `EventCheck.attrs` then always defers to it.
FIELDS = (
    "external_id",
    "player_id",
    "type",
    "amount",
    "currency",
    "occurred_at",
    "game_id",
    "game_category",
    "round_id",
    "reference_id",
    "device_id",
    "ip",
    "payment_instrument",
)
FINGERPRINTS = ("device_id", "ip", "payment_instrument")
AMOUNT_MAX_LENGTH = 40  # MoneyTextField's
CURRENCY_MAX_LENGTH = 10
GAME_ID_MAX_LENGTH = 100


def _identifier(value: object, max_length: int) -> bool:
    """A non-blank IdentifierField value it accepts unchanged: `identifier_problem` refuses
    what its validators would (length; NUL and surrogates are not printable)."""
    return type(value) is str and not identifier_problem(value, max_length=max_length)


def _text(value: str, max_length: int) -> str | None:
    """A trimmed CharField's value for a `str`, or None if only the field can tell: blank
    (an error or the default), over `max_length`, NUL or non-ASCII (surrogates) inside."""
    text = value.strip()
    if text and len(text) <= max_length and text.isascii() and "\x00" not in text:
        return text
    return None


class EventCheck:
    """The hand-written check of one `EventSerializer` instance's fields (see the module)."""

    def __init__(self, serializer) -> None:
        fields = serializer.fields
        self.serializer = serializer
        self.usable = (
            tuple(fields) == FIELDS
            and not serializer.validators
            and not any(field.read_only for field in fields.values())
            and [name for name in FIELDS if hasattr(serializer, f"validate_{name}")]
            == ["payment_instrument"]
            and fields["amount"].max_length == AMOUNT_MAX_LENGTH
            and fields["currency"].max_length == CURRENCY_MAX_LENGTH
            and fields["game_id"].max_length == GAME_ID_MAX_LENGTH
            and fields["external_id"].max_length == EVENT_ID_MAX_LENGTH
            and fields["player_id"].max_length == PLAYER_ID_MAX_LENGTH
        )
        self.types = fields["type"].choice_strings_to_values
        self.categories = fields["game_category"].choice_strings_to_values
        self.occurred_at = fields["occurred_at"]
        self.fingerprints = [(name, fields[name]) for name in FINGERPRINTS]

    def attrs(self, item: object) -> dict | None:
        """`serializer.run_validation(item)`'s result, None to let the serializer decide, or
        the ValidationError its `validate` raises (unknown currency, refused amount)."""
        if not self.usable or type(item) is not dict:
            return None
        get = item.get
        external_id, player_id = get("external_id"), get("player_id")
        if not (
            _identifier(external_id, EVENT_ID_MAX_LENGTH)
            and _identifier(player_id, PLAYER_ID_MAX_LENGTH)
        ):
            return None
        kind = get("type")
        if type(kind) is not str or kind not in self.types:
            return None
        amount = self._amount(get("amount"))
        currency = get("currency")
        currency = _text(currency, CURRENCY_MAX_LENGTH) if type(currency) is str else None
        occurred_at = self._occurred_at(get("occurred_at"))
        if amount is None or currency is None or occurred_at is None:
            return None
        game_id = get("game_id", "")
        if type(game_id) is not str:
            return None
        if game_id:
            game_id = "" if not game_id.strip() else _text(game_id, GAME_ID_MAX_LENGTH)
            if game_id is None:
                return None
        game_category = get("game_category", "")
        if type(game_category) is not str or (
            game_category and game_category not in self.categories
        ):
            return None
        attrs = {
            "external_id": external_id,
            "player_id": player_id,
            "type": self.types[kind],
            "amount": amount,
            "currency": currency,
            "occurred_at": occurred_at,
            "game_id": game_id,
            "game_category": self.categories[game_category] if game_category else "",
        }
        for name in ("round_id", "reference_id"):
            value = get(name, "")
            if value != "" and not _identifier(value, EVENT_ID_MAX_LENGTH):
                return None
            attrs[name] = value
        for name, field in self.fingerprints:
            value = get(name, empty)
            if value is empty:
                attrs[name] = ""
                continue
            try:
                value = field.run_validation(value)
                if name == "payment_instrument":
                    value = self.serializer.validate_payment_instrument(value)
            except (ValidationError, DjangoValidationError):
                return None
            attrs[name] = value
        # the serializer's own `validate`: the currency, then the amount in it (a refusal raises
        # its ValidationError, after the same currency_get call the serializer makes)
        return self.serializer.validate(attrs)

    def _amount(self, value: object) -> str | None:
        """MoneyTextField's value (`amount_as_written`, then the CharField), or None."""
        kind = type(value)
        if kind is str:
            text = value.strip()
        elif kind is JsonNumber:
            text = value.text
        elif kind is int:
            text = str(value)
        else:
            return None
        if len(text) > AMOUNT_MAX_LENGTH:
            return None
        try:
            decimal_text_parse(text)  # plain ASCII decimals: no blank, NUL or surrogate
        except DomainError:
            return None
        return text

    def _occurred_at(self, value: object):
        """AwareDateTimeField's value for an ISO 8601 text (DRF's one input format), or None."""
        if type(value) is not str:
            return None
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                return None
            # the field's own offset check and conversion to the current time zone
            return self.occurred_at.enforce_timezone(parsed)
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None
