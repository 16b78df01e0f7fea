"""The Valkyrie PAM adapter against an aggregator's certification checklist: each refusal with
its exact error code, and the balance unchanged where the spec says so (docs/aggregator.md)."""

import json
from decimal import Decimal
from urllib.parse import quote

import pytest

from players.models import Activity, Player
from tests.wallet.conftest import D, deposit, key, player_make
from tests.wallet.valkyrie import PROVIDER, Valkyrie
from wallet import services
from wallet.models import Bonus, Game, GameRound, LedgerTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def vk(db):
    player = player_make(country="SE")
    deposit(player, "100.00")
    return Valkyrie(player)


def money(balance) -> tuple[Decimal, Decimal]:
    return balance["cashAmount"], balance["bonusAmount"]


# --- authentication and sessions -------------------------------------------------------------


def test_a_wrong_or_missing_api_token_is_refused_with_401(vk):
    status, body = vk.call("get", "/players/session", api_token="not-the-token")
    assert (status, body["error"]["code"]) == (401, "PAM_ERR_API_TOKEN")
    vk.client.defaults = {}
    response = vk.client.get("/api/aggregators/valkyrie/players/session?provider=Evolution")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "PAM_ERR_API_TOKEN"


def test_only_the_token_hash_is_stored(vk):
    vk.aggregator.refresh_from_db()
    assert vk.api_token not in vk.aggregator.token_hash
    assert vk.token not in vk.session.token_hash


def test_session_lookup_returns_the_issued_details(vk):
    status, body = vk.call("get", "/players/session")
    assert status == 200
    assert body == {
        "status": "OK",
        "session": {
            "playerId": vk.player.external_id,
            "token": vk.token,
            "currency": "EUR",
            "country": "SE",
            "language": "EN",
            "gameId": "g-1",
        },
    }


def test_an_unknown_session_is_401_session_not_found(vk):
    status, body = vk.call("get", "/players/session", token="f" * 40)
    assert (status, body["status"], body["error"]["code"]) == (
        401,
        "ERROR",
        "PAM_ERR_SESSION_NOT_FOUND",
    )
    status, body = vk.tx("WITHDRAW", "t-1", "1.00", round_id="r-1", token="f" * 40)
    assert (status, body["error"]["code"]) == (401, "PAM_ERR_SESSION_NOT_FOUND")
    assert vk.cash_bonus() == (D("100.00"), D("0.00"))


def test_a_session_of_another_aggregator_is_not_found(vk):
    other = Valkyrie(vk.player)
    status, body = vk.call("get", "/players/session", token=other.token)
    assert (status, body["error"]["code"]) == (401, "PAM_ERR_SESSION_NOT_FOUND")


def test_refresh_issues_a_new_token_and_the_old_one_places_no_bet(vk):
    status, body = vk.call("put", "/players/session")
    assert status == 200
    fresh = body["session"]["token"]
    assert fresh != vk.token and 32 <= len(fresh) <= 40
    assert body["session"]["playerId"] == vk.player.external_id
    status, body = vk.tx("WITHDRAW", "t-1", "1.00", round_id="r-1")
    assert (status, body["error"]["code"]) == (401, "PAM_ERR_SESSION_EXPIRED")
    vk.ok("WITHDRAW", "t-1", "1.00", round_id="r-1", token=fresh)
    # a win of the round started before the refresh still settles on the old token
    vk.ok("DEPOSIT", "t-2", "3.00", round_id="r-1", game_over=True)
    assert vk.balance(token=fresh)["cashAmount"] == D("102.00")


