"""Turning one chunk of text cells into checked target values, vectorised over the columns.

Amounts become int64 counts of 1e-8 (exact, the precision of NUMERIC(20,8)); floats never
hold an amount. Each bad cell yields an error (row, column, code, message); a row with any
error is left out of the output.
"""

import functools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from config.errors import DomainError
from importer.dates import ORDER_NAMES, DateEvidence, dates_parse
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
from importer.numbers import NumberEvidence, canonical, format_name, number_bodies
from importer.reading import TEXT as ARROW_TEXT
from importer.reading import arrow_text, typed_cells, visible
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
ERROR_COLUMNS = ["row", "column", "code", "message", "value"]
TOO_MANY_DECIMALS = "has more than 8 decimals"
DATES_END = pd.Timestamp("2201-01-01", tz="UTC").value  # the first instant after 2200
BEYOND_CEILING = "is beyond the ceiling"


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

    def flag(
        self,
        mask: pd.Series,
        column: str,
        code: str,
        message: str | pd.Series,
        raw: pd.Series,
        *,
        show_value: bool = False,
    ) -> None:
        """Flag the rows of `mask`; `message` is one text, or one per row (a Series), and ends
        with ": <the cell>" when `show_value`. Built for the flagged rows only."""
        if not mask.any():
            return
        self.bad |= mask
        rows = mask[mask].index
        values = raw.reindex(rows).astype(str)
        if isinstance(message, pd.Series):
            message = message.reindex(rows)
        else:
            message = pd.Series(message, index=rows, dtype=object)
        if show_value:
            message = message + ": " + values
        self.parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "column": column,
                    "code": code,
                    "message": message.to_numpy(),
                    "value": values.str.slice(0, 100).to_numpy(),
                }
            )
        )

    def errors(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=ERROR_COLUMNS)
        return pd.concat(self.parts, ignore_index=True).sort_values("row", kind="stable")


class Unsettled(Exception):
    """A column's reading (decimal separator, day/month order) is not settled by the rows seen
    so far; the caller may look at the rest of the file (`chunk_observe`) and check again."""

    def __init__(self, refusal: DomainError):
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass
class Context:
    """What validation needs besides the rows: currencies and their minor-unit digits, the
    operator's reading options, and what each column's values proved so far (numbers.py,
    dates.py) — kept for the whole file, so that a column is read one way throughout."""

    minor_units: dict[str, int]
    max_units: int = 0
    decimal: str = ""  # declared decimal separator ("" = detect per column)
    date_order: str = ""  # declared day/month order ("" = detect per column)
    time_zone: str = ""  # of timestamps without offset ("" = the reporting time zone)
    lookups: dict[str, dict] = field(default_factory=dict)  # saved value maps by name
    numbers: dict[str, NumberEvidence] = field(default_factory=dict)
    dates: dict[str, DateEvidence] = field(default_factory=dict)
    complete: bool = False  # the evidence covers the whole file

    def __post_init__(self):
        if not self.max_units:
            self.max_units = int(settings.PITBOSS["MAX_AMOUNT"] * SCALE)

    def decimal_of(self, column: str) -> str:
        """The column's decimal separator: declared, proven by its values, or — when its
        values read two ways — the one every other proven column of the file uses (a file
        comes from one system, in one locale)."""
        evidence = self.number(column)
        if evidence.decimal or not evidence.ambiguous:
            return evidence.decimal
        proven = {e.decimal for e in self.numbers.values() if e.decimal}
        return proven.pop() if len(proven) == 1 else ""

    def number(self, column: str) -> NumberEvidence:
        if column not in self.numbers:
            self.numbers[column] = NumberEvidence(declared=self.decimal)
        return self.numbers[column]

    def date(self, column: str) -> DateEvidence:
        if column not in self.dates:
            self.dates[column] = DateEvidence(declared=self.date_order)
        return self.dates[column]


