"""A currency without an exchange rate: the import warns, reports leave it out and name it
instead of failing for everyone (issue 16, case 9)."""

from decimal import Decimal

import pytest

from importer.models import ImportJob
from players.models import ExchangeRate
from players.selectors import currencies_without_rate, segment_distribution
from tests.importer.mappings import BUSTABIT_ROUNDS

pytestmark = pytest.mark.django_db

BUSTABIT_LIKE = (
    b"Id,GameID,Username,Bet,CashedOut,Bonus,Profit,PlayDate\n"
    b"1,10,alice,100,1.5,0,50,2016-11-20T19:44:19Z\n"
    b"2,10,bob,200,NA,NA,NA,2016-11-20T19:44:19Z\n"
)


@pytest.fixture
def bits_import(run_import):
    job = run_import(BUSTABIT_LIKE, kind="rounds", mapping=BUSTABIT_ROUNDS)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    return job


def test_the_import_introducing_a_currency_warns_it_needs_a_rate(bits_import):
    warnings = [w for w in bits_import.warnings if w["code"] == "no_exchange_rate"]
    assert [w["currency"] for w in warnings] == ["BITS"]
    assert currencies_without_rate() == ["BITS"]


def test_distribution_leaves_out_and_names_a_currency_without_rate(bits_import, service_client):
    # Case 9: "No exchange rate for BITS" broke the page and the API for everyone.
    body = service_client.get("/api/v1/segments/distribution/")
    assert body.status_code == 200, body.content
    assert body.json()["currencies_left_out"] == ["BITS"]
    assert sum(row["players"] for row in body.json()["segments"]) == 2


def test_the_admin_page_names_the_currency(bits_import, admin_client):
    page = admin_client.get("/admin/players/player/distribution/")
    assert page.status_code == 200
    assert "Left out of the sums: money in BITS" in page.content.decode()


def test_a_rate_puts_the_currency_back(bits_import):
    ExchangeRate.objects.create(
        currency_id="BITS", valid_from="2000-01-01T00:00:00Z", rate=Decimal("0.0006")
    )
    assert segment_distribution()["currencies_left_out"] == []
    assert currencies_without_rate() == []


def test_an_import_in_known_currencies_has_no_rate_warning(run_import):
    content = b"TxID,Player ID,Type,Amount,Currency,Date\nt1,p1,bet,1,USD,2026-01-02\n"
    job = run_import(content, kind="activity")
    assert not [w for w in job.warnings if w["code"] == "no_exchange_rate"]
