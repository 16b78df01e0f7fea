"""The one rule for values, shared by the three evaluators (documented in docs/expressions.md).

- Numbers are exact decimals (scalar), float64 (vectorised) or NUMERIC (SQL).
- Missing: a name with no value (None, NaN, an empty string, an absent key) is missing.
  Arithmetic and every function except `coalesce` give missing if any input is missing.
  `x / 0` and `x % 0` are missing. `%` keeps the sign of the dividend (-7 % 3 == -1).
- Comparisons (`== != < <= > >=`, `in`, `not in`) involving a missing value are false;
  test for it with `is missing` / `is not missing`.
- Logic is two-valued: where true/false is needed, missing counts as false.
- `round` rounds half away from zero; `floor`/`ceil` round towards -inf/+inf.
"""

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

DECIMAL = Context(prec=60, Emax=999_999, Emin=-999_999, rounding=ROUND_HALF_UP)
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})


def as_number(value) -> Decimal | None:
    """A value as a Decimal, or None when it is missing or not a number."""
    if value is None or isinstance(value, Decimal):
        return None if value is None or not value.is_finite() else value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return None if not math.isfinite(value) else Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    try:  # numpy scalars and the like
        return as_number(float(value))
    except (TypeError, ValueError):
        return None


def as_text(value) -> str | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else str(value)


def as_boolean(value) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return None if value == "" else value.strip().lower() in TRUE_WORDS
    return bool(value)


def as_any(value):
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value
