"""How a column writes its numbers: decimal and thousands separators, read from the whole column.

Operators' exports write `1.000,00` (German, Spanish, Portuguese…), `1,000.00` (English),
`1 000,00` or `1'000.00` (French, Swiss, Nordic), with or without a currency symbol or code. A
value like `1.000` alone reads two ways (one thousand, or one with three decimals), so the
decimal separator is decided for the whole column from the values that prove it:

- a value with both `.` and `,`: the last one is the decimal separator (`1.000,00`);
- a separator used twice (`1.000.000`) is the thousands separator;
- one separator not followed by exactly three digits (`12,50`, `0.125` after a zero, `1234.567`)
  is the decimal separator.

Values proving both readings are read by the majority and the others are refused; a column
where nothing proves either reading but a value depends on it is refused (`ambiguous_number`)
unless the operator declared the separators. The result is canonical text (`1000.00`) for the
exact integer arithmetic of importer/validation.py — no float ever holds an amount.
"""

import re
from dataclasses import dataclass, field

import pandas as pd

from config.errors import DomainError

# Grouping characters that are never a decimal separator: space, no-break spaces, apostrophe.
GROUPING = " \u00a0\u202f\u2009'’"
_GROUP_RE = re.compile(rf"(?<=\d)[{GROUPING}](?=\d{{3}}(?!\d))")
# Currency symbols and codes written around a number ("€ 12,50", "1.000,00 EUR", "USDT 5").
_CURRENCY = r"(?:[A-Za-z]{3,5}|[€$£¥₿₮₹₽₺₩₴¢₫₱₪]|kr\.?|zł|Fr\.?|R\$|US\$)"
_AFFIXED = re.compile(
    rf"^(?P<sign1>[-+−]?)\s*(?:{_CURRENCY}\s*)?(?P<sign2>[-+−]?)\s*"
    rf"(?P<body>[\d.,{GROUPING}]*\d|[.,]\d+)\s*(?:{_CURRENCY}|,-)?$"
)
PLAIN = r"^\+?\d+(?:\.\d+)?$"  # already canonical: most files, kept on numpy's fast path
SCIENTIFIC = re.compile(r"^\d+(?:\.\d+)?[eE][-+]?\d+$")
AMBIGUOUS = r"^[1-9]\d{0,2}[.,]\d{3}$"  # 1.000 / 25,000: thousands, or three decimals


@dataclass
class NumberEvidence:
    """What the values of one column seen so far prove about its decimal separator."""

    comma: int = 0  # values proving a decimal comma
    dot: int = 0  # values proving a decimal point
    ambiguous: str = ""  # an example value that reads two ways ("" when none)
    declared: str = ""  # the operator's decimal separator, when given
    examples: dict = field(default_factory=dict)

    @property
    def decimal(self) -> str:
        """ "," or "." once known; "" while undecided (harmless while `ambiguous` is empty)."""
        if self.declared:
            return self.declared
        if self.comma or self.dot:
            return "," if self.comma > self.dot else "."
        return ""

    @property
    def settled(self) -> bool:
        return bool(self.decimal) or not self.ambiguous

    def observe(self, bodies: pd.Series) -> None:
        """Add the evidence of more values (number bodies, as from `number_bodies`)."""
        if self.declared or bodies.empty:
            return
        has_comma = bodies.str.contains(",", regex=False)
        has_dot = bodies.str.contains(".", regex=False)
        values = bodies[has_comma | has_dot]
        if values.empty:
            return
        has_comma, has_dot = has_comma[values.index], has_dot[values.index]
        both = has_comma & has_dot
        last_comma = values.str.rfind(",") > values.str.rfind(".")
        commas, dots = values.str.count(","), values.str.count(r"\.")
        ambiguous = values.str.fullmatch(AMBIGUOUS) & ~both
        proves_comma = (both & last_comma) | (~has_dot & (commas == 1) & ~ambiguous)
        proves_comma |= ~has_comma & (dots > 1)
        proves_dot = (both & ~last_comma) | (~has_comma & (dots == 1) & ~ambiguous)
        proves_dot |= ~has_dot & (commas > 1)
        self._count(",", values[proves_comma])
        self._count(".", values[proves_dot])
        if not self.ambiguous and ambiguous.any():
            self.ambiguous = values[ambiguous].iloc[0]

    def _count(self, separator: str, values: pd.Series) -> None:
        if values.empty:
            return
        if separator == ",":
            self.comma += len(values)
        else:
            self.dot += len(values)
        self.examples.setdefault(separator, values.iloc[0])

    def refusal(self, column: str) -> DomainError:
        value = self.ambiguous
        as_thousands = value.replace(".", "").replace(",", "")
        as_decimal = value.replace(",", ".")
        return DomainError(
            "ambiguous_number",
            f"Column {column!r} has numbers like {value} that read two ways: {as_thousands} "
            f"(with {value[-4]!r} as thousands separator) or {as_decimal} (with {value[-4]!r} as "
            "decimal separator), and no value in the column settles it. Set decimal_separator "
            "(and thousands_separator) for this file or its template.",
            details={
                "column": column,
                "value": value,
                "readings": [as_thousands, as_decimal],
            },
        )


