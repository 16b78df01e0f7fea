"""Request parsers: JSON bodies bounded in size and depth, numbers parsed exactly.

DRF's JSONParser reads the request stream itself, so Django's limit (which only guards
`request.body` and `request.POST`) never applies to it; a 10 MB event batch would be parsed
in full. This parser reads at most the limit and answers 413 beyond it.

JSON numbers with a fraction or exponent are parsed as `JsonNumber` (a `Decimal` that keeps the
text as written), never `float`, so no float ever holds a value from a request, and an amount
sent as a number is checked as written (docs/api.md "Amounts").
A body nested deeper than `MAX_DEPTH` is a 400 `parse_error`: no field of the API nests more
than a few levels, and a deep one would exhaust the interpreter's recursion limit (a 500)
wherever it is walked — the parser, a serializer, a hash of the payload.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.jsontext import json_loads

MAX_DEPTH = 64


class JsonNumber(Decimal):
    """A JSON number with a fraction or exponent: its exact Decimal, and `text` as written."""

    __slots__ = ("text",)

    def __new__(cls, text: str):
        number = super().__new__(cls, text)
        number.text = text
        return number


def _constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _too_deep(value: object, limit: int) -> bool:
    """Whether `value` nests lists/objects more than `limit` levels (iterative, no recursion)."""
    level = [value]
    for _ in range(limit):
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            return super().parse(stream, media_type, parser_context)
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig("The request body is larger than allowed.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        too_deep = ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        try:
            data = json_loads(
                body.decode(encoding), parse_float=JsonNumber, parse_constant=_constant
            )
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:  # includes a body that is not in the declared encoding
            raise ParseError(f"JSON parse error - {exc}") from None
        if _too_deep(data, MAX_DEPTH):
            raise too_deep
        return data
