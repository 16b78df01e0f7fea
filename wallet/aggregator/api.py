"""`POST /api/v1/players/{external_id}/game-sessions/`: the casino asks for a game launch token.

The casino platform (role `service`) calls this when a player opens a game of an aggregator and
hands the token to the game launcher; the aggregator sends it back on every wallet call.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import ADMIN, OPERATOR, SERVICE
from players.models import Player
from players.money import currency_get
from wallet.aggregator.sessions import game_session_open
from wallet.models import Aggregator


class GameSessionSerializer(serializers.Serializer):
    aggregator = serializers.SlugField(max_length=20, help_text="The aggregator's slug.")
    currency = serializers.CharField(
        max_length=10, required=False, help_text="Default: the player's."
    )
    game_id = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    language = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="EN")
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="")

    def validate_aggregator(self, slug: str) -> Aggregator:
        aggregator = Aggregator.objects.filter(slug=slug, active=True).first()
        if aggregator is None:
            raise serializers.ValidationError("No active aggregator with this slug.")
        return aggregator


class PlayerGameSessionView(APIView):
    write_roles = frozenset({ADMIN, OPERATOR, SERVICE})

    @extend_schema(
        request=GameSessionSerializer, responses={201: dict}, summary="Open a game session"
    )
    def post(self, request, external_id: str):
        player = get_object_or_404(Player, external_id=external_id)
        form = GameSessionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        session, token = game_session_open(
            aggregator=data["aggregator"],
            player=player,
            currency=currency_get(data["currency"]) if data.get("currency") else None,
            game_id=data["game_id"],
            language=data["language"],
            country=data["country"],
        )
        return Response(
            {
                "token": token,
                "aggregator": session.aggregator.slug,
                "player_id": player.external_id,
                "currency": session.currency_id,
                "game_id": session.game_id,
                "expires_at": session.expires_at.isoformat(),
            },
            status=201,
        )
