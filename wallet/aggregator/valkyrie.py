"""The operator side of the Valkyrie PAM API (0.7.0): sessions, balance, transactions, rounds.

Spec: ../shared/specs/valkyrie-pam_api.yml. Every answer is `{"status": "OK", …}` or
`{"status": "ERROR", "error": {"code": "PAM_ERR_…", "message": …}}`. HTTP statuses carry only
hard errors: 401 for a wrong API token (`PAM_ERR_API_TOKEN`) or an unknown or expired session,
400 for a body or query the spec's schema refuses; business refusals (overdraft, duplicate,
settled, …) are 200 with the error and, for transactions, the balance.

Money moves only through `wallet.events.events_ingest` (the one ingestion path): a Valkyrie
transaction becomes one event of the aggregator's source (`agg:<slug>`, promo transactions
`agg:<slug>:promo`) with external id `<provider>:<providerTransactionId>`; its receipt is the
idempotency record, so a repeated transaction answers its first outcome and balance, and the
same id with another payload answers `PAM_ERR_DUPLICATE_TRANS`. Mapping: docs/aggregator.md.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import partial

from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from config.errors import DomainError
from players.models import Activity, Player
from players.money import currency_get
from wallet.aggregator.catalogue import game_category
from wallet.aggregator.sessions import (
    SessionFound,
    aggregator_by_token,
    game_session_find,
    game_session_refresh,
)
from wallet.aggregator.valkyrie_wire import (
    PROMO,
    PROVIDER_MAX,
    TYPE_NAMES,
    TYPES,
    Transaction,
    ValkyrieError,
    amount_checked,
    answer,
    bad,
    balance_view,
    error_answer,
    string_field,
    transaction_parse,
)
from wallet.event_records import (
    APPLIED,
    DUPLICATE,
    PROMO_SOURCE_SUFFIX,
    EventInput,
    EventResult,
    source_is_promo,
)
from wallet.events import ROLLBACK_REMEMBERED, events_ingest
from wallet.models import Aggregator, GameRound
from wallet.selectors import free_spins_held, wallet_balances

# The wallet's refusal codes (docs/api.md) as Valkyrie error codes.
WALLET_CODES = {
    "insufficient_funds": "PAM_ERR_CASH_OVERDRAFT",
    "insufficient_promo_funds": "PAM_ERR_PROMO_OVERDRAFT",
    "max_bet_exceeded": "PAM_ERR_BET_NOT_ALLOWED",
    "player_blocked": "PAM_ERR_BET_NOT_ALLOWED",
    "bet_rolled_back": "PAM_ERR_TRANS_ALREADY_CANCELLED",
    "already_rolled_back": "PAM_ERR_TRANS_ALREADY_CANCELLED",
    "bet_settled": "PAM_ERR_TRANS_ALREADY_SETTLED",
    "round_closed": "PAM_ERR_TRANS_ALREADY_SETTLED",
    "currency_mismatch": "PAM_ERR_TRANS_CURRENCY",
    "unknown_currency": "PAM_ERR_TRANS_CURRENCY",
    "idempotency_conflict": "PAM_ERR_DUPLICATE_TRANS",
}
UNKNOWN_REFERENCE = {
    Activity.Type.WIN: "PAM_ERR_TRANS_NOT_FOUND",
    Activity.Type.ROLLBACK: "PAM_ERR_CANCEL_NOT_FOUND",
}


def balance_of(player: Player, currency: str) -> dict:
    """`{"cashAmount", "bonusAmount", "promoAmount"}` of the player in `currency` (Decimals):
    `promoAmount` is the balance of the player's free-spins grants, `bonusAmount` that of the
    other bonus grants."""
    return balance_view(wallet_balances(player=player).get(currency, {}))


@method_decorator(csrf_exempt, name="dispatch")
class ValkyrieView(View):
    """Authenticates the aggregator (bearer token) and turns ValkyrieError into the spec's
    error shape. Subclasses get `self.aggregator`."""

    http_method_names = ["get", "put", "post"]
    aggregator: Aggregator

    def dispatch(self, request, *args, **kwargs):
        try:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            aggregator = aggregator_by_token(token.strip()) if scheme.lower() == "bearer" else None
            if aggregator is None:
                raise ValkyrieError("PAM_ERR_API_TOKEN", "Invalid API token.", http_status=401)
            self.aggregator = aggregator
            response = super().dispatch(request, *args, **kwargs)
        except ValkyrieError as error:
            response = error_answer(error)
        correlation = request.headers.get("X-Correlation-ID")
        if correlation and correlation.isprintable():
            response["X-Correlation-ID"] = correlation[:200]
        return response

    def sources(self) -> list[str]:
        """The aggregator's event sources: its transactions and its promo transactions."""
        return [self.aggregator.source, self.aggregator.source + PROMO_SOURCE_SUFFIX]

    def provider(self, *, http_status: int = 200) -> str:
        provider = self.request.GET.get("provider", "").strip()
        if not provider or len(provider) > PROVIDER_MAX or not provider.isprintable():
            raise ValkyrieError(
                "PAM_ERR_MISSING_PROVIDER",
                "The query parameter provider is missing.",
                http_status=http_status,
            )
        return provider

    def session(self, *, expired_ok: bool = False) -> SessionFound:
        found = game_session_find(
            aggregator=self.aggregator, token=self.request.headers.get("X-Player-Token", "")
        )
        if found is None:
            raise ValkyrieError("PAM_ERR_SESSION_NOT_FOUND", "Unknown session.", http_status=401)
        if found.expired and not expired_ok:
            raise ValkyrieError("PAM_ERR_SESSION_EXPIRED", "Session expired.", http_status=401)
        return found

    def player_session(self, player_id: str, *, expired_ok: bool = False) -> SessionFound:
        found = self.session(expired_ok=expired_ok)
        if found.session.player.external_id != player_id:
            raise ValkyrieError("PAM_ERR_PLAYER_NOT_FOUND", "No such player in this session.")
        return found


