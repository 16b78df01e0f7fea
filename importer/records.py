"""What each kind of file stores: checked values → staging rows (activity or player rows).

Rows without an id of their own get a deterministic one, so that importing a file twice, or
two files that overlap, stores each fact once:
- activity: `h:<hash of player, type, amount, currency, time, game, round, reference>`;
- rounds: `<round_id>:bet` and `<round_id>:win` (`h:<hash of player, time, stake, game>` as
  round id when the file has none);
- aggregates: `agg:<hash of player, period, currency, category>:<type>`.
"""

import functools
from hashlib import blake2b

import numpy as np
import pandas as pd
import pyarrow as pa
from django.db import connection

from importer.models import Kind
from importer.reading import TEXT
from importer.validation import units_to_text

ACTIVITY_COLUMNS = [
    "row_no",
    "external_id",
    "player_id",
    "type",
    "amount",
    "currency",
    "occurred_at",
    "game_id",
    "game_category",
    "round_id",
    "reference_id",
    "count",
]
PLAYER_COLUMNS = [
    "row_no",
    "player_id",
    "username",
    "email",
    "country",
    "currency",
    "registered_at",
    "status",
    "device_id",
    "ip",
    "payment_instrument",
]
# (type, amount field, count field) of the activity an aggregate row stands for.
AGGREGATE_PARTS = (
    ("deposit", "deposits", "deposit_count"),
    ("withdrawal", "withdrawals", "withdrawal_count"),
    ("bet", "stakes", "bet_count"),
    ("win", "wins", None),
)


def _digest(parts: list[pd.Series]) -> pd.Series:
    joined = parts[0].astype(str)
    for part in parts[1:]:
        joined = joined.str.cat(part.astype(str), sep="\x1f")
    hashes = [blake2b(value.encode(), digest_size=12).hexdigest() for value in joined]
    return pd.Series(hashes, index=joined.index)


# PostgreSQL's text of a UTC timestamp, "2026-01-02T10:00:00.000000+00", composed from tables
# of dates and times of day (1970-2200, the dates an import accepts): a few array lookups
# instead of formatting each value.
FIRST_DAY, END_DAY = 0, 84_006  # days since 1970-01-01 of 1970-01-01 and 2200-01-01 + 365
_STAMP = np.dtype(
    {
        "names": ["text", "date", "time", "micro_1", "micro_2", "micro_3"],
        "formats": ["S29", "S10", "S8", "<u2", "<u2", "<u2"],
        "offsets": [0, 0, 11, 20, 22, 24],
        "itemsize": 29,
    }
)


