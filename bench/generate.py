"""Deterministic, vectorised casino data for the benchmarks (never real data).

The same shape as `players/demo.py`, built with numpy so that 5,000,000 activity rows take
seconds: players across currencies and countries with heavy-tailed stakes (most players small,
a few whales), sessions of bets and wins with a house edge per game category, deposits and
withdrawals (plus the odd rollback and chargeback), and fingerprints with a few multi-account
rings. The same seed, sizes and `now` give byte-identical files.

    python -m bench.generate --size 1m --out bench/data            # CSV
    python -m bench.generate --players 1000 --activities 20000 --xlsx --out /tmp/x

Column names are the SPEC §9 import target fields, so a file imports with the automatic mapping:
activity `external_id, player_id, type, amount, currency, occurred_at, game_id, game_category,
count`; players `player_id, username, email, country, currency, registered_at, status`.
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

# A fixed "now" keeps files identical from day to day; the metrics bench refreshes as of it.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)

# (players, activities) per named size.
SIZES: dict[str, tuple[int, int]] = {
    "small": (1_000, 20_000),
    "import": (20_000, 1_000_000),
    "full": (100_000, 5_000_000),
}

COUNTRIES = np.array(["DE", "GB", "SE", "FI", "NO", "CA", "BR", "AT", "ES", "IT"])
COUNTRY_WEIGHTS = np.array([20, 15, 10, 8, 6, 10, 12, 5, 7, 7], dtype=float)
CURRENCY_BY_COUNTRY = {"GB": "GBP", "SE": "SEK", "NO": "NOK", "CA": "CAD", "BR": "BRL"}
# Units of the currency per euro (the inverse of the seeded starting rates), for realistic sizes.
PER_EURO = {"EUR": 1.0, "GBP": 0.85, "SEK": 11.5, "NOK": 11.8, "CAD": 1.5, "BRL": 5.9, "USDT": 1.09}
CRYPTO_SHARE = 0.03  # players who hold USDT whatever their country

CATEGORIES = np.array(["slots", "table", "live", "sports", "poker"])
CATEGORY_WEIGHTS = np.array([60, 10, 15, 10, 5], dtype=float)
HOUSE_EDGE = np.array([0.04, 0.015, 0.02, 0.06, 0.03])
GAMES_PER_CATEGORY = 40

# Row types and their shares (the first row of every player is a deposit).
TYPES = np.array(["deposit", "withdrawal", "bet", "win", "rollback", "chargeback"])
DEPOSIT, WITHDRAWAL, BET, WIN, ROLLBACK, CHARGEBACK = range(6)
TYPE_SHARES = np.array([0.03, 0.012, 0.58, 0.3745, 0.003, 0.0005])
ROWS_PER_SESSION = 25
SESSION_SECONDS = 90 * 60

ACTIVITY_COLUMNS = [
    "external_id",
    "player_id",
    "type",
    "amount",
    "currency",
    "occurred_at",
    "game_id",
    "game_category",
    "count",
]
PLAYER_COLUMNS = [
    "player_id",
    "username",
    "email",
    "country",
    "currency",
    "registered_at",
    "status",
]


@dataclass
class Casino:
    """Generated data as numpy columns; `*_frame()` turns them into import-shaped tables."""

    seed: int
    now: datetime
    # players (index i is the player's position; external id p-<seed>-<i>)
    player_country: np.ndarray  # str
    player_currency: np.ndarray  # str
    player_registered: np.ndarray  # datetime64[s], UTC
    player_status: np.ndarray  # str
    player_scale: np.ndarray  # float: the stake multiplier (Pareto tail: whales)
    # activity, sorted by (player, occurred_at)
    row_player: np.ndarray  # int index into the players
    row_type: np.ndarray  # int index into TYPES
    row_cents: np.ndarray  # int64 amount in hundredths of the player's currency
    row_time: np.ndarray  # datetime64[s], UTC
    row_category: np.ndarray  # int index into CATEGORIES, -1 for payments
    row_game: np.ndarray  # int game number within the category, 0 for payments
    # fingerprints: (player index, kind, value)
    fingerprints: pd.DataFrame

    @property
    def player_count(self) -> int:
        return len(self.player_country)

    @property
    def activity_count(self) -> int:
        return len(self.row_player)

    def player_ids(self) -> np.ndarray:
        return _prefixed(f"p-{self.seed}-", np.arange(self.player_count))

    def activity_ids(self) -> np.ndarray:
        return _prefixed(f"g-{self.seed}-", np.arange(self.activity_count))

    def activity_frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Activity rows `start:stop` in the SPEC §9 activity import shape (all text)."""
        stop = self.activity_count if stop is None else stop
        part = slice(start, stop)
        owner = self.row_player[part]
        category = self.row_category[part]
        games = np.array(
            [""] + [f"{c}-{n}" for c in CATEGORIES for n in range(1, GAMES_PER_CATEGORY + 1)],
            dtype=object,
        )
        game = np.where(
            category < 0, 0, 1 + category * GAMES_PER_CATEGORY + self.row_game[part] - 1
        )
        return pd.DataFrame(
            {
                "external_id": _prefixed(f"g-{self.seed}-", np.arange(start, stop)),
                "player_id": _prefixed(f"p-{self.seed}-", owner),
                "type": TYPES.astype(object)[self.row_type[part]],
                "amount": _cents_text(self.row_cents[part]),
                "currency": self.player_currency.astype(object)[owner],
                "occurred_at": _iso(self.row_time[part]),
                "game_id": games[game],
                "game_category": np.append(CATEGORIES, "").astype(object)[category],
                "count": np.ones(stop - start, dtype=np.int64),
            },
            columns=ACTIVITY_COLUMNS,
        )

    def players_frame(self) -> pd.DataFrame:
        ids = self.player_ids()
        numbers = np.arange(self.player_count).astype(str).astype(object)
        return pd.DataFrame(
            {
                "player_id": ids,
                "username": "player" + numbers,
                "email": "player" + numbers + "@example.test",
                "country": self.player_country.astype(object),
                "currency": self.player_currency.astype(object),
                "registered_at": _iso(self.player_registered),
                "status": self.player_status.astype(object),
            },
            columns=PLAYER_COLUMNS,
        )

    def fingerprints_frame(self) -> pd.DataFrame:
        frame = self.fingerprints.copy()
        frame["player_id"] = self.player_ids()[frame.pop("player")]
        return frame[["player_id", "kind", "value"]]