def _session_view(found_session, token: str) -> dict:
    view = {
        "playerId": found_session.player.external_id,
        "token": token,
        "currency": found_session.currency_id,
        "country": found_session.country,
        "language": found_session.language,
    }
    if found_session.game_id:
        view["gameId"] = found_session.game_id
    return {"status": "OK", "session": view}


class SessionView(ValkyrieView):
    """getSession (GET) and refreshSession (PUT) of `/players/session`."""

    def get(self, request):
        self.provider()
        found = self.session()
        return answer(_session_view(found.session, request.headers["X-Player-Token"]))

    def put(self, request):
        self.provider()
        found = self.session()
        try:
            fresh, token = game_session_refresh(session=found.session)
        except DomainError:
            raise ValkyrieError(
                "PAM_ERR_SESSION_EXPIRED", "Session expired.", http_status=401
            ) from None
        return answer(_session_view(fresh, token))


class BalanceView(ValkyrieView):
    """getBalance of `/players/{playerId}/balance`."""

    def get(self, request, player_id: str):
        self.provider()
        session = self.player_session(player_id).session
        return answer({"status": "OK", "balance": balance_of(session.player, session.currency_id)})


def _error_code(result: EventResult, kind: str) -> str | None:
    """The Valkyrie error code of an ingestion outcome (first or replayed); None when OK."""
    if result.reason is not None:
        reason = result.reason.code
        if reason == "unknown_reference":
            return UNKNOWN_REFERENCE.get(kind, "PAM_ERR_UNDEFINED")
        return WALLET_CODES.get(reason, "PAM_ERR_UNDEFINED")
    if any(w.get("code") == ROLLBACK_REMEMBERED["code"] for w in result.warnings):
        return "PAM_ERR_CANCEL_NOT_FOUND"  # remembered: its bet is refused if it comes
    return None