@functools.cache
def _stamp_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dates "YYYY-MM-DD" by day, times "HH:MM:SS" by second of the day, digit pairs)."""
    days = np.arange(FIRST_DAY, END_DAY, dtype="datetime64[D]")
    dates = np.datetime_as_string(days).astype("S10")
    seconds = np.datetime_as_string(np.arange(86_400).astype("datetime64[s]")).astype("S19")
    times = seconds.view("S1").reshape(-1, 19)[:, 11:].copy().view("S8").ravel()  # "HH:MM:SS"
    pairs = np.array([f"{i:02d}" for i in range(100)], dtype="S2").view("<u2")
    return dates, times, pairs


def _postgres_text(values: pd.Series) -> pd.Series | None:
    """`timestamp_text` for PostgreSQL from the tables, as Arrow-backed text; None when a
    value is missing or outside the tables."""
    if values.isna().any():
        return None
    micros = values.array.asi8 // 1000  # nanoseconds since 1970 UTC
    days, micro_of_day = np.divmod(micros, 86_400_000_000)
    if len(days) and (days.min() < FIRST_DAY or days.max() >= END_DAY):
        return None
    dates, times, pairs = _stamp_tables()
    second, micro = np.divmod(micro_of_day, 1_000_000)
    stamps = np.empty(len(micros), dtype=_STAMP)
    stamps["text"] = b"0000-00-00T00:00:00.000000+00"
    stamps["date"] = dates[days - FIRST_DAY]
    stamps["time"] = times[second]
    stamps["micro_1"] = pairs[micro // 10_000]
    stamps["micro_2"] = pairs[micro // 100 % 100]
    stamps["micro_3"] = pairs[micro % 100]
    offsets = np.arange(0, 29 * (len(micros) + 1), 29, dtype=np.int32)
    array = pa.StringArray.from_buffers(
        len(micros), pa.py_buffer(offsets), pa.py_buffer(stamps.view(np.uint8))
    )
    return pd.Series(pd.array(array, dtype=TEXT), index=values.index)


def timestamp_text(values: pd.Series) -> pd.Series:
    """UTC timestamps as text for the staging table (NaT → None)."""
    if connection.vendor == "postgresql":
        text = _postgres_text(values)
        if text is not None:
            return text
        naive = values.dt.tz_convert(None).to_numpy()  # numpy's C formatter
        text = pd.Series(np.datetime_as_string(naive, unit="us"), index=values.index) + "+00"
        return text.where(values.notna(), None)
    # SQLite compares the text Django stores ("YYYY-MM-DD HH:MM:SS.ffffff") as strings.
    return values.dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def _get(values: pd.DataFrame, name: str) -> pd.Series:
    if name in values:
        return values[name]
    return pd.Series(None, index=values.index, dtype=object)


def staging_rows(*, kind: str, values: pd.DataFrame) -> pd.DataFrame:
    """Staging rows for the valid rows of one chunk (index: file row numbers)."""
    if kind == Kind.PLAYERS:
        return _players(values)
    if values.empty:
        return pd.DataFrame(columns=ACTIVITY_COLUMNS)
    if kind == Kind.ACTIVITY:
        return _activity(values)
    if kind == Kind.ROUNDS:
        return _rounds(values)
    return _aggregates(values)


def _players(values: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=values.index)
    out["row_no"] = values.index
    for name in PLAYER_COLUMNS[1:]:
        out[name] = _get(values, name)
    if "registered_at" in values:
        registered = values["registered_at"]
        out["registered_at"] = timestamp_text(registered).where(registered.notna(), None)
    return out[PLAYER_COLUMNS]


def _frame(values: pd.DataFrame, **columns) -> pd.DataFrame:
    out = pd.DataFrame(index=values.index)
    out["row_no"] = values.index
    for name in ACTIVITY_COLUMNS[1:]:
        out[name] = columns[name] if name in columns else _get(values, name)
    return out[ACTIVITY_COLUMNS]


def _activity(values: pd.DataFrame) -> pd.DataFrame:
    when = timestamp_text(values["occurred_at"])
    amount = units_to_text(values["amount"].astype("int64"))
    external = _get(values, "external_id")
    fields = ["player_id", "type", "currency", "game_id", "round_id", "reference_id"]
    lacking = external.isna()
    if lacking.any():  # hash only the rows without an id of their own
        parts = [amount[lacking], when[lacking]]
        parts += [_get(values, f)[lacking].fillna("") for f in fields]
        external = external.astype(object)
        external[lacking] = "h:" + _digest(parts)
    count = _get(values, "count")
    count = count.fillna(1).astype("int64").clip(lower=1) if "count" in values else 1
    return _frame(
        values,
        external_id=external,
        amount=amount,
        occurred_at=when,
        count=count,
    )


def _rounds(values: pd.DataFrame) -> pd.DataFrame:
    when = timestamp_text(values["occurred_at"])
    stake = units_to_text(values["stake"].astype("int64"))
    game = _get(values, "game_id")
    derived = "h:" + _digest([values["player_id"], when, stake, game.fillna("")])
    round_id = _get(values, "round_id").fillna(derived)
    bets = _frame(
        values,
        external_id=round_id + ":bet",
        type="bet",
        amount=stake,
        occurred_at=when,
        round_id=round_id,
        count=1,
    )
    payout = _get(values, "payout").fillna(0).astype("int64") if "payout" in values else None
    if payout is None or not (payout > 0).any():
        return bets
    paid = payout > 0
    won = values[paid]
    wins = _frame(
        won,
        external_id=round_id[paid] + ":win",
        type="win",
        amount=units_to_text(payout[paid]),
        occurred_at=when[paid],
        round_id=round_id[paid],
        reference_id=round_id[paid] + ":bet",
        count=1,
    )
    return pd.concat([bets, wins])


def _aggregates(values: pd.DataFrame) -> pd.DataFrame:
    end = values["period_end"]
    start = _get(values, "period_start")
    start_text = timestamp_text(start).where(start.notna(), "") if "period_start" in values else ""
    category = _get(values, "game_category").fillna("")
    key = _digest(
        [
            values["player_id"],
            pd.Series(start_text, index=values.index),
            timestamp_text(end),
            values["currency"],
            category,
        ]
    )
    parts = []
    for type_, amount_field, count_field in AGGREGATE_PARTS:
        if amount_field not in values and (count_field is None or count_field not in values):
            continue
        amount = _get(values, amount_field).fillna(0).astype("int64")
        count = _get(values, count_field).fillna(0).astype("int64") if count_field else 0
        keep = (amount > 0) | (count > 0) if count_field else amount > 0
        if not keep.any():
            continue
        rows = values[keep]
        count = count[keep].clip(lower=1) if count_field else 1
        parts.append(
            _frame(
                rows,
                external_id="agg:" + key[keep] + ":" + type_,
                type=type_,
                amount=units_to_text(amount[keep]),
                occurred_at=timestamp_text(end[keep]),
                count=count,
            )
        )
    return pd.concat(parts) if parts else pd.DataFrame(columns=ACTIVITY_COLUMNS)
