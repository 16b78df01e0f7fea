"""API serializer fields for the input rules (docs/api.md "Input rules"): identifiers, amounts.

Every door that takes a player, event or round id, or an amount, uses these, so the rules live
in one place: `players/identifiers.py` (ids) and `players.money.decimal_text_parse` (amounts).
"""

from rest_framework import serializers

from config.api.parsers import JsonNumber
from config.errors import DomainError
from players.identifiers import identifier_problem
from players.money import decimal_text_parse


class IdentifierField(serializers.CharField):
    """A player, event or round id under the identifier rule (players/identifiers.py)."""

    def __init__(self, *, max_length: int, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # " p-1" is not "p-1": refuse, never guess
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        problem = value and identifier_problem(value, max_length=self.max_length)
        if problem:
            raise serializers.ValidationError(problem, code="invalid_identifier")
        return value


def amount_as_written(data: object) -> str:
    """An amount's text as the sender wrote it — a JSON string, or a JSON number (parsed
    exactly, never through float: `JsonNumber`) — checked to be a plain ASCII decimal."""
    if isinstance(data, JsonNumber):
        data = data.text
    elif isinstance(data, int) and not isinstance(data, bool):
        data = str(data)
    elif isinstance(data, str):
        data = data.strip()
    try:
        decimal_text_parse(data)
    except DomainError as error:
        raise serializers.ValidationError(error.message, code="invalid") from None
    return data


class MoneyTextField(serializers.CharField):
    """An amount as written (`amount_as_written`); `amount_validate` then applies the money
    rules (currency decimals, sign, ceiling)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(amount_as_written(data))


class MoneyField(serializers.DecimalField):
    """DRF's DecimalField for amounts, reading only what `amount_as_written` accepts."""

    def to_internal_value(self, data):
        return super().to_internal_value(amount_as_written(data))
