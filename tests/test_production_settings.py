"""Production is every entry point's default; it refuses to start without its secrets and
passes `manage.py check --deploy` with no warning; the internal endpoints need auth."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/pitboss",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "pitboss.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    ours = {"DJANGO_SETTINGS_MODULE", "PITBOSS_DEV", *PRODUCTION_ENV}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_default_settings():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    "missing, message",
    [
        ("SECRET_KEY", "Set SECRET_KEY (production), or PITBOSS_DEV=1"),
        ("DATABASE_URL", "DATABASE_URL pointing at PostgreSQL"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(missing, message):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    done = manage("check", **env)
    assert done.returncode != 0
    assert message in done.stderr


def test_the_development_flag_selects_development_settings():
    done = manage("diffsettings", "--all", PITBOSS_DEV="1")
    assert done.returncode == 0, done.stderr
    assert "pitboss-insecure-development-key" in done.stdout
    assert "SECURE_SSL_REDIRECT = False" in done.stdout


@pytest.mark.django_db
def test_metrics_need_a_token_or_loopback(client, admin_client):
    with override_settings(PITBOSS={"METRICS_TOKEN": "scrape-me"}):
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
        ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
        assert ok.status_code == 200 and b"django_http_requests" in ok.content
        assert admin_client.get("/metrics").status_code == 200  # a staff session
    with override_settings(PITBOSS={"METRICS_TOKEN": ""}):
        assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
        assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 403


@pytest.mark.django_db
def test_the_api_docs_need_a_user(client, service_client):
    assert client.get("/api/v1/docs/").status_code in (401, 403)
    assert service_client.get("/api/v1/docs/").status_code == 200


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(admin_client):
    policy = admin_client.get("/admin/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
