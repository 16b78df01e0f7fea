"""Management commands: create_service_account, metrics_refresh, pitboss_demo."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from rest_framework.test import APIClient

from players.models import Activity, Player, PlayerMetrics, SegmentChange
from tests.factories import ActivityFactory, PlayerFactory

pytestmark = pytest.mark.django_db

EVENT = {
    "external_id": "cmd-1",
    "player_id": "p-1",
    "type": "deposit",
    "amount": "10.00",
    "currency": "EUR",
    "occurred_at": "2026-11-20T10:00:00Z",
}


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def token_of(output: str) -> str:
    lines = output.strip().splitlines()
    assert lines, "no output"
    return lines[-1].strip()


def test_create_service_account_prints_a_working_token_last():
    out, err = run("create_service_account", "pam", "--role", "service")
    token = token_of(out)
    assert len(token) >= 40  # 32 random bytes, url-safe
    assert "pam" in err and "service" in err
    client = client_with(token)
    assert client.get("/api/v1/players/").status_code == 200
    assert client.post("/api/v1/events/", EVENT, format="json").status_code == 200
    assert Activity.objects.filter(external_id="cmd-1").exists()
    user = get_user_model().objects.get(username="pam")
    assert not user.has_usable_password()


def test_the_role_decides_what_the_token_may_do():
    analyst = client_with(token_of(run("create_service_account", "bi", "--role", "analyst")[0]))
    assert analyst.get("/api/v1/players/").status_code == 200
    assert analyst.post("/api/v1/events/", EVENT, format="json").status_code == 403
    operator = client_with(token_of(run("create_service_account", "ops", "--role", "operator")[0]))
    assert operator.post("/api/v1/events/", EVENT, format="json").status_code == 200


def test_rerun_adds_a_token_and_changes_the_role_rotate_revokes_the_others():
    """Tokens are kept hashed, so a rerun cannot print the existing one: it prints a new one,
    and the earlier keeps working (with the new role) until --rotate revokes it."""
    first = token_of(run("create_service_account", "pam", "--role", "analyst")[0])
    second = token_of(run("create_service_account", "pam", "--role", "service")[0])
    assert first != second
    assert client_with(second).post("/api/v1/events/", EVENT, format="json").status_code == 200
    assert client_with(first).post("/api/v1/events/", EVENT, format="json").status_code == 200
    rotated = token_of(run("create_service_account", "pam", "--role", "service", "--rotate")[0])
    assert rotated != first
    assert client_with(first).get("/api/v1/players/").status_code == 401
    assert client_with(rotated).get("/api/v1/players/").status_code == 200


@pytest.mark.parametrize("role", ["superuser", "ADMIN", ""])
def test_invalid_role_fails(role):
    with pytest.raises(CommandError):
        run("create_service_account", "pam", "--role", role)
    assert not get_user_model().objects.filter(username="pam").exists()


def test_missing_role_or_empty_name_fails():
    with pytest.raises(CommandError):
        run("create_service_account", "pam")
    with pytest.raises(CommandError):
        run("create_service_account", "  ", "--role", "service")


def _losing_player(external_id: str) -> Player:
    player = PlayerFactory(external_id=external_id)
    ActivityFactory(
        player=player,
        type="bet",
        amount=Decimal(100),
        player_amount=Decimal(100),
        occurred_at=datetime(2026, 11, 10, tzinfo=UTC),
    )
    return player


def test_metrics_refresh_command_refreshes_everyone():
    a, b = _losing_player("a"), _losing_player("b")
    out, _ = run("metrics_refresh")
    assert "refreshed" in out
    assert PlayerMetrics.objects.filter(player__in=[a, b]).count() == 6
    assert set(Player.objects.values_list("segment", flat=True)) == {"losing"}
    assert SegmentChange.objects.count() == 2


def test_metrics_refresh_command_for_some_players_and_as_of():
    a, b = _losing_player("a"), _losing_player("b")
    run("metrics_refresh", "--player", "a", "--as-of", "2026-11-01T00:00:00Z")
    metrics = PlayerMetrics.objects.get(player=a, window="lifetime")
    assert metrics.as_of == datetime(2026, 11, 1, tzinfo=UTC)
    assert metrics.turnover == 0  # the bet came later
    assert not PlayerMetrics.objects.filter(player=b).exists()
    run("metrics_refresh", "--player", "a", "--player", "b", "--as-of", "2026-11-15T00:00:00")
    assert PlayerMetrics.objects.get(player=b, window="lifetime").turnover == Decimal(100)
    assert PlayerMetrics.objects.get(player=b, window="lifetime").as_of == datetime(
        2026, 11, 15, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["garbage", "2026-13-45", "yesterday"])
def test_metrics_refresh_command_refuses_a_bad_as_of(value):
    _losing_player("a")
    with pytest.raises(CommandError):
        run("metrics_refresh", "--as-of", value)
    assert not PlayerMetrics.objects.exists()


def test_pitboss_demo_loads_data_and_prints_a_working_admin_login(client):
    out, _ = run("pitboss_demo", "--players", "20", "--per-player", "5")
    players = Player.objects.count()
    assert players == 20
    assert Activity.objects.count() > 20
    assert PlayerMetrics.objects.count() == 60
    assert Player.objects.exclude(segment="new").exists()
    assert set(Player.objects.values_list("currency_id", flat=True)) > {"EUR"}
    last = out.strip().splitlines()[-1]
    assert last.startswith("Admin login (new admin user): admin / ")
    password = last.rsplit(" ", 1)[-1]
    assert client.login(request=HttpRequest(), username="admin", password=password)
    assert client.get("/admin/players/player/").status_code == 200

    rows = Activity.objects.count()
    out_again, _ = run("pitboss_demo", "--players", "20", "--per-player", "5")
    assert Activity.objects.count() == rows  # idempotent: no second load
    # a second run keeps the password, and says so (issue 11 case 8)
    assert "password unchanged" in out_again.strip().splitlines()[-1]
    assert client.login(request=HttpRequest(), username="admin", password=password)

    out_reset, _ = run("pitboss_demo", "--players", "20", "--per-player", "5", "--reset-password")
    assert out_reset.strip().splitlines()[-1].startswith("Admin login (password reset): admin / ")
    assert not client.login(request=HttpRequest(), username="admin", password=password)
    new_password = out_reset.strip().rsplit(" ", 1)[-1]
    assert client.login(request=HttpRequest(), username="admin", password=new_password)


def test_demo_activity_is_in_the_past():
    run("pitboss_demo", "--players", "10", "--per-player", "5")
    latest = Activity.objects.order_by("-occurred_at").first().occurred_at
    assert latest <= datetime.now(UTC) + timedelta(seconds=10)


def test_expiry_and_an_ip_allowlist_from_the_command():
    out, _ = run(
        "create_service_account", "pam", "--role", "service",
        "--expires-in-days", "30", "--allow-ip", "10.9.0.0/16",
    )  # fmt: skip
    token = token_of(out)
    assert client_with(token).get("/api/v1/players/").status_code == 401  # from 127.0.0.1
    with pytest.raises(CommandError):
        run("create_service_account", "pam", "--role", "service", "--allow-ip", "not-an-ip")


def test_revoke_token_by_prefix_and_by_account():
    token = token_of(run("create_service_account", "pam", "--role", "service")[0])
    assert client_with(token).get("/api/v1/players/").status_code == 200
    run("revoke_token", token[:8])
    assert client_with(token).get("/api/v1/players/").status_code == 401
    other = token_of(run("create_service_account", "pam", "--role", "service")[0])
    run("revoke_token", "--account", "pam")
    assert client_with(other).get("/api/v1/players/").status_code == 401