def _prefixed(prefix: str, numbers: np.ndarray) -> np.ndarray:
    return (prefix + pd.Series(numbers, dtype=np.int64).astype(str)).to_numpy(dtype=object)


def _cents_text(cents: np.ndarray) -> np.ndarray:
    units = pd.Series(cents // 100, dtype=np.int64).astype(str)
    hundredths = pd.Series(cents % 100 + 100, dtype=np.int64).astype(str).str[1:]
    return (units + "." + hundredths).to_numpy(dtype=object)


def _iso(moments: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(moments.astype("datetime64[s]"), unit="s")
    return (pd.Series(text, dtype=object) + "+00:00").to_numpy(dtype=object)


def generate(players: int, activities: int, *, seed: int = 7, now: datetime = ANCHOR) -> Casino:
    """`players` players and exactly `activities` activity rows, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    now64 = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "s")

    # --- players ---------------------------------------------------------------------------
    country = rng.choice(COUNTRIES, size=players, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum())
    currency = np.array([CURRENCY_BY_COUNTRY.get(c, "EUR") for c in COUNTRIES])[
        _index_of(COUNTRIES, country)
    ]
    currency = np.where(rng.random(players) < CRYPTO_SHARE, "USDT", currency)
    age_seconds = rng.integers(86_400, 720 * 86_400, size=players)
    registered = now64 - age_seconds.astype("timedelta64[s]")
    status = rng.choice(
        np.array(["active", "blocked", "self_excluded", "closed"]),
        size=players,
        p=[0.96, 0.015, 0.015, 0.01],
    )
    scale = np.minimum(rng.pareto(1.5, size=players) + 1.0, 500.0)  # heavy tail: a few whales
    favourite = rng.choice(
        len(CATEGORIES), size=players, p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum()
    )

    # --- how many rows each player has: heavy-tailed too (a few very active players) --------
    weight = rng.lognormal(0.0, 1.2, size=players)
    per_player = rng.multinomial(activities, weight / weight.sum())
    row_player = np.repeat(np.arange(players), per_player)

    # --- sessions: rows cluster in sessions spread over the player's life -------------------
    sessions = np.maximum(1, -(-per_player // ROWS_PER_SESSION))
    first_session = np.concatenate(([0], np.cumsum(sessions)[:-1]))
    session_owner = np.repeat(np.arange(players), sessions)
    session_start = registered[session_owner] + (
        rng.random(len(session_owner)) * age_seconds[session_owner]
    ).astype("timedelta64[s]")
    row_session = first_session[row_player] + (
        rng.random(activities) * sessions[row_player]
    ).astype(np.int64)
    offset = rng.integers(0, SESSION_SECONDS, size=activities).astype("timedelta64[s]")
    row_time = np.minimum(session_start[row_session] + offset, now64)
    order = np.lexsort((row_time, row_player))
    row_time = row_time[order]  # row_player is already sorted, and stays so

    # --- types: the first row of every player is a deposit ----------------------------------
    row_type = rng.choice(len(TYPES), size=activities, p=TYPE_SHARES)
    first_rows = np.concatenate(([0], np.cumsum(per_player)[:-1]))[per_player > 0]
    row_type[first_rows] = DEPOSIT

    # --- categories and games for gaming rows ------------------------------------------------
    gaming = np.isin(row_type, (BET, WIN, ROLLBACK))
    random_category = rng.choice(
        len(CATEGORIES), size=activities, p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum()
    )
    category = np.where(rng.random(activities) < 0.7, favourite[row_player], random_category)
    category = np.where(gaming, category, -1)
    game = np.where(gaming, rng.integers(1, GAMES_PER_CATEGORY + 1, size=activities), 0)

    # --- amounts in euro, then in the player's currency --------------------------------------
    player_scale = scale[row_player]
    stake = rng.lognormal(1.0, 0.9, size=activities) * player_scale
    edge = HOUSE_EDGE[np.maximum(category, 0)]
    # Wins pay back (1 - edge) of stakes on average, in fewer, larger amounts.
    win = (
        stake
        * (1 - edge)
        * (TYPE_SHARES[BET] / TYPE_SHARES[WIN])
        * rng.uniform(0.5, 1.5, activities)
    )
    deposit = rng.choice(np.array([10.0, 20, 25, 50, 100]), size=activities) * player_scale
    withdrawal = rng.uniform(20, 200, size=activities) * player_scale
    euro = np.select(
        [row_type == BET, row_type == WIN, row_type == ROLLBACK, row_type == WITHDRAWAL],
        [stake, win, stake, withdrawal],
        default=deposit,
    )
    per_euro = np.array([PER_EURO[c] for c in currency])[row_player]
    cents = np.maximum(np.rint(euro * per_euro * 100), 1).astype(np.int64)

    return Casino(
        seed=seed,
        now=now,
        player_country=country,
        player_currency=currency,
        player_registered=registered,
        player_status=status,
        player_scale=scale,
        row_player=row_player,
        row_type=row_type,
        row_cents=cents,
        row_time=row_time,
        row_category=category,
        row_game=game,
        fingerprints=_fingerprints(rng, players, seed),
    )


def _index_of(vocabulary: np.ndarray, values: np.ndarray) -> np.ndarray:
    order = vocabulary.argsort()
    return order[np.searchsorted(vocabulary, values, sorter=order)]


def _fingerprints(rng: np.random.Generator, players: int, seed: int) -> pd.DataFrame:
    """A device, an IP and a payment instrument per player; ~1% of players share them in rings."""
    index = np.arange(players)
    device = _prefixed(f"dev-{seed}-", index)
    ip = (
        pd.Series(rng.integers(1, 224, players)).astype(str)
        + "."
        + pd.Series(rng.integers(0, 256, players)).astype(str)
        + "."
        + pd.Series(rng.integers(0, 256, players)).astype(str)
        + "."
        + pd.Series(rng.integers(1, 255, players)).astype(str)
    ).to_numpy(dtype=object)
    payment = _prefixed(f"card-{seed}-", index)
    ring_members = rng.choice(players, size=players // 100, replace=False) if players >= 100 else []
    rings = np.arange(len(ring_members)) // 4  # rings of four accounts
    for values, prefix in ((device, "ring-dev"), (payment, "ring-card")):
        values[ring_members] = _prefixed(f"{prefix}-{seed}-", rings)
    ip[ring_members] = _prefixed("10.66.0.", rings % 250 + 1)
    return pd.DataFrame(
        {
            "player": np.tile(index, 3),
            "kind": np.repeat(np.array(["device", "ip", "payment"], dtype=object), players),
            "value": np.concatenate([device, ip, payment]),
        }
    )


# --- writers --------------------------------------------------------------------------------

CHUNK = 500_000


def write_activity_csv(casino: Casino, path: Path, *, rows: int | None = None) -> Path:
    """The first `rows` activity rows (all by default) as a CSV file in the import shape."""
    stop = casino.activity_count if rows is None else min(rows, casino.activity_count)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(",".join(ACTIVITY_COLUMNS) + "\n")
        for start in range(0, stop, CHUNK):
            frame = casino.activity_frame(start, min(start + CHUNK, stop))
            frame.to_csv(handle, header=False, index=False, lineterminator="\n")
    return path


def write_players_csv(casino: Casino, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    casino.players_frame().to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return path


def write_fingerprints_csv(casino: Casino, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    casino.fingerprints_frame().to_csv(path, index=False, lineterminator="\n")
    return path


def write_activity_xlsx(casino: Casino, path: Path, *, rows: int | None = None) -> Path:
    """The first `rows` activity rows as an XLSX workbook (openpyxl write-only mode).

    Amounts are written as text, exactly as in the CSV, so that the file holds no float.
    """
    from openpyxl import Workbook

    stop = casino.activity_count if rows is None else min(rows, casino.activity_count)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("activity")
    sheet.append(ACTIVITY_COLUMNS)
    for start in range(0, stop, CHUNK):
        frame = casino.activity_frame(start, min(start + CHUNK, stop))
        frame["count"] = frame["count"].astype(int)
        for row in frame.itertuples(index=False, name=None):
            sheet.append(row)
    workbook.save(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--size", choices=SIZES, help="a named size (players, activities)")
    parser.add_argument("--players", type=int)
    parser.add_argument("--activities", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--xlsx", action="store_true", help="also write activity.xlsx")
    args = parser.parse_args(argv)
    players, activities = SIZES[args.size or "small"]
    players = args.players or players
    activities = args.activities or activities
    started = time.perf_counter()
    casino = generate(players, activities, seed=args.seed)
    print(
        f"generated {players:,} players, {activities:,} rows in {time.perf_counter() - started:.1f}s"
    )
    for name, write in (
        ("players.csv", write_players_csv),
        ("fingerprints.csv", write_fingerprints_csv),
        ("activity.csv", write_activity_csv),
        *((("activity.xlsx", write_activity_xlsx),) if args.xlsx else ()),
    ):
        started = time.perf_counter()
        write(casino, args.out / name)
        print(f"wrote {args.out / name} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