def test_an_expired_session_places_no_bet_but_its_win_and_cancel_settle(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("WITHDRAW", "t-2", "5.00", round_id="r-2")
    vk.expire()
    status, body = vk.tx("WITHDRAW", "t-3", "1.00", round_id="r-3")
    assert (status, body["error"]["code"]) == (401, "PAM_ERR_SESSION_EXPIRED")
    status, body = vk.call("get", f"/players/{vk.player.external_id}/balance")
    assert (status, body["error"]["code"]) == (401, "PAM_ERR_SESSION_EXPIRED")
    assert money(vk.ok("DEPOSIT", "t-4", "20.00", round_id="r-1", game_over=True)) == (
        D("105.00"),
        D("0.00"),
    )
    assert money(vk.ok("CANCEL", "t-5", "5.00", round_id="r-2", bet_ref="t-2")) == (
        D("110.00"),
        D("0.00"),
    )


def test_a_player_id_that_is_not_the_sessions_is_player_not_found(vk):
    status, body = vk.call("get", "/players/someone-else/balance")
    assert (status, body["error"]["code"]) == (200, "PAM_ERR_PLAYER_NOT_FOUND")


def test_a_missing_provider_is_refused(vk):
    status, body = vk.call("get", f"/players/{vk.player.external_id}/balance", query={})
    assert (status, body["error"]["code"]) == (200, "PAM_ERR_MISSING_PROVIDER")
    status, body = vk.call(
        "get",
        f"/players/{vk.player.external_id}/transactions",
        query={"providerTransactionId": "t-1"},
    )
    assert (status, body["error"]["code"]) == (400, "PAM_ERR_MISSING_PROVIDER")


def test_balance_shows_cash_bonus_and_promo(vk):
    services.bonus_grant(
        player=vk.player,
        currency="EUR",
        amount=D("25.00"),
        wagering_multiplier=D(10),
        idempotency_key=key(),
    )
    assert vk.balance() == {
        "cashAmount": D("100.00"),
        "bonusAmount": D("25.00"),
        "promoAmount": D("0"),
    }


# --- bets and amounts ------------------------------------------------------------------------


def test_a_bet_within_the_balance_is_taken_and_one_over_it_refused(vk):
    assert money(vk.ok("WITHDRAW", "t-1", "60.00", round_id="r-1")) == (D("40.00"), D("0.00"))
    balance = vk.refused("PAM_ERR_CASH_OVERDRAFT", "WITHDRAW", "t-2", "40.01", round_id="r-2")
    assert money(balance) == (D("40.00"), D("0.00"))
    assert money(vk.ok("WITHDRAW", "t-3", "40.00", round_id="r-3")) == (D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("amount", "accepted"), [("0.01", True), ("0.001", False), ("0.00001", False)]
)
def test_amounts_finer_than_a_two_decimal_currency_are_refused(vk, amount, accepted):
    if accepted:
        assert vk.ok("WITHDRAW", "t-1", amount, round_id="r-1")["cashAmount"] == D("99.99")
    else:
        balance = vk.refused("PAM_ERR_UNDEFINED", "WITHDRAW", "t-1", amount, round_id="r-1")
        assert money(balance) == (D("100.00"), D("0.00"))
        assert not Activity.objects.filter(player=vk.player, type="bet").exists()


@pytest.mark.parametrize("amount", ["0.01", "0.001", "0.00001", "0.00000001"])
def test_a_crypto_currency_takes_amounts_as_its_digits_allow(db, amount):
    player = player_make(currency="BTC")
    deposit(player, "1.00000000", currency="BTC")
    vk = Valkyrie(player)
    balance = vk.ok("WITHDRAW", "t-1", amount, round_id="r-1")
    assert balance["cashAmount"] == D("1") - D(amount)
    balance = vk.refused("PAM_ERR_UNDEFINED", "WITHDRAW", "t-2", "0.000000001", round_id="r-2")
    assert balance["cashAmount"] == D("1") - D(amount)


def test_negative_amounts_are_refused_and_zero_amounts_move_nothing(vk):
    balance = vk.refused("PAM_ERR_NEGATIVE_STAKE", "WITHDRAW", "t-1", "-1.00", round_id="r-1")
    assert money(balance) == (D("100.00"), D("0.00"))
    balance = vk.refused("PAM_ERR_NEGATIVE_STAKE", "DEPOSIT", "t-2", "-1.00", round_id="r-1")
    assert money(balance) == (D("100.00"), D("0.00"))
    assert money(vk.ok("WITHDRAW", "t-3", "0", round_id="r-2")) == (D("100.00"), D("0.00"))
    assert money(vk.ok("DEPOSIT", "t-4", "0", round_id="r-2", game_over=True)) == (
        D("100.00"),
        D("0.00"),
    )


def test_a_wrong_or_unknown_currency_is_trans_currency(vk):
    for currency in ("USD", "XXX"):
        balance = vk.refused(
            "PAM_ERR_TRANS_CURRENCY", "WITHDRAW", f"t-{currency}", "1.00", currency=currency
        )
        assert money(balance) == (D("100.00"), D("0.00"))


def test_a_malformed_body_is_400(vk):
    status, body = vk.call(
        "post",
        f"/players/{vk.player.external_id}/transactions",
        body={"transactionType": "WITHDRAW"},
    )
    assert (status, body["status"]) == (400, "ERROR")
    response = vk.client.post(
        f"/api/aggregators/valkyrie/players/{vk.player.external_id}/transactions?provider=E",
        data="{not json",
        content_type="application/json",
        **vk.headers(),
    )
    assert response.status_code == 400


@pytest.mark.parametrize("field", ["providerTransactionId", "providerRoundId", "currency"])
def test_a_lone_surrogate_in_the_body_is_400_not_500(vk, field):
    body = {
        "currency": vk.currency,
        "provider": "Evolution",
        "transactionType": "WITHDRAW",
        "cashAmount": "1.00",
        "transactionDateTime": "2026-11-30T12:00:00Z",
        "providerTransactionId": "t-1",
        "providerRoundId": "r-1",
        "providerGameId": "g-1",
    }
    body[field] = "x\udc00"
    before = vk.cash_bonus()
    status, answer = vk.call("post", f"/players/{vk.player.external_id}/transactions", body=body)
    assert (status, answer["status"]) == (400, "ERROR"), answer
    assert vk.cash_bonus() == before


def test_a_surrogate_encoded_in_the_body_bytes_is_400_not_500(vk):
    fields = {
        "currency": vk.currency,
        "provider": "Evolution",
        "transactionType": "WITHDRAW",
        "cashAmount": "1.00",
        "transactionDateTime": "2026-11-30T12:00:00Z",
        "providerTransactionId": "t-X",
        "providerRoundId": "r-1",
        "providerGameId": "g-1",
    }
    body = json.dumps(fields).encode().replace(b"t-X", b"t-\xed\xa0\x80")  # not UTF-8
    before = vk.cash_bonus()
    response = vk.client.post(
        f"/api/aggregators/valkyrie/players/{vk.player.external_id}/transactions?provider=E",
        data=body,
        content_type="application/json",
        **vk.headers(),
    )
    assert response.status_code == 400, response.content
    assert vk.cash_bonus() == before


def test_a_blocked_players_bet_is_refused_while_win_and_cancel_settle(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("WITHDRAW", "t-2", "10.00", round_id="r-2")
    Player.objects.filter(pk=vk.player.pk).update(status=Player.Status.BLOCKED)
    balance = vk.refused("PAM_ERR_BET_NOT_ALLOWED", "WITHDRAW", "t-3", "1.00", round_id="r-3")
    assert money(balance) == (D("80.00"), D("0.00"))
    assert money(vk.ok("DEPOSIT", "t-4", "15.00", round_id="r-1", game_over=True)) == (
        D("95.00"),
        D("0.00"),
    )
    assert money(vk.ok("CANCEL", "t-5", "10.00", round_id="r-2", bet_ref="t-2")) == (
        D("105.00"),
        D("0.00"),
    )


# --- idempotency -----------------------------------------------------------------------------


def test_a_repeated_transaction_answers_its_first_outcome_and_balance(vk):
    first = vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("WITHDRAW", "t-2", "5.00", round_id="r-1")
    assert vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1") == first
    assert vk.cash_bonus() == (D("85.00"), D("0.00"))
    # a refused one stays refused, even when the player could afford it now
    refused = vk.refused("PAM_ERR_CASH_OVERDRAFT", "WITHDRAW", "t-3", "90.00", round_id="r-2")
    deposit(vk.player, "100.00")
    assert vk.refused("PAM_ERR_CASH_OVERDRAFT", "WITHDRAW", "t-3", "90.00", round_id="r-2") == (
        refused
    )
    assert LedgerTransaction.objects.filter(player=vk.player, kind="bet").count() == 2


def test_the_same_id_with_another_payload_is_duplicate_trans(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    balance = vk.refused("PAM_ERR_DUPLICATE_TRANS", "WITHDRAW", "t-1", "11.00", round_id="r-1")
    assert money(balance) == (D("90.00"), D("0.00"))
    vk.ok("DEPOSIT", "t-2", "5.00", round_id="r-1")
    balance = vk.refused("PAM_ERR_DUPLICATE_TRANS", "DEPOSIT", "t-2", "5.00", round_id="r-9")
    assert money(balance) == (D("95.00"), D("0.00"))


def test_the_same_id_for_another_player_is_duplicate_trans_with_their_own_balance(vk):
    other = player_make()
    deposit(other, "7.00")
    other_token = vk.session_for(other)
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    balance = vk.refused(
        "PAM_ERR_DUPLICATE_TRANS",
        "WITHDRAW",
        "t-1",
        "10.00",
        round_id="r-1",
        token=other_token,
        player_id=other.external_id,
    )
    assert money(balance) == (D("7.00"), D("0.00"))
    assert vk.cash_bonus() == (D("90.00"), D("0.00"))


def test_ids_are_unique_per_provider(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    status, body = vk.call(
        "post",
        f"/players/{vk.player.external_id}/transactions",
        query={"provider": "Netent"},
        body={
            "currency": "EUR",
            "provider": "Netent",
            "transactionType": "WITHDRAW",
            "cashAmount": "3.00",
            "bonusAmount": "0",
            "promoAmount": "0",
            "transactionDateTime": "2026-11-30T12:00:00Z",
            "providerTransactionId": "t-1",
            "providerRoundId": "r-1",
        },
    )
    assert (status, body["status"]) == (200, "OK")
    assert vk.cash_bonus() == (D("87.00"), D("0.00"))


# --- rounds ----------------------------------------------------------------------------------


def test_several_bets_and_wins_in_one_round(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("WITHDRAW", "t-2", "5.00", round_id="r-1")
    vk.ok("DEPOSIT", "t-3", "4.00", round_id="r-1")
    vk.ok("WITHDRAW", "t-4", "1.00", round_id="r-1")
    assert money(vk.ok("DEPOSIT", "t-5", "30.00", round_id="r-1", game_over=True)) == (
        D("118.00"),
        D("0.00"),
    )
    found = GameRound.objects.get(player=vk.player)
    assert found.ended_at is not None


def test_a_win_with_no_bet_is_trans_not_found(vk):
    balance = vk.refused("PAM_ERR_TRANS_NOT_FOUND", "DEPOSIT", "t-1", "50.00", round_id="r-x")
    assert money(balance) == (D("100.00"), D("0.00"))
    balance = vk.refused("PAM_ERR_TRANS_NOT_FOUND", "DEPOSIT", "t-2", "50.00")
    assert money(balance) == (D("100.00"), D("0.00"))


def test_a_win_on_a_closed_round_is_already_settled(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("DEPOSIT", "t-2", "0", round_id="r-1", game_over=True)
    balance = vk.refused("PAM_ERR_TRANS_ALREADY_SETTLED", "DEPOSIT", "t-3", "50", round_id="r-1")
    assert money(balance) == (D("90.00"), D("0.00"))
    # the closing win, repeated, still answers its first outcome
    vk.ok("DEPOSIT", "t-2", "0", round_id="r-1", game_over=True)
    # and no bet joins a closed round
    vk.refused("PAM_ERR_TRANS_ALREADY_SETTLED", "WITHDRAW", "t-4", "1.00", round_id="r-1")


def test_game_round_lookup(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1", game="g-7")
    status, body = vk.call("get", f"/players/{vk.player.external_id}/gamerounds/r-1")
    assert status == 200 and body["gameround"]["providerGameId"] == "g-7"
    assert "endTime" not in body["gameround"]
    vk.ok("DEPOSIT", "t-2", "1.00", round_id="r-1", game_over=True)
    _, body = vk.call("get", f"/players/{vk.player.external_id}/gamerounds/r-1")
    assert body["gameround"]["providerRoundId"] == "r-1" and "endTime" in body["gameround"]
    status, body = vk.call("get", f"/players/{vk.player.external_id}/gamerounds/r-404")
    assert (status, body["error"]["code"]) == (200, "PAM_ERR_ROUND_NOT_FOUND")


def test_transaction_lookup_by_id_and_bet_ref(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1", bet_ref="b-1")
    vk.ok("CANCEL", "t-2", "10.00", round_id="r-1", bet_ref="b-1")
    path = f"/players/{vk.player.external_id}/transactions"
    status, body = vk.call(
        "get", path, query={"provider": PROVIDER, "providerTransactionId": "t-1"}
    )
    assert status == 200
    [bet] = body["transactions"]
    assert (bet["transactionType"], bet["cashAmount"], bet["providerRoundId"]) == (
        "WITHDRAW",
        D("10.00"),
        "r-1",
    )
    _, body = vk.call("get", path, query={"provider": PROVIDER, "providerBetRef": "b-1"})
    assert [t["providerTransactionId"] for t in body["transactions"]] == ["t-1", "t-2"]
    status, body = vk.call("get", path, query={"provider": PROVIDER})
    assert status == 400


# --- cancels ---------------------------------------------------------------------------------


def test_a_cancel_returns_the_stake_once(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    assert money(vk.ok("CANCEL", "t-2", "10.00", round_id="r-1", bet_ref="t-1")) == (
        D("100.00"),
        D("0.00"),
    )
    # resent: the same answer; a second, different cancel: already cancelled
    assert money(vk.ok("CANCEL", "t-2", "10.00", round_id="r-1", bet_ref="t-1")) == (
        D("100.00"),
        D("0.00"),
    )
    balance = vk.refused(
        "PAM_ERR_TRANS_ALREADY_CANCELLED", "CANCEL", "t-3", "10.00", round_id="r-1", bet_ref="t-1"
    )
    assert money(balance) == (D("100.00"), D("0.00"))
    # a win toward the cancelled bet
    vk.refused("PAM_ERR_TRANS_ALREADY_CANCELLED", "DEPOSIT", "t-4", "20.00", round_id="r-1")


def test_a_cancel_of_an_unknown_bet_is_remembered_and_the_late_bet_refused(vk):
    balance = vk.refused(
        "PAM_ERR_CANCEL_NOT_FOUND", "CANCEL", "t-9", "10.00", round_id="r-1", bet_ref="t-1"
    )
    assert money(balance) == (D("100.00"), D("0.00"))
    # resent: the same answer
    vk.refused("PAM_ERR_CANCEL_NOT_FOUND", "CANCEL", "t-9", "10.00", round_id="r-1", bet_ref="t-1")
    balance = vk.refused(
        "PAM_ERR_TRANS_ALREADY_CANCELLED", "WITHDRAW", "t-1", "10.00", round_id="r-1"
    )
    assert money(balance) == (D("100.00"), D("0.00"))
    assert not LedgerTransaction.objects.filter(player=vk.player, kind="bet").exists()


def test_a_cancel_naming_nothing_is_cancel_not_found(vk):
    balance = vk.refused("PAM_ERR_CANCEL_NOT_FOUND", "CANCEL", "t-1", "10.00")
    assert money(balance) == (D("100.00"), D("0.00"))


def test_a_cancel_of_a_settled_bet_is_already_settled(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("DEPOSIT", "t-2", "25.00", round_id="r-1")
    balance = vk.refused(
        "PAM_ERR_TRANS_ALREADY_SETTLED", "CANCEL", "t-3", "10.00", round_id="r-1", bet_ref="t-1"
    )
    assert money(balance) == (D("115.00"), D("0.00"))
    # a lost round (zero win, nothing moved) is settled too
    vk.ok("WITHDRAW", "t-4", "10.00", round_id="r-2")
    vk.ok("DEPOSIT", "t-5", "0", round_id="r-2", game_over=True)
    balance = vk.refused(
        "PAM_ERR_TRANS_ALREADY_SETTLED", "CANCEL", "t-6", "10.00", round_id="r-2", bet_ref="t-4"
    )
    assert money(balance) == (D("105.00"), D("0.00"))


def test_wins_are_never_cancelled(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    vk.ok("DEPOSIT", "t-2", "25.00", round_id="r-1")
    balance = vk.refused(
        "PAM_ERR_CANCEL_NON_WITHDRAW", "CANCEL", "t-3", "25.00", round_id="r-1", bet_ref="t-2"
    )
    assert money(balance) == (D("115.00"), D("0.00"))


def test_a_cancel_by_bet_ref_cancels_the_bet_placed_under_it(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1", bet_ref="ref-1")
    vk.ok("WITHDRAW", "t-2", "4.00", round_id="r-1", bet_ref="ref-2")
    assert money(vk.ok("CANCEL", "t-3", "4.00", round_id="r-1", bet_ref="ref-2")) == (
        D("90.00"),
        D("0.00"),
    )


# --- promo -----------------------------------------------------------------------------------


def test_a_free_round_costs_nothing_and_its_winnings_are_paid(vk):
    assert money(vk.ok("PROMOWITHDRAW", "p-1", "0", promo="0.20", round_id="fr-1")) == (
        D("100.00"),
        D("0.00"),
    )
    assert money(
        vk.ok("PROMODEPOSIT", "p-2", "0", promo="3.40", round_id="fr-1", game_over=True)
    ) == (D("103.40"), D("0.00"))
    # a PROMODEPOSIT needs no PROMOWITHDRAW
    assert money(vk.ok("PROMODEPOSIT", "p-3", "0", promo="1.00", round_id="fr-2")) == (
        D("104.40"),
        D("0.00"),
    )
    vk.refused("PAM_ERR_UNDEFINED", "WITHDRAW", "t-1", "1.00", promo="1.00", round_id="r-1")
    status, body = vk.call(
        "get",
        f"/players/{vk.player.external_id}/transactions",
        query={"provider": PROVIDER, "providerTransactionId": "p-2"},
    )
    assert body["transactions"][0]["transactionType"] == "PROMODEPOSIT"


def test_a_promo_cancel_reverts_a_promo_withdraw(vk):
    vk.ok("PROMOWITHDRAW", "p-1", "1.00", round_id="fr-1")
    assert money(vk.ok("PROMOCANCEL", "p-2", "1.00", round_id="fr-1", bet_ref="p-1")) == (
        D("100.00"),
        D("0.00"),
    )


def free_spins_grant(player, amount="2.00", *, game="g-1", multiplier=10):
    """A free-spins grant as a free-spins rule pays one: count × spin value on one game, its
    wagering counted on that game alone (rewards/runs.py reward_payment)."""
    return services.bonus_grant(
        player=player,
        currency="EUR",
        amount=D(amount),
        wagering_multiplier=D(multiplier),
        contribution_weights=dict.fromkeys(("slots", "table", "live", "other"), "0"),
        game_weights={game: "1"} if game else None,
        kind=Bonus.Kind.FREE_SPINS,
        idempotency_key=key(),
    )


def promo(balance) -> tuple[Decimal, Decimal, Decimal]:
    return balance["cashAmount"], balance["bonusAmount"], balance["promoAmount"]


def test_free_spins_are_the_promo_balance_and_a_free_round_is_staked_from_them(vk):
    grant = free_spins_grant(vk.player)  # 10 spins of 0.20
    services.bonus_grant(
        player=vk.player,
        currency="EUR",
        amount=D("5.00"),
        wagering_multiplier=D(10),
        idempotency_key=key(),
    )
    assert promo(vk.balance()) == (D("100.00"), D("5.00"), D("2.00"))
    # the spin's value comes out of the free spins: not cash, not the other bonus
    assert promo(vk.ok("PROMOWITHDRAW", "p-1", "0", promo="0.20", round_id="fr-1")) == (
        D("100.00"),
        D("5.00"),
        D("1.80"),
    )
    # its winnings go back where the stake came from: the free-spins grant
    assert promo(
        vk.ok("PROMODEPOSIT", "p-2", "0", promo="3.40", round_id="fr-1", game_over=True)
    ) == (D("100.00"), D("5.00"), D("5.20"))
    grant.refresh_from_db()
    assert grant.wagering_done == D("0.20")  # the free round's stake, on its own game


def test_a_free_round_over_the_free_spins_balance_is_promo_overdraft(vk):
    free_spins_grant(vk.player, "0.20")
    vk.ok("PROMOWITHDRAW", "p-1", "0", promo="0.20", round_id="fr-1")
    balance = vk.refused("PAM_ERR_PROMO_OVERDRAFT", "PROMOWITHDRAW", "p-2", "0", promo="0.20")
    assert promo(balance) == (D("100.00"), D("0.00"), D("0.00"))
    # the refusal is remembered: the same transaction again answers the same
    vk.refused("PAM_ERR_PROMO_OVERDRAFT", "PROMOWITHDRAW", "p-2", "0", promo="0.20")


def test_free_round_winnings_without_a_stake_are_paid_to_the_free_spins(vk):
    free_spins_grant(vk.player)
    assert promo(vk.ok("PROMODEPOSIT", "p-1", "0", promo="1.50", round_id="fr-9")) == (
        D("100.00"),
        D("0.00"),
        D("3.50"),
    )
    # another game's free-round winnings: no free spins for it, so cash
    assert promo(vk.ok("PROMODEPOSIT", "p-2", "0", promo="1.00", game="g-2")) == (
        D("101.00"),
        D("0.00"),
        D("3.50"),
    )


def test_a_retried_free_round_answers_as_first_even_after_the_free_spins_ended(vk):
    grant = free_spins_grant(vk.player)
    first = vk.ok("PROMOWITHDRAW", "p-1", "0", promo="0.20", round_id="fr-1")
    services.bonus_forfeit(bonus=grant, reason="test")
    assert vk.ok("PROMOWITHDRAW", "p-1", "0", promo="0.20", round_id="fr-1") == first


def test_ordinary_bets_draw_on_free_spins_only_on_their_game(vk):
    free_spins_grant(vk.player, "2.00")
    vk.ok("WITHDRAW", "t-1", "100.00", round_id="r-1", game="g-2")
    vk.refused("PAM_ERR_CASH_OVERDRAFT", "WITHDRAW", "t-2", "1.00", round_id="r-2", game="g-2")
    assert promo(vk.ok("WITHDRAW", "t-3", "1.00", round_id="r-3", game="g-1")) == (
        D("0.00"),
        D("0.00"),
        D("1.00"),
    )


def test_without_free_spins_a_free_round_is_the_aggregators_and_costs_nothing(vk):
    assert promo(vk.ok("PROMOWITHDRAW", "p-1", "0", promo="0.20", round_id="fr-1")) == (
        D("100.00"),
        D("0.00"),
        D("0.00"),
    )
    # free spins for another game are not this round's
    free_spins_grant(vk.player, game="g-2")
    assert promo(vk.ok("PROMOWITHDRAW", "p-2", "0", promo="0.20", round_id="fr-2")) == (
        D("100.00"),
        D("0.00"),
        D("2.00"),
    )


# --- bonus rules on every spin, game catalogue -----------------------------------------------


def _grant(player, amount="20.00", **terms):
    return services.bonus_grant(
        player=player,
        currency="EUR",
        amount=D(amount),
        wagering_multiplier=D(terms.pop("multiplier", 10)),
        idempotency_key=key(),
        **terms,
    )


def test_max_bet_while_a_bonus_is_active_is_bet_not_allowed(vk):
    _grant(vk.player, max_bet=D("5.00"))
    balance = vk.refused("PAM_ERR_BET_NOT_ALLOWED", "WITHDRAW", "t-1", "5.01", round_id="r-1")
    assert money(balance) == (D("100.00"), D("20.00"))
    vk.ok("WITHDRAW", "t-2", "5.00", round_id="r-1")


def test_wagering_counts_by_the_catalogue_category_real_money_first(vk):
    bonus = _grant(vk.player)
    Game.objects.create(aggregator=vk.aggregator, game_id="blackjack", category="table")
    Game.objects.create(aggregator=vk.aggregator, game_id="starburst", category="slots")
    assert money(vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1", game="starburst")) == (
        D("90.00"),
        D("20.00"),
    )
    vk.ok("WITHDRAW", "t-2", "10.00", round_id="r-2", game="blackjack")
    vk.ok("WITHDRAW", "t-3", "10.00", round_id="r-3", game="brand-new-game")
    bonus.refresh_from_db()
    assert bonus.wagering_done == D("11.00")  # 10 × 1.0 + 10 × 0.1 + 10 × 0 (other)
    new = Game.objects.get(aggregator=vk.aggregator, game_id="brand-new-game")
    assert (new.category, new.reviewed) == ("other", False)
    assert Activity.objects.get(external_id=f"{PROVIDER}:t-3").game_category == "other"


def test_an_unknown_games_win_is_never_refused(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1", game="mystery")
    assert vk.ok("DEPOSIT", "t-2", "40.00", round_id="r-1", game="mystery-2")["cashAmount"] == (
        D("130.00")
    )


def test_a_cancel_of_amount_zero_cancels_the_stake_and_a_wrong_amount_is_refused(vk):
    vk.ok("WITHDRAW", "t-1", "10.00", round_id="r-1")
    balance = vk.refused(
        "PAM_ERR_UNDEFINED", "CANCEL", "t-2", "9.00", round_id="r-1", bet_ref="t-1"
    )
    assert money(balance) == (D("90.00"), D("0.00"))
    assert money(vk.ok("CANCEL", "t-3", "0", round_id="r-1", bet_ref="t-1")) == (
        D("100.00"),
        D("0.00"),
    )


def test_a_player_id_with_a_slash_is_routed(db):
    player = Player.objects.create(
        external_id="brand-a/42", currency_id="EUR", registered_at="2026-01-01T00:00:00Z"
    )
    deposit(player, "5.00")
    vk = Valkyrie(player)
    assert vk.balance(player_id="brand-a%2F42")["cashAmount"] == D("5.00")
    assert vk.ok("WITHDRAW", "t-1", "1.00", round_id="r/1", player_id="brand-a%2F42")[
        "cashAmount"
    ] == D("4.00")


@pytest.mark.parametrize("player_id", ["%0Aabc", "tab%09id", "%C3%9F"])
def test_any_player_id_reaches_the_api_and_is_answered_in_its_shape(vk, player_id):
    for path in ("balance", "gamerounds/%0Ar"):
        status, body = vk.call("get", f"/players/{player_id}/{path}")
        assert (status, body["error"]["code"]) == (200, "PAM_ERR_PLAYER_NOT_FOUND"), path
    status, body = vk.tx("WITHDRAW", "t-1", "1.00", round_id="r-1", player_id=player_id)
    assert (status, body["error"]["code"]) == (200, "PAM_ERR_PLAYER_NOT_FOUND")


def test_any_rfc3339_offset_is_read_and_stored_in_utc(vk):
    # PostgreSQL refuses offsets beyond ±15:59; the adapter stores UTC (a 500 before)
    vk.ok("WITHDRAW", "t-1", "1.00", round_id="r-1", at="2000-01-01T00:00:00+16:00")
    vk.ok("WITHDRAW", "t-2", "1.00", round_id="r-2", at="2026-11-30T12:00:00-23:59")
    stored = Activity.objects.get(external_id=f"{PROVIDER}:t-1").occurred_at
    assert stored.isoformat() == "1999-12-31T08:00:00+00:00"
    status, body = vk.tx("WITHDRAW", "t-3", "1.00", round_id="r-3", at="0001-01-01T00:00:00+05:00")
    assert (status, body["error"]["code"]) == (400, "PAM_ERR_UNDEFINED")


@pytest.mark.parametrize("field", ["providerTransactionId", "providerRoundId", "providerGameId"])
@pytest.mark.parametrize("value", ["t\x00-1", "t-1\n", "\x1b[31m", "a\u200bb"])
def test_an_id_that_is_not_printable_is_refused_before_any_query(vk, field, value):
    """A NUL (PostgreSQL text cannot hold it), a control or an invisible character is no
    aggregator's id: 400 with the spec's error, nothing applied — also for free rounds, whose
    first answer is looked up by id."""
    free_spins_grant(vk.player)
    for kind in ("WITHDRAW", "PROMOWITHDRAW"):
        ids = {"providerTransactionId": "t-1", "providerRoundId": "r-1", "providerGameId": "g-1"}
        ids[field] = value
        body = {
            "currency": "EUR",
            "provider": PROVIDER,
            "transactionType": kind,
            "cashAmount": "1.00",
            "bonusAmount": "0",
            "promoAmount": "0.20" if kind.startswith("PROMO") else "0",
            "transactionDateTime": "2026-11-30T12:00:00Z",
            **ids,
        }
        status, answer = vk.call(
            "post", f"/players/{vk.player.external_id}/transactions", body=body
        )
        assert (status, answer["error"]["code"]) == (400, "PAM_ERR_UNDEFINED"), answer
    assert not Activity.objects.exists()
    assert promo(vk.balance()) == (D("100.00"), D("0.00"), D("2.00"))


@pytest.mark.parametrize("field", ["providerTransactionId", "providerBetRef"])
@pytest.mark.parametrize("value", ["t\x00-1", "t-1\n", "a\u200bb", "x" * 41])
def test_a_transaction_lookup_by_an_id_the_spec_refuses_is_400(vk, field, value):
    """getTransactions' query ids follow the spec's schema (1 to 40 characters) and the body's
    printable rule: a NUL, which PostgreSQL text cannot hold, was a 500 (found by the
    conformance test's generated requests)."""
    vk.ok("WITHDRAW", "t-1", "1.00", round_id="r-1")
    path = f"/players/{vk.player.external_id}/transactions"
    status, body = vk.call("get", path, query={"provider": PROVIDER, field: quote(value)})
    assert (status, body["status"], body["error"]["code"]) == (400, "ERROR", "PAM_ERR_UNDEFINED")
    status, body = vk.call("get", path, query={"provider": PROVIDER, field: "t-1"})
    assert status == 200


def test_an_empty_lookup_id_is_an_absent_one(vk):
    """Aggregators send optional ids as empty parameters: `providerBetRef=` falls back to the
    transaction id, as before the ids were checked."""
    vk.ok("WITHDRAW", "t-1", "1.00", round_id="r-1")
    path = f"/players/{vk.player.external_id}/transactions"
    query = {"provider": PROVIDER, "providerBetRef": "", "providerTransactionId": "t-1"}
    status, body = vk.call("get", path, query=query)
    assert status == 200 and [t["providerTransactionId"] for t in body["transactions"]] == ["t-1"]
