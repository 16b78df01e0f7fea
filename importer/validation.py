"""Turning one chunk of text cells into checked target values, vectorised over the columns.

Amounts become int64 counts of 1e-8 (exact, the precision of NUMERIC(20,8)); floats never
hold an amount. Each bad cell yields an error (row, column, code, message); a row with any
error is left out of the output.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
from django.conf import settings

from config.errors import DomainError
from importer.fields import (
    CHOICE,
    COUNT,
    COUNTRY,
    CURRENCY,
    DATETIME,
    EMAIL,
    ID,
    MONEY,
    TEXT,
    Mapping,
    Source,
    TargetField,
    kind_fields,
)
from players.fingerprints import looks_like_card_number
from players.identifiers import (
    EVENT_ID_MAX_LENGTH,
    IDENTIFIER_ASCII_FORBIDDEN,
    IDENTIFIER_RULE,
    identifier_problem,
)

SCALE = 10**8
MISSING = {"", "NULL", "null", "Null", "NA", "na", "N/A", "n/a", "NaN", "nan", "None", "none"}
MISSING |= {"#N/A", "NaT"}
AUTO_DATE_FORMATS = ("ISO8601", "%Y%m%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")
NUMBER = r"^\+?\d+(?:\.\d*)?$"
ERROR_COLUMNS = ["row", "column", "code", "message", "value"]


@dataclass
class ChunkResult:
    values: pd.DataFrame  # valid rows only, one column per mapped target field
    errors: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ERROR_COLUMNS))


class Checker:
    """Collects the errors of one chunk."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.bad = pd.Series(False, index=index)
        self.parts: list[pd.DataFrame] = []

    def flag(self, mask: pd.Series, column: str, code: str, message: str, raw: pd.Series) -> None:
        if not mask.any():
            return
        self.bad |= mask
        rows = mask[mask].index
        self.parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "column": column,
                    "code": code,
                    "message": message,
                    "value": raw.reindex(rows).astype(str).str.slice(0, 100).to_numpy(),
                }
            )
        )

    def errors(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=ERROR_COLUMNS)
        return pd.concat(self.parts, ignore_index=True).sort_values("row", kind="stable")


@dataclass
class Context:
    """What validation needs from the database: currencies and their minor-unit digits."""

    minor_units: dict[str, int]
    max_units: int = 0

    def __post_init__(self):
        if not self.max_units:
            self.max_units = int(settings.PITBOSS["MAX_AMOUNT"] * SCALE)


def _text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Stripped text and the mask of missing cells."""
    stripped = series.str.strip()
    return stripped, stripped.isin(MISSING)


def _money(text: pd.Series, missing: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(units as int64, bad mask, decimal digits used) for a text column of amounts.

    Vectorised with numpy's string ufuncs; integers are built from the digit bytes, so no
    float ever holds an amount.
    """
    units = pd.Series(0, index=text.index, dtype="int64")
    digits = pd.Series(0, index=text.index, dtype="int64")
    bad = pd.Series(False, index=text.index)
    present = ~missing
    if not present.any():
        return units, bad, digits
    values = text[present]
    array = values.to_numpy(dtype=str)
    ascii_ = np.strings.str_len(array) == np.strings.str_len(np.strings.encode(array, "utf-8"))
    body = np.where(np.strings.startswith(array, "+"), np.strings.slice(array, 1, None), array)
    whole, dot, fraction = np.strings.partition(body, ".")
    fast = (
        ascii_ & np.strings.isdecimal(whole) & (np.strings.isdecimal(fraction) | (fraction == ""))
    )
    if not fast.all():
        # Rare shapes ("1e-05", "-3", "1_000") go through Decimal one by one.
        slow = values[~fast].map(_decimal_text)
        bad.loc[slow[slow.isna()].index] = True
        fixed = slow.fillna("0").to_numpy(dtype=str)
        body = body.astype(object)
        body[~fast] = fixed
        body = body.astype(str)
        whole, dot, fraction = np.strings.partition(body, ".")
    negative = np.strings.startswith(whole, "-")
    whole = np.strings.lstrip(whole, "-")
    fraction = np.strings.rstrip(fraction, "0")
    used = np.strings.str_len(fraction)
    too_long = (used > 8) | (np.strings.str_len(whole) > 10)
    whole = np.where(too_long, "0", whole)
    fraction = np.where(too_long, "", fraction)
    signed = _digits_value(whole, 10) * SCALE + _digits_value(np.strings.ljust(fraction, 8, "0"), 8)
    signed = np.where(negative, -signed, signed)
    bad.loc[values.index[too_long]] = True
    units.loc[values.index] = signed
    digits.loc[values.index] = used
    return units, bad, digits


def _digits_value(array: np.ndarray, width: int) -> np.ndarray:
    """ASCII digit strings of at most `width` characters → int64 (exact)."""
    padded = np.strings.rjust(array, width, "0").astype(f"S{width}")
    matrix = padded.view(np.uint8).reshape(-1, width).astype(np.int64) - 48
    return (matrix * 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)).sum(axis=1)


