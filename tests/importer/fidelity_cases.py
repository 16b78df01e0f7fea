"""Differential cases for reading, checking and staging (ADR 0030): generated files with a
fault of every kind the validators handle, plus the real files, each run the way the validate
stage runs it (`file_chunks` → `services._check` → `staging_rows`) and turned into one
canonical, JSON-able record of every value, error and refusal.

`test_check_fidelity.py` compares each record's digest with the one recorded from the code
before the speed-up (check_fidelity.json). To see a difference rather than a digest, record
full outputs with the old code and compare them with the new:

    python -m tests.importer.fidelity_cases dump /tmp/old.pickle   (on the old commit)
    python -m tests.importer.fidelity_cases diff /tmp/old.pickle   (on the new one)
"""

import hashlib
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pandas as pd

DIGESTS = Path(__file__).with_name("check_fidelity.json")
MINOR_UNITS = {"EUR": 2, "USD": 2, "JPY": 0, "BTC": 8, "GBP": 2}

AMOUNTS = [
    "12.50", "+12.5", "0", "0.00", "7", "123456.78", "1,000.50", "1.000,50", "12,50", "€ 12",
    "12 EUR", "EUR 12,5", "-3", "−3", "- 3", "1e-05", "1E3", "12.123456789", "12.123456780",
    "99999999999", "00000000001", "12345678901.5", "9999999999.99999999", "10000000000",
    "100000000", "100000001", "abc", "", "NA", "NaN", "NULL", " 7 ", "1 000,00", "1'000.00",
    "1\u00a0000.00", "50%", "=1+2", ".5", "5.", "١٠", "１２", "0.00000001", "0.000000001",
    "1.000", "25,000", "1.000.000", "1,000,000", "--5", "+-5", "(5)", "5-", "0x10", "inf",
    "nan", "1_000", "1e999999999", "12.", "+0", "-0", "0.10", "3.999", "1.2.3", "++5", " ",
    "5,-", "USD5", "$5.25", "£1,234.56", "1,2345", "0,125", "10.50000000000",
]  # fmt: skip
PLAIN_AMOUNTS = ["12.50", "0.01", "7", "123456.78", "0", "499.99", "3.5", "+4.25", "1.00"]
DATES = [
    "2026-01-01T00:00:00Z", "2026-01-01 10:00:00", "2026-01-01", "2026-01-01T10:00:00+01:00",
    "2026-01-01T10:00:00.123456Z", "2026-01-01T10:00:00.5+0100", "20260101", "2026/01/01",
    "2026-02-30", "2026-13-01", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
    "2200-12-31T23:59:59Z", "2201-01-01", "24.12.2025", "24.12.2025 10:00", "03/04/2026",
    "13/04/2026", "4/13/2026", "3/4/2026 10:00 PM", "3/4/2026 12:00 AM", "3/4/2026 13:00 PM",
    "2026-03-29T02:30:00", "2026-10-25T02:30:00", "2026-03-08T02:30:00",
    "2026-11-01T01:30:00", "garbage", "", "NaT", "NULL", "2026-01-01T24:00:00",
    "2026-01-01T23:59:60Z", "2026-1-1", "2026-01-01T10:00", "2026-01-01T10", "2026-01",
    "2026", "2026-01-01Z", " 2026-01-01 ", "2026-01-01t10:00:00z", "2026-01-01T10:00:00 +01:00",
    "2026-01-01T10:00:00+01", "2026-01-01T10:00:00-0530", "2026-01-01T10:00:00.123456789Z",
    "0001-01-01", "2026-06-15T12:34:56.000001+00:00", "2026-06-15T12:34:56,5Z",
    "2026-06-15T12:34:56-00:00", "2026-06-15T12:34:56+14:00", "2026-06-15T12:34:56+23:59",
    "2024-02-29T00:00:00Z", "2025-02-29T00:00:00Z", "2026-06-15 12:34:56Z", "2026-06-15T1:02:03Z",
    "2026-06-15T12:34Z", "2026-06-15T12:34:56.Z", "12/31/2026", "31.12.2026 23:59:59",
    "2026-06-15  12:34:56", "2026-06-15T12:34:56Z ", "+2026-06-15", "2026-06-15T12:34:56+01:00:00",
    "2026-12-31T23:59:59.999999999Z", "2099-12-31T23:59:59-12:00", "2026-06-15T00:00:00.000Z",
]  # fmt: skip
ISO_DATES = [
    "2026-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:00Z", "2026-{m:02d}-{d:02d} {h:02d}:{mi:02d}:05",
    "2026-{m:02d}-{d:02d}", "2025-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:59+02:00",
    "2026-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:30.25Z",
]  # fmt: skip
CURRENCIES = ["EUR", "eur", " usd ", "XXX", "", "BITS", "JPY", "btc", "NULL", "Eur"]
TYPES = ["bet", "BET", "Win", "foo", "", "rollback", "deposit", " withdrawal ", "chargeback"]
CATEGORIES = ["slots", "Slots", "casino", "", "live", "SPORTS"]
IDS = [
    "p1", "p2", "p 3", "jörg", "p\u0007x", "x" * 129, "=cmd|'/C calc'!A0", "", "+49 123",
    "@SUM(A1)", "p\u200b4", "ＡＢ", "p\ttab", "-5", "NULL", "p1 ", "P1",
]  # fmt: skip
COUNTS = ["1", "2.0", "2.5", "-1", "", "1,000", "1000000000", "999999999", "0", "3", "x"]