def _text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Stripped text and the mask of missing cells."""
    stripped = series.str.strip()
    return stripped, stripped.isin(MISSING)


@functools.cache
def country_alpha2(value: str) -> str:
    """ISO 3166 alpha-2 for a country name, alpha-3 or numeric code ("" when none fits)."""
    import pycountry

    value = value.strip()
    if value.isdigit():
        country = pycountry.countries.get(numeric=value.zfill(3))
    else:
        try:
            country = pycountry.countries.lookup(value)
        except LookupError:
            country = None
    return country.alpha_2 if country else value


def _money(
    text: pd.Series, missing: pd.Series, decimal: str = ".", typed: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(units as int64, problem per cell ("" when fine), decimal digits used) for a text column
    of amounts whose decimal separator is `decimal` (numbers.py); `typed` marks spreadsheet
    number cells, already canonical.

    Plain amounts (`12.50`, `+7`: the usual case) are read with Arrow's kernels; the others
    with numpy's string ufuncs (`_written_money`). Integers are built from the digits, so no
    float ever holds an amount.
    """
    plain = _plain_amounts(text, missing) if decimal != "," else None
    if plain is None:
        return _written_money(text, missing, decimal, typed)
    rows, plain_units, plain_digits = plain
    rest = np.ones(len(text), dtype=bool)
    rest[rows] = False
    if rest.all():
        return _written_money(text, missing, decimal, typed)
    units = np.zeros(len(text), dtype=np.int64)
    digits = np.zeros(len(text), dtype=np.int64)
    problem = np.full(len(text), "", dtype=object)
    units[rows], digits[rows] = plain_units, plain_digits
    problem[rows[plain_digits > 8]] = TOO_MANY_DECIMALS
    if rest.any() and not missing[rest].all():
        others = _written_money(
            text[rest], missing[rest], decimal, None if typed is None else typed[rest]
        )
        units[rest], problem[rest], digits[rest] = (part.to_numpy() for part in others)
    return (
        pd.Series(units, index=text.index),
        pd.Series(problem, index=text.index, dtype=object),
        pd.Series(digits, index=text.index),
    )


PLAIN_AMOUNT = r"^\+?(?P<whole>[0-9]{1,10})(?:\.(?P<fraction>[0-9]*))?$"


