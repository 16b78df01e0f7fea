"""Target fields per import kind, automatic column matching and the mapping format (SPEC §10).

A mapping maps each target field to a source:

- `"Player ID"`: a column;
- `["FOTotalStakes", "LATotalStakes"]`: columns added up (a missing cell counts as 0);
- `{"sum": [...], "all_required": true}`: added up, but missing when any cell is missing;
- `{"value": "EUR"}`: a constant;
- `{"column": "RegDate", "format": "%m/%d/%Y"}`: a column with its date format, and/or
  `"map": {"276": "DE"}` to translate codes, or `"lookup": "<name>"` for a saved map (a value
  in neither is a row error, `unmapped_value`);
- `{"latest": [...]}` / `{"earliest": [...]}`: the latest/earliest non-missing date of columns;
- `{"expr": "Bet + Profit"}`: an expression over the columns (rewards.expressions);
- `null`: leave the field unmapped (switches automatic matching off for it).

Reserved top-level keys: `"currencies"` declares currencies the import may create, e.g.
`{"BITS": {"minor_units": 2, "name": "Bustabit bits"}}`. A mapping may also be written as
`{"fields": {...}, "currencies": {...}}`.
"""

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from config.errors import DomainError
from importer.dates import time_zone_option
from importer.models import Kind

# Field types: how a cell is parsed and checked (importer/validation.py).
ID, TEXT, MONEY, COUNT, DATETIME, CHOICE, CURRENCY, COUNTRY, EMAIL = (
    "id",
    "text",
    "money",
    "count",
    "datetime",
    "choice",
    "currency",
    "country",
    "email",
)

ACTIVITY_TYPES = ("deposit", "withdrawal", "bet", "win", "rollback", "chargeback")
GAME_CATEGORIES = ("slots", "table", "live", "sports", "poker", "other")
PLAYER_STATUSES = ("active", "blocked", "self_excluded", "closed")


@dataclass(frozen=True)
class TargetField:
    name: str
    type: str
    required: bool = False
    synonyms: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    max_length: int = 0

    @property
    def all_synonyms(self) -> tuple[str, ...]:
        """The English names here, then the other languages' (header_synonyms.json)."""
        return self.synonyms + tuple(
            s for s in header_synonyms().get(self.name, ()) if s not in self.synonyms
        )


SYNONYMS_FILE = Path(__file__).with_name("header_synonyms.json")
# A header naming a money column the kind needs (stake, win…): left unused, it is a warning.
MONEY_WORDS = (
    "stake", "bet", "turnover", "wager", "win", "payout", "deposit", "withdraw", "cashout",
    "einsatz", "umsatz", "gewinn", "einzahl", "auszahl", "apuesta", "ganancia", "deposito",
    "retir", "aposta", "ganho", "saque", "levantamento", "insats", "omsattning", "vinst",
    "insattning", "uttag", "panos", "voitto", "voitot", "talletus", "nosto",
)  # fmt: skip


@cache
def header_synonyms() -> dict[str, tuple[str, ...]]:
    """Target field → normalised header names, from header_synonyms.json (data, not code)."""
    raw = json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    return {
        name: tuple(dict.fromkeys(normalise_name(n) for n in names))
        for name, names in raw.items()
        if not name.startswith("_")
    }


_PLAYER = ("playerid", "player", "userid", "user", "customerid", "customer", "accountid")
_PLAYER += ("memberid", "clientid", "uid", "playerexternalid")
_CURRENCY = ("currency", "currencycode", "ccy", "cur")
_WHEN = ("occurredat", "date", "datetime", "timestamp", "time", "createdat", "playdate")
_WHEN += ("transactiondate", "eventdate", "betdate", "placedat")
_GAME = ("gameid", "game")
_CATEGORY = ("gamecategory", "category", "gametype", "vertical", "product")


def _player_id(*extra: str) -> TargetField:
    return TargetField("player_id", ID, True, _PLAYER + extra, max_length=128)


