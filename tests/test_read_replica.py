"""Analytics reads go to the read replica when one is configured (config/databases.py); the
test database's second alias stands in for it."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def test_reports_read_from_the_replica_and_money_from_the_primary(service_client, settings):
    settings.PITBOSS = {**settings.PITBOSS, "ANALYTICS_DATABASE": "replica"}
    PlayerFactory(external_id="r-1", segment="vip")
    with CaptureQueriesContext(connections["replica"]) as replica:
        distribution = service_client.get("/api/v1/segments/distribution/").json()
        listed = service_client.get("/api/v1/players/").json()
    assert {row["segment"]: row["players"] for row in distribution["segments"]}["vip"] == 1
    assert [p["external_id"] for p in listed["results"]] == ["r-1"]
    assert len(replica.captured_queries) >= 3
    with CaptureQueriesContext(connections["replica"]) as replica:
        service_client.get("/api/v1/players/r-1/wallet/")
        service_client.get("/api/v1/players/r-1/")
    assert replica.captured_queries == []


def test_without_a_replica_everything_reads_the_primary(service_client, settings):
    settings.PITBOSS = {**settings.PITBOSS, "ANALYTICS_DATABASE": "default"}
    PlayerFactory(external_id="r-2")
    with CaptureQueriesContext(connections["replica"]) as replica:
        service_client.get("/api/v1/segments/distribution/")
    assert replica.captured_queries == []
