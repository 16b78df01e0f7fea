"""The hand-written check of a single event (wallet/api_events_check.py, ADR 0029) against its
reference, `EventSerializer`: for every payload, valid or not, the same `validated_data`
(values, types, key order, Decimal exponents, time zones) or the same refusal with the same
error details, and the same queries (an unknown currency is looked up as often as before).

The payloads: each field of a few valid events replaced by, or missing for, values of every
kind a JSON body can carry (wrong types, NUL, surrogates, unicode, blanks, lengths around each
limit, huge numbers, bad dates and offsets, unknown and inactive currencies, negative and
over-precise amounts), then random combinations of them (hypothesis).
"""

import contextlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from config.api.parsers import JsonNumber
from config.errors import DomainError
from players.models import Activity, Currency, GameCategory
from players.money import currency_get
from wallet.api_events import EventSerializer, event_attrs
from wallet.api_events_check import FIELDS, EventCheck

pytestmark = pytest.mark.django_db

BASES = [
    {"external_id": "e-1", "player_id": "p-1", "type": "deposit", "amount": "50.00",
     "currency": "EUR", "occurred_at": "2026-11-20T10:00:00.123456+00:00"},
    {"external_id": "e-2", "player_id": "p-2", "type": "bet", "amount": "1.00", "currency": "EUR",
     "occurred_at": "2026-11-20T10:00:00Z", "game_id": "slots-1", "game_category": "slots",
     "round_id": "r-1"},
    {"external_id": "e-3", "player_id": "p-3", "type": "win", "amount": "0", "currency": "BTC",
     "occurred_at": "2026-11-20T11:00:00+01:00", "reference_id": "e-2", "round_id": "r-1",
     "device_id": "dev-1", "ip": "10.0.0.1", "payment_instrument": "tok_abc"},
]  # fmt: skip

LENGTHS = [n for limit in (10, 40, 100, 128, 200) for n in (limit, limit + 1)]
TEXTS = [
    "", " ", "\t", "\n", "\u3000", "\xa0", "x", " x", "x ", " x ", "\u3000x\u3000", "\x00",
    "a\x00b", "\ud800", "a\udfffb", "é", "ü-spieler", "名前", "\u200b", "a\u200bb", "/", "\\",
    "a/b", ".", "..", "...", "#NAME?", "100%", "John Smith", "a\tb", "a\nb", "\U0001f600",
    *("x" * n for n in LENGTHS), *(" " + "x" * n for n in LENGTHS),
]  # fmt: skip
OTHERS = [
    None, True, False, 0, 1, -1, 10**30, -(10**30), JsonNumber("1.5"), JsonNumber("50.00"),
    JsonNumber("1E+2"), JsonNumber("-0.0"), JsonNumber("1e400"), [], {}, ["a"], {"a": 1}, ...,
]  # fmt: skip
BY_FIELD = {
    "type": [*Activity.Type.values, "Deposit", " deposit", "deposit ", "unknown"],
    "amount": [
        "50", "50.00", "50.001", "-1", "-0", "0", "0.00", "00.5", " 50.00 ", "\t5\n", "1E+2",
        "1e2", "NaN", "-NaN", "Infinity", "+5", ".5", "5.", "1,000", "1_000", "١٠", "５",
        "100000000", "100000000.00", "100000000.01", "99999999999999999999", "9" * 40, "9" * 41,
        "0.00000001", "0.000000001", "1." + "0" * 38, "0.00000001" + "0" * 30,
        "0.00000001" + "0" * 31, " " * 30 + "1", 5, 0, -5, 10**9,
        JsonNumber("5.5"), JsonNumber("0.001"), JsonNumber("1" * 41 + ".0"),
    ],
    "currency": [
        "EUR", "eur", " EUR ", "BTC", "mBTC", "USDT", "XXX", "EURO", "OLD", "EUR\x00", "ＥＵＲ",
        "E\ud800R", "x" * 10, "x" * 11,
    ],
    "occurred_at": [
        "2026-11-20T10:00:00Z", "2026-11-20T10:00:00+00:00", "2026-11-20T10:00:00-05:30",
        "2026-11-20T10:00:00+14:00", "2026-11-20T10:00:00+23:59", "2026-11-20T10:00:00",
        "2026-11-20", "2026-11-20 10:00:00Z", "2026-11-20T10:00:00.123Z",
        "2026-11-20T10:00:00.1234567Z", "2026-13-40T10:00:00Z", "2026-02-30T10:00:00Z",
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
        "iso-8601", "20261120T100000Z", "2026-W47-5T10:00:00Z", "2026-11-20T24:00:00Z",
        "2026-11-20T10:00Z", "2026-11-20T10Z", "2026-11-20T10:00:00+0100",
        "2026-11-20T10:00:00 +01:00", "2026-11-20T10:00:00+01:00:30", "2026-11-20T10:00:00z",
        " 2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z ", "2026-11-20T10:00:00+25:00",
        "２０２６-11-20T10:00:00Z", "2026-11-20T10:00:00\x00Z", 1763632800,
    ],
    "game_category": [*GameCategory.values, "SLOTS", " slots", "slots "],
    "ip": ["1.2.3.4", "::1", "::ffff:1.2.3.4", "2001:db8::1", "not-ip", "1.2.3.256",
           " 1.2.3.4 ", "fe80::1%eth0", "1:2:3"],
    "payment_instrument": ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1112",
                           "tok_123", "abc" * 50],
}  # fmt: skip


def _values(field: str) -> list:
    return [*BY_FIELD.get(field, []), *TEXTS, *OTHERS]


