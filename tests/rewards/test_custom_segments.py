"""Custom segments: validation and set-based membership refresh (a handful of queries)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rewards.expressions import ExpressionError
from rewards.models import CustomSegment, CustomSegmentMembership
from rewards.segments import (
    custom_segment_save,
    custom_segment_validate,
    custom_segments_refresh,
)
from tests.rewards.player_rows import make_players

pytestmark = pytest.mark.django_db


def members(segment: CustomSegment) -> set[str]:
    return set(
        CustomSegmentMembership.objects.filter(segment=segment).values_list(
            "player__external_id", flat=True
        )
    )


@pytest.fixture
def players():
    return make_players(
        [
            {"deposits_30d": Decimal("600"), "rtp_30d": Decimal("0.8")},  # p-0 matches
            {"deposits_30d": Decimal("600"), "rtp_30d": Decimal("0.95")},
            {"deposits_30d": Decimal("100"), "rtp_30d": Decimal("0.5")},
            {"deposits_30d": Decimal("900"), "rtp_30d": None},  # missing rtp: not < 0.9
            {},  # no metrics rows at all
        ]
    )


def test_validate_raises_with_positions():
    custom_segment_validate("deposits_30d > 500 and rtp_30d < 0.9")
    with pytest.raises(ExpressionError) as caught:
        custom_segment_validate("deposits_30d > 500 and rpt_30d < 0.9")
    (error,) = caught.value.details["errors"]
    assert error["offset"] == 23 and error["suggestions"][0] == "rtp_30d"


def test_save_refreshes_members(players):
    segment = custom_segment_save(
        name="high-rtp-low", expression="deposits_30d > 500 and rtp_30d < 0.9"
    )
    assert members(segment) == {"p-0"}


def test_save_refuses_an_invalid_expression(players):
    with pytest.raises(ExpressionError):
        custom_segment_save(name="bad", expression="deposits_30d >")
    assert not CustomSegment.objects.filter(name="bad").exists()


def test_refresh_adds_and_removes_and_keeps_since(players):
    segment = custom_segment_save(name="depositors", expression="deposits_30d >= 600")
    assert members(segment) == {"p-0", "p-1", "p-3"}
    kept = CustomSegmentMembership.objects.get(segment=segment, player__external_id="p-0")
    segment.expression = "deposits_30d >= 600 and rtp_30d is not missing"
    segment.save()
    custom_segments_refresh()
    assert members(segment) == {"p-0", "p-1"}
    again = CustomSegmentMembership.objects.get(segment=segment, player__external_id="p-0")
    assert again.pk == kept.pk and again.since == kept.since


def test_refresh_is_set_based(players):
    for i in range(3):
        custom_segment_save(name=f"s{i}", expression=f"deposits_30d > {i * 100}")
    make_players([{"deposits_30d": Decimal(i)} for i in range(200)], prefix="bulk")
    with CaptureQueriesContext(connection) as queries:
        custom_segments_refresh()
    assert len(queries) <= 1 + 3 * 3 + 2  # segments list, then delete + insert per segment
    assert CustomSegmentMembership.objects.filter(segment__name="s0").count() == 4 + 199


def test_refresh_scoped_to_players(players):
    segment = custom_segment_save(name="depositors", expression="deposits_30d >= 600")
    CustomSegmentMembership.objects.filter(segment=segment).delete()
    custom_segments_refresh(player_ids=[players[0].pk, players[2].pk])
    assert members(segment) == {"p-0"}
    custom_segments_refresh(player_ids=[])
    assert members(segment) == {"p-0"}


def test_inactive_segment_has_no_members(players):
    segment = custom_segment_save(name="depositors", expression="deposits_30d >= 600")
    custom_segment_save(
        segment=segment, name="depositors", expression=segment.expression, active=False
    )
    assert members(segment) == set()


def test_a_stored_invalid_expression_is_skipped_not_fatal(players):
    good = custom_segment_save(name="good", expression="deposits_30d >= 600")
    CustomSegment.objects.create(name="broken", expression="no_such_metric_7d > 1")
    custom_segments_refresh()
    assert members(good) == {"p-0", "p-1", "p-3"}


def test_player_attributes_and_lifetime_names(players):
    segment = custom_segment_save(
        name="new-eur",
        expression='segment == "new" and currency == "EUR" and country is missing '
        "and coalesce(days_since_registration, 0) < 1",
    )
    assert members(segment) == {f"p-{i}" for i in range(5)}
