"""The active `on_event:<type>` rule triggers, cached per process (ADR 0025).

`rules_event_listener` runs after every applied event's commit and needs the set of event types
some active rule listens to. Reading it from the database cost a query per `POST events/`
(~3.8 ms of profiled CPU, bench/README.md); it changes only when a rule is saved or deleted.
So each process keeps it, stamped with the `rules` generation counter (config/generations.py):
every save or delete of a rule bumps the counter (at once, and again when its transaction
commits) and clears this process's copy, so the process that saved sees the change at once and
the others from their next request. `MAX_AGE_SECONDS` bounds the age of a copy where there is no
shared cache (no Redis: the counter is the process's own).
"""

import threading
import time

from django.db import transaction

from config.generations import generation, generation_bump, generation_register
from rewards.models import Rule

GENERATION = "rules"
MAX_AGE_SECONDS = 10.0
generation_register(GENERATION)

_lock = threading.Lock()
_cached: tuple[int, float, frozenset[str]] | None = None  # (generation, read at, triggers)


def event_triggers() -> frozenset[str]:
    """The triggers (`on_event:deposit`, …) of the active rules, as of the current generation."""
    global _cached
    current, now = generation(GENERATION), time.monotonic()
    cached = _cached
    if cached is not None and cached[0] == current and now - cached[1] < MAX_AGE_SECONDS:
        return cached[2]
    triggers = frozenset(
        Rule.objects.filter(active=True, trigger__startswith="on_event:").values_list(
            "trigger", flat=True
        )
    )
    with _lock:
        _cached = (current, now, triggers)
    return triggers


def event_triggers_forget() -> None:
    """Drop this process's copy (the next call reads the rules again)."""
    global _cached
    with _lock:
        _cached = None


def rule_changed(*, using: str = "default", **_kwargs) -> None:
    """`post_save` / `post_delete` of a rule: every process reads the triggers again. Bumped
    at once and again at commit: a process that read the rules between the two (the change
    not yet visible) stamped them with the first bump's value and reads them again."""
    event_triggers_forget()
    generation_bump(GENERATION)
    transaction.on_commit(lambda: generation_bump(GENERATION), using=using)