def _plain_amounts(
    text: pd.Series, missing: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(positions, units, decimal digits used) of the present cells written as plain amounts
    (at most 10 whole digits, a point, any decimals); None when the text is not Arrow's.
    A cell with more than 8 decimals after its trailing zeros gets 0 units, as in
    `_written_money`, which reads the same cells the same way."""
    array = arrow_text(text)
    if array is None:
        return None
    shaped = pc.fill_null(pc.match_substring_regex(array, PLAIN_AMOUNT), False).to_numpy(
        zero_copy_only=False
    )
    rows = np.flatnonzero(shaped & ~missing.to_numpy())
    parts = pc.extract_regex(array.take(pa.array(rows)), PLAIN_AMOUNT)
    whole = pc.cast(parts.field("whole"), pa.int64()).to_numpy(zero_copy_only=False)
    fraction = pc.utf8_rtrim(pc.fill_null(parts.field("fraction"), ""), "0")
    used = pc.utf8_length(fraction).to_numpy(zero_copy_only=False).astype(np.int64)
    eight = pc.utf8_slice_codeunits(pc.utf8_rpad(fraction, 8, "0"), 0, 8)
    cents = pc.cast(eight, pa.int64()).to_numpy(zero_copy_only=False)
    units = np.where(used > 8, 0, whole * SCALE + cents)
    return rows, units, used


def _written_money(
    text: pd.Series, missing: pd.Series, decimal: str = ".", typed: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """`_money` for any written form, vectorised with numpy's string ufuncs."""
    units = pd.Series(0, index=text.index, dtype="int64")
    digits = pd.Series(0, index=text.index, dtype="int64")
    problem = pd.Series("", index=text.index, dtype=object)
    present = ~missing
    if not present.any():
        return units, problem, digits
    values = text[present]
    if decimal == ",":  # every written number is rewritten as canonical text first
        written = present if typed is None else present & ~typed
        values = values.copy()
        fixed, why = _canonical_numbers(values[written[present]], decimal)
        values.loc[fixed.index] = fixed
        values.loc[why.index] = "0"
        problem.loc[why.index] = why
    array = values.to_numpy(dtype=str)
    ascii_ = np.strings.str_len(array) == np.strings.str_len(np.strings.encode(array, "utf-8"))
    body = np.where(np.strings.startswith(array, "+"), np.strings.slice(array, 1, None), array)
    whole, dot, fraction = np.strings.partition(body, ".")
    fast = (
        ascii_ & np.strings.isdecimal(whole) & (np.strings.isdecimal(fraction) | (fraction == ""))
    )
    if not fast.all():
        # Other shapes ("1,000.50", "€ 12", "1e-05", "-3") are read one by one.
        odd = values[~fast]
        fixed, why = _canonical_numbers(odd, "." if decimal == "," else decimal)
        slow = fixed.map(_decimal_text).reindex(odd.index)
        not_number = slow.isna() & ~odd.index.isin(why.index)
        problem.loc[odd.index[not_number]] = "is not a number"
        problem.loc[why.index] = why
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
    fine = problem.reindex(values.index) == ""
    many = pd.Series(used > 8, index=values.index) & fine
    problem.loc[many[many].index] = TOO_MANY_DECIMALS
    huge = pd.Series(too_long, index=values.index) & fine & ~many
    problem.loc[huge[huge].index] = BEYOND_CEILING
    units.loc[values.index] = signed
    digits.loc[values.index] = used
    return units, problem, digits


def _canonical_numbers(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """(canonical text of the readable values, problem of the others) — numbers.py."""
    bodies, signs, unreadable = number_bodies(values)
    fixed, misfit = canonical(bodies, decimal)
    percent = values.str.endswith("%")
    why = pd.Series(None, index=values.index, dtype=object)
    why[misfit] = f"does not fit the column's number format ({format_name(decimal)})"
    why[unreadable] = "is not a number"
    why[percent] = "is a percentage, not an amount"
    fixed = (signs + fixed)[why.isna()]
    return fixed, why.dropna()


def _digits_value(array: np.ndarray, width: int) -> np.ndarray:
    """ASCII digit strings of at most `width` characters → int64 (exact)."""
    padded = np.strings.rjust(array, width, "0").astype(f"S{width}")
    matrix = padded.view(np.uint8).reshape(-1, width).astype(np.int64) - 48
    return (matrix * 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)).sum(axis=1)


def _decimal_text(value: str) -> str | None:
    if not value.isascii():  # Decimal reads "١٠" (Arabic-Indic digits) as 10: money is ASCII
        return None
    try:
        number = Decimal(value)
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
    """int64 counts of 1e-8 → exact decimal text ("12.50000000"), as Arrow-backed text."""
    values = units.to_numpy(dtype=np.int64)
    whole = pc.cast(pa.array(values // SCALE), pa.string())
    # SCALE + the remainder has 9 digits: its last 8 are the decimals, zero-padded
    fraction = pc.utf8_slice_codeunits(pc.cast(pa.array(values % SCALE + SCALE), pa.string()), 1)
    text = pc.binary_join_element_wise(whole, fraction, ".")
    return pd.Series(pd.array(text, dtype=ARROW_TEXT), index=units.index)


def _dates(
    text: pd.Series, missing: pd.Series, fmt: str, order: str, zone: str
) -> tuple[pd.Series, pd.Series]:
    """(UTC timestamps, bad mask) — dates.py; 1970-2200 only."""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if not missing.any():
        parsed, bad = dates_parse(text, fmt=fmt, order=order, zone=zone)
        if parsed.dtype == result.dtype:
            result = parsed
        else:
            result.loc[parsed.index] = parsed
    else:
        parsed, bad = dates_parse(text[~missing], fmt=fmt, order=order, zone=zone)
        result.loc[parsed.index] = parsed
        bad = bad.reindex(text.index, fill_value=False)
    stamps = result.array.asi8  # nanoseconds since 1970: years 1970-2200 only
    out_of_range = result.notna() & ((stamps < 0) | (stamps >= DATES_END))
    return result.where(~out_of_range), bad | out_of_range


def _expression_frame(chunk: pd.DataFrame, names: frozenset[str], context: Context) -> pd.DataFrame:
    """The columns an expression reads (`names`), missing cells as None, for expressions.

    A column whose every value is a number becomes numbers, each read with its column's number
    format like any amount (numbers.py: declared, proven by the column, else the file's), so
    `1.000,50` is 1000.5 in a decimal-comma file; any other column stays text. Raises
    Unsettled when a column's numbers read two ways with nothing to settle them.
    """
    frame = {}
    chunk = visible(chunk)
    for column in [c for c in chunk.columns if c in names] or list(chunk.columns):
        text, missing = _text(chunk[column])
        present = text[~missing]
        bodies, signs, unreadable = number_bodies(present)
        frame[column] = text.where(~missing, None)
        if present.empty or unreadable.any() or present.str.endswith("%").any():
            continue  # text (a percentage is no amount either)
        evidence = context.number(column)
        evidence.observe(bodies)
        decimal = context.decimal_of(column)
        if not decimal and evidence.ambiguous:
            raise Unsettled(evidence.refusal(column))
        fixed, misfit = canonical(bodies, decimal)
        if not misfit.any():
            frame[column] = pd.to_numeric(signs + fixed).reindex(text.index)
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


def evaluate_expression(
    chunk: pd.DataFrame, text: str, context: Context | None = None
) -> pd.Series:
    """Evaluate an import_field expression over the chunk (rewards.expressions), its number
    columns read with the file's number formats (`context`; none given: detected here)."""
    try:
        from rewards.expressions import compile_expression
    except ImportError as exc:
        raise DomainError(
            "invalid_mapping",
            "Computed fields need the expression language, which is not installed.",
        ) from exc
    expression = compile_expression(
        text, context="import_field", columns=list(visible(chunk).columns)
    )
    context = context if context is not None else Context(minor_units={})
    values = expression.evaluate_frame(_expression_frame(chunk, expression.names, context))
    if not isinstance(values, pd.Series):
        values = pd.Series(values, index=chunk.index)
    return values.map(_expression_text).reindex(chunk.index).fillna("")


def _source_text(chunk: pd.DataFrame, source: Source, context: Context) -> pd.Series:
    if source.how == "value":
        value = "" if source.value is None else _expression_text(source.value)
        return pd.Series(value, index=chunk.index, dtype=object)
    if source.how == "expr":
        return evaluate_expression(chunk, source.expr, context)
    return chunk[source.columns[0]]


def _translated(
    text: pd.Series, missing: pd.Series, name: str, source: Source, label: str, checker, context
) -> pd.Series:
    """Values through the field's value map or saved lookup; a value in neither is a row
    error naming it (never kept as it was)."""
    value_map = source.value_map or context.lookups.get(source.lookup, {})
    if not (source.value_map or source.lookup):
        return text
    mapped = text.map(value_map)
    unmapped = mapped.isna() & ~missing
    where = f"lookup {source.lookup!r}" if source.lookup else "the value map"
    if unmapped.any():
        message = f"{name}: {where} has no entry for " + text[unmapped]
        checker.flag(unmapped, label, "unmapped_value", message, text)
    return mapped.fillna("").astype(str).str.strip()


def _label(name: str, source: Source) -> str:
    return "+".join(source.columns) if source.columns else name


def _read_columns(mapping: Mapping, types: tuple[str, ...]) -> list[str]:
    """File columns read as numbers (MONEY/COUNT) or dates, by the field types given."""
    targets = {t.name: t for t in kind_fields(mapping.kind)}
    return [
        column
        for name, source in mapping.sources.items()
        if targets[name].type in types and source.how in ("column", "sum", "latest", "earliest")
        for column in source.columns
    ]


# A chunk's evidence is read in growing slices and no further once a column is decided: the
# values after that either fit the decided reading or are row errors, never re-read.
OBSERVE_SLICES = ((0, 1_000), (1_000, 10_000), (10_000, None))


def chunk_observe(*, chunk: pd.DataFrame, mapping: Mapping, context: Context) -> None:
    """Add a chunk's evidence about how each number and date column is written."""
    if context.complete:
        return
    for column in dict.fromkeys(_read_columns(mapping, (MONEY, COUNT))):
        evidence = context.number(column)
        typed = typed_cells(chunk, column)
        for start, stop in OBSERVE_SLICES:
            if evidence.decimal and not (evidence.comma and evidence.dot):
                break  # declared or proven one way: later rows either fit or are refused
            text, missing = _text(chunk[column].iloc[start:stop])
            written = ~missing if typed is None else ~missing & ~typed.iloc[start:stop]
            text = text[written]
            if text.str.contains(r"[.,]").any():
                evidence.observe(number_bodies(text)[0])
    for column in dict.fromkeys(_read_columns(mapping, (DATETIME,))):
        evidence = context.date(column)
        for start, stop in OBSERVE_SLICES:
            if evidence.declared or evidence.day_first or evidence.month_first:
                break
            text, missing = _text(chunk[column].iloc[start:stop])
            evidence.observe(text[~missing])


def chunk_unsettled(*, mapping: Mapping, context: Context) -> DomainError | None:
    """The refusal for the first column read two ways with nothing to settle it, if any."""
    for column in dict.fromkeys(_read_columns(mapping, (MONEY, COUNT))):
        if not context.decimal_of(column) and not context.number(column).settled:
            return context.number(column).refusal(column)
    for column in dict.fromkeys(_read_columns(mapping, (DATETIME,))):
        if not context.date(column).settled:
            return context.date(column).refusal(column)
    return None


def check_chunk(*, chunk: pd.DataFrame, mapping: Mapping, context: Context) -> ChunkResult:
    """Parse and check every mapped field of a chunk; drop the rows with errors.

    Raises Unsettled when a number or date column reads two ways (numbers.py, dates.py)."""
    chunk_observe(chunk=chunk, mapping=mapping, context=context)
    refusal = chunk_unsettled(mapping=mapping, context=context)
    if refusal is not None:
        raise Unsettled(refusal)
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
        return _datetime(chunk, name, target, source, label, checker, context)
    text, missing = _text(_source_text(chunk, source, context))
    if source.how == "column":
        translated = _translated(text, missing, name, source, label, checker, context)
        if translated is not text:  # `missing` already covers the untranslated text
            missing = missing | translated.isin(MISSING)
        text = translated
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
        other = ~missing & ~text.str.fullmatch(r"[A-Z]{2}")
        if other.any():  # names, ISO numeric and alpha-3 codes: no hand-made map needed
            text = text.where(~other, text[other].map(country_alpha2))
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
    texts = [chunk[c] for c in columns] or [_source_text(chunk, source, context)]
    labels = list(columns) or [label]
    total = pd.Series(0, index=chunk.index, dtype="int64")
    any_missing = pd.Series(False, index=chunk.index)
    all_missing = pd.Series(True, index=chunk.index)
    for raw, column in zip(texts, labels, strict=True):
        text, missing = _text(raw)
        any_missing |= missing
        all_missing &= missing
        read_from_file = source.how in ("column", "sum")
        decimal = context.decimal_of(column) if read_from_file else "."
        typed = typed_cells(chunk, column) if read_from_file else None
        units, problem, digits = _money(text, missing, decimal, typed)
        amount_problem = problem.isin([TOO_MANY_DECIMALS, BEYOND_CEILING])
        bad = problem != ""
        unreadable = bad & ~amount_problem
        # messages are built for the flagged cells only (most chunks have none)
        checker.flag(
            unreadable, column, "invalid_number", f"{name} " + problem[unreadable], text,
            show_value=True,
        )  # fmt: skip
        if target.type == COUNT:
            whole = units % SCALE == 0
            wrong = ~bad & ~missing & ((units < 0) | ~whole | (units > 999_999_999 * SCALE))
            wrong |= amount_problem
            message = f"{name} must be a whole number >= 0"
            checker.flag(wrong, column, "invalid_count", message, text, show_value=True)
            total += (units // SCALE).where(~bad & ~wrong, 0)
            continue
        checker.flag(
            amount_problem, column, "invalid_amount", f"{name} " + problem[amount_problem], text,
            show_value=True,
        )  # fmt: skip
        negative = ~bad & (units < 0)
        message = f"{name} must not be negative"
        checker.flag(negative, column, "invalid_amount", message, text, show_value=True)
        if currency is not None:
            allowed = _minor_units(currency, context.minor_units)
            extra = ~bad & ~missing & (digits > allowed)
            if extra.any():
                message = f"{name} has more decimals than " + currency[extra] + " allows"
                checker.flag(extra, column, "invalid_amount", message, text, show_value=True)
        total += units.where(~bad, 0)
    missing = any_missing if source.all_required else all_missing
    if target.type == MONEY:
        absurd = total > context.max_units
        checker.flag(absurd, label, "invalid_amount", f"{name} is beyond the ceiling.", total)
    if target.required:
        blank = pd.Series("", index=chunk.index)
        checker.flag(missing, label, "missing_value", f"{name} is required.", blank)
    return total.astype("Int64").where(~missing)


def _minor_units(currency: pd.Series, minor_units: dict[str, int]) -> pd.Series:
    """Each row's currency's minor-unit digits (8 for a currency not in `minor_units` or a
    missing one): `currency.map(minor_units).fillna(8)`, looked up once per distinct code."""
    codes, codes_seen = pd.factorize(currency)  # a missing cell: -1, the table's last entry
    digits = [minor_units.get(code) for code in codes_seen] + [None]
    table = np.array([8 if d is None else d for d in digits], dtype=np.int64)
    return pd.Series(table[codes], index=currency.index)


def _datetime(chunk, name, target, source, label, checker, context) -> pd.Series:
    columns = source.columns if source.how in ("latest", "earliest") else ()
    texts = [chunk[c] for c in columns] or [_source_text(chunk, source, context)]
    labels = list(columns) or [label]
    found = []
    for raw, column in zip(texts, labels, strict=True):
        text, missing = _text(raw)
        read_from_file = source.how in ("column", "latest", "earliest")
        order = context.date(column).order if read_from_file else ""
        zone = source.time_zone or context.time_zone
        parsed, bad = _dates(text, missing, source.date_format, order, zone)
        shown = f" (read {ORDER_NAMES[order]})" if order else ""
        message = f"{name} is not a date we can read{shown}"
        checker.flag(bad, column, "invalid_date", message, text, show_value=True)
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