class TransactionsView(ValkyrieView):
    """getTransactions (GET) and addTransaction (POST) of `/players/{playerId}/transactions`."""

    def get(self, request, player_id: str):
        provider = self.provider(http_status=400)
        player = self.player_session(player_id).session.player
        # the spec's ids (1 to 40 printable characters): a NUL never reaches the query; an
        # empty parameter is an absent one, as aggregators send optional ids
        bet_ref, transaction_id = (
            string_field(request.GET, name) if request.GET.get(name) else ""
            for name in ("providerBetRef", "providerTransactionId")
        )
        if not (bet_ref or transaction_id):
            raise bad("providerTransactionId or providerBetRef is required.")
        wanted = f"{provider}:{bet_ref or transaction_id}"
        found = Activity.objects.filter(
            player=player, source__in=self.sources(), external_id=wanted
        )
        if bet_ref:
            found = Activity.objects.filter(
                player=player, source__in=self.sources(), reference_id=wanted
            ).union(found)
        rows = sorted(found, key=lambda activity: activity.pk)
        return answer(
            {"status": "OK", "transactions": [self.transaction_view(a, provider) for a in rows]}
        )

    def transaction_view(self, activity: Activity, provider: str) -> dict:
        prefix = f"{provider}:"
        promo = PROMO if source_is_promo(activity.source) else ""
        view = {
            "currency": activity.currency_id,
            "provider": provider,
            "transactionType": promo + TYPE_NAMES.get(activity.type, "DEPOSIT"),
            "cashAmount": activity.amount,
            "bonusAmount": Decimal(0),
            "promoAmount": Decimal(0),
            "transactionDateTime": activity.occurred_at.isoformat(),
            "providerTransactionId": activity.external_id.removeprefix(prefix),
        }
        if activity.round_id:
            view["providerRoundId"] = activity.round_id.removeprefix(prefix)
        if activity.game_id:
            view["providerGameId"] = activity.game_id
        if activity.reference_id:
            view["providerBetRef"] = activity.reference_id.removeprefix(prefix)
        return view

    def post(self, request, player_id: str):
        provider = self.provider()
        tx = transaction_parse(request.body)
        kind = TYPES[tx.type]
        # a bet needs a live session; wins and cancels of its bets settle regardless
        found = self.player_session(player_id, expired_ok=kind != Activity.Type.BET)
        session, player = found.session, found.session.player
        balance = partial(balance_of, player, session.currency_id)  # read only if refused
        if tx.currency != session.currency_id:
            raise ValkyrieError(
                "PAM_ERR_TRANS_CURRENCY",
                f"The session's currency is {session.currency_id}.",
                balance=balance,
            )
        staked = self.promo_staked(tx, provider=provider, player=player)
        amount = amount_checked(tx, balance, promo_staked=staked)
        event = self.event(tx, provider=provider, player=player, amount=amount)
        if kind == Activity.Type.ROLLBACK:
            self.refuse_cancel_of_non_withdraw(event, player, balance)
        unreferenced = not (event.round_id or event.reference_id)
        if kind == Activity.Type.WIN and not tx.promo_type and unreferenced:
            raise ValkyrieError(
                "PAM_ERR_TRANS_NOT_FOUND", "A DEPOSIT names its round.", balance=balance
            )
        result = events_ingest(events=[event])[0]
        code = _error_code(result, kind)
        if result.reason is not None and result.reason.code == "idempotency_conflict":
            after = balance()  # the requesting player's, never the first sender's
        else:  # as first answered
            after = balance_view(result.balances.get(session.currency_id, {}))
        if code is not None:
            message = result.reason.message if result.reason else ROLLBACK_REMEMBERED["message"]
            raise ValkyrieError(code, message, balance=after)
        transaction_result = {"balance": after}
        activity_id = result.activity_id if result.status == APPLIED else None
        if result.status == DUPLICATE:
            activity_id = (
                Activity.objects.filter(source=event.source, external_id=event.external_id)
                .values_list("pk", flat=True)
                .first()
            )
        if activity_id is not None:
            transaction_result["transactionId"] = str(activity_id)
        return answer({"status": "OK", "transactionResult": transaction_result})

    def event(self, tx: Transaction, *, provider: str, player: Player, amount: Decimal):
        kind = TYPES[tx.type]
        source = self.aggregator.source + (PROMO_SOURCE_SUFFIX if tx.promo_type else "")
        round_id = f"{provider}:{tx.round_id}" if tx.round_id else ""
        reference_id = f"{provider}:{tx.bet_ref}" if tx.bet_ref else ""
        if kind == Activity.Type.WIN:
            if tx.promo_type and not self.round_has_bets(player, source, round_id):
                round_id = ""  # a PROMODEPOSIT needs no WITHDRAW: paid without a stake
            if round_id:
                reference_id = ""  # a DEPOSIT pays on the bets of its round
        return EventInput(
            external_id=f"{provider}:{tx.transaction_id}",
            player_id=player.external_id,
            type=kind,
            amount=amount,
            currency=currency_get(tx.currency),
            occurred_at=tx.occurred_at,
            game_id=tx.game_id,
            game_category=game_category(aggregator=self.aggregator, game_id=tx.game_id),
            round_id=round_id,
            reference_id=reference_id,
            source=source,
            rounds=True,
            round_over=tx.game_over,
        )

    def promo_staked(self, tx: Transaction, *, provider: str, player: Player) -> bool:
        """Whether a PROMOWITHDRAW's promoAmount is staked from the player's free-spins grant:
        as when first applied (a retry gets the first answer even if the grant has ended
        since), else when the player holds a free-spins grant for the game."""
        if tx.type != PROMO + "WITHDRAW" or not tx.promo:
            return False
        first = (
            Activity.objects.filter(
                source=self.aggregator.source + PROMO_SOURCE_SUFFIX,
                external_id=f"{provider}:{tx.transaction_id}",
            )
            .values_list("amount", flat=True)
            .first()
        )
        if first is not None:
            return first == tx.cash + tx.bonus + tx.promo
        return free_spins_held(player=player, currency=tx.currency, game_id=tx.game_id)

    @staticmethod
    def round_has_bets(player: Player, source: str, round_id: str) -> bool:
        return (
            bool(round_id)
            and GameRound.objects.filter(player=player, source=source, round_id=round_id).exists()
        )

    def refuse_cancel_of_non_withdraw(
        self, event: EventInput, player: Player, balance: Callable[[], dict]
    ) -> None:
        """A CANCEL naming a DEPOSIT or CANCEL: wins are never rolled back once settled."""
        if not event.reference_id:
            return
        named = Activity.objects.filter(
            player=player, source__in=self.sources(), external_id=event.reference_id
        ).exclude(type=Activity.Type.BET)
        if named.exists():
            raise ValkyrieError(
                "PAM_ERR_CANCEL_NON_WITHDRAW", "Only a WITHDRAW can be cancelled.", balance=balance
            )


class GameRoundView(ValkyrieView):
    """getGameRound of `/players/{playerId}/gamerounds/{providerGameRoundId}`."""

    def get(self, request, player_id: str, round_id: str):
        provider = self.provider()
        player = self.player_session(player_id).session.player
        found = GameRound.objects.filter(
            player=player,
            source__in=self.sources(),
            round_id=f"{provider}:{round_id}",
        ).first()
        if found is None:
            raise ValkyrieError("PAM_ERR_ROUND_NOT_FOUND", "No such game round.")
        view = {
            "providerGameId": found.game_id or "unknown",
            "providerRoundId": round_id,
            "startTime": found.started_at.isoformat(),
        }
        if found.ended_at is not None:
            view["endTime"] = found.ended_at.isoformat()
        return answer({"status": "OK", "gameround": view})
