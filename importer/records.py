"""What each kind of file stores: checked values → staging rows (activity or player rows).

Rows without an id of their own get a deterministic one, so that importing a file twice, or
two files that overlap, stores each fact once:
- activity: `h:<hash of player, type, amount, currency, time, game, round, reference>`;
- rounds: `<round_id>:bet` and `<round_id>:win` (`h:<hash of player, time, stake, game>` as
  round id when the file has none);
- aggregates: `agg:<hash of player, period, currency, category>:<type>`.
"""

from hashlib import blake2b

import numpy as np
import pandas as pd
from django.db import connection

from importer.models import Kind
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


def timestamp_text(values: pd.Series) -> pd.Series:
    """UTC timestamps as text for the staging table (NaT → None)."""
    if connection.vendor == "postgresql":  # numpy's C formatter: ~20x faster than strftime
        naive = values.dt.tz_convert(None).to_numpy()
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
