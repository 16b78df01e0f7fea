"""Profit safety as numbers (SPEC §7): the worked examples, the game-mix edge, the NGR share."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from safety import profit
from safety.costs import expected_cost_frame, profit_check_frame
from safety.models import HouseEdge
from safety.selectors import house_edges, players_game_mix
from tests.factories import ActivityFactory, PlayerFactory

D = Decimal


def test_bonus_worked_example_fully_wagered_on_slots_costs_nothing():
    # B=100, W=35 on the bonus, h=4%: the house expects to win back 140 of 100 → 0
    assert profit.bonus_expected_cost(
        amount=D(100), wagering_multiplier=D(35), wagering_base_amount=D(100), house_edge=D("0.04")
    ) == D(0)


def test_bonus_worked_example_light_wagering_costs_most_of_it():
    # B=100, W=5, h=2%: 100 − 5·100·0.02 = 90
    assert profit.bonus_expected_cost(
        amount=D(100), wagering_multiplier=D(5), wagering_base_amount=D(100), house_edge=D("0.02")
    ) == D(90)


def test_cashback_worked_example():
    assert profit.cashback_expected_cost(percent=D("0.10"), net_loss=D(500)) == D(50)


@pytest.mark.parametrize("percent", ["1", "1.5", "-0.1"])
def test_cashback_share_must_be_below_100_percent(percent):
    with pytest.raises(ValueError):
        profit.cashback_expected_cost(percent=D(percent), net_loss=D(500))


def test_free_spins_cost_their_expected_payout():
    # 20 spins of 0.20 on a 4%-edge slot: 4.00 staked, 3.84 paid back on average
    assert profit.free_spins_expected_cost(
        count=20, spin_value=D("0.20"), house_edge=D("0.04")
    ) == D("3.84")


def test_cash_costs_its_amount():
    assert profit.cash_expected_cost(amount=D("12.50")) == D("12.50")


def test_wagering_base_bonus_plus_deposit():
    assert profit.wagering_base_amount(
        amount=D(100), deposit_amount=D(200), wagering_base="bonus+deposit"
    ) == D(300)
    # W=10 on bonus+deposit at 4%: 100 − 10·300·0.04 = −20 → 0
    assert profit.bonus_expected_cost(
        amount=D(100), wagering_multiplier=D(10), wagering_base_amount=D(300), house_edge=D("0.04")
    ) == D(0)


def test_edge_weighted_by_contribution_and_mix():
    weights = {"slots": "1.0", "table": "0.1"}
    slots, _ = profit.expected_house_edge(game_mix={"slots": D(500)}, contribution_weights=weights)
    assert slots == D("0.04")
    # table at 1.5% counted 10%: ten times the stakes to wager → 15% per unit of wagering
    table, _ = profit.expected_house_edge(game_mix={"table": D(500)}, contribution_weights=weights)
    assert table == D("0.15")
    half, details = profit.expected_house_edge(
        game_mix={"slots": D(50), "table": D(50)}, contribution_weights=weights
    )
    # (0.5·0.04 + 0.5·0.015) / (0.5·1 + 0.5·0.1) = 0.0275 / 0.55 = 0.05
    assert half == D("0.05")
    assert details["game_mix"]["table"]["share"] == "0.5000"


def test_no_history_or_nothing_counting_falls_back_to_slots():
    h, details = profit.expected_house_edge(game_mix={}, contribution_weights={"slots": "1"})
    assert h == D("0.04") and details["mix_source"] == "default"
    h, _ = profit.expected_house_edge(
        game_mix={"sports": D(100)}, contribution_weights={"slots": "1", "sports": "0"}
    )
    assert h == D("0.04")


def test_game_override_beats_category():
    h, _ = profit.expected_house_edge(
        game_mix={("table", "blackjack-pro"): D(100)},
        contribution_weights={"table": "1.0"},
        house_edges={"table": D("0.015")},
        game_edges={"blackjack-pro": D("0.005")},
    )
    assert h == D("0.005")
    h, _ = profit.expected_house_edge(
        game_mix={("slots", "mega"): D(100)},
        contribution_weights={"slots": "1.0"},
        game_weights={"mega": "0.5"},
    )
    assert h == D("0.08")


def test_cost_share_limit():
    ok, details = profit.cost_share_check(expected_cost=D(55), ngr=D(600), max_cost_share=D("0.30"))
    assert ok and details == {
        "expected_cost": "55.00000000", "ngr": "600.00000000", "limit": "180.00000000",
        "max_cost_share": "0.30",
    }  # fmt: skip
    ok, details = profit.cost_share_check(expected_cost=D(200), ngr=D(600), max_cost_share=D("0.3"))
    assert not ok
    ok, _ = profit.cost_share_check(expected_cost=D(1), ngr=D(-50), max_cost_share=D("0.3"))
    assert not ok  # a winning player (negative NGR) allows nothing
    ok, details = profit.cost_share_check(
        expected_cost=D(200), ngr=D(-50), max_cost_share=D("0.3"), acquisition=True
    )
    assert ok and details["exempt"] == "acquisition"


NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _bets(player, category, game_id, amount, n=5):
    for i in range(n):
        ActivityFactory(
            player=player, type="bet", amount=D(amount), game_category=category, game_id=game_id,
            occurred_at=NOW - timedelta(days=i + 1),
        )  # fmt: skip


@pytest.mark.django_db
def test_same_bonus_costs_far_more_for_a_low_edge_table_player():
    """Issue 15: slots (4%, counted 100%) vs a 0.5%-edge table game the terms count 100%."""
    HouseEdge.objects.update_or_create(game_id="bj-classic", defaults={"edge": D("0.005")})
    slots_player, table_player, newcomer = PlayerFactory(), PlayerFactory(), PlayerFactory()
    _bets(slots_player, "slots", "starburst", "20")
    _bets(table_player, "table", "bj-classic", "50")
    terms = {"wagering_multiplier": 35, "wagering_base": "bonus",
             "contribution_weights": {"slots": "1.0", "table": "1.0"}}  # fmt: skip
    ids = [slots_player.pk, table_player.pk, newcomer.pk]
    costs = expected_cost_frame(
        player_ids=ids, amounts=[D(100)] * 3, reward_type="bonus", terms=terms,
        since=NOW - timedelta(days=30), until=NOW,
    )  # fmt: skip
    slots_cost, table_cost, new_cost = costs["expected_cost"]
    assert slots_cost == D(0)  # 100 − 35·100·0.04 < 0
    assert table_cost == D("82.5")  # 100 − 35·100·0.005
    assert new_cost == D(0)  # no history: assumed slots
    trace = costs["details"][1]
    assert trace["h"] == "0.005000" and trace["W"] == "35" and trace["X"] == "100"
    assert trace["game_mix"]["bj-classic"] == {"share": "1.0000", "weight": "1.0",
                                               "edge": "0.00500"}  # fmt: skip
    checked = profit_check_frame(costs=costs, ngr=[D(200), D(200), D(0)])
    assert list(checked["passed"]) == [True, False, True]
    assert checked["details"][1]["limit"] == "60.00000000"
    assert checked["details"][1]["expected_cost"] == "82.50000000"


@pytest.mark.django_db
def test_game_mix_is_one_query_for_all_players(django_assert_num_queries):
    players = [PlayerFactory() for _ in range(3)]
    for player in players:
        _bets(player, "slots", "s", "10", n=2)
        _bets(player, "live", "l", "5", n=1)
    with django_assert_num_queries(1):
        mix = players_game_mix(player_ids=[p.pk for p in players], since=NOW - timedelta(days=30))
    assert mix[players[0].pk] == {"slots": D(20), "live": D(5)}
    with django_assert_num_queries(1):
        mix = players_game_mix(player_ids=None, since=None, games={"l"})
    assert mix[players[1].pk] == {"slots": D(20), ("live", "l"): D(5)}


@pytest.mark.django_db
def test_house_edges_are_staff_data_with_defaults():
    categories, games = house_edges()
    assert categories["slots"] == D("0.04") and games == {}
    HouseEdge.objects.update_or_create(game_category="slots", defaults={"edge": D("0.03")})
    HouseEdge.objects.create(game_id="mega", edge=D("0.10"))
    categories, games = house_edges()
    assert categories["slots"] == D("0.03") and games == {"mega": D("0.10")}


@pytest.mark.django_db
def test_cost_frame_for_other_reward_types():
    player = PlayerFactory()
    cash = expected_cost_frame(player_ids=[player.pk], amounts=[D(40)], reward_type="cashback")
    assert cash["expected_cost"][0] == D(40) and cash["details"][0]["formula"] == "p * L"
    spins = expected_cost_frame(
        player_ids=[player.pk], amounts=[D(4)], reward_type="free_spins",
        free_spins={"count": 20, "spin_value": "0.20", "game_id": "g-1"},
    )  # fmt: skip
    assert spins["expected_cost"][0] == D("3.84")
