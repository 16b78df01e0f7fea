"""Spreadsheet safety for every export (SPEC §9): text that a spreadsheet would run as a formula.

Any text cell starting with =, +, -, @, tab or carriage return is exported with a leading
apostrophe, so a username like "=HYPERLINK(…)" or "-31337-" is shown as text instead of being
evaluated (OWASP CSV injection). Used by the import-export resources and the error reports.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; the rest as is."""
    if isinstance(value, str) and value[:1] in FORMULA_PREFIXES:
        return "'" + value
    return value