FIELDS: dict[str, tuple[TargetField, ...]] = {
    Kind.PLAYERS: (
        _player_id("externalid", "id"),
        TargetField("username", TEXT, synonyms=("username", "login", "nickname"), max_length=150),
        TargetField("email", EMAIL, synonyms=("email", "emailaddress", "mail"), max_length=254),
        TargetField("country", COUNTRY, synonyms=("country", "countrycode", "nation")),
        TargetField("currency", CURRENCY, synonyms=_CURRENCY),
        TargetField(
            "registered_at",
            DATETIME,
            synonyms=("registeredat", "registrationdate", "regdate", "registered", "signupdate"),
        ),
        TargetField(
            "status", CHOICE, synonyms=("status", "accountstatus"), choices=PLAYER_STATUSES
        ),
        # fingerprints (SPEC §10), stored once per player; a card number is refused
        TargetField("device_id", TEXT, synonyms=("deviceid", "device"), max_length=128),
        TargetField("ip", TEXT, synonyms=("ip", "ipaddress", "lastip"), max_length=128),
        TargetField(
            "payment_instrument",
            TEXT,
            synonyms=("paymentinstrument", "paymenthash", "cardhash", "paymenttoken"),
            max_length=128,
        ),
    ),
    Kind.ACTIVITY: (
        TargetField(
            "external_id",
            ID,
            synonyms=(
                "externalid",
                "transactionid",
                "transaction",
                "txid",
                "txnid",
                "eventid",
                "id",
            ),
            max_length=200,
        ),
        _player_id("username"),
        TargetField(
            "type", CHOICE, True, ("type", "transactiontype", "txtype", "eventtype"), ACTIVITY_TYPES
        ),
        TargetField("amount", MONEY, True, ("amount", "value", "amt")),
        TargetField("currency", CURRENCY, True, _CURRENCY),
        TargetField("occurred_at", DATETIME, True, _WHEN),
        TargetField("game_id", TEXT, synonyms=_GAME, max_length=100),
        TargetField("game_category", CHOICE, synonyms=_CATEGORY, choices=GAME_CATEGORIES),
        TargetField("count", COUNT, synonyms=("count", "quantity", "qty")),
        TargetField("round_id", ID, synonyms=("roundid", "round"), max_length=200),
        TargetField("reference_id", ID, synonyms=("referenceid", "reference"), max_length=200),
    ),
    Kind.ROUNDS: (
        TargetField("round_id", ID, synonyms=("roundid", "round", "betid", "id"), max_length=190),
        _player_id("username"),
        TargetField("stake", MONEY, True, ("stake", "bet", "betamount", "wager", "amount")),
        TargetField("payout", MONEY, synonyms=("payout", "win", "winamount", "winnings", "return")),
        TargetField("currency", CURRENCY, True, _CURRENCY),
        TargetField("occurred_at", DATETIME, True, _WHEN),
        TargetField("game_id", TEXT, synonyms=_GAME + ("gameround",), max_length=100),
        TargetField("game_category", CHOICE, synonyms=_CATEGORY, choices=GAME_CATEGORIES),
    ),
    Kind.AGGREGATES: (
        _player_id("username"),
        TargetField("period_start", DATETIME, synonyms=("periodstart", "startdate", "datefrom")),
        TargetField(
            "period_end",
            DATETIME,
            True,
            ("periodend", "enddate", "dateto", "date", "day", "playdate", "period"),
        ),
        TargetField("currency", CURRENCY, True, _CURRENCY),
        TargetField("deposits", MONEY, synonyms=("deposits", "deposit", "totaldeposits")),
        TargetField("deposit_count", COUNT, synonyms=("depositcount", "numdeposits")),
        TargetField("withdrawals", MONEY, synonyms=("withdrawals", "withdrawal", "cashouts")),
        TargetField("withdrawal_count", COUNT, synonyms=("withdrawalcount", "numwithdrawals")),
        TargetField(
            "stakes", MONEY, synonyms=("stakes", "stake", "turnover", "totalstakes", "wagered")
        ),
        TargetField("wins", MONEY, synonyms=("wins", "winnings", "totalwinnings", "payout")),
        TargetField("bet_count", COUNT, synonyms=("betcount", "bets", "totalbets", "numbets")),
        TargetField("game_category", CHOICE, synonyms=_CATEGORY, choices=GAME_CATEGORIES),
    ),
}


