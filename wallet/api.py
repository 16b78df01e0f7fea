"""Wallet API (SPEC §10): balances and bonuses, the ledger, manual grants, forfeits, adjustments.

Views are thin: a serializer checks the shape, a service does the work, the Idempotency-Key
layer (wallet/idempotency.py) makes every money-moving call safe to retry.
"""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from players.api_fields import MoneyField
from players.models import Player
from players.money import money_format
from wallet import services
from wallet.idempotency import HEADER, idempotent_answer
from wallet.models import Bonus, Entry
from wallet.selectors import bonus_view, ledger_entries, wallet_balances, wallet_overview

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=True, description="Retry-safe operation key."
)
MONEY_FIELD = {"max_digits": 20, "decimal_places": 8}


class BonusGrantSerializer(serializers.Serializer):
    amount = MoneyField(**MONEY_FIELD)
    currency = serializers.CharField(max_length=10)
    wagering_multiplier = serializers.DecimalField(max_digits=10, decimal_places=4, min_value=0)
    wagering_base = serializers.ChoiceField(choices=Bonus.WageringBase.values, default="bonus")
    deposit_amount = MoneyField(**MONEY_FIELD, required=False, min_value=0)
    max_bet = MoneyField(**MONEY_FIELD, required=False, allow_null=True)
    max_conversion = MoneyField(**MONEY_FIELD, required=False, allow_null=True)
    expires_in_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650
    )
    contribution_weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=4, min_value=0),
        required=False,
    )
    game_weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=4, min_value=0),
        required=False,
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ForfeitSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class AdjustmentSerializer(serializers.Serializer):
    amount = MoneyField(**MONEY_FIELD, help_text="Signed: negative takes cash.")
    currency = serializers.CharField(max_length=10)
    reason = serializers.CharField(max_length=255)


class EntrySerializer(serializers.ModelSerializer):
    transaction = serializers.IntegerField(source="transaction_id")
    kind = serializers.CharField(source="transaction.kind")
    created_at = serializers.DateTimeField(source="transaction.created_at")
    currency = serializers.CharField(source="account.currency_id")
    account = serializers.CharField(source="account.kind")
    bonus = serializers.IntegerField(source="account.bonus_id", allow_null=True)
    amount = serializers.SerializerMethodField()
    reason = serializers.CharField(source="transaction.reason")

    class Meta:
        model = Entry
        fields = ["id", "transaction", "kind", "created_at", "currency", "account", "bonus",
                  "amount", "reason"]  # fmt: skip

    def get_amount(self, entry: Entry) -> str:
        return money_format(entry.amount, entry.account.currency_id)


def _player(external_id: str) -> Player:
    return get_object_or_404(Player, external_id=external_id)


class PlayerWalletView(APIView):
    @extend_schema(responses={200: dict}, summary="Balances and active bonuses of a player")
    def get(self, request, external_id: str):
        return Response(wallet_overview(player=_player(external_id)))


class PlayerLedgerView(ListAPIView):
    serializer_class = EntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Entry.objects.none()
        return ledger_entries(player=_player(self.kwargs["external_id"]))


class PlayerBonusGrantView(APIView):
    @extend_schema(
        request=BonusGrantSerializer,
        responses={201: dict},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Grant a bonus with terms",
    )
    def post(self, request, external_id: str):
        player = _player(external_id)
        form = BonusGrantSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        terms = dict(form.validated_data)
        days = terms.pop("expires_in_days", None)

        def grant(ledger_key: str) -> tuple[int, dict]:
            bonus = services.bonus_grant(
                player=player,
                currency=terms.pop("currency"),
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                idempotency_key=ledger_key,
                granted_by=request.user,
                source="api",
                **terms,
            )
            return 201, bonus_view(bonus)

        return idempotent_answer(
            request=request,
            scope="bonus_grant",
            payload={"player": external_id, **form.validated_data},
            call=grant,
        )


class BonusForfeitView(APIView):
    @extend_schema(
        request=ForfeitSerializer,
        responses={200: dict},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Forfeit an active bonus (reason required)",
    )
    def post(self, request, bonus_id: int):
        bonus = get_object_or_404(Bonus, pk=bonus_id)
        form = ForfeitSerializer(data=request.data)
        form.is_valid(raise_exception=True)

        def forfeit(ledger_key: str) -> tuple[int, dict]:
            ended = services.bonus_forfeit(
                bonus=bonus, reason=form.validated_data["reason"], by=request.user
            )
            return 200, {
                **bonus_view(ended, balance=0),
                "balances": wallet_balances(player=ended.player),
            }

        return idempotent_answer(
            request=request,
            scope="bonus_forfeit",
            payload={"bonus": bonus_id, **form.validated_data},
            call=forfeit,
        )


class PlayerAdjustmentView(APIView):
    @extend_schema(
        request=AdjustmentSerializer,
        responses={201: dict},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Manual cash adjustment with a reason (audited)",
    )
    def post(self, request, external_id: str):
        player = _player(external_id)
        form = AdjustmentSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data

        def adjust(ledger_key: str) -> tuple[int, dict]:
            posted = services.wallet_adjust(
                player=player,
                currency=data["currency"],
                amount=data["amount"],
                reason=data["reason"],
                idempotency_key=ledger_key,
                by=request.user,
            )
            return 201, {"transaction": posted.pk, "balances": wallet_balances(player=player)}

        return idempotent_answer(
            request=request,
            scope="adjustment",
            payload={"player": external_id, **data},
            call=adjust,
        )
