"""players/refresh_queue.py: after-event refreshes batched per process when a broker is used."""

import time

import pytest

from players import refresh_queue
from players.tasks import players_refresh


@pytest.fixture
def published(monkeypatch):
    calls: list[list[int]] = []
    monkeypatch.setattr(refresh_queue, "_publish", calls.append)
    monkeypatch.setattr(players_refresh.app.conf, "task_always_eager", False)
    return calls


def test_ids_of_many_requests_go_out_in_one_task_shortly_after(published):
    refresh_queue.players_refresh_soon({3, 1})
    refresh_queue.players_refresh_soon({2, 3})
    assert published == []  # not on the request path
    deadline = time.monotonic() + 5
    while not published and time.monotonic() < deadline:
        time.sleep(0.02)
    assert published == [[1, 2, 3]]


def test_a_large_batch_is_split(published, monkeypatch):
    monkeypatch.setattr(refresh_queue, "MAX_IDS_PER_TASK", 2)
    batcher = refresh_queue._Batcher()
    batcher._pid = refresh_queue.os.getpid()  # no background thread: flush by hand
    batcher.add([5, 4, 3, 2, 1])
    batcher.flush()
    assert published == [[1, 2], [3, 4], [5]]
    batcher.flush()
    assert published == [[1, 2], [3, 4], [5]]


def test_eager_celery_refreshes_at_once(monkeypatch):
    calls = []
    monkeypatch.setattr(players_refresh, "delay", calls.append)
    monkeypatch.setattr(players_refresh.app.conf, "task_always_eager", True)
    refresh_queue.players_refresh_soon({9, 7})
    assert calls == [[7, 9]]