@dataclass(frozen=True)
class Source:
    """Where one target field's values come from."""

    how: str  # column | sum | value | expr | latest | earliest
    columns: tuple[str, ...] = ()
    value: object = None
    expr: str = ""
    date_format: str = ""
    all_required: bool = False
    value_map: dict = field(default_factory=dict)
    time_zone: str = ""
    lookup: str = ""  # the name of a saved value map (ImportLookup)

    def as_json(self) -> object:
        extras = self.date_format or self.value_map or self.time_zone or self.lookup
        if self.how == "column" and not extras:
            return self.columns[0]
        if self.how == "column":
            out: dict = {"column": self.columns[0]}
            if self.lookup:
                out["lookup"] = self.lookup
            if self.date_format:
                out["format"] = self.date_format
            if self.time_zone:
                out["time_zone"] = self.time_zone
            if self.value_map:
                out["map"] = self.value_map
            return out
        if self.how == "sum":
            return (
                {"sum": list(self.columns), "all_required": True}
                if self.all_required
                else list(self.columns)
            )
        if self.how == "value":
            return {"value": self.value}
        if self.how == "expr":
            return {"expr": self.expr}
        return {self.how: list(self.columns)}


@dataclass
class Mapping:
    kind: str
    sources: dict[str, Source]
    currencies: dict[str, dict]
    auto_matched: list[str] = field(default_factory=list)
    switched_off: list[str] = field(default_factory=list)  # fields mapped to null

    def as_json(self) -> dict:
        fields = {name: source.as_json() for name, source in self.sources.items()}
        # null stays null: a saved mapping must not match the field automatically later
        fields |= dict.fromkeys(self.switched_off)
        return {
            "fields": fields,
            "currencies": self.currencies,
            "auto_matched": self.auto_matched,
        }


def kind_fields(kind: str) -> tuple[TargetField, ...]:
    if kind not in FIELDS:
        raise DomainError(
            "unknown_kind",
            f"Unknown import kind {kind!r}.",
            details={"kind": kind, "choices": list(FIELDS)},
        )
    return FIELDS[kind]


def _fold(name: str) -> str:
    """Lower case without accents: "Einsätze" → "einsatze", "Straße" → "strasse"."""
    text = unicodedata.normalize("NFKD", str(name).lower().replace("ß", "ss"))
    return "".join(c for c in text if not unicodedata.combining(c))


def normalise_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _fold(name))


@cache
def _unit_words() -> frozenset[str]:
    """Words naming a unit or currency around a header ("Stakes (EUR)", "Turnover EUR")."""
    import pycountry

    codes = {c.alpha_3.lower() for c in pycountry.currencies}
    return frozenset(codes | {"btc", "mbtc", "eth", "usdt", "usdc", "bits", "in", "cents"})


def header_base(name: str) -> str:
    """A header without its unit/currency suffix or prefix, normalised ("" when nothing is
    left): "Stakes (EUR)" → "stakes", "Turnover EUR" → "turnover", "Einsatz in €" → "einsatz"."""
    text = re.sub(r"[(\[{][^)\]}]*[)\]}]", " ", _fold(name))
    words = re.findall(r"[a-z0-9]+", text)
    units = _unit_words()
    while words and words[-1] in units:
        words.pop()
    while words and words[0] in units - {"in"}:
        words.pop(0)
    return "".join(words)


def _bad(message: str, field_name: str = "") -> DomainError:
    return DomainError(
        "invalid_mapping", message, details={"field": field_name} if field_name else {}
    )


