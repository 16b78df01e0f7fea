"""The per-request layers of `POST events/` (ADR 0025): one MGET of the generation counters per
request, the rule triggers cached per process and following every rule change, the account
throttle's sliding window in one Redis round trip with DRF's limits and Retry-After."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.generations import generation_bump
from rewards.event_triggers import GENERATION, event_triggers
from rewards.models import Rule
from tests.factories import PlayerFactory, currency
from tests.rewards.rules.conftest import rule_make

pytestmark = pytest.mark.django_db
needs_redis = pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="needs Redis (REDIS_URL)"
)


def _event(external_id: str, player: str = "p-1", kind: str = "deposit") -> dict:
    return {"external_id": external_id, "player_id": player, "type": kind, "amount": "10.00",
            "currency": "EUR", "occurred_at": "2026-11-20T10:00:00+00:00"}  # fmt: skip


def _rule_reads(client, capture, external_id: str) -> int:
    """Rule queries of one event request and its after-commit listeners."""
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        answer = client.post("/api/v1/events/", _event(external_id), format="json")
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "applied"
    return sum('FROM "rewards_rule"' in q["sql"] for q in queries.captured_queries)


def test_rule_triggers_are_read_once_and_again_after_a_rule_change(
    service_client, django_capture_on_commit_callbacks
):
    PlayerFactory(external_id="p-1", currency=currency("EUR"))
    capture = django_capture_on_commit_callbacks
    reads = [_rule_reads(service_client, capture, f"e-{i}") for i in range(3)]
    assert reads == [1, 0, 0]  # the listener's query, once per process
    rule = rule_make(trigger="on_event:deposit", target_segments=[], condition="", amount="1")
    assert event_triggers() == {"on_event:deposit"}  # the saving process sees it at once
    rule.active = False
    rule.save()
    assert event_triggers() == frozenset()
    rule.delete()
    assert event_triggers() == frozenset()


def test_another_process_change_is_seen_from_the_next_request(service_client):
    """Another process's rule save reaches this one through the shared counter only."""
    PlayerFactory(external_id="p-1", currency=currency("EUR"))
    assert event_triggers() == frozenset()
    rule = rule_make(trigger="on_event:bet", target_segments=[], condition="", amount="1")
    assert event_triggers() == {"on_event:bet"}
    # changed without a signal, as another process's save looks from here
    Rule.objects.filter(pk=rule.pk).update(trigger="on_event:withdrawal")
    assert event_triggers() == {"on_event:bet"}  # still this process's copy
    generation_bump(GENERATION)  # the other process's bump
    assert event_triggers() == {"on_event:withdrawal"}


@needs_redis
def test_an_event_request_makes_two_redis_round_trips(service_client, monkeypatch):
    """The generations (token check, rule triggers) in one MGET, the throttle in one script."""
    import redis

    PlayerFactory(external_id="p-1", currency=currency("EUR"))
    service_client.post("/api/v1/events/", _event("warm"), format="json")
    commands: list[str] = []
    original = redis.Redis.execute_command

    def counted(self, *args, **options):
        commands.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    answer = service_client.post("/api/v1/events/", _event("e-1"), format="json")
    assert answer.status_code == 200
    assert commands == ["MGET", "EVALSHA"]


@needs_redis
def test_the_account_window_slides_and_refused_requests_do_not_count(monkeypatch):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient
    from rest_framework.throttling import UserRateThrottle

    from accounts.services import api_token_create
    from config.api.throttling import AccountRateThrottle

    now = [1000.0]
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    monkeypatch.setattr(AccountRateThrottle, "timer", lambda self: now[0])
    analyst = get_user_model().objects.create(username="analyst-1")
    analyst.groups.add(Group.objects.get_or_create(name="analyst")[0])
    cache.clear()
    try:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=analyst)[1]}")

        def status(at: float) -> int:
            now[0] = at
            return client.get("/api/v1/segments/distribution/").status_code

        assert [status(1000), status(1030)] == [200, 200]
        refused = client.get("/api/v1/segments/distribution/")
        assert refused.status_code == 429
        # DRF's estimate: the oldest request leaves the window 60 - 30 s later
        assert refused["Retry-After"] == "30"
        assert status(1059) == 429  # refusals are not counted: still the same two
        assert status(1060.5) == 200  # the first left the window (60 s after it)
        assert status(1070) == 429  # 1030 and 1060.5 in the last minute
    finally:
        cache.clear()


CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


@pytest.mark.postgres
def test_a_first_deposit_and_a_bet_take_four_statements_each(service_client):
    """A cash-only player's event: the player read with the activity insert, the wallet
    function (a first deposit opens the cash account in it: ADR 0026), the balances, the
    receipt — each a prepared statement, no ORM query."""
    PlayerFactory(external_id="p-0", currency=currency("EUR"))
    PlayerFactory(external_id="p-1", currency=currency("EUR"))
    for number, kind in enumerate(("deposit", "bet")):  # the house accounts, the token cache
        service_client.post("/api/v1/events/", _event(f"w-{number}", "p-0", kind), format="json")
    for number, kind in enumerate(("deposit", "bet")):
        with CaptureQueriesContext(connection) as queries:
            answer = service_client.post(
                "/api/v1/events/", _event(f"e-{number}", "p-1", kind), format="json"
            )
        assert answer.json()["results"][0]["status"] == "applied"
        sent = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(CONTROL)]
        assert len(sent) == 4, sent
        assert "wallet_cash_only_post" in sent[1]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "lookups"),
    [({"currency": "XXX"}, 2), ({"amount": "10.001"}, 0), ({"amount": "ten"}, 0), ({}, 0)],
)
def test_a_refused_or_replayed_event_makes_the_statements_it_always_made(
    service_client, change, lookups
):
    """ADR 0029: a payload the hand-written check refuses (an unknown currency, looked up by
    the check and once more by the serializer that words the error, as by the serializer twice
    before), one the serializer refuses, and a duplicate (its receipt read after the failed
    insert) — statement for statement what they were."""
    PlayerFactory(external_id="p-1", currency=currency("EUR"))
    service_client.post("/api/v1/events/", _event("w-0"), format="json")  # token, currencies
    with CaptureQueriesContext(connection) as queries:
        answer = service_client.post("/api/v1/events/", {**_event("w-0"), **change}, format="json")
    sent = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(CONTROL)]
    assert sum('FROM "players_currency"' in sql for sql in sent) == lookups
    if change:
        assert answer.status_code == 400 and len(sent) == lookups, sent
    else:
        assert answer.json()["results"][0]["status"] == "duplicate"
        assert len(sent) == 2, sent  # the player and activity (a duplicate key), the receipt
