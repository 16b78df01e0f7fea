"""A player's multi-account clusters on the player's page, linked to each cluster's page."""

import pytest
from django.utils import timezone

from safety.models import FraudCluster, FraudClusterMember
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def test_player_page_lists_the_players_clusters(admin_client):
    player, other, outsider = PlayerFactory(), PlayerFactory(), PlayerFactory()
    cluster = FraudCluster.objects.create(
        size=2, shared_values={"device": ["dev-77"], "ip": ["10.0.0.1", "10.0.0.2"]},
        detected_at=timezone.now(),
    )  # fmt: skip
    for member in (player, other):
        FraudClusterMember.objects.create(cluster=cluster, player=member)
    page = admin_client.get(f"/admin/players/player/{player.pk}/change/").content.decode()
    assert f'<a href="/admin/safety/fraudcluster/{cluster.pk}/change/">{cluster}</a>' in page
    assert "device: 1, ip: 2" in page
    page = admin_client.get(f"/admin/players/player/{outsider.pk}/change/").content.decode()
    assert f"/admin/safety/fraudcluster/{cluster.pk}/change/" not in page