def _decimal_text(value: str) -> str | None:
    if not value.isascii():  # Decimal reads "١٠" (Arabic-Indic digits) as 10: money is ASCII
        return None
    try:
        number = Decimal(value.replace(",", "") if value.count(",") and "." in value else value)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number.is_zero():
        return "0"
    if not -20 < number.adjusted() < 20:  # "1e999999999" would expand to a gigabyte of zeros
        return None  # far beyond the ceiling or the 8 decimals either way
    return format(number, "f")


def units_to_text(units: pd.Series) -> pd.Series:
    """int64 counts of 1e-8 → exact decimal text ("12.50000000")."""
    whole = (units // SCALE).astype(str)
    fraction = (units % SCALE).astype(str).str.zfill(8)
    return whole + "." + fraction


def _dates(text: pd.Series, missing: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series]:
    """(UTC timestamps, bad mask)."""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    todo = text[~missing]
    for candidate in (fmt,) if fmt else AUTO_DATE_FORMATS:
        if todo.empty:
            break
        parsed = pd.to_datetime(todo, format=candidate, errors="coerce", utc=True)
        done = parsed.notna()
        result.loc[parsed[done].index] = parsed[done]
        todo = todo[~done]
    bad = pd.Series(False, index=text.index)
    bad.loc[todo.index] = True
    out_of_range = result.notna() & ((result.dt.year < 1970) | (result.dt.year > 2200))
    return result.where(~out_of_range), bad | out_of_range


def _expression_frame(chunk: pd.DataFrame) -> pd.DataFrame:
    """The chunk with missing cells as None and numeric columns as numbers, for expressions."""
    frame = {}
    for column in chunk.columns:
        text, missing = _text(chunk[column])
        numeric = pd.to_numeric(text.where(~missing), errors="coerce")
        if numeric.notna().sum() == (~missing).sum():
            frame[column] = numeric
        else:
            frame[column] = text.where(~missing, None)
    return pd.DataFrame(frame, index=chunk.index)


def _expression_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return format(Decimal(repr(float(value))).quantize(Decimal("1e-8")).normalize(), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def evaluate_expression(chunk: pd.DataFrame, text: str) -> pd.Series:
    """Evaluate an import_field expression over the chunk (rewards.expressions)."""
    try:
        from rewards.expressions import compile_expression
    except ImportError as exc:
        raise DomainError(
            "invalid_mapping",
            "Computed fields need the expression language, which is not installed.",
        ) from exc
    expression = compile_expression(text, context="import_field", columns=list(chunk.columns))
    values = expression.evaluate_frame(_expression_frame(chunk))
    if not isinstance(values, pd.Series):
        values = pd.Series(values, index=chunk.index)
    return values.map(_expression_text).reindex(chunk.index).fillna("")


def _source_text(chunk: pd.DataFrame, source: Source) -> pd.Series:
    if source.how == "value":
        value = "" if source.value is None else _expression_text(source.value)
        return pd.Series(value, index=chunk.index, dtype=object)
    if source.how == "expr":
        return evaluate_expression(chunk, source.expr)
    series = chunk[source.columns[0]]
    if source.value_map:
        stripped = series.str.strip()
        series = stripped.map(source.value_map).fillna(stripped).astype(str)
    return series


def _label(name: str, source: Source) -> str:
    return "+".join(source.columns) if source.columns else name


def check_chunk(*, chunk: pd.DataFrame, mapping: Mapping, context: Context) -> ChunkResult:
    """Parse and check every mapped field of a chunk; drop the rows with errors."""
    checker = Checker(chunk.index)
    out: dict[str, pd.Series] = {}
    targets = {t.name: t for t in kind_fields(mapping.kind)}
    currency = None
    if "currency" in mapping.sources:
        currency = _field(chunk, "currency", targets["currency"], mapping, checker, context, None)
        out["currency"] = currency
    for name in mapping.sources:
        if name == "currency":
            continue
        out[name] = _field(chunk, name, targets[name], mapping, checker, context, currency)
    values = pd.DataFrame(out, index=chunk.index)[~checker.bad]
    return ChunkResult(values=values, errors=checker.errors())


def _field(
    chunk: pd.DataFrame,
    name: str,
    target: TargetField,
    mapping: Mapping,
    checker: Checker,
    context: Context,
    currency: pd.Series | None,
) -> pd.Series:
    source = mapping.sources[name]
    label = _label(name, source)
    if target.type == MONEY or target.type == COUNT:
        return _numeric(chunk, name, target, source, label, checker, context, currency)
    if target.type == DATETIME:
        return _datetime(chunk, name, target, source, label, checker)
    text, missing = _text(_source_text(chunk, source))
    if target.required:
        checker.flag(missing, label, "missing_value", f"{name} is required.", text)
    if target.type == CHOICE:
        text = text.str.lower()
        bad = ~missing & ~text.isin(target.choices)
        allowed = ", ".join(target.choices)
        checker.flag(bad, label, "invalid_choice", f"{name} must be one of {allowed}.", text)
    elif target.type == CURRENCY:
        text = text.str.upper()
        bad = ~missing & ~text.isin(context.minor_units.keys())
        checker.flag(
            bad,
            label,
            "unknown_currency",
            "Unknown currency; add it under Currencies or declare it in the mapping.",
            text,
        )
    elif target.type == COUNTRY:
        text = text.str.upper()
        bad = ~missing & ~text.str.fullmatch(r"[A-Z]{2}")
        checker.flag(bad, label, "invalid_country", "Country must be ISO 3166 alpha-2.", text)
    elif target.type == EMAIL:
        bad = ~missing & ~text.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+")
        checker.flag(bad, label, "invalid_email", "Not an e-mail address.", text)
    elif target.type == ID:  # the identifier rule of the API (players/identifiers.py)
        bad = ~missing & text.str.contains(IDENTIFIER_ASCII_FORBIDDEN, na=False)
        unusual = ~missing & ~bad & text.str.contains(r"[^\x20-\x7e]", na=False)
        if unusual.any():  # non-ASCII text (rare): the printable test is the rule's own
            bad.loc[unusual] = text[unusual].map(
                lambda value: identifier_problem(value, max_length=EVENT_ID_MAX_LENGTH) is not None
            )
        rule = IDENTIFIER_RULE.format(max_length=target.max_length)
        checker.flag(bad, label, "invalid_identifier", rule, text)
    if name == "payment_instrument":
        card = ~missing & text.map(looks_like_card_number, na_action="ignore").fillna(False)
        checker.flag(
            card.astype(bool), label, "card_number_refused",
            "Looks like a card number; map a hash or token of the instrument instead.", text,
        )  # fmt: skip
    if target.max_length and target.type in (ID, TEXT, EMAIL):
        long = text.str.len() > target.max_length
        checker.flag(
            long, label, "value_too_long", f"{name} is longer than {target.max_length}.", text
        )
    return text.where(~missing, None)


def _numeric(chunk, name, target, source, label, checker, context, currency) -> pd.Series:
    columns = source.columns if source.how == "sum" else ()
    texts = [chunk[c] for c in columns] or [_source_text(chunk, source)]
    labels = list(columns) or [label]
    total = pd.Series(0, index=chunk.index, dtype="int64")
    any_missing = pd.Series(False, index=chunk.index)
    all_missing = pd.Series(True, index=chunk.index)
    for raw, column in zip(texts, labels, strict=True):
        text, missing = _text(raw)
        any_missing |= missing
        all_missing &= missing
        if target.type == COUNT:
            ok = missing | text.str.fullmatch(r"\+?\d{1,9}(?:\.0*)?")
            checker.flag(~ok, column, "invalid_count", f"{name} must be a whole number >= 0.", text)
            number = text.where(ok & ~missing, "0").str.partition(".")[0].astype("int64")
            total += number
            continue
        units, bad, digits = _money(text, missing)
        checker.flag(bad, column, "invalid_number", f"{name} is not a number.", text)
        negative = ~bad & (units < 0)
        checker.flag(negative, column, "invalid_amount", f"{name} must not be negative.", text)
        if currency is not None:
            allowed = currency.map(context.minor_units).fillna(8).astype("int64")
            extra = ~bad & ~missing & (digits > allowed)
            checker.flag(
                extra,
                column,
                "invalid_amount",
                f"{name} has more decimals than its currency.",
                text,
            )
        total += units.where(~bad, 0)
    missing = any_missing if source.all_required else all_missing
    if target.type == MONEY:
        absurd = total > context.max_units
        checker.flag(absurd, label, "invalid_amount", f"{name} is beyond the ceiling.", total)
    if target.required:
        blank = pd.Series("", index=chunk.index)
        checker.flag(missing, label, "missing_value", f"{name} is required.", blank)
    return total.astype("Int64").where(~missing)


def _datetime(chunk, name, target, source, label, checker) -> pd.Series:
    columns = source.columns if source.how in ("latest", "earliest") else ()
    texts = [chunk[c] for c in columns] or [_source_text(chunk, source)]
    labels = list(columns) or [label]
    found = []
    for raw, column in zip(texts, labels, strict=True):
        text, missing = _text(raw)
        parsed, bad = _dates(text, missing, source.date_format)
        checker.flag(bad, column, "invalid_date", f"{name} is not a date we can read.", text)
        found.append(parsed)
    frame = pd.concat(found, axis=1)
    result = frame.min(axis=1) if source.how == "earliest" else frame.max(axis=1)
    result = result.astype("datetime64[ns, UTC]")
    if target.required:
        checker.flag(
            result.isna() & ~checker.bad,
            label,
            "missing_value",
            f"{name} is required.",
            pd.Series("", index=chunk.index),
        )
    return result
