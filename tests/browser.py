"""Chromium (Debian's, through Playwright) for the back-office tests on a live server.

Skipped when /usr/bin/chromium is absent, unless PITBOSS_REQUIRE_BROWSER=1 (CI) makes that a
failure. Playwright's sync API runs an event loop in the test's thread, so Django's async-safety
check is switched off while a page is open (DJANGO_ALLOW_ASYNC_UNSAFE). A page fails its test
if the Content-Security-Policy blocked anything the admin uses.
"""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# CI keeps this folder as an artifact (README "Back office screenshots"); it is gitignored.
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


@contextmanager
def chromium_page(monkeypatch, *, viewport: dict | None = None):
    """A fresh headless Chromium page; the browser is closed (and Django's connections on both
    sides of Playwright's context) when the block ends."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("PITBOSS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and PITBOSS_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    # Django's connections are per context, and the sync API runs the test in a context of its
    # own: close them on both sides, or a PostgreSQL session outlives the test database.
    connections.close_all()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport=viewport) if viewport else browser.new_page()
            page.set_default_timeout(15_000)
            blocked = []  # the Content-Security-Policy must not block anything the admin uses
            page.on(
                "console",
                lambda message: (
                    blocked.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            yield page
            assert blocked == [], blocked
        finally:
            browser.close()
            connections.close_all()


def admin_login(page, live_server, username: str, password: str) -> None:
    """Log in through the admin's login form and land on the admin index."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def screenshot(page, name: str) -> Path:
    """Save the whole page as artifacts/screenshots/<name>.png (docs/back-office.md)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # sticky panels drawn where they stand at the top
    page.screenshot(path=str(path), full_page=True)
    return path