def _payload(base: dict, field: str, value: object) -> dict:
    item = dict(base)
    if value is ...:
        item.pop(field, None)
    else:
        item[field] = value
    return item


def _corpus() -> list:
    items: list = [*BASES, [], "event", None, 1, [BASES[0]]]
    # with an unknown currency too: a field the check let through that the serializer refuses
    # would show as a currency lookup the serializer never made
    for base in [*BASES, *({**base, "currency": "XXX"} for base in BASES)]:
        for field in (*FIELDS, "extra"):
            items += [_payload(base, field, value) for value in _values(field)]
    return items


def _same(left: object, right: object) -> bool:
    """Equal, of the same type and written the same (Decimal exponent, time zone)."""
    return type(left) is type(right) and left == right and repr(left) == repr(right)


def _outcome(validate, item) -> tuple:
    """("valid", attrs) or ("invalid", None), and the queries made."""
    with CaptureQueriesContext(connection) as queries:
        try:
            attrs = validate(item)
        except ValidationError:
            return ("invalid", None), len(queries)
    return ("valid", attrs), len(queries)


def _compare(item, check: EventCheck, reference: EventSerializer) -> str:
    """The view words a refusal with `EventSerializer(data=item).is_valid()` whichever side
    refused it, so the errors are the serializer's by construction: what must agree is
    whether it is refused, the `validated_data` otherwise, and the queries either way."""
    expected, expected_queries = _outcome(reference.run_validation, item)
    found, found_queries = _outcome(lambda i: event_attrs(i, check), item)
    assert found[0] == expected[0], (item, expected)
    assert found_queries == expected_queries, item
    if expected[0] == "invalid":
        return "invalid"
    assert type(found[1]) is type(expected[1])
    assert list(found[1]) == list(expected[1]), item  # keys, in order
    for key, value in expected[1].items():
        assert _same(found[1][key], value), (item, key, found[1][key], value)
    return "valid"


@pytest.fixture
def check() -> EventCheck:
    Currency.objects.create(code="OLD", name="Withdrawn", minor_units=2, active=False)
    for currency in Currency.objects.all():  # cached as between requests; unknown codes never
        with contextlib.suppress(DomainError):  # an inactive one is cached, then refused
            currency_get(currency.code)
    return EventCheck(EventSerializer())


@pytest.fixture
def reference() -> EventSerializer:
    """The serializer as the view used it before (one instance, `run_validation`)."""
    return EventSerializer()


def test_the_check_reads_the_serializer_it_was_written_for(check):
    """A field, validator or `validate_<field>` added to EventSerializer turns it off (every
    event then takes the serializer) until this module and its test learn about it."""
    assert check.usable
    assert tuple(EventSerializer().fields) == FIELDS


def test_the_common_events_are_checked_by_hand(check, monkeypatch):
    """The payloads the API sees all day never reach the serializer's field loop."""

    def refused(*args, **kwargs):
        raise AssertionError("took the serializer")

    for base in BASES:
        assert check.attrs(base) is not None
    monkeypatch.setattr(EventSerializer, "to_internal_value", refused)
    for base in BASES:
        event_attrs(base, check)
        event_attrs({**base, "amount": JsonNumber("5.00"), "extra": [1]}, check)


def test_same_answers_as_the_serializer_on_the_corpus(check, reference):
    corpus = _corpus()
    outcomes = [_compare(item, check, reference) for item in corpus]
    # the corpus exercises both sides, and the check answers most valid events by hand
    assert outcomes.count("valid") > 300 and outcomes.count("invalid") > 1000
    by_hand = sum(_by_hand(item, check) for item in corpus)
    assert by_hand > 0.8 * outcomes.count("valid")


def _by_hand(item, check: EventCheck) -> bool:
    """Whether the check decided (answered or refused in `validate`) without the serializer."""
    try:
        return check.attrs(item) is not None
    except ValidationError:
        return True


def test_an_unknown_currency_is_refused_by_the_serializers_validate(check, reference):
    """Decided by the check (after the same lookup), worded by the serializer."""
    item = {**BASES[0], "currency": "XXX"}
    with pytest.raises(ValidationError):
        check.attrs(item)
    assert _compare(item, check, reference) == "invalid"
    assert _compare({**BASES[0], "amount": "50.001"}, check, reference) == "invalid"


SCALARS = st.one_of(
    st.sampled_from([value for values in BY_FIELD.values() for value in values] + TEXTS + OTHERS),
    st.text(max_size=12),
    st.text(alphabet="0123456789.-+ eE", max_size=12),
    st.text(alphabet=st.sampled_from("\x00\ud800\udfff \t\u3000\xa0\u200ba1./\\é"), max_size=8),
    st.integers(),
    st.builds(lambda text: JsonNumber(text), st.from_regex(r"-?[0-9]{1,12}\.[0-9]{1,9}", fullmatch=True)),
)  # fmt: skip


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    base=st.sampled_from(BASES),
    changes=st.dictionaries(st.sampled_from([*FIELDS, "extra"]), SCALARS, max_size=5),
)  # fmt: skip
def test_same_answers_as_the_serializer_on_random_payloads(check, reference, base, changes):
    item = {**base, **changes}
    for field, value in changes.items():
        if value is ...:
            del item[field]
    _compare(item, check, reference)


def test_amounts_keep_their_written_exponent(check):
    attrs = check.attrs({**BASES[0], "amount": "50.10"})
    assert attrs["amount"].as_tuple() == Decimal("50.10").as_tuple()