@dataclass
class Case:
    name: str
    kind: str
    content: bytes | Path
    mapping: dict | None = None
    options: dict = field(default_factory=dict)  # reading options of the job
    pitboss: dict = field(default_factory=dict)  # settings.PITBOSS overrides
    chunk_rows: int = 300


def _csv(header: list[str], rows: list[list[str]], sep: str = ",") -> str:
    def cell(value: str) -> str:
        if any(c in value for c in (sep, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "\n".join(sep.join(cell(v) for v in row) for row in [header, *rows]) + "\n"


def _activity_rows(rng: random.Random, count: int, amounts, dates, *, faults: float) -> list:
    rows = []
    for i in range(count):
        fault = rng.random() < faults
        m, d, h, mi = 1 + i % 12, 1 + i % 28, i % 24, i % 60
        when = rng.choice(ISO_DATES).format(m=m, d=d, h=h, mi=mi)
        rows.append(
            [
                rng.choice(IDS + [""] * 5) if fault and rng.random() < 0.3 else f"t{i % 997}",
                rng.choice(IDS) if fault and rng.random() < 0.3 else f"p{rng.randrange(50)}",
                rng.choice(TYPES) if fault and rng.random() < 0.3 else rng.choice(TYPES[:1] + TYPES[5:7]),
                rng.choice(amounts) if fault else rng.choice(PLAIN_AMOUNTS),
                rng.choice(CURRENCIES) if fault and rng.random() < 0.3 else rng.choice(["EUR", "USD", "JPY"]),
                rng.choice(dates) if fault else when,
                rng.choice(["g1", "g2", "", "x" * 101]) if fault else f"g{rng.randrange(5)}",
                rng.choice(CATEGORIES) if fault else "slots",
                rng.choice(COUNTS) if fault else "",
                rng.choice(["r1", "", "r 2"]) if fault else "",
            ]
        )  # fmt: skip
    return rows


ACTIVITY_HEADER = ["TxID", "UserID", "Type", "Amount", "Currency", "PlayDate", "GameID",
                   "Game Category", "Count", "Round"]  # fmt: skip


def _generated() -> Iterator[Case]:
    rng = random.Random(20261130)
    every_amount = AMOUNTS + PLAIN_AMOUNTS
    for faults in (0.0, 0.2, 1.0):
        rows = _activity_rows(rng, 1500, every_amount, DATES, faults=faults)
        content = _csv(ACTIVITY_HEADER, rows).encode()
        yield Case(f"activity_faults_{faults}", "activity", content)
        yield Case(
            f"activity_faults_{faults}_berlin", "activity", content, options={"time_zone": "Europe/Berlin"}
        )  # fmt: skip
        yield Case(
            f"activity_faults_{faults}_reporting_ny", "activity", content,
            pitboss={"REPORTING_TIME_ZONE": "America/New_York"},
        )  # fmt: skip
        yield Case(
            f"activity_faults_{faults}_dmy_decimal_dot", "activity", content,
            options={"date_order": "DMY", "decimal_separator": "."},
        )  # fmt: skip
        yield Case(
            f"activity_faults_{faults}_mdy_decimal_comma", "activity", content,
            options={"date_order": "MDY", "decimal_separator": ","},
        )  # fmt: skip
        yield Case(
            f"activity_faults_{faults}_env_order", "activity", content,
            pitboss={"DATE_ORDER": "MDY"},
        )  # fmt: skip
    # Every value of each kind, alone in its column (and each with the other columns clean).
    clean = _activity_rows(rng, max(len(AMOUNTS), len(DATES)), PLAIN_AMOUNTS, DATES, faults=0)
    for column, values in ((3, AMOUNTS), (5, DATES), (4, CURRENCIES), (2, TYPES), (1, IDS),
                           (0, IDS), (8, COUNTS), (7, CATEGORIES)):  # fmt: skip
        rows = [list(r) for r in clean]
        for i, row in enumerate(rows):
            row[column] = values[i % len(values)]
        content = _csv(ACTIVITY_HEADER, rows).encode()
        name = ACTIVITY_HEADER[column]
        for options in ({}, {"date_order": "DMY", "decimal_separator": ","},
                        {"thousands_separator": "."}, {"time_zone": "Asia/Kolkata"}):  # fmt: skip
            yield Case(f"each_{name}_{'_'.join(options) or 'plain'}", "activity", content,
                       options=options, chunk_rows=37)  # fmt: skip
    # One value of DATES/AMOUNTS per file: a file's evidence decides (and refusals).
    for i, value in enumerate(DATES):
        rows = [list(r) for r in clean[:5]]
        rows[2][5] = value
        yield Case(f"date_{i}", "activity", _csv(ACTIVITY_HEADER, rows).encode())
    for i, value in enumerate(AMOUNTS):
        rows = [list(r) for r in clean[:5]]
        rows[2][3] = value
        yield Case(f"amount_{i}", "activity", _csv(ACTIVITY_HEADER, rows).encode())
    # Columns written one way throughout (decimal comma, US dates, dots), with faults.
    for label, amounts, dates in (
        ("comma", ["1.234,56", "12,50", "7", "0,01", "1.000", "12.50"], ["24.12.2025", "1.1.2026"]),
        ("us", ["1,234.56", "12.50", "1,000", "0.125"], ["12/31/2025", "1/2/2026 3:04 PM"]),
        ("uk", ["1 234,56", "12,5", "€ 3,00"], ["31/12/2025 10:00", "02/01/2026"]),
        ("ambiguous", ["1.000", "25.000", "7"], ["03/04/2026", "05/05/2026"]),
    ):
        rows = _activity_rows(rng, 400, amounts, dates, faults=1.0)
        for row in rows:
            row[1], row[2], row[4], row[6], row[7], row[8] = "p1", "bet", "EUR", "g", "slots", "1"
        content = _csv(ACTIVITY_HEADER, rows, sep=";").encode("cp1252", errors="replace")
        yield Case(f"written_{label}", "activity", content)
        yield Case(f"written_{label}_declared", "activity", content,
                   options={"date_order": "DMY", "decimal_separator": ","})  # fmt: skip
    # Mappings: sums, constants, expressions, formats, earliest/latest, value maps.
    rows = _activity_rows(rng, 600, every_amount, DATES, faults=0.3)
    content = _csv(ACTIVITY_HEADER + ["Extra", "When2"],
                   [r + [rng.choice(every_amount), rng.choice(DATES)] for r in rows]).encode()  # fmt: skip
    base = {"external_id": "TxID", "player_id": "UserID", "type": "Type", "currency": "Currency"}
    for label, fields in (
        ("sum", {"amount": ["Amount", "Extra"], "occurred_at": "PlayDate"}),
        ("sum_required", {"amount": {"sum": ["Amount", "Extra"], "all_required": True},
                          "occurred_at": {"latest": ["PlayDate", "When2"]}}),
        ("earliest", {"amount": "Amount", "occurred_at": {"earliest": ["PlayDate", "When2"]}}),
        ("format", {"amount": "Amount",
                    "occurred_at": {"column": "PlayDate", "format": "%Y-%m-%dT%H:%M:%S%z"}}),
        ("format_naive", {"amount": "Amount", "occurred_at": {
            "column": "PlayDate", "format": "%Y-%m-%d", "time_zone": "Europe/London"}}),
        ("constant", {"amount": {"value": "12.5"}, "occurred_at": {"value": "2026-01-02"},
                      "currency": {"value": "EUR"}, "count": {"value": 2}}),
        ("expression", {"amount": {"expr": "Amount + 1"}, "occurred_at": "PlayDate",
                        "count": {"expr": "2"}}),
        ("value_map", {"amount": "Amount", "occurred_at": "PlayDate",
                       "type": {"column": "Type", "map": {"BET": "bet", "Win": "win"}}}),
        ("no_external_id", {"external_id": None, "amount": "Amount", "occurred_at": "PlayDate",
                            "game_id": "GameID", "round_id": "Round"}),
    ):  # fmt: skip
        yield Case(f"mapping_{label}", "activity", content, mapping={**base, **fields})
    # Rounds, aggregates and players.
    rounds = [
        [str(i), f"u{rng.randrange(30)}", rng.choice(every_amount if i % 3 == 0 else PLAIN_AMOUNTS),
         rng.choice(["NA", "0", "-5", "12.5", "1,5", "x"] + PLAIN_AMOUNTS),
         rng.choice(DATES if i % 4 == 0 else ["2021-11-20T19:44:19Z"]), str(rng.randrange(9)),
         rng.choice(["", "r"]) + str(i % 50)]
        for i in range(900)
    ]  # fmt: skip
    content = _csv(["Id", "Username", "Bet", "Profit", "PlayDate", "GameID", "RoundNo"], rounds)
    rounds_mapping = {
        "round_id": "RoundNo", "player_id": "Username", "stake": "Bet",
        "payout": {"sum": ["Bet", "Profit"], "all_required": True}, "currency": {"value": "BITS"},
        "occurred_at": "PlayDate", "game_id": "GameID", "game_category": {"value": "other"},
        "currencies": {"BITS": {"minor_units": 2}},
    }  # fmt: skip
    yield Case("rounds", "rounds", content.encode(), rounds_mapping)
    yield Case("rounds_no_id", "rounds", content.encode(), {**rounds_mapping, "round_id": None})
    aggregates = [
        [f"u{i % 40}", rng.choice(["2005-02-01", "2/1/2005", "", "bad"]),
         rng.choice(["2005-09-30", "2005-09-30 10:00", "NULL", "31.12.2005"]),
         rng.choice(["2005-09-26", ""]), *(rng.choice(every_amount) for _ in range(4)),
         *(rng.choice(COUNTS) for _ in range(3))]
        for i in range(700)
    ]  # fmt: skip
    header = ["USERID", "Reg", "FOLast", "LALast", "FOStakes", "LAStakes", "FOWins", "Deposits",
              "FOBets", "LABets", "DepCount"]  # fmt: skip
    content = _csv(header, aggregates).encode()
    for options in ({}, {"date_order": "MDY"}):
        yield Case(f"aggregates_{'_'.join(options)}", "aggregates", content, options=options, mapping={
        "player_id": "USERID", "period_start": "Reg",
        "period_end": {"latest": ["FOLast", "LALast"]}, "currency": {"value": "EUR"},
        "stakes": ["FOStakes", "LAStakes"], "wins": "FOWins", "deposits": "Deposits",
        "bet_count": ["FOBets", "LABets"], "deposit_count": "DepCount",
        "game_category": {"value": "sports"},
        })  # fmt: skip
    players = [
        [rng.choice(IDS) if i % 5 == 0 else f"u{i}", rng.choice(["a@b.de", "not-mail", "", "x@y"]),
         rng.choice(["DE", "de", "Germany", "276", "DEU", "Atlantis", "", "UK"]),
         rng.choice(CURRENCIES), rng.choice(DATES), rng.choice(["active", "Blocked", "frozen", ""]),
         rng.choice(["4111111111111111", "tok_1", "", "4111 1111 1111 1111"]),
         rng.choice(["10.0.0.1", "", "::1"])]
        for i in range(700)
    ]  # fmt: skip
    header = ["UserID", "Email", "Country", "Currency", "RegDate", "Status", "Card", "IP"]
    content = _csv(header, players).encode("utf-8-sig")
    yield Case("players", "players", content,
               {"payment_instrument": "Card", "registered_at": "RegDate"})  # fmt: skip
    yield Case("players_dmy", "players", content,
               {"payment_instrument": "Card", "registered_at": "RegDate"},
               options={"date_order": "DMY"})  # fmt: skip
    # A wide file: pandas' reader hands its columns over in several Arrow pieces (past
    # 2**20 / columns rows, rounded down to a power of two: 16,384 here).
    rows = _activity_rows(rng, 18_000, every_amount, DATES[:12], faults=0.1)
    wide = [row + [f"filler {i} {j}" for j in range(30)] for i, row in enumerate(rows)]
    header = ACTIVITY_HEADER + [f"Extra {j}" for j in range(30)]
    yield Case("wide", "activity", _csv(header, wide).encode(), chunk_rows=50_000,
               options={"date_order": "DMY"})  # fmt: skip
    # Reading: delimiters, quoting, BOM, encodings, ragged rows, blank lines, a title block
    # (day first declared: the sample's dates would otherwise be refused before any row).
    for case in _reading(rng, every_amount):
        case.options = {"date_order": "DMY", **case.options}
        yield case


def _reading(rng: random.Random, every_amount: list[str]) -> Iterator[Case]:
    sample = _activity_rows(rng, 60, every_amount, DATES, faults=0.5)
    for row in sample[::7]:
        row[6] = 'Game "quoted", with, commas\nand a newline'
    for sep in (",", ";", "\t", "|"):
        text = _csv(ACTIVITY_HEADER, sample, sep=sep)
        yield Case(f"sep_{ord(sep)}", "activity", text.encode())
    text = _csv(ACTIVITY_HEADER, sample)
    yield Case("bom_utf8", "activity", text.encode("utf-8-sig"))
    yield Case("utf16", "activity", text.encode("utf-16"))
    yield Case("cp1252", "activity", text.replace("jörg", "jörgé").encode("cp1252", "replace"))
    yield Case("crlf", "activity", text.replace("\n", "\r\n").encode())
    yield Case("sep_hint", "activity", ("sep=;\n" + _csv(ACTIVITY_HEADER, sample, ";")).encode())
    lines = text.splitlines()
    yield Case("blank_lines", "activity",
               "\n".join(lines[:5] + ["", ",,,,,,,,,", " , ,"] + lines[5:]).encode())  # fmt: skip
    yield Case(
        "ragged_long", "activity", "\n".join(lines[:9] + [lines[9] + ",x,y"] + lines[10:]).encode()
    )
    yield Case(
        "ragged_short", "activity", "\n".join(lines[:9] + ["t1,p1,bet,5"] + lines[10:]).encode()
    )
    yield Case("title_block", "activity", ("Weekly report\n\n" + text).encode(),
               options={"header_row": 3})  # fmt: skip
    yield Case("unterminated_quote", "activity", (text + 't9,p1,bet,"5,EUR\n').encode())


def _real() -> Iterator[Case]:
    from tests.importer import mappings
    from tests.importer.conftest import REAL

    bustabit, bwin = REAL / "bustabit.csv", REAL / "bwin-AnalyticDataInternetGambling.csv"
    players = REAL / "bwin-RawDataIDemographics.csv"
    if bustabit.exists():
        yield Case("real_bustabit", "rounds", bustabit, mappings.BUSTABIT_ROUNDS, chunk_rows=50_000)
        yield Case("real_bustabit_expr", "rounds", bustabit, mappings.BUSTABIT_ROUNDS_EXPR,
                   chunk_rows=50_000)  # fmt: skip
    if bwin.exists():
        yield Case("real_bwin_aggregates", "aggregates", bwin, mappings.BWIN_AGGREGATES,
                   chunk_rows=50_000)  # fmt: skip
    if players.exists():
        yield Case(
            "real_bwin_players", "players", players, mappings.BWIN_PLAYERS, chunk_rows=50_000
        )
        yield Case("real_bwin_players_auto", "players", players,
                   {**mappings.BWIN_PLAYERS, "registered_at": "RegDate"}, chunk_rows=50_000)  # fmt: skip


def cases(real: bool = True) -> list[Case]:
    return list(_generated()) + (list(_real()) if real else [])


def _plain(value):
    """A cell as JSON: None for every kind of missing, ISO text for timestamps."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return ["ts", value.isoformat()]
    if isinstance(value, Decimal):
        return ["dec", str(value)]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return ["float", repr(value)]
    return value


def _frame(frame: pd.DataFrame) -> dict:
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "index": [int(i) for i in frame.index],
        "rows": [[_plain(v) for v in row] for row in frame.astype(object).itertuples(index=False)],
    }


def _staged(kind: str, values: pd.DataFrame) -> dict:
    """The staging rows as each database receives them: COPY's CSV bytes on PostgreSQL, the
    executemany tuples on SQLite (importer/loading.py, unchanged)."""
    from importer import loading, records

    out = {}
    names = list(records.PLAYER_COLUMNS if kind == "players" else records.ACTIVITY_COLUMNS)
    for vendor in ("postgresql", "sqlite"):
        with mock.patch.object(records, "connection", SimpleNamespace(vendor=vendor)):
            rows = records.staging_rows(kind=kind, values=values)
        if vendor == "postgresql":
            data = loading._csv_bytes(rows[names]) if not rows.empty else b""
            out[vendor] = {"index": [int(i) for i in rows.index], "csv": data.decode()}
        else:
            frame = rows[names].astype(object)
            frame = frame.where(frame.notna(), None)
            out[vendor] = [[_plain(v) for v in row] for row in frame.itertuples(index=False)]
    return out


def run(case: Case, folder: Path) -> dict:
    """Everything the validate stage makes of the case's file, chunk by chunk."""
    # Imported here: `python -m` runs this module before Django is set up.
    from django.conf import settings
    from django.test import override_settings

    from config.errors import DomainError
    from importer import services
    from importer.fields import mapping_parse
    from importer.numbers import declared_decimal
    from importer.reading import file_chunks, file_sniff
    from importer.validation import Context

    path = case.content
    if isinstance(path, bytes):
        path = folder / f"{case.name}.csv"
        path.write_bytes(case.content)
    pitboss = {**settings.PITBOSS, "DATE_ORDER": "", "REPORTING_TIME_ZONE": "UTC",
               **case.pitboss}  # fmt: skip
    options = {"encoding": "", "delimiter": "", "header_row": 0, "decimal_separator": "",
               "thousands_separator": "", "date_order": "", "time_zone": "", **case.options}  # fmt: skip
    out: dict = {"chunks": []}
    with override_settings(PITBOSS=pitboss):
        try:
            info = file_sniff(path=str(path), encoding=options["encoding"],
                              delimiter=options["delimiter"], header_row=options["header_row"])  # fmt: skip
            out["info"] = [info.encoding, info.delimiter, info.columns, info.header_row]
            mapping = mapping_parse(kind=case.kind, raw=case.mapping, columns=info.columns)
            context = Context(
                minor_units={**MINOR_UNITS, **{c: s["minor_units"] for c, s in mapping.currencies.items()}},
                decimal=declared_decimal(options["decimal_separator"], options["thousands_separator"]),
                date_order=options["date_order"], time_zone=options["time_zone"],
            )  # fmt: skip
            for chunk in file_chunks(path=str(path), info=info, chunk_rows=case.chunk_rows):
                result = services._check(str(path), info, chunk, mapping, context)
                out["chunks"].append(
                    {
                        "raw_index": [int(i) for i in chunk.index],
                        "errors": _frame(result.errors),
                        "values": _frame(result.values),
                        "staged": _staged(case.kind, result.values),
                    }
                )
        except DomainError as error:
            out["refusal"] = [
                error.code,
                error.message,
                _plain(json.dumps(error.details, default=str)),
            ]
    return out


def digest(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _main() -> None:  # pragma: no cover - a developer's tool
    import os
    import pickle
    import sys
    import tempfile

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    command, target = sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else DIGESTS
    with tempfile.TemporaryDirectory() as folder:
        results = {case.name: run(case, Path(folder)) for case in cases()}
    if command == "record":  # the digests the test compares with
        target.write_text(json.dumps({n: digest(r) for n, r in results.items()}, indent=0) + "\n")
    elif command == "dump":
        target.write_bytes(pickle.dumps(results))
    elif command == "diff":
        old = pickle.loads(target.read_bytes())
        for name, record in results.items():
            if old.get(name) != record:
                print("DIFFERS", name)
                _show(old.get(name), record)
        print(f"{len(results)} cases compared")


def _show(old, new, where="") -> None:  # pragma: no cover
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                _show(old.get(key), new.get(key), f"{where}.{key}")
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                _show(a, b, f"{where}[{i}]")
                return
        return
    print(f"  {where}: {str(old)[:300]!r} -> {str(new)[:300]!r}")


if __name__ == "__main__":
    _main()
