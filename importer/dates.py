"""How a column writes its dates: one reading per column, inferred from the whole column.

ISO 8601 (`2025-12-24`, `2025-12-24T10:00:00+01:00`, `20251224`, `2025/12/24`) reads one way.
`24.12.2025` (with or without `10:00`) is day first, as every locale writing dots does. With
slashes or dashes (`03/04/2026`) the order is the column's: a value whose first part is over 12
proves day first (`13/04/2026`), one whose second part is over 12 proves month first
(`4/13/2026`). A column that nothing settles, with a value that reads two ways, takes the
declared order (`date_order`), else the operator's default (`PITBOSS_DATE_ORDER`), else it is
refused (`ambiguous_date`) naming both readings — never guessed.

Timestamps without an offset — and dates alone, which are that day's midnight — are wall-clock
times in the mapping's `time_zone`, else the operator's reporting time zone
(`PITBOSS_REPORTING_TIME_ZONE`); the result is UTC. A value's own offset (`Z`, `+01:00`, `-0530`
after a time) applies to that value alone, whatever the column's other values write.
"""

import calendar
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from config.errors import DomainError
from importer.reading import arrow_text

DAY_FIRST, MONTH_FIRST = "DMY", "MDY"
ORDER_NAMES = {DAY_FIRST: "day first", MONTH_FIRST: "month first"}
_TIME = (
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})"
    r"(?:[.,](?P<fraction>\d{1,6}))?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
)
NUMERIC_DATE = rf"^(?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<year>\d{{4}}){_TIME}$"
# A value names its own offset from UTC with a trailing Z, or with ±hh[[:]mm] after a time: a
# date alone (`2026-01-05`) ends in what looks like one and is not.
UTC_MARK = r"[zZ]$"
NUMERIC_OFFSET = r"[+-]\d{2}(?::?\d{2})?$"
TIME_PART = r"\d[Tt ]+\d|:"


def with_offset(text: pd.Series) -> pd.Series:
    """Which of the (stripped) values name their own offset from UTC (see UTC_MARK)."""
    numeric = text.str.contains(NUMERIC_OFFSET)
    if numeric.any():
        numeric &= text.str.contains(TIME_PART)
    return text.str.contains(UTC_MARK) | numeric


def order_option(value: str) -> str:
    """ "DMY" / "MDY" from the operator's option ("" when not given)."""
    value = (value or "").strip().upper().replace("-", "_")
    aliases = {"DAY_FIRST": DAY_FIRST, "MONTH_FIRST": MONTH_FIRST, "DMY": DAY_FIRST}
    aliases |= {"MDY": MONTH_FIRST, "": ""}
    if value not in aliases:
        raise DomainError("invalid_option", "date_order must be DMY (day first) or MDY.")
    return aliases[value]


def time_zone_option(value: str) -> str:
    if not value:
        return ""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DomainError("invalid_option", f"Unknown time zone {value!r}.") from exc
    return value


@dataclass
class DateEvidence:
    """What the values of one column seen so far prove about its day/month order."""

    day_first: int = 0
    month_first: int = 0
    ambiguous: str = ""
    declared: str = ""

    @property
    def order(self) -> str:
        if self.declared:
            return self.declared
        if self.day_first or self.month_first:
            return DAY_FIRST if self.day_first >= self.month_first else MONTH_FIRST
        return order_option(settings.PITBOSS.get("DATE_ORDER", ""))

    @property
    def settled(self) -> bool:
        return bool(self.order) or not self.ambiguous

    def observe(self, text: pd.Series) -> None:
        if self.declared or text.empty:
            return
        parts = _numeric_parts(text)
        parts = parts[parts["sep"] != "."]  # dots: always day first
        if parts.empty:
            return
        a, b = parts["a"].astype(int), parts["b"].astype(int)
        self.day_first += int((a > 12).sum())
        self.month_first += int((b > 12).sum())
        two_ways = (a <= 12) & (b <= 12) & (a != b)
        if not self.ambiguous and two_ways.any():
            self.ambiguous = text[two_ways[two_ways].index[0]]

    def refusal(self, column: str) -> DomainError:
        value = self.ambiguous
        parts = _numeric_parts(pd.Series([value])).iloc[0]
        a, b, year = int(parts["a"]), int(parts["b"]), parts["year"]
        day_first = f"{a} {calendar.month_name[b]} {year}"
        month_first = f"{b} {calendar.month_name[a]} {year}"
        return DomainError(
            "ambiguous_date",
            f"Column {column!r} has dates like {value} that read as {day_first} (day first) or "
            f"{month_first} (month first), and no value in the column settles it. Set "
            "date_order (DMY or MDY) for this file or its template, or give the column a "
            "format.",
            details={"column": column, "value": value, "readings": [day_first, month_first]},
        )