def _parse_source(name: str, target: TargetField, raw: object) -> Source:
    if isinstance(raw, str) and raw:
        return Source("column", (raw,))
    if isinstance(raw, list):
        if not raw or not all(isinstance(c, str) and c for c in raw):
            raise _bad(f"{name}: a list must hold column names.", name)
        if target.type not in (MONEY, COUNT):
            raise _bad(f"{name}: only amounts and counts can add columns up.", name)
        return Source("sum", tuple(raw))
    if not isinstance(raw, dict):
        raise _bad(f"{name}: a source is a column name, a list of columns or an object.", name)
    keys = set(raw)
    if "value" in raw and keys <= {"value"}:
        value = raw["value"]
        if value is not None and not isinstance(value, str | int | float):
            raise _bad(f"{name}: a constant must be text or a number.", name)
        return Source("value", value=value)
    if "expr" in raw and keys <= {"expr"}:
        if not isinstance(raw["expr"], str) or not raw["expr"].strip():
            raise _bad(f"{name}: an expression must be text.", name)
        return Source("expr", expr=raw["expr"])
    if "column" in raw and keys <= {"column", "format", "map", "time_zone", "lookup"}:
        column, fmt, value_map = raw["column"], raw.get("format", ""), raw.get("map", {})
        zone, lookup = raw.get("time_zone", ""), raw.get("lookup", "")
        if not isinstance(lookup, str) or (lookup and value_map):
            raise _bad(f"{name}: give either a map or the name of a saved lookup.", name)
        if not isinstance(column, str) or not column or not isinstance(fmt, str):
            raise _bad(f"{name}: column and format must be text.", name)
        if not isinstance(value_map, dict):
            raise _bad(f"{name}: map must be an object of value -> replacement.", name)
        if (fmt or zone) and target.type != DATETIME:
            raise _bad(f"{name}: a format or time zone only applies to dates.", name)
        try:
            zone = time_zone_option(zone if isinstance(zone, str) else "?")
        except DomainError as exc:
            raise _bad(f"{name}: {exc.message}", name) from exc
        return Source(
            "column",
            (column,),
            date_format=fmt,
            value_map={str(k): v for k, v in value_map.items()},
            time_zone=zone,
            lookup=lookup,
        )
    if "sum" in raw and keys <= {"sum", "all_required"}:
        source = _parse_source(name, target, raw["sum"])
        return Source("sum", source.columns, all_required=bool(raw.get("all_required")))
    for how in ("latest", "earliest"):
        if how in raw and keys <= {how, "format"}:
            columns = raw[how]
            if target.type != DATETIME:
                raise _bad(f"{name}: {how} only applies to dates.", name)
            if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
                raise _bad(f"{name}: {how} takes a list of column names.", name)
            return Source(how, tuple(columns), date_format=raw.get("format", ""))
    raise _bad(f"{name}: unrecognised source {raw!r}.", name)


def _parse_currencies(raw: object) -> dict[str, dict]:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict):
        raise _bad("currencies must be an object: code -> {minor_units, name}.")
    out = {}
    for code, spec in raw.items():
        spec = spec if isinstance(spec, dict) else {"minor_units": spec}
        minor = spec.get("minor_units", 2)
        if not re.fullmatch(r"[A-Za-z0-9]{2,10}", str(code)) or not isinstance(minor, int):
            raise _bad(f"currencies: bad entry {code!r}.")
        if not 0 <= minor <= 8:
            raise _bad(f"currencies: {code} minor_units must be 0..8.")
        out[str(code).upper()] = {"minor_units": minor, "name": str(spec.get("name", ""))[:64]}
    return out


