"""JSON text read into Python values that hold only real characters.

JSON's grammar lets a string escape half of a UTF-16 surrogate pair on its own (`"\\ud800"`),
and `json.loads` returns it as a lone surrogate: a `str` that is not Unicode text. Nothing
downstream can use it. PostgreSQL cannot store it, and UTF-8 cannot encode it, so the JSON
answer that echoes it in an error message fails to render (a 500, not the 400 the client's
mistake deserves). RFC 8259 §8.2 leaves the meaning of such strings unpredictable. Pitboss
therefore refuses them where JSON text comes in: request bodies (config/api/parsers.py), the
aggregator's wallet calls, import mappings. A properly paired escape (`"\\ud83d\\ude00"`, 😀)
is one character and passes.

Bytes are decoded strictly first (in the encoding `json.detect_encoding` finds): an encoded
surrogate (`\\xed\\xa0\\x80` in UTF-8, an unpaired code unit in UTF-16) is a decode error, where
`json.loads` would let it through ('surrogatepass'). After that only a `\\u` escape produces a
surrogate, so text without one is not walked: the common body pays one substring search.
"""

import json
import re

# one surrogate code point, paired or not (a paired escape is decoded into one character)
SURROGATE = re.compile("[\ud800-\udfff]")
# where a lone surrogate's escape probably is in the text, for the error's position
HIGH, LOW = r"\\u[dD][89abAB][0-9a-fA-F]{2}", r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
SURROGATE_ESCAPE = re.compile(f"{HIGH}(?!{LOW})|(?<!{HIGH}){LOW}")


def json_loads(text: str | bytes, **options):
    """`json.loads(text, **options)`, refusing a string (value or key) that holds a lone
    surrogate. → the decoded value.

    Raises json.JSONDecodeError (a ValueError) for malformed JSON, for bytes that are not
    valid in their encoding (an encoded surrogate included), and for a lone surrogate, the
    latter with the message "lone surrogate in a string (\\uXXXX)" and the position of its
    escape in the text (0 when it cannot be told).
    """
    if isinstance(text, bytes | bytearray):
        encoding = json.detect_encoding(text)
        try:
            text = bytes(text).decode(encoding)
        except UnicodeDecodeError as error:
            message = f"not valid {encoding}: {error.reason}"
            raise json.JSONDecodeError(message, "", error.start) from None
    value = json.loads(text, **options)
    if "\\u" in text:
        found = lone_surrogate(value)
        if found is not None:
            match = SURROGATE_ESCAPE.search(text)
            message = f"lone surrogate in a string (\\u{ord(found):04x})"
            raise json.JSONDecodeError(message, text, match.start() if match else 0)
    return value


def lone_surrogate(value: object) -> str | None:
    """The first surrogate code point in any string or key `value` nests, or None.
    Iterative (a deep value does not exhaust the recursion limit)."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            if found := SURROGATE.search(node):
                return found.group()
        elif isinstance(node, dict):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return None