def _numeric_parts(text: pd.Series) -> pd.DataFrame:
    """The parts of `D/M/YYYY`-like values (rows that are not such a value are dropped)."""
    year_first = np.zeros(len(text), dtype=bool)
    others = np.ones(len(text), dtype=bool)
    array = arrow_text(text)
    if array is not None:  # ASCII digits first (nearly every value): one Arrow kernel
        ascii_year = pc.match_substring_regex(array, r"^[0-9]{4}")
        year_first = pc.fill_null(ascii_year, False).to_numpy(zero_copy_only=False)
        others = ~year_first
    if others.any():
        array = text[others].to_numpy(dtype=str)
        year_first[others] = np.strings.isdigit(np.strings.slice(array, 0, 4))  # ISO: no regex
    candidates = text[~year_first]
    if candidates.empty:
        return pd.DataFrame(columns=["a", "sep", "b", "year", "hour", "minute", "second",
                                     "fraction", "ampm"])  # fmt: skip
    return candidates.str.extract(NUMERIC_DATE).dropna(subset=["a"])


def _localise(values: pd.Series, naive: pd.Series, zone: str) -> pd.Series:
    """Read the `naive` rows' wall-clock times (parsed as if UTC) in `zone`, as UTC."""
    if zone in ("", "UTC") or not naive.any():
        return values
    wall = values[naive].dt.tz_localize(None)
    # Autumn's repeated hour is read as summer time; spring's missing hour moves forward.
    local = wall.dt.tz_localize(
        zone, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    values = values.copy()
    values.loc[wall.index] = local.dt.tz_convert("UTC")
    return values


def dates_parse(
    text: pd.Series, *, fmt: str = "", order: str = "", zone: str = ""
) -> tuple[pd.Series, pd.Series]:
    """(UTC timestamps, unreadable mask) for stripped, present cells."""
    zone = zone or settings.PITBOSS["REPORTING_TIME_ZONE"]
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if text.empty:
        return result, pd.Series(False, index=text.index)
    if fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
        aware = "%z" in fmt or "%Z" in fmt
        result = _localise(parsed, pd.Series(not aware, index=text.index) & parsed.notna(), zone)
        return result, result.isna()
    parsed = _iso8601(text)
    done = parsed.notna()
    if zone != "UTC" and done.any():
        parsed = _localise(parsed, done & ~with_offset(text), zone)
    if done.all() and parsed.dtype == result.dtype:
        return parsed, ~done
    result.loc[done] = parsed[done]
    rest = text[~done]
    if not rest.empty:
        parts = _numeric_parts(rest)
        if not parts.empty:
            result.loc[parts.index] = _from_parts(parts, order, zone)
    return result, result.isna()


# The shapes nearly every export writes (`2026-01-01`, `2026-01-01 10:00:00`,
# `2026-01-01T10:00:00`, `2026-01-01T10:00:00Z`) are read from their digit bytes; pandas'
# ISO 8601 parser reads every other value (ADR 0030). Both give the same instant for these
# shapes; a value of such a shape that is no real date or time is left to pandas too.
FIXED_SHAPES = (10, 19, 20)  # lengths: date, date and time, date and time and "Z"
FIRST_YEAR, LAST_YEAR = 1700, 2261  # within pandas' nanosecond range
_DATE_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9)
_TIME_DIGITS = (11, 12, 14, 15, 17, 18)


