"""Aggregators (API tokens stored hashed) and the game sessions Pitboss issues to players.

A session token is given to the game launcher once; the aggregator sends it back on every call
(`X-Player-Token`). Only SHA-256 hashes of tokens are stored: tokens are 20 random bytes, so a
fast hash is as good as a slow one and the lookup stays one indexed query.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from players.models import Currency, Player
from wallet.models import Aggregator, GameSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token() -> str:
    return secrets.token_hex(20)  # 40 characters: the Valkyrie SessionToken is 32–40


def aggregator_create(*, name: str, slug: str, session_minutes: int = 30) -> tuple[Aggregator, str]:
    """A new aggregator and its API token (shown once; only its hash is kept)."""
    token = _token()
    aggregator = Aggregator.objects.create(
        name=name, slug=slug, token_hash=token_hash(token), session_minutes=session_minutes
    )
    return aggregator, token


def aggregator_token_rotate(*, aggregator: Aggregator) -> str:
    """Replace the aggregator's API token; the old one stops working at once."""
    token = _token()
    aggregator.token_hash = token_hash(token)
    aggregator.save(update_fields=["token_hash"])
    return token


def aggregator_by_token(token: str) -> Aggregator | None:
    """The active aggregator holding this bearer token, or None."""
    if not token:
        return None
    return Aggregator.objects.filter(token_hash=token_hash(token), active=True).first()


def game_session_open(
    *,
    aggregator: Aggregator,
    player: Player,
    currency: Currency | None = None,
    game_id: str = "",
    language: str = "EN",
    country: str = "",
) -> tuple[GameSession, str]:
    """Issue a game session for `player` (game launch); returns it and its token.

    Raises DomainError `player_blocked` (403) unless the player is active.
    """
    if player.status != Player.Status.ACTIVE:
        raise DomainError("player_blocked", f"Player is {player.status}.", status=403)
    token = _token()
    session = GameSession.objects.create(
        aggregator=aggregator,
        player=player,
        token_hash=token_hash(token),
        currency_id=(currency.code if currency else player.currency_id),
        country=(country or player.country or "ZZ").upper(),  # ZZ: unknown (user-assigned)
        language=(language or "EN").upper(),
        game_id=game_id,
        expires_at=timezone.now() + timedelta(minutes=aggregator.session_minutes),
    )
    return session, token


@dataclass(frozen=True)
class SessionFound:
    session: GameSession
    expired: bool


def game_session_find(*, aggregator: Aggregator, token: str) -> SessionFound | None:
    """The aggregator's session with this token (None if unknown), and whether it has expired
    (past its expiry, or replaced by a refresh). A live session used in the second half of its
    lifetime is renewed for a full lifetime, so a player who keeps playing keeps the session."""
    if not token:
        return None
    session = (
        GameSession.objects.select_related("player")
        .filter(token_hash=token_hash(token), aggregator=aggregator)
        .first()
    )
    if session is None:
        return None
    now = timezone.now()
    expired = session.replaced_at is not None or session.expires_at <= now
    lifetime = timedelta(minutes=aggregator.session_minutes)
    if not expired and session.expires_at - now < lifetime / 2:
        session.expires_at = now + lifetime
        GameSession.objects.filter(pk=session.pk).update(expires_at=session.expires_at)
    return SessionFound(session, expired)


def game_session_refresh(*, session: GameSession) -> tuple[GameSession, str]:
    """Replace a live session by a new one with the same details; the old token stops placing
    bets at once (it may still settle wins and cancels of its bets)."""
    with transaction.atomic():
        replaced = GameSession.objects.filter(pk=session.pk, replaced_at=None).update(
            replaced_at=timezone.now()
        )
        if not replaced:
            raise DomainError("session_expired", "The session was already refreshed.")
        token = _token()
        fresh = GameSession.objects.create(
            aggregator_id=session.aggregator_id,
            player=session.player,
            token_hash=token_hash(token),
            currency_id=session.currency_id,
            country=session.country,
            language=session.language,
            game_id=session.game_id,
            expires_at=timezone.now() + timedelta(minutes=session.aggregator.session_minutes),
        )
    return fresh, token
