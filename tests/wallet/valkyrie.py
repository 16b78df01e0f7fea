"""A Valkyrie aggregator as a test drives it: its token, a player's session, and requests in the
spec's shapes (amounts as JSON numbers, answers read as Decimals)."""

import itertools
import json
import re
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from wallet.aggregator.sessions import aggregator_create, game_session_open

PREFIX = "/api/aggregators/valkyrie"
PROVIDER = "Evolution"
_ids = itertools.count(1)
_AMOUNT = re.compile(r'"(cashAmount|bonusAmount|promoAmount)": "(-?[0-9.]+)"')


def amounts_as_numbers(body: dict) -> str:
    return _AMOUNT.sub(r'"\1": \2', json.dumps(body))


class Valkyrie:
    """One aggregator and one player's game session."""

    def __init__(self, player, *, currency=None, slug=None):
        n = next(_ids)
        self.aggregator, self.api_token = aggregator_create(
            name=f"valkyrie-{n}", slug=slug or f"vk{n}"
        )
        self.player = player
        self.session, self.token = game_session_open(
            aggregator=self.aggregator, player=player, currency=currency, game_id="g-1"
        )
        self.client = Client()
        self.currency = self.session.currency_id

    def session_for(self, player, currency=None) -> str:
        return game_session_open(aggregator=self.aggregator, player=player, currency=currency)[1]

    def expire(self) -> None:
        type(self.session).objects.filter(pk=self.session.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

    def headers(self, token=None, api_token=None) -> dict:
        return {
            "HTTP_AUTHORIZATION": f"Bearer {api_token or self.api_token}",
            "HTTP_X_PLAYER_TOKEN": token or self.token,
            "HTTP_X_CORRELATION_ID": "test",
        }

    def call(self, method, path, *, body=None, token=None, api_token=None, query=None):
        query = {"provider": PROVIDER} if query is None else query
        url = PREFIX + path
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        kwargs = self.headers(token, api_token)
        if body is not None:
            kwargs.update(data=amounts_as_numbers(body), content_type="application/json")
        response = getattr(self.client, method)(url, **kwargs)
        return response.status_code, json.loads(response.content, parse_float=Decimal)

    def balance(self, *, token=None, player_id=None):
        status, body = self.call(
            "get", f"/players/{player_id or self.player.external_id}/balance", token=token
        )
        assert status == 200, body
        return body["balance"]

    def cash_bonus(self) -> tuple[Decimal, Decimal]:
        balance = self.balance()
        return balance["cashAmount"], balance["bonusAmount"]

    def tx(
        self,
        kind,
        tx_id,
        cash="0",
        *,
        round_id=None,
        bet_ref=None,
        game="g-1",
        currency=None,
        game_over=False,
        bonus="0",
        promo="0",
        token=None,
        player_id=None,
        at="2026-11-30T12:00:00Z",
    ):
        """addTransaction; returns (http status, body)."""
        body = {
            "currency": currency or self.currency,
            "provider": PROVIDER,
            "transactionType": kind,
            "cashAmount": str(cash),
            "bonusAmount": str(bonus),
            "promoAmount": str(promo),
            "transactionDateTime": at,
            "providerTransactionId": tx_id,
            "providerGameId": game,
            "isGameOver": game_over,
        }
        if round_id:
            body["providerRoundId"] = round_id
        if bet_ref:
            body["providerBetRef"] = bet_ref
        return self.call(
            "post",
            f"/players/{player_id or self.player.external_id}/transactions",
            body=body,
            token=token,
        )

    def ok(self, *args, **kwargs) -> dict:
        status, body = self.tx(*args, **kwargs)
        assert (status, body["status"]) == (200, "OK"), body
        return body["transactionResult"]["balance"]

    def refused(self, code, *args, **kwargs) -> dict:
        status, body = self.tx(*args, **kwargs)
        assert (status, body["status"], body["error"]["code"]) == (200, "ERROR", code), body
        return body["transactionResult"]["balance"]
