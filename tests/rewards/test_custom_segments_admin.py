"""The admin's custom-segment form shows expression errors with their position."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from rewards.admin import CustomSegmentForm
from rewards.models import CustomSegment
from tests.rewards.player_rows import make_players

pytestmark = pytest.mark.django_db


def test_form_shows_position_and_suggestion():
    form = CustomSegmentForm(data={"name": "x", "expression": "deposits_30d > 1 and rpt_30d < 1"})
    assert not form.is_valid()
    (message,) = form.errors["expression"]
    assert "did you mean 'rtp_30d'" in message and "column 22" in message


def test_admin_add_saves_and_refreshes_members(client):
    make_players([{"deposits_30d": Decimal("600")}, {"deposits_30d": Decimal("5")}])
    admin = get_user_model().objects.create_superuser("boss", "b@example.com", "pw-12345678")
    client.force_login(admin)
    response = client.post(
        "/admin/rewards/customsegment/add/",
        {"name": "depositors", "expression": "deposits_30d > 500", "active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    segment = CustomSegment.objects.get(name="depositors")
    assert segment.memberships.count() == 1
    page = client.get("/admin/rewards/customsegment/")
    assert page.status_code == 200 and b"depositors" in page.content