def declared_decimal(decimal_separator: str, thousands_separator: str) -> str:
    """The decimal separator the operator's options imply ("" when they leave it open)."""
    if decimal_separator:
        if decimal_separator not in ".,":
            raise DomainError("invalid_option", "decimal_separator must be '.' or ','.")
        if thousands_separator == decimal_separator:
            raise DomainError("invalid_option", "The two separators must differ.")
        return decimal_separator
    if thousands_separator in (".", ","):
        return "," if thousands_separator == "." else "."
    if thousands_separator and thousands_separator not in GROUPING:
        raise DomainError(
            "invalid_option", "thousands_separator must be '.', ',', a space or an apostrophe."
        )
    return ""


def number_bodies(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(number without currency or grouping spaces, sign "-" or "", unreadable mask).

    `text` holds stripped, present cells. Cells already canonical keep their text.
    """
    plain = text.str.fullmatch(PLAIN)
    bodies = text.str.removeprefix("+")
    signs = pd.Series("", index=text.index)
    bad = pd.Series(False, index=text.index)
    odd = text[~plain]
    if odd.empty:
        return bodies, signs, bad
    scientific = odd.str.fullmatch(SCIENTIFIC.pattern)
    odd = odd[~scientific]
    parts = odd.str.replace(_GROUP_RE, "", regex=True).str.extract(_AFFIXED)
    unreadable = parts["body"].isna()
    bad.loc[odd.index[unreadable]] = True
    parts = parts[~unreadable]
    sign1, sign2 = parts["sign1"], parts["sign2"]
    double_sign = (sign1 != "") & (sign2 != "")
    bad.loc[parts.index[double_sign]] = True
    minus = sign1.str.contains("[-−]") | sign2.str.contains("[-−]")
    signs.loc[parts.index] = minus.map({True: "-", False: ""})
    bodies.loc[parts.index] = parts["body"]
    bodies.loc[bad[bad].index] = ""
    return bodies, signs, bad


def canonical(bodies: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """(canonical "1234.56" text, mask of values that do not fit the separator).

    `decimal` is "," or "." ("." when the column never needed to decide).
    """
    decimal = decimal or "."
    thousands = "," if decimal == "." else "."
    d, t = re.escape(decimal), re.escape(thousands)
    shape = rf"^(?:\d{{1,3}}(?:{t}\d{{3}})+|\d*)(?:{d}\d*)?$"
    fits = bodies.str.fullmatch(shape) & bodies.str.contains(r"\d")
    if decimal == ".":
        fits |= bodies.str.fullmatch(SCIENTIFIC.pattern)
    out = bodies.str.replace(thousands, "", regex=False)
    if decimal == ",":
        out = out.str.replace(",", ".", regex=False)
    out = out.where(~out.str.startswith("."), "0" + out)
    out = out.str.rstrip(".")
    return out.where(fits, "0"), ~fits


def format_name(decimal: str) -> str:
    return "decimal comma, e.g. 1.234,56" if decimal == "," else "decimal point, e.g. 1,234.56"
