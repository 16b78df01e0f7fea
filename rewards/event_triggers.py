"""Which `on_event:<type>` triggers the active rules listen to, read once per process and kept
until a rule changes (ADR 0006).

Every applied event asks this after it commits (`rewards.services.rules_event_listener`); a
query per event for a list that changes only when a CRM manager saves a rule cost about a
millisecond of each `POST events/`. The process keeps the set stamped with a shared generation
counter (Redis in production) that every rule save or delete moves on, and reads the counter
(one cache round trip) per call: a rule activated or deactivated is heard from the next event
on, in every process.
"""

import threading

from django.db import transaction

from config.cache import generation_bump, generation_read

GENERATION_KEY = "pitboss:rules:generation"
_lock = threading.Lock()
_cached: tuple[int, frozenset[str]] | None = None  # (generation, triggers)


def event_triggers() -> frozenset[str]:
    """The `on_event:<type>` triggers of the active rules, e.g. `{"on_event:deposit"}`."""
    global _cached
    from rewards.models import Rule

    current = generation_read(GENERATION_KEY)
    cached = _cached
    if cached is not None and cached[0] == current:
        return cached[1]
    triggers = frozenset(
        Rule.objects.filter(active=True, trigger__startswith="on_event:").values_list(
            "trigger", flat=True
        )
    )
    with _lock:
        _cached = (current, triggers)
    return triggers


def event_triggers_forget() -> None:
    """Drop this process's copy (a test whose rules were rolled back)."""
    global _cached
    with _lock:
        _cached = None


def event_triggers_changed(**_kwargs) -> None:
    """A rule was saved or deleted (signal receiver): every process reads the triggers again.

    The counter moves now and again when the change commits: a process that read the triggers
    in between saw the rows before the change and must not keep them."""
    event_triggers_forget()
    generation_bump(GENERATION_KEY)
    transaction.on_commit(lambda: generation_bump(GENERATION_KEY))
