"""Lifecycle segmentation (SPEC §5): the rules, their boundaries and the change history."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from players.models import Player, Segment, SegmentChange, SegmentPolicy, VipThreshold
from players.services import players_refresh
from tests.factories import ActivityFactory, PlayerFactory, currency

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 12, 1, 12, tzinfo=UTC)
RECENT = AS_OF - timedelta(days=2)
D = Decimal


def act(player: Player, type_: str, amount: str, when: datetime = RECENT) -> None:
    ActivityFactory(
        player=player, type=type_, amount=D(amount), player_amount=D(amount), occurred_at=when
    )


def refresh(player: Player, as_of: datetime = AS_OF) -> str:
    players_refresh(player_ids=[player.pk], as_of=as_of)
    player.refresh_from_db()
    return player.segment


def play(player: Player, *, bets: str = "0", wins: str = "0", deposits: str = "0") -> None:
    for type_, amount in (("bet", bets), ("win", wins), ("deposit", deposits)):
        if D(amount):
            act(player, type_, amount)


# What each target segment needs, from a player with no activity (band = 50 here).
TO_SEGMENT = {
    "new": {},
    "vip": {"deposits": "10000"},
    "winning": {"bets": "100", "wins": "200"},
    "losing": {"bets": "100"},
    "breakeven": {"bets": "100", "wins": "100"},
}


@pytest.mark.parametrize("to", Segment.values)
@pytest.mark.parametrize("from_", Segment.values)
def test_every_transition_is_applied_and_recorded(from_, to):
    player = PlayerFactory(segment=from_)
    play(player, **TO_SEGMENT[to])
    assert refresh(player) == to
    changes = list(SegmentChange.objects.filter(player=player))
    if from_ == to:
        assert changes == []
    else:
        assert [(c.from_segment, c.to_segment) for c in changes] == [(from_, to)]


def test_change_records_the_metric_evidence():
    player = PlayerFactory()
    act(player, "bet", "100", AS_OF - timedelta(days=40))
    act(player, "bet", "30")
    act(player, "deposit", "70")
    act(player, "win", "10")
    before = datetime.now(UTC)
    assert refresh(player) == "losing"  # net −120 < −50
    change = SegmentChange.objects.get(player=player)
    assert (change.from_segment, change.to_segment) == ("new", "losing")
    assert before <= change.changed_at <= datetime.now(UTC)
    evidence = {key: D(value) for key, value in change.metrics.items()}
    assert evidence == {
        "turnover_30d": D("30"),
        "deposits_30d": D("70"),
        "turnover_lifetime": D("130"),
        "player_net_lifetime": D("-120"),
        "bet_count_lifetime": D("2"),
        "band": D("50"),
    }


def test_a_lifecycle_records_one_row_per_change_and_none_without_change():
    player = PlayerFactory()
    assert refresh(player) == "new"
    assert not SegmentChange.objects.exists()
    act(player, "bet", "100")
    assert refresh(player) == "losing"
    assert refresh(player) == "losing"  # nothing new: no row
    act(player, "win", "300")
    assert refresh(player) == "winning"
    act(player, "bet", "200")
    assert refresh(player) == "breakeven"
    act(player, "deposit", "10000")
    assert refresh(player) == "vip"
    assert refresh(player, AS_OF + timedelta(days=40)) == "breakeven"  # deposits aged out
    history = list(
        SegmentChange.objects.filter(player=player)
        .order_by("pk")
        .values_list("from_segment", "to_segment")
    )
    assert history == [
        ("new", "losing"),
        ("losing", "winning"),
        ("winning", "breakeven"),
        ("breakeven", "vip"),
        ("vip", "breakeven"),
    ]


@pytest.mark.parametrize(
    ("bets", "deposits", "expected"),
    [
        ("50000", "0", "vip"),  # 30d turnover at the threshold
        ("49999.99", "0", "losing"),
        ("0", "10000", "vip"),  # 30d deposits at the threshold, even without a bet
        ("0", "9999.99", "new"),
    ],
)
def test_vip_thresholds_are_inclusive(bets, deposits, expected):
    player = PlayerFactory()
    play(player, bets=bets, wins=bets, deposits=deposits)  # wins = bets: breakeven otherwise
    if expected == "losing":
        player.activity.filter(type="win").delete()
    assert refresh(player) == expected


def test_vip_is_checked_first_even_for_a_big_winner():
    player = PlayerFactory()
    play(player, bets="60000", wins="90000")
    assert refresh(player) == "vip"


def test_vip_counts_only_the_last_30_days():
    player = PlayerFactory()
    act(player, "bet", "60000", AS_OF - timedelta(days=31))
    act(player, "win", "60000", AS_OF - timedelta(days=31))
    act(player, "deposit", "20000", AS_OF - timedelta(days=31))
    assert refresh(player) == "breakeven"


def test_per_currency_vip_thresholds_override_the_defaults():
    VipThreshold.objects.create(
        policy=SegmentPolicy.current(),
        currency=currency("SEK"),
        vip_turnover_30d=D("500000"),
        vip_deposits_30d=D("100000"),
    )
    sek_small = PlayerFactory(currency=currency("SEK"))
    play(sek_small, bets="60000", wins="60000", deposits="20000")
    sek_big = PlayerFactory(currency=currency("SEK"))
    play(sek_big, bets="500000", wins="500000")
    eur = PlayerFactory()
    play(eur, bets="60000", wins="60000")
    assert refresh(sek_small) == "breakeven"
    assert refresh(sek_big) == "vip"
    assert refresh(eur) == "vip"


@pytest.mark.parametrize(
    ("bets", "wins", "expected"),
    [
        # turnover 100: band = max(50, 5) = 50
        ("100", "150", "breakeven"),  # net +50 = band
        ("100", "150.01", "winning"),
        ("100", "50", "breakeven"),  # net −50 = −band
        ("100", "49.99", "losing"),
        ("100", "100", "breakeven"),
        # turnover 2000: band = max(50, 100) = 100
        ("2000", "2100", "breakeven"),
        ("2000", "2100.01", "winning"),
        ("2000", "1900", "breakeven"),
        ("2000", "1899.99", "losing"),
        ("2000", "2060", "breakeven"),  # +60 is outside the minimum band but inside 5%
        # turnover 1000: 5% = 50 = the minimum
        ("1000", "1050", "breakeven"),
        ("1000", "949.99", "losing"),
    ],
)
def test_band_boundaries(bets, wins, expected):
    player = PlayerFactory()
    play(player, bets=bets, wins=wins)
    assert refresh(player) == expected


def test_only_wins_without_a_bet_is_still_new():
    player = PlayerFactory()
    act(player, "win", "500")
    assert refresh(player) == "new"


def test_editing_the_policy_changes_outcomes():
    player = PlayerFactory()
    play(player, bets="1000", wins="900")  # net −100, band 50: losing
    assert refresh(player) == "losing"

    policy = SegmentPolicy.current()
    policy.band_minimum = D("150")
    policy.save()
    assert refresh(player) == "breakeven"

    policy.band_minimum = D("10")
    policy.band_turnover_share = D("0.2")  # band 200
    policy.save()
    assert refresh(player) == "breakeven"

    policy.vip_turnover_30d = D("1000")
    policy.save()
    assert refresh(player) == "vip"

    policy.vip_turnover_30d = D("1000.01")
    policy.vip_deposits_30d = D("1")
    policy.save()
    assert refresh(player) == "breakeven"  # no deposits at all
    assert list(
        SegmentChange.objects.filter(player=player)
        .order_by("pk")
        .values_list("from_segment", "to_segment")
    ) == [("new", "losing"), ("losing", "breakeven"), ("breakeven", "vip"), ("vip", "breakeven")]


def test_segments_refresh_only_touches_the_given_players():
    a, b = PlayerFactory(), PlayerFactory()
    play(a, bets="100")
    play(b, bets="100")
    players_refresh(player_ids=None, as_of=AS_OF)
    act(a, "win", "300")
    act(b, "win", "300")
    players_refresh(player_ids=[a.pk], as_of=AS_OF)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.segment, b.segment) == ("winning", "losing")
    assert SegmentChange.objects.filter(player=b).count() == 1


def test_full_refresh_segments_everyone():
    players = {to: PlayerFactory() for to in TO_SEGMENT}
    for to, player in players.items():
        play(player, **TO_SEGMENT[to])
    players_refresh(as_of=AS_OF)
    got = dict(Player.objects.values_list("pk", "segment"))
    assert {to: got[p.pk] for to, p in players.items()} == {to: to for to in TO_SEGMENT}
    assert SegmentChange.objects.count() == 4  # everyone but the one who stays new
