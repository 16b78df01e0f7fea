"""GET players/{id}/ is rendered from plain values (players/selectors.py `player_detail`): the
same answer as the list's PlayerSerializer, in two queries once the token is cached."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from players.selectors import players_for_api
from players.serializers import PlayerSerializer
from players.services import players_refresh
from rewards.models import CustomSegment, CustomSegmentMembership
from tests.factories import ActivityFactory, PlayerFactory, currency

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 12, 1, 12, tzinfo=UTC)


def serializer_answer(external_id: str) -> dict:
    import json

    player = players_for_api().get(external_id=external_id)
    return json.loads(JSONRenderer().render(PlayerSerializer(player).data))


@pytest.mark.parametrize("code", ["EUR", "BTC", "mBTC", "USDT"])
def test_detail_equals_the_serializer_answer(service_client, code):
    player = PlayerFactory(external_id="p-x", currency=currency(code), country="DE")
    for type_, amount in (("deposit", "100"), ("bet", "7"), ("bet", "3"), ("win", "4")):
        ActivityFactory(
            player=player,
            type=type_,
            amount=Decimal(amount),
            player_amount=Decimal(amount),
            occurred_at=AS_OF - timedelta(days=2),
        )
    players_refresh(player_ids=[player.pk], as_of=AS_OF)
    for name in ("zeta", "alpha"):
        segment = CustomSegment.objects.create(name=name, expression="true")
        CustomSegmentMembership.objects.create(segment=segment, player=player)
    body = service_client.get("/api/v1/players/p-x/").json()
    assert body == serializer_answer("p-x")
    assert body["custom_segments"] == ["alpha", "zeta"]
    assert body["metrics"]["lifetime"]["bet_count"] == 2


def test_detail_of_a_player_without_metrics_equals_the_serializer_answer(service_client):
    PlayerFactory(external_id="fresh")
    body = service_client.get("/api/v1/players/fresh/").json()
    assert body == serializer_answer("fresh")


def test_detail_takes_one_statement_on_postgresql(service_client):
    """The player, its currency, custom segments and metric windows in one prepared statement
    (players/selectors.py `_player_detail_sql`); two ORM queries elsewhere."""
    player = PlayerFactory(external_id="p-q", currency=currency("BTC"))
    players_refresh(player_ids=[player.pk], as_of=AS_OF)  # a row per window
    for name in ("beta", "alpha"):
        segment = CustomSegment.objects.create(name=name, expression="true")
        CustomSegmentMembership.objects.create(segment=segment, player=player)
    assert service_client.get("/api/v1/players/p-q/").status_code == 200  # caches the token
    with CaptureQueriesContext(connection) as queries:
        body = service_client.get("/api/v1/players/p-q/").json()
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert body == serializer_answer("p-q")
    assert body["custom_segments"] == ["alpha", "beta"]
    assert set(body["metrics"]) == {"lifetime", "30d", "7d"}
