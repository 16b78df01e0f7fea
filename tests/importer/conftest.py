"""Fixtures for importer tests: files written on the fly, a runner for jobs."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from importer import services

# The real files stay in ../shared (their licence is unknown); PITBOSS_REAL_DATA points elsewhere.
REAL = Path(
    os.environ.get("PITBOSS_REAL_DATA", Path(settings.BASE_DIR).parent / "shared" / "data" / "real")
)


# Small files written the way operators' systems export them (issue 16); see docs/importing.md.
FILES = Path(__file__).parent / "files"


def stored_amounts() -> dict:
    """external_id -> amount of the stored activity."""
    from players.models import Activity

    return dict(Activity.objects.values_list("external_id", "amount"))


def real_file(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real data file {path} is absent (it lives in ../shared, outside the repo)")
    return path


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_import(db):
    """Create a job from bytes (or a path) and run all its stages in this process."""

    def run(content, *, kind, name="upload.csv", **options):
        if isinstance(content, Path):
            upload = services.upload_from_path(str(content))
        else:
            upload = ContentFile(content, name=name)
        job = services.import_job_create(file=upload, kind=kind, start=False, **options)
        return services.import_job_run(job_id=job.pk)

    return run


def postgres_only():
    return pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytest.fixture
def api_client_operator(operator_client, django_capture_on_commit_callbacks):
    """An operator's API client whose on_commit callbacks (the job chain) run at once."""
    original = operator_client.generic

    def generic(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(*args, **kwargs)

    operator_client.generic = generic
    return operator_client
