"""Issue 11 case 4: a rollback removes its bet from the window the bet is in (SPEC §4).

turnover = bets − rolled-back bets, bet_count = bets not rolled back, in every window; wins
settled against a rolled-back bet leave their window too; no window is ever negative.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from players.models import Player, PlayerMetrics
from players.services import metrics_refresh
from tests.factories import ActivityFactory, PlayerFactory

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
D = Decimal
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def act(player: Player, type_: str, amount: str, when: datetime, **fields):
    return ActivityFactory(
        player=player, type=type_, amount=D(amount), player_amount=D(amount), occurred_at=when,
        **fields,
    )  # fmt: skip


def window(player: Player, name: str) -> PlayerMetrics:
    return PlayerMetrics.objects.get(player=player, window=name)


def figures(player: Player, name: str) -> tuple:
    row = window(player, name)
    return row.turnover, row.bet_count, row.wins, row.ggr, row.rtp


@pytest.fixture
def player() -> Player:
    return PlayerFactory(registered_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_issue_case_through_the_events_api(service_client):
    def post(**event):
        base = {"player_id": "p-1", "currency": "EUR", "amount": "10.00"}
        response = service_client.post("/api/v1/events/", {**base, **event}, format="json")
        assert response.json()["results"][0]["status"] == "applied", response.content

    edge = AS_OF - 7 * DAY
    post(external_id="d", type="deposit", amount="50.00", occurred_at=(edge - DAY).isoformat())
    post(external_id="b-1", type="bet", occurred_at=(edge - 5 * MINUTE).isoformat())
    post(
        external_id="r-1",
        type="rollback",
        reference_id="b-1",
        occurred_at=(edge + 5 * MINUTE).isoformat(),
    )
    player = Player.objects.get(external_id="p-1")
    metrics_refresh(as_of=AS_OF)
    for name in ("7d", "30d", "lifetime"):
        assert figures(player, name) == (0, 0, 0, 0, None), name


@pytest.mark.parametrize("days", [7, 30])
def test_a_bet_before_the_window_rolled_back_inside_it(player, days):
    edge = AS_OF - days * DAY
    act(player, "bet", "10", edge - 5 * MINUTE, external_id="b-1")
    act(player, "rollback", "10", edge + 5 * MINUTE, reference_id="b-1")
    act(player, "bet", "4", edge + DAY / 2 if days == 7 else AS_OF - DAY)  # stands
    metrics_refresh(as_of=AS_OF)
    row = window(player, f"{days}d")
    assert (row.turnover, row.bet_count) == (4, 1)
    assert window(player, "lifetime").turnover == 4


def test_a_bet_inside_the_window_rolled_back_after_as_of_still_counts(player):
    act(player, "bet", "10", AS_OF - DAY, external_id="b-1")
    act(player, "rollback", "10", AS_OF + MINUTE, reference_id="b-1")
    metrics_refresh(as_of=AS_OF)
    assert figures(player, "7d")[:2] == (10, 1)


def test_a_rollback_by_round_removes_every_bet_of_the_round_from_its_window(player):
    edge = AS_OF - 7 * DAY
    act(player, "bet", "3", edge - 2 * MINUTE, round_id="r-9")
    act(player, "bet", "5", edge + 1 * MINUTE, round_id="r-9")
    act(player, "rollback", "8", edge + 3 * MINUTE, round_id="r-9")
    metrics_refresh(as_of=AS_OF)
    for name in ("7d", "30d", "lifetime"):
        assert figures(player, name)[:2] == (0, 0), name


def test_wins_against_a_rolled_back_bet_leave_their_window(player):
    edge = AS_OF - 30 * DAY
    act(player, "bet", "10", edge - MINUTE, external_id="b-1")
    act(player, "win", "25", edge + MINUTE, reference_id="b-1")
    act(player, "rollback", "10", edge + 2 * MINUTE, reference_id="b-1")
    act(player, "bet", "2", AS_OF - DAY, external_id="b-2", round_id="r-2")
    act(player, "win", "1", AS_OF - DAY + MINUTE, round_id="r-2")  # a live round: stays
    metrics_refresh(as_of=AS_OF)
    assert figures(player, "30d") == (2, 1, 1, 1, D("0.5"))
    assert figures(player, "lifetime") == (2, 1, 1, 1, D("0.5"))


def test_a_rollback_naming_no_bet_in_a_later_window_never_goes_negative(player):
    edge = AS_OF - 7 * DAY
    act(player, "bet", "10", edge - MINUTE)
    act(player, "rollback", "10", edge + MINUTE)  # no reference: imported history
    metrics_refresh(as_of=AS_OF)
    row = window(player, "7d")
    assert (row.turnover, row.bet_count, row.ggr, row.net_loss) == (0, 0, 0, 0)
    assert window(player, "lifetime").turnover == 0


def test_a_rollback_naming_an_unknown_bet_removes_nothing(player):
    act(player, "bet", "10", AS_OF - DAY, external_id="b-1")
    act(player, "rollback", "7", AS_OF - DAY + MINUTE, reference_id="never-seen")
    metrics_refresh(as_of=AS_OF)
    assert figures(player, "7d")[:2] == (10, 1)


def test_a_rollback_in_another_source_does_not_touch_a_namesake_bet(player):
    act(player, "bet", "10", AS_OF - DAY, external_id="b-1", source="api")
    act(player, "rollback", "10", AS_OF - DAY, reference_id="b-1", source="import:activity")
    act(player, "bet", "10", AS_OF - DAY, external_id="b-1", source="import:activity")
    metrics_refresh(as_of=AS_OF)
    assert figures(player, "7d")[:2] == (10, 1)


def test_an_incremental_refresh_sees_the_same(player):
    other = PlayerFactory()
    act(other, "bet", "10", AS_OF - 7 * DAY - MINUTE, external_id="o-1")
    act(other, "rollback", "10", AS_OF - 7 * DAY + MINUTE, reference_id="o-1")
    act(player, "bet", "10", AS_OF - 7 * DAY - MINUTE, external_id="b-1")
    act(player, "rollback", "10", AS_OF - 7 * DAY + MINUTE, reference_id="b-1")
    metrics_refresh(as_of=AS_OF, player_ids=[player.pk])
    assert figures(player, "7d")[:2] == (0, 0)
    assert not PlayerMetrics.objects.filter(player=other).exists()


# --- property: every window equals the bets that stand in it --------------------------------

OFFSETS = st.sampled_from(
    [-31 * DAY, -30 * DAY - MINUTE, -30 * DAY + MINUTE, -8 * DAY, -7 * DAY - MINUTE,
     -7 * DAY + MINUTE, -DAY, -MINUTE, MINUTE]
)  # fmt: skip
BETS = st.lists(
    st.tuples(
        OFFSETS,
        st.integers(1, 50),
        st.one_of(st.none(), st.sampled_from([MINUTE, 10 * MINUTE, 2 * DAY])),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bets=BETS)
def test_every_window_is_the_sum_of_the_bets_that_stand(django_db_blocker, bets):
    player = PlayerFactory(registered_at=datetime(2025, 1, 1, tzinfo=UTC))
    starts = {"lifetime": None, "30d": AS_OF - 30 * DAY, "7d": AS_OF - 7 * DAY}
    expected = dict.fromkeys(starts, (0, 0))
    for n, (offset, stake, rolled_after, by_round) in enumerate(bets):
        placed = AS_OF + offset
        act(player, "bet", str(stake), placed, external_id=f"b{n}", round_id=f"r{n}")
        rolled_at = None if rolled_after is None else placed + rolled_after
        if rolled_at is not None:
            ref = {"round_id": f"r{n}"} if by_round else {"reference_id": f"b{n}"}
            act(player, "rollback", str(stake), rolled_at, **ref)
        stands = rolled_at is None or rolled_at > AS_OF
        for name, start in starts.items():
            inside = placed <= AS_OF and (start is None or placed >= start)
            if inside and stands:
                turnover, count = expected[name]
                expected[name] = (turnover + stake, count + 1)
    metrics_refresh(as_of=AS_OF, player_ids=[player.pk])
    for name in starts:
        row = window(player, name)
        assert (row.turnover, row.bet_count) == expected[name], (name, bets)
        assert row.turnover >= 0 and row.bet_count >= 0
    player.activity.all().delete()
    PlayerMetrics.objects.filter(player=player).delete()
