"""The back office's roles and sign-in protection in a real browser (Chromium through
Playwright, on a live server): an analyst opens a rule and cannot save it; five wrong passwords
lock a user out, the right one included. The `page` fixture is the players' browser tests'."""

import re

import pytest

from rewards.models import Rule
from tests.backoffice.conftest import PASSWORD, staff_user
from tests.players.test_admin_browser import page  # noqa: F401  (the Chromium fixture)
from tests.rewards.rules.conftest import rule_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, username: str, password: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_analyst_opens_a_rule_and_cannot_save_it(page, live_server):  # noqa: F811
    rule = rule_make(name="Weekly cashback")
    staff_user("analyst")
    _sign_in(page, live_server, "analyst-staff", PASSWORD)
    page.wait_for_url(re.compile(r".*/admin/$"))
    page.goto(f"{live_server.url}/admin/rewards/rule/")
    page.click("text=Weekly cashback")
    page.wait_for_url(re.compile(rf".*/admin/rewards/rule/{rule.pk}/change/"))
    assert "View rule" in page.content()
    assert page.locator("input[name=_save]").count() == 0  # no save button
    assert page.locator("textarea[name=condition]").count() == 0  # read-only, not a field
    assert "net_loss_7d &gt;= 50" in page.content() or "net_loss_7d >= 50" in page.inner_text(
        "body"
    )
    # a save forged from the page (with the session and its CSRF token) is refused: 403
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        f"{live_server.url}/admin/rewards/rule/{rule.pk}/change/",
        form={"csrfmiddlewaretoken": token, "name": "hacked", "priority": "1"},
        headers={"Referer": page.url},
    )
    assert answer.status == 403
    assert Rule.objects.get(pk=rule.pk).name == "Weekly cashback"


def test_five_wrong_passwords_lock_out_even_the_right_one(page, live_server):  # noqa: F811
    staff_user("operator")
    for attempt in range(5):
        _sign_in(page, live_server, "operator-staff", f"wrong-{attempt}")
        page.wait_for_load_state()
    _sign_in(page, live_server, "operator-staff", PASSWORD)
    page.wait_for_selector("#locked-out")
    message = page.inner_text("#locked-out")
    assert "Too many failed sign-ins" in message and "operator-staff" in message
    assert "Even the right password is refused" in message
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not signed in
