"""The mappings used for the real files (the same as in docs/importing.md)."""

BUSTABIT_ROUNDS = {
    "round_id": "Id",
    "player_id": "Username",
    "stake": "Bet",
    # A lost bet has Profit = NA: no payout (not Bet + 0).
    "payout": {"sum": ["Bet", "Profit"], "all_required": True},
    "currency": {"value": "BITS"},
    "occurred_at": "PlayDate",
    "game_id": "GameID",
    "game_category": {"value": "other"},
    "currencies": {"BITS": {"minor_units": 2, "name": "Bustabit bits (1e-6 BTC)"}},
}

BUSTABIT_ROUNDS_EXPR = {
    **BUSTABIT_ROUNDS,
    "payout": {"expr": "Bet + Profit if Profit is not None else 0"},
}

BWIN_AGGREGATES = {
    "player_id": "USERID",
    "period_start": "RegistrationDate",
    "period_end": {"latest": ["FOLastActiveDate", "LALastActiveDate"]},
    "currency": {"value": "EUR"},
    "stakes": ["FOTotalStakes", "LATotalStakes"],
    "wins": ["FOTotalWinnings", "LATotalWinnings"],
    "bet_count": ["FOTotalBets", "LATotalBets"],
    "game_category": {"value": "sports"},
}

BWIN_PLAYERS = {
    "player_id": "UserID",
    "registered_at": {"column": "RegDate", "format": "%m/%d/%Y"},
    "currency": {"value": "EUR"},
    # "country": {"column": "Country", "map": {...}} is added by the test from bwin-Codes.xlsx.
}
