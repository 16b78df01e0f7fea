"""Staff sign-in protection: django-axes locks a username at an address after
AXES_FAILURE_LIMIT wrong passwords (the right one is refused too, with a clear page), the API's
token authentication is not affected, and idle sessions expire."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.backoffice.conftest import PASSWORD, staff_user

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


def _sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client):
    staff_user("operator")
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        answer = _sign_in(client, "operator-staff", "wrong")
        assert (
            answer.status_code == 200 and "correct username and password" in answer.content.decode()
        )
    fifth = _sign_in(client, "operator-staff", "wrong")
    assert fifth.status_code == 429  # Too Many Requests (AXES_HTTP_RESPONSE_CODE)
    locked = _sign_in(client, "operator-staff", PASSWORD)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'id="locked-out"' in page and "Too many failed sign-ins" in page
    assert "0:30:00" in page  # the cool-off, from AXES_COOLOFF_TIME
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="operator-staff")
    assert attempt.failures_since_start == 6  # the refused right password counts too


def test_the_lock_holds_the_username_at_that_address_only(client):
    staff_user("analyst")
    for _ in range(5):
        _sign_in(client, "analyst-staff", "wrong", address="10.0.0.9")
    assert _sign_in(client, "analyst-staff", PASSWORD, address="10.0.0.9").status_code != 302
    elsewhere = _sign_in(client, "analyst-staff", PASSWORD, address="10.0.0.10")
    assert elsewhere.status_code == 302 and elsewhere["Location"] == "/admin/"


def test_a_successful_sign_in_resets_the_count(client):
    staff_user("analyst")
    for _ in range(4):
        _sign_in(client, "analyst-staff", "wrong")
    assert _sign_in(client, "analyst-staff", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _sign_in(client, "analyst-staff", "wrong")
    assert _sign_in(client, "analyst-staff", PASSWORD).status_code == 302


def test_api_tokens_are_not_affected_by_the_lockout(api_client_for, client):
    api = api_client_for("operator")  # user "test-operator", with a token
    for _ in range(6):
        _sign_in(client, "test-operator", "wrong", address="127.0.0.1")
    assert AccessAttempt.objects.filter(username="test-operator").exists()
    assert api.get("/api/v1/players/").status_code == 200  # the token still works
    bad = api_client_for("analyst")
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    for _ in range(6):
        assert bad.get("/api/v1/players/").status_code == 401
    assert not AccessAttempt.objects.exclude(username="test-operator").exists()


def test_idle_sessions_expire(client):
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE == 30 * 60
    staff_user("analyst")
    assert _sign_in(client, "analyst-staff", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    left = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)  # renewed by the request
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    idle = client.get("/admin/")
    assert idle.status_code == 302 and idle["Location"].startswith("/admin/login/")
