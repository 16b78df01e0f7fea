"""Connecting an aggregator: the token command, the launch-token API, and the admin (token shown
once, game catalogue with its warning, balance policies)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.wallet.conftest import deposit, player_make
from tests.wallet.valkyrie import PREFIX
from wallet.aggregator.sessions import aggregator_by_token, aggregator_create, token_hash
from wallet.models import Aggregator, BalancePolicy, Game, GameSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_command_prints_a_token_that_authenticates_and_rotates():
    out = StringIO()
    call_command("aggregator_create", "Valkyrie Prod", stdout=out, stderr=StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    aggregator = Aggregator.objects.get(name="Valkyrie Prod")
    assert (aggregator.slug, aggregator.source) == ("valkyrieprod", "agg:valkyrieprod")
    assert aggregator.token_hash == token_hash(token)
    assert aggregator_by_token(token) == aggregator
    with pytest.raises(CommandError):
        call_command("aggregator_create", "Valkyrie Prod", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("aggregator_create", "Valkyrie Prod", "--rotate", stdout=out, stderr=StringIO())
    assert aggregator_by_token(token) is None
    assert aggregator_by_token(out.getvalue().strip()) == aggregator


def test_the_casino_opens_a_game_session_and_the_aggregator_uses_it(service_client, client):
    aggregator, api_token = aggregator_create(name="vk", slug="vk")
    player = player_make(country="MT")
    deposit(player, "12.00")
    response = service_client.post(
        f"/api/v1/players/{player.external_id}/game-sessions/",
        {"aggregator": "vk", "game_id": "starburst", "language": "de"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    opened = response.json()
    assert (opened["currency"], opened["game_id"]) == ("EUR", "starburst")
    assert GameSession.objects.get().token_hash == token_hash(opened["token"])
    answer = client.get(
        f"{PREFIX}/players/session?provider=Netent",
        HTTP_AUTHORIZATION=f"Bearer {api_token}",
        HTTP_X_PLAYER_TOKEN=opened["token"],
        HTTP_X_CORRELATION_ID="c-1",
    )
    assert answer["X-Correlation-ID"] == "c-1"
    session = answer.json()["session"]
    assert (session["language"], session["country"], session["gameId"]) == ("DE", "MT", "starburst")


def test_a_session_for_an_unknown_aggregator_or_a_blocked_player_is_refused(service_client):
    aggregator_create(name="vk", slug="vk")
    player = player_make()
    url = f"/api/v1/players/{player.external_id}/game-sessions/"
    assert service_client.post(url, {"aggregator": "nope"}, format="json").status_code == 400
    blocked = player_make(status="blocked")
    response = service_client.post(
        f"/api/v1/players/{blocked.external_id}/game-sessions/", {"aggregator": "vk"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "player_blocked"


def test_adding_an_aggregator_in_the_admin_shows_its_token_once(staff_client):
    response = staff_client.post(
        "/admin/wallet/aggregator/add/",
        {
            "name": "Valkyrie",
            "slug": "valk",
            "protocol": "valkyrie",
            "session_minutes": 30,
            "active": "on",
        },  # fmt: skip
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    token = shown[0].rsplit(" ", 1)[-1]
    assert aggregator_by_token(token) == Aggregator.objects.get(slug="valk")


def test_the_catalogue_warns_about_unreviewed_games_and_review_clears_it(staff_client):
    aggregator, _ = aggregator_create(name="vk", slug="vk")
    game = Game.objects.create(aggregator=aggregator, game_id="new-game")
    page = staff_client.get("/admin/wallet/game/")
    assert any("count as 'other'" in str(m) for m in page.context["messages"])
    staff_client.post(
        f"/admin/wallet/game/{game.pk}/change/",
        {"aggregator": aggregator.pk, "game_id": "new-game", "name": "New", "category": "slots"},
    )
    game.refresh_from_db()
    assert (game.category, game.reviewed) == ("slots", True)
    page = staff_client.get("/admin/wallet/game/")
    assert not any("count as 'other'" in str(m) for m in page.context["messages"])


def test_balance_policies_are_edited_in_the_admin(staff_client):
    staff_client.post(
        "/admin/wallet/balancepolicy/add/",
        {"currency": "EUR", "bet_order": "bonus_first", "win_split": "cash_stake_first"},
    )
    assert BalancePolicy.objects.get(currency_id="EUR").win_split == "cash_stake_first"
    assert staff_client.get("/admin/wallet/gamesession/").status_code == 200
    assert staff_client.get("/admin/wallet/gameround/").status_code == 200
