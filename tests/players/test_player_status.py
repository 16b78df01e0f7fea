"""A player who stops being active forfeits active bonuses at once, however the status changes."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from players.models import Player
from players.services import player_status_set
from tests.factories import PlayerFactory
from wallet.models import Bonus
from wallet.services import bonus_grant

pytestmark = pytest.mark.django_db


def _player_with_bonus(external_id: str = "excluded") -> tuple[Player, Bonus]:
    player = PlayerFactory(external_id=external_id)
    bonus = bonus_grant(
        player=player,
        currency="EUR",
        amount=Decimal("25.00"),
        wagering_multiplier=10,
        idempotency_key=f"grant-{external_id}",
    )
    return player, bonus


@pytest.mark.parametrize("status", ["self_excluded", "blocked", "closed"])
def test_leaving_active_forfeits_bonuses(status):
    player, bonus = _player_with_bonus()
    player_status_set(player=player, status=status)
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED


def test_staying_active_keeps_bonuses():
    player, bonus = _player_with_bonus()
    player_status_set(player=player, status="active")
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.ACTIVE


def test_admin_status_change_forfeits_bonuses(admin_client):
    player, bonus = _player_with_bonus()
    page = admin_client.get(f"/admin/players/player/{player.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(status="self_excluded", registered_at_0="2026-01-01", registered_at_1="00:00:00")
    data.update({"fingerprints-TOTAL_FORMS": 0, "fingerprints-INITIAL_FORMS": 0})
    data.update({"segment_changes-TOTAL_FORMS": 0, "segment_changes-INITIAL_FORMS": 0})
    response = admin_client.post(f"/admin/players/player/{player.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED


def test_import_setting_self_exclusion_forfeits_bonuses(run_players_import):
    player, bonus = _player_with_bonus("imp-1")
    job = run_players_import(b"UserID,Status\nimp-1,self_excluded\n")
    assert job.status == "succeeded"
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED
    assert Player.objects.get(pk=player.pk).status == "self_excluded"


def test_analyst_cannot_refresh_players_from_the_admin(client):
    analyst = User.objects.create_user("analyst-staff", password="x", is_staff=True)
    analyst.groups.add(Group.objects.get_or_create(name="analyst")[0])
    from config.roles import roles_sync

    roles_sync()
    client.force_login(analyst)
    page = client.get("/admin/players/player/")
    assert page.status_code == 200
    assert "refresh_metrics" not in page.content.decode()


@pytest.fixture
def run_players_import(tmp_path, settings):
    from django.core.files.base import ContentFile

    from importer import services

    settings.MEDIA_ROOT = tmp_path / "media"

    def run(content: bytes):
        upload = ContentFile(content, name="players.csv")
        job = services.import_job_create(
            file=upload,
            kind="players",
            mapping={"player_id": "UserID", "status": "Status"},
            start=False,
        )
        return services.import_job_run(job_id=job.pk)

    return run
