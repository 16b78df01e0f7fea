"""The fraud batch job: the command, the Celery fan-out, the post-import step, chunking."""

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError

from importer import services as imports
from importer.models import ImportJob
from importer.pipeline import post_import_services
from players.fingerprints import fingerprints_record
from players.models import BatchJob
from safety import services, tasks
from safety.models import FraudFlag
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def _ring(n=3, value="dev-r"):
    ring = [PlayerFactory() for _ in range(n)]
    fingerprints_record(rows=[(p.pk, "device", value) for p in ring])
    return ring


def test_command_scans_and_reports(capsys):
    _ring()
    call_command("fraud_scan", "--chunk-size", "2")
    out = capsys.readouterr().out
    assert "3 players in 2 chunks" in out and "3 players in clusters" in out
    assert FraudFlag.objects.filter(signal="shared_device").count() == 3


def test_command_fails_loudly(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("safety.management.commands.fraud_scan.fraud_scan", broken)
    with pytest.raises(CommandError, match="database went away"):
        call_command("fraud_scan")
    with pytest.raises(CommandError, match="Unknown player"):
        call_command("fraud_scan", "--player", "nobody")


def test_celery_job_fans_out_chunks(monkeypatch):
    ring = _ring(4)
    seen = []
    real = services.fraud_scan_chunk

    def chunk(**kwargs):
        seen.append(kwargs["player_ids"])
        return real(**kwargs)

    monkeypatch.setattr(services, "fraud_scan_chunk", chunk)
    tasks.fraud_scan.delay(chunk_size=1)
    assert seen == [[p.pk] for p in ring]  # one chunk per player, each once
    job = BatchJob.objects.get(kind="fraud_scan")
    assert (job.status, job.chunks_done, job.players_done) == ("succeeded", 4, 4)
    assert all(p.__class__.objects.get(pk=p.pk).risk_score == 60 for p in ring)  # 40 × 1.5


def test_safety_is_a_declared_post_import_step():
    assert post_import_services()["safety"] is services.fraud_scan_after_import


def test_import_runs_the_safety_step():
    content = b"Player ID,Device ID\nimp-1,dev-shared\nimp-2,dev-shared\nimp-3,dev-own\n"
    job = imports.import_job_create(
        file=ContentFile(content, name="p.csv"), kind="players", start=False
    )
    job = imports.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.SUCCEEDED
    flagged = FraudFlag.objects.values_list("player__external_id", flat=True)
    assert sorted(flagged) == ["imp-1", "imp-2"]
