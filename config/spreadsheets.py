"""Spreadsheet safety for every export (SPEC §9): text that a spreadsheet would run as a formula.

A text cell that starts with =, +, -, @, tab or carriage return is exported with a leading
apostrophe, so a username like "=HYPERLINK(…)" or "-31337-" is shown as text instead of being
evaluated (OWASP CSV injection). The same holds for every part of the text after a `,` or a `;`:
a spreadsheet set to the other separator (`;` in much of Europe) splits a quoted CSV field
there, so `ok;=cmd|' /C calc'!A0` would open as two cells, the second a live formula; it is
exported as `ok;'=cmd|' /C calc'!A0`. Only text is touched: numbers exported as numbers
(-5.00) stay numbers. Used by the import-export resources, the exports and the error reports.
"""

import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# the start of the text, or of a part after a separator (spaces before the sign allowed)
_FORMULA_START = re.compile(r"(^|[,;\r\n])( *)(?=[=+\-@\t\r])")


def formula_safe(value: object) -> object:
    """Text whose start, or the start of a part after `,` or `;`, a spreadsheet would run as a
    formula gets an apostrophe there; anything else (numbers, dates, None) is returned as is."""
    if isinstance(value, str):
        return _FORMULA_START.sub(r"\1\2'", value)
    return value
