"""config.jsontext: JSON text whose strings hold a lone surrogate is refused where it comes in."""

import json

import pytest

from config.jsontext import json_loads, lone_surrogate


@pytest.mark.parametrize(
    "text,code_point,position",
    [
        (r'{"a": "\ud800"}', "\ud800", 7),
        (r'{"a": "x\uDBFF"}', "\udbff", 8),  # upper-case hex, the last high surrogate
        (r'["\udc00"]', "\udc00", 2),  # a low surrogate alone
        (r'["\ud800\ud800"]', "\ud800", 2),  # two highs are no pair
        (r'["\udc00\ud800"]', "\udc00", 2),  # a pair in the wrong order
        (r'{"\ud800": 1}', "\ud800", 2),  # in a key
        (r'{"a": [{"b": ["ok", "\udfff"]}]}', "\udfff", 21),  # nested
        (r'["abcd\udc00"]', "\udc00", 6),  # after four hex-looking letters
    ],
)
def test_a_lone_surrogate_is_a_decode_error_at_its_escape(text, code_point, position):
    with pytest.raises(json.JSONDecodeError) as refused:
        json_loads(text)
    assert refused.value.msg == f"lone surrogate in a string (\\u{ord(code_point):04x})"
    assert refused.value.pos == position


@pytest.mark.parametrize(
    "text,value",
    [
        (r'["\ud83d\ude00"]', ["\U0001f600"]),  # a pair is one character
        (r'["\\ud800"]', ["\\ud800"]),  # an escaped backslash, then text
        (r'{"\u00e9": "\u0041"}', {"é": "A"}),
        ('{"a": "plain", "n": 1.5}', {"a": "plain", "n": 1.5}),
        ("[]", []),
    ],
)
def test_real_characters_pass(text, value):
    assert json_loads(text) == value


def test_bytes_in_any_json_encoding_are_checked_too():
    assert json_loads('["\\ud83d\\ude00"]'.encode("utf-16")) == ["\U0001f600"]
    for encoding in ("utf-8", "utf-16-le", "utf-32"):
        with pytest.raises(json.JSONDecodeError, match="lone surrogate"):
            json_loads('{"a": "\\ud800"}'.encode(encoding))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded in UTF-8 (CESU-style)
        '{"a": "x"}'.encode("utf-16-le").replace("x".encode("utf-16-le"), b"\x00\xd8"),
        b'{"a": "\xff"}',  # not UTF-8 at all
    ],
)
def test_bytes_that_are_not_valid_in_their_encoding_are_refused(raw):
    with pytest.raises(json.JSONDecodeError, match="not valid utf-"):
        json_loads(raw)


def test_a_byte_order_mark_is_read_as_json_loads_reads_it():
    assert json_loads('{"a": 1}'.encode("utf-8-sig")) == {"a": 1}


def test_malformed_json_is_still_the_decoders_error():
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        json_loads('{"a": ')


def test_options_reach_the_decoder():
    from decimal import Decimal

    assert json_loads('{"a": 1.10}', parse_float=Decimal) == {"a": Decimal("1.10")}


def test_deep_values_are_walked_without_recursion():
    value = ["\udc00"]
    for _ in range(5000):  # deeper than the interpreter's recursion limit
        value = [value]
    assert lone_surrogate(value) == "\udc00"
    assert lone_surrogate({"k": ["a", {"b": "c"}]}) is None