def mapping_parse(*, kind: str, raw: object, columns: list[str] | None = None) -> Mapping:
    """Check a mapping and fill unmapped fields by matching column names (when `columns`)."""
    targets = {t.name: t for t in kind_fields(kind)}
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        raise _bad("The mapping must be a JSON object: target field -> source.")
    raw = dict(raw)
    currencies = _parse_currencies(raw.pop("currencies", None))
    raw.pop("auto_matched", None)
    if "fields" in raw:
        fields = raw.pop("fields")
        if raw or not isinstance(fields, dict):
            raise _bad('Write either {"fields": {...}} or the fields at the top level.')
        raw = dict(fields)
    unknown = sorted(set(raw) - set(targets))
    if unknown:
        raise DomainError(
            "invalid_mapping",
            f"Unknown target field(s) for {kind}: {', '.join(unknown)}.",
            details={"unknown": unknown, "fields": list(targets)},
        )
    sources = {
        name: _parse_source(name, targets[name], value)
        for name, value in raw.items()
        if value is not None
    }
    switched_off = [k for k, v in raw.items() if v is None]
    mapping = Mapping(kind=kind, sources=sources, currencies=currencies, switched_off=switched_off)
    if columns is not None:
        _auto_match(mapping, targets, columns, switched_off=set(switched_off))
        mapping_check_columns(mapping=mapping, columns=columns)
    return mapping


def _auto_match(
    mapping: Mapping, targets: dict[str, TargetField], columns: list[str], switched_off: set[str]
) -> None:
    """Match unmapped fields to columns by name: the whole header first ("Stake"), then the
    header without its unit or currency ("Stakes (EUR)"); only when exactly one column fits."""
    exact: dict[str, list[str]] = {}
    base: dict[str, list[str]] = {}
    for column in columns:
        exact.setdefault(normalise_name(column), []).append(column)
        base.setdefault(header_base(column), []).append(column)
    used = {c for s in mapping.sources.values() for c in s.columns}
    for by_name in (exact, base):
        for name, target in targets.items():
            if name in mapping.sources or name in switched_off:
                continue
            for synonym in target.all_synonyms:
                candidates = [c for c in by_name.get(synonym, []) if c not in used]
                if len(candidates) == 1:
                    mapping.sources[name] = Source("column", (candidates[0],))
                    mapping.auto_matched.append(name)
                    used.add(candidates[0])
                    break


def mapping_warnings(*, mapping: Mapping, columns: list[str]) -> list[dict]:
    """What the mapping leaves out, as warnings shown before and after an import:
    `unmapped_money_column` (a header naming a stake, win, deposit… that no field reads),
    `unused_column`, `unmapped_field` (an optional field with no column)."""
    used = {c for s in mapping.sources.values() for c in s.columns}
    expressions = " ".join(s.expr for s in mapping.sources.values() if s.how == "expr")
    money, unused = [], []
    for column in columns:
        if column in used or (expressions and column in expressions):
            continue
        folded = normalise_name(column)
        if any(word in folded for word in MONEY_WORDS):
            money.append(
                {
                    "code": "unmapped_money_column",
                    "column": column,
                    "message": f"Column {column!r} looks like money (stakes, wins, deposits…) "
                    "but no field reads it: map it, or it is ignored.",
                }
            )
        else:
            unused.append(
                {
                    "code": "unused_column",
                    "column": column,
                    "message": f"Column {column!r} is not used.",
                }
            )
    unmapped = [
        {
            "code": "unmapped_field",
            "field": target.name,
            "message": f"Optional field {target.name} has no column.",
        }
        for target in kind_fields(mapping.kind)
        if not target.required and target.name not in mapping.sources
    ]
    return money + unused + unmapped


def mapping_check_columns(*, mapping: Mapping, columns: list[str]) -> None:
    """Every referenced column exists and every required field has a source."""
    present = set(columns)
    missing = sorted({c for s in mapping.sources.values() for c in s.columns} - present)
    if missing:
        raise DomainError(
            "missing_column",
            f"The file has no column {', '.join(repr(c) for c in missing)}.",
            details={"missing": missing, "columns": columns},
        )
    required = [t.name for t in kind_fields(mapping.kind) if t.required]
    unmapped = [name for name in required if name not in mapping.sources]
    if unmapped:
        raise DomainError(
            "missing_field",
            f"No column for required field(s): {', '.join(unmapped)}. Map them or give a value.",
            details={"unmapped": unmapped, "columns": columns},
        )
