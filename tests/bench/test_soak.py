"""The soak's figures: time slices of a known series, the last-vs-first drift, the interleaving
of events and reads, and the requests it sends (bench/soak.py)."""

import json
import math

import pytest

from bench.generate import generate
from bench.soak import EVENT_RATE, READ_RATE, _Load, drift, is_event, slice_figures


def test_slices_count_errors_and_take_percentiles_per_slice():
    first = [(i / 100, 200, float(i + 1)) for i in range(100)]  # 1..100 ms in [0, 1)
    last = [(9 + i / 100, 200, float(2 * (i + 1))) for i in range(100)]  # 2..200 ms in [9, 10)
    edges = [(-0.2, 200, 50.5), (10.5, 200, 101.0)]  # before 0: first slice; after: last
    errors = [(3.1, 0, 9.0), (3.2, -1, 5000.0), (3.3, 500, 12.0)]
    figures = slice_figures(first + last + edges + errors, seconds=10, slices=10)

    assert [f.count for f in figures] == [101, 0, 0, 0, 0, 0, 0, 0, 0, 101]
    assert [f.errors for f in figures] == [0, 0, 0, 3, 0, 0, 0, 0, 0, 0]
    assert [f.start for f in figures] == [float(i) for i in range(10)]
    assert figures[0].p50 == pytest.approx(50.5)
    assert figures[0].p95 == pytest.approx(95.0)  # 101 values: the 96th smallest
    assert figures[9].p50 == pytest.approx(101.0)
    assert figures[9].p95 == pytest.approx(190.0)
    assert math.isnan(figures[3].p95)  # errors only: no latency figure
    assert drift(figures) == pytest.approx(2.0)


def test_drift_of_a_steady_series_is_one_and_of_an_empty_first_slice_nan():
    steady = [(t / 10, 200, 10.0 + (t % 20)) for t in range(200)]  # same in each slice
    assert drift(slice_figures(steady, seconds=20, slices=10)) == pytest.approx(1.0)
    assert math.isnan(drift(slice_figures([(15.0, 200, 3.0)], seconds=20, slices=10)))


@pytest.mark.parametrize("share, events", [(0.5, 50), (1 / 3, 33), (1.0, 100), (0.0, 0)])
def test_events_are_spread_evenly_through_the_stream(share, events):
    kinds = [is_event(i, share) for i in range(100)]
    assert sum(kinds) == events
    if 0 < share < 1:  # never two events more than one read apart
        positions = [i for i, e in enumerate(kinds) if e]
        gaps = [b - a for a, b in zip(positions, positions[1:], strict=False)]
        assert max(gaps) - min(gaps) <= 1


def test_single_events_are_a_deposit_a_bet_and_a_win_settling_that_bet():
    casino = generate(40, 400, seed=3)
    load = _Load(casino, rate=EVENT_RATE + READ_RATE, batch_size=200)
    events = [
        json.loads(body)
        for method, path, body in map(load.request, range(40))
        if method == "POST" and path == "/api/v1/events/"
    ]
    reads = [path for method, path, _ in map(load.request, range(40)) if method == "GET"]
    assert len(events) + len(reads) == 40 and len(events) == round(40 * load.event_share)
    assert all(path.startswith("/api/v1/players/") for path in reads)
    for deposit, bet, win in zip(events[0::3], events[1::3], events[2::3], strict=False):
        assert (deposit["type"], bet["type"], win["type"]) == ("deposit", "bet", "win")
        assert deposit["player_id"] == bet["player_id"] == win["player_id"]
        assert win["reference_id"] == bet["external_id"]
    assert len({event["external_id"] for event in events}) == len(events)


def test_a_batch_has_its_size_unique_ids_casino_players_and_wins_on_earlier_bets():
    casino = generate(300, 3_000, seed=3)
    load = _Load(casino, rate=EVENT_RATE + READ_RATE, batch_size=200)
    players = {str(external_id) for external_id in casino.player_ids()}
    batches = [json.loads(load.batch(number))["events"] for number in (0, 1)]
    assert [len(events) for events in batches] == [200, 200]
    ids = [event["external_id"] for events in batches for event in events]
    assert len(set(ids)) == 400 and not any("{" in external_id for external_id in ids)
    for events in batches:
        bets = {}
        for event in events:
            assert event["player_id"] in players
            if event["type"] == "bet":
                bets[event["external_id"]] = event["player_id"]
            if event["type"] == "win":
                assert bets[event["reference_id"]] == event["player_id"]
