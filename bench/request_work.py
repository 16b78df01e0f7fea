"""The work of one API request, counted in process: Python function calls, SQL statements and
Redis commands per request of the bare read, `GET players/{id}/`, the bare write and
`POST events/` (a deposit, then a bet, of a cash-only player).

    DATABASE_URL=postgres://…/pitboss REDIS_URL=redis://127.0.0.1:6379/5 \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/15 PITBOSS_DEV=1 \\
        python -m bench.request_work --scale 0.1 [--requests 200] [--top 25 --kind player]

Unlike the open-loop latencies of bench/api.py, these counts do not depend on the machine's
load: they are how an A/B of a per-request change is judged (bench/HISTORY.md). The data is
bench/api.py's (`casino_prepare`: 20,000 players × scale, 20 activity rows each, metrics and
segments refreshed, a `service` account) in the scratch database `<DATABASE_URL name>_work`,
made on the first run and kept (`--fresh` makes it again). Requests go through the WSGI
application that gunicorn serves (`config.wsgi`, bench/settings.py: the product plus
bench/urls.py's bare views; /api/ through the API's middleware chain, the bare views under
/bench/ through the full one, ADR 0033), middleware, signals and all, one after the other in this thread. Each kind runs twice on
its own requests: once under `cProfile` (calls; the profiled CPU per request is printed too, but
depends on the load), once counting statements (Django's query log, prepared statements
included) and the Redis commands this thread sends. Events go to players no event has touched
yet: each run takes the next untouched ones. The token cache's lifetime is raised for the run so
that a slow profiled run does not look the token up again mid-way.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

Request = tuple[str, str, bytes | None]
# counted apart from the statements: BEGIN, COMMIT, savepoints (Django logs them too)
TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def _database_prepare(scale: float, *, fresh: bool) -> tuple[str, str]:
    """The scratch database (made and loaded unless it exists) → (its name, the API token)."""
    from django.core.management import call_command
    from django.db import connections

    from bench.api import casino_prepare, service_token
    from bench.db import _admin, drop_database

    default = connections["default"]
    name = f"{default.settings_dict['NAME']}_work"
    with _admin() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists and fresh:
        drop_database(name)
        exists = None
    if not exists:
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    default.close()
    default.settings_dict["NAME"] = name
    if not exists:
        call_command("migrate", verbosity=0, interactive=False)
        casino_prepare(max(500, int(20_000 * min(scale, 1.0))), seed=23)
        from django.db import connection

        from bench.urls import WRITE_TABLE_SQL

        with connection.cursor() as cursor:
            cursor.execute(WRITE_TABLE_SQL)
    token = service_token(f"work-{os.getpid()}")
    return name, token


def _wsgi_call(application, token: str, request: Request) -> tuple[int, bytes]:
    method, path, body = request
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    status: list[str] = []
    response = application(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        content = b"".join(response)
    finally:
        if hasattr(response, "close"):
            response.close()
    return int(status[0].split()[0]), content


def _requests(kind: str, count: int, players: list[tuple[int, str, str]], tag: str) -> list:
    """`count` requests of `kind` (events: deposit, bet, deposit, bet… of fresh players)."""
    now = datetime.now(UTC).isoformat()
    made: list[Request] = []
    for i in range(count):
        pk, external_id, currency = players[i % len(players)]
        if kind == "ping":
            made.append(("GET", f"/bench/ping/?id={pk}", None))
        elif kind == "player":
            made.append(("GET", f"/api/v1/players/{external_id}/", None))
        else:
            event = {
                "external_id": f"work-{tag}-{kind}-{i}",
                "player_id": external_id,
                "type": kind,
                "amount": "50.00" if kind == "deposit" else "1.00",
                "currency": currency,
                "occurred_at": now,
                **({"game_id": "slots-1", "game_category": "slots"} if kind == "bet" else {}),
            }
            path = "/bench/write/" if kind == "write" else "/api/v1/events/"
            made.append(("POST", path, json.dumps(event).encode()))
    return made


def _fresh_players(count: int) -> list[tuple[int, str, str]]:
    """Active players without a wallet account yet (no event has reached them)."""
    from players.models import Player
    from wallet.models import Account

    touched = Account.objects.filter(player__isnull=False).values("player_id")
    rows = (
        Player.objects.filter(status=Player.Status.ACTIVE)
        .exclude(pk__in=touched)
        .order_by("pk")
        .values_list("pk", "external_id", "currency_id")[:count]
    )
    return list(rows)


class _RedisCount:
    """Redis commands sent by this thread (the refresh queue's publisher thread not counted)."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def __enter__(self):
        import redis

        self._original = original = redis.Redis.execute_command
        thread = threading.get_ident()
        commands = self.commands

        def counted(client, *args, **options):
            if threading.get_ident() == thread:
                commands.append(str(args[0]))
            return original(client, *args, **options)

        redis.Redis.execute_command = counted
        return self

    def __exit__(self, *exc) -> None:
        import redis

        redis.Redis.execute_command = self._original


def measure(
    application,
    token: str,
    make: Callable[[int], list[Request]],
    count: int,
    top: int = 0,
    sql: bool = False,
) -> dict:
    """Run `make(count)` twice: profiled (calls, CPU) and counted (statements, Redis)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiled = make(count)
    profiler = cProfile.Profile(time.process_time)  # CPU, not the waits for the servers
    started = time.process_time()
    profiler.enable()
    statuses = [_wsgi_call(application, token, request)[0] for request in profiled]
    profiler.disable()
    cpu = time.process_time() - started
    stats = pstats.Stats(profiler)
    counted = make(count)
    with CaptureQueriesContext(connection) as queries, _RedisCount() as redis_commands:
        statuses += [_wsgi_call(application, token, request)[0] for request in counted]
    if sql:
        per_request = len(queries.captured_queries) // count
        for query in queries.captured_queries[-2 * per_request :]:
            print("  ", " ".join(query["sql"].split())[:160])
    if top:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        print(out.getvalue())
    control = sum(
        q["sql"].split(None, 1)[0].upper() in TRANSACTION_CONTROL for q in queries.captured_queries
    )
    return {
        "calls": stats.total_calls / count,
        "cpu_ms": 1000 * cpu / count,
        "statements": (len(queries.captured_queries) - control) / count,
        "control": control / count,
        "redis": len(redis_commands.commands) / count,
        "redis_commands": sorted(set(redis_commands.commands)),
        "statuses": {status: statuses.count(status) for status in set(statuses)},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.request_work", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=200, help="per kind and pass")
    parser.add_argument("--fresh", action="store_true", help="make the scratch database again")
    parser.add_argument("--top", type=int, default=0, help="print the profile's top N")
    parser.add_argument("--kind", action="append", help="ping, player, write, events")
    parser.add_argument("--sql", action="store_true", help="print the last two requests' SQL")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.conf import settings

    name, token = _database_prepare(args.scale, fresh=args.fresh)
    settings.PITBOSS["AUTH_CACHE_SECONDS"] = 3600
    from config.wsgi import application  # gunicorn's: /api/ through the API chain (ADR 0033)

    count = args.requests
    kinds = args.kind or ["ping", "player", "write", "events"]
    tag = f"{os.getpid()}-{int(time.time())}"
    warm = _fresh_players(1)
    for kind in ("ping", "player", "write", "deposit", "bet"):
        for request in _requests(kind, 1, warm, f"{tag}-warm"):
            _wsgi_call(application, token, request)
    sample = _fresh_players(count * 2) if {"ping", "player", "write"} & set(kinds) else []
    print(f"database {name}, {count} requests per kind and pass, pid {os.getpid()}")
    for kind in kinds:
        top = args.top if kind in (args.kind or []) else 0
        if kind == "events":
            # a first deposit (the player's cash account is opened), then a bet of the same
            # players: the profiled pass on one half of fresh players, the counted on the other
            fresh = _fresh_players(2 * count)
            halves = [fresh[:count], fresh[count:]]
            for event_kind in ("deposit", "bet"):
                players = iter(halves)
                batch = f"{tag}-{event_kind}"

                def events(n: int, players=players, event_kind=event_kind, batch=batch) -> list:
                    return _requests(event_kind, n, next(players), f"{batch}-{time.monotonic()}")

                figures = measure(application, token, events, count, top, args.sql)
                _print(event_kind, figures)
        else:
            figures = measure(
                application,
                token,
                lambda n, kind=kind: _requests(kind, n, sample, f"{tag}-{time.monotonic()}"),
                count,
                top,
                args.sql,
            )
            _print(kind, figures)


def _print(kind: str, figures: dict) -> None:
    print(
        f"{kind:<8} calls {figures['calls']:>9,.0f}  statements {figures['statements']:5.2f}"
        f" (+{figures['control']:.2f} BEGIN/COMMIT/savepoints)  redis {figures['redis']:4.2f} "
        f"{figures['redis_commands']}  profiled CPU {figures['cpu_ms']:6.2f} ms  "
        f"statuses {figures['statuses']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
