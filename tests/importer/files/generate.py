"""Writes the .xlsx fixtures of this folder (run from the repository root:
`.venv/bin/python tests/importer/files/generate.py`). The CSV fixtures are written by hand.

openpyxl cannot store a formula's cached value, so a formula cell is written as the value Excel
caches for it (=10.1*3 caches 30.299999999999997), which is what the importer reads.
"""

from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent


def _save(rows: list[list], name: str, *, title: str = "Sheet1", before: dict | None = None):
    workbook = Workbook()
    sheet = workbook.active
    if before:  # other sheets first
        sheet.title = before["title"]
        for row in before["rows"]:
            sheet.append(row)
        sheet = workbook.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(HERE / name)


HEADER = ["TxID", "Player ID", "Type", "Amount", "Currency", "Date"]
_save(
    [
        HEADER,
        ["t1", "p1", "deposit", 10.1 * 3, "EUR", "2026-01-02"],  # =10.1*3
        ["t2", "p1", "bet", 0.1 + 0.2, "EUR", "2026-01-02"],  # =0.1+0.2
        ["t3", "p1", "bet", 1.005, "EUR", "2026-01-03"],  # too many decimals for EUR
        ["t4", "p1", "win", "1.234,56", "EUR", "2026-01-03"],  # a number typed as text
        ["t5", "p1", "win", 1e-05 * 100000, "EUR", "2026-01-04"],
    ],
    "formulas.xlsx",
)
_save(
    [
        ["Weekly stakes report — week 47"],
        [],
        ["Player ID", "Date", "Stakes (EUR)", "Wins (EUR)", "Bets", "Currency"],
        ["p1", "2026-11-22", 250.5, 100, 40, "EUR"],
        ["  ", "", None, " ", None, ""],
        ["p2", "2026-11-22", 1000, 12.5, 3, "EUR"],
    ],
    "title_block.xlsx",
)
_save(
    [
        ["Player ID", "Date", "Stakes (EUR)", "Wins (EUR)", "Bets", "Currency"],
        ["p1", "2026-11-22", 400, 150, 40, "EUR"],
    ],
    "stakes_eur.xlsx",
)
_save(
    [HEADER, ["t1", "p1", "deposit", 100, "EUR", "2026-01-02"]],
    "second_sheet.xlsx",
    title="Data",
    before={"title": "Notes", "rows": [["Exported by the PAM"], ["no data here"]]},
)