@functools.cache
def _month_starts() -> np.ndarray:
    """Days from 1970-01-01 to the first of each month from FIRST_YEAR to LAST_YEAR + 1."""
    months = np.arange(f"{FIRST_YEAR}-01", f"{LAST_YEAR + 1}-02", dtype="datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def _iso8601(text: pd.Series) -> pd.Series:
    """`pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)`, with the fixed
    shapes read from their bytes (FIXED_SHAPES)."""
    nanoseconds = np.zeros(len(text), dtype=np.int64)
    fast = np.zeros(len(text), dtype=bool)
    array = arrow_text(text)
    if array is not None:
        lengths = pc.binary_length(array).to_numpy(zero_copy_only=False)
        for length in FIXED_SHAPES:
            rows = np.flatnonzero(lengths == length)
            if len(rows):
                values, ok = _fixed_shape(pc.take(array, rows), length)
                nanoseconds[rows[ok]] = values[ok]
                fast[rows[ok]] = True
    if fast.all():
        return _utc(nanoseconds, text.index)
    parsed = _pandas_iso8601(text[~fast])
    if not fast.any():
        return parsed
    result = np.full(len(text), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    result[fast] = nanoseconds[fast]
    result[~fast] = parsed.astype("datetime64[ns, UTC]").array.asi8
    return _utc(result, text.index)


def _pandas_iso8601(text: pd.Series) -> pd.Series:
    """pandas' ISO 8601 reading (UTC), the values with an offset apart from those without:
    read together, a value without offset that follows one with an offset is read in that
    offset (pandas 2.3: `2026-01-01T10:00:00+01:00` then `2026-08-04 07:31:05` gives 06:31:05
    UTC for the second instead of its wall-clock 07:31:05)."""
    aware = with_offset(text)
    if aware.all() or not aware.any():
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    for rows in (aware, ~aware):
        read = pd.to_datetime(text[rows], format="ISO8601", errors="coerce", utc=True)
        parsed[rows] = read.astype("datetime64[ns, UTC]")
    return parsed


def _utc(nanoseconds: np.ndarray, index: pd.Index) -> pd.Series:
    """int64 nanoseconds since 1970 (int64 min: NaT) as UTC timestamps (a view, not a parse:
    `pd.to_datetime` of integers costs ~10 µs a thousand)."""
    return pd.Series(nanoseconds.view("M8[ns]"), index=index).dt.tz_localize("UTC")


def _fixed_shape(array: pa.Array, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(nanoseconds since 1970 UTC, mask of the values read) for values of `length` bytes."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset :][: len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    cells = data[offsets[0] : offsets[-1]].reshape(len(array), length)
    positions = _DATE_DIGITS + (_TIME_DIGITS if length > 10 else ())
    digits = cells[:, list(positions)].astype(np.int64) - 48
    ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
    ok &= (cells[:, 4] == ord("-")) & (cells[:, 7] == ord("-"))
    if length > 10:
        ok &= (cells[:, 10] == ord("T")) | (cells[:, 10] == ord(" "))
        ok &= (cells[:, 13] == ord(":")) & (cells[:, 16] == ord(":"))
    if length == 20:
        ok &= cells[:, 19] == ord("Z")
    digits = np.where(ok[:, None], digits, 0)
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    ok &= (year >= FIRST_YEAR) & (year <= LAST_YEAR) & (month >= 1) & (month <= 12)
    starts = _month_starts()
    month_index = np.where(ok, (year - FIRST_YEAR) * 12 + month - 1, 0)
    first = starts[month_index]
    ok &= (day >= 1) & (day <= starts[month_index + 1] - first)
    seconds = (first + day - 1) * 86_400
    if length > 10:
        hour = digits[:, 8] * 10 + digits[:, 9]
        minute = digits[:, 10] * 10 + digits[:, 11]
        second = digits[:, 12] * 10 + digits[:, 13]
        ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
        seconds += hour * 3600 + minute * 60 + second
    return seconds * 1_000_000_000, ok


def _from_parts(parts: pd.DataFrame, order: str, zone: str) -> pd.Series:
    a, b = parts["a"].astype(int), parts["b"].astype(int)
    day_first = (parts["sep"] == ".") | (order != MONTH_FIRST)
    hour = parts["hour"].fillna("0").astype(int)
    ampm = parts["ampm"].fillna("").str.lower().str[:1]
    bad_clock = (ampm != "") & ((hour > 12) | (hour == 0))
    hour = hour.where(~((ampm == "p") & (hour < 12)), hour + 12)
    hour = hour.where(~((ampm == "a") & (hour == 12)), 0)
    frame = pd.DataFrame(
        {
            "year": parts["year"].astype(int),
            "month": b.where(day_first, a),
            "day": a.where(day_first, b),
            "hour": hour.where(~bad_clock, 99),
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["second"].fillna("0").astype(int),
            "microsecond": parts["fraction"].fillna("").str.ljust(6, "0").astype(int),
        }
    )
    naive = pd.to_datetime(frame, errors="coerce")
    # An undecided order is only used when no value reads two ways (e.g. 05/05/2026).
    return _localise(naive.dt.tz_localize("UTC"), naive.notna(), zone)
