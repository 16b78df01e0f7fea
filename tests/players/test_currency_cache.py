"""players.money.currency_get keeps active currencies per process and forgets them on a save."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.errors import DomainError
from players.models import Currency
from players.money import currencies_forget, currency_get

pytestmark = pytest.mark.django_db


def test_a_known_currency_is_read_once():
    currencies_forget()
    with CaptureQueriesContext(connection) as queries:
        assert currency_get("EUR").code == "EUR"
        assert currency_get("EUR").minor_units == 2
    assert len(queries.captured_queries) == 1


def test_saving_a_currency_forgets_the_cache():
    assert currency_get("BRL").active
    brl = Currency.objects.get(code="BRL")
    brl.active = False
    brl.save()
    with pytest.raises(DomainError) as error:
        currency_get("BRL")
    assert error.value.code == "unknown_currency"


def test_a_new_currency_is_found_at_once():
    with pytest.raises(DomainError):
        currency_get("XTS")
    Currency.objects.create(code="XTS", minor_units=2)
    assert currency_get("XTS").code == "XTS"
    Currency.objects.filter(code="XTS").delete()  # a queryset delete still sends post_delete
    with pytest.raises(DomainError):
        currency_get("XTS")
