"""The players back office in a real browser (Chromium through Playwright, tests/browser.py)
on a live server."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from players.models import Player, SegmentChange
from players.services import players_refresh
from tests.browser import admin_login, chromium_page
from tests.factories import ActivityFactory, PlayerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "browser-test-password"


@pytest.fixture
def page(monkeypatch):
    with chromium_page(monkeypatch) as page:
        yield page


def bet(player: Player, amount: str, *, win: str | None = None) -> None:
    when = datetime.now(UTC) - timedelta(hours=1)
    for type_, value in (("bet", amount), ("win", win)):
        if value:
            ActivityFactory(
                player=player,
                type=type_,
                amount=Decimal(value),
                player_amount=Decimal(value),
                occurred_at=when,
            )


def login(page, live_server) -> None:
    get_user_model().objects.create_superuser("boss", "boss@example.test", PASSWORD)
    admin_login(page, live_server, "boss", PASSWORD)


def test_admin_player_search_profile_distribution_and_refresh(page, live_server):
    player = PlayerFactory(external_id="vip.player@casino", username="highroller")
    PlayerFactory(external_id="someone-else")
    bet(player, "100")
    players_refresh(player_ids=[player.pk])
    assert Player.objects.get(pk=player.pk).segment == "losing"
    login(page, live_server)

    # search by external id and open the player
    page.goto(f"{live_server.url}/admin/players/player/")
    page.fill("#searchbar", "vip.player@casino")
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r".*\?q="))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "someone-else" not in page.content()
    rows.first.locator("th a").click()
    page.wait_for_url(re.compile(rf".*/admin/players/player/{player.pk}/change/"))

    # the metrics table and the segment history
    metrics = page.locator(".field-metrics_table table")
    assert metrics.locator("tr").first.inner_text().split() == ["metric", "lifetime", "30d", "7d"]
    turnover = metrics.locator("tr", has_text="turnover").first.inner_text()
    assert turnover.split()[0] == "turnover"
    assert [Decimal(v) for v in turnover.split()[1:]] == [Decimal(100)] * 3
    history = page.locator("#segment_changes-group")
    assert "segment history" in history.inner_text().lower()
    change = history.locator("tr.has_original, tr.form-row").first
    assert change.locator("td.field-from_segment").inner_text().lower() == "new"
    assert change.locator("td.field-to_segment").inner_text().lower() == "losing"
    # the evidence in the player's currency, not raw JSON with 8 decimals (issue 11 case 8)
    assert "player_net_lifetime -100.00" in change.locator("td.field-evidence").inner_text()

    # the segment distribution page
    page.goto(f"{live_server.url}/admin/players/player/")
    page.click("text=Segment distribution")
    page.wait_for_url(re.compile(r".*/admin/players/player/distribution/"))
    losing = page.locator("#segment-distribution tr", has_text="losing").inner_text().split()
    assert losing[:3] == ["losing", "1", "100.00"]
    page.click("a[href='?window=7d']")
    page.wait_for_url(re.compile(r".*window=7d"))

    # the "Refresh metrics and segments" action
    bet(player, "10", win="300")  # now winning, once refreshed
    page.goto(f"{live_server.url}/admin/players/player/?q=vip.player%40casino")
    page.check("#result_list input[name=_selected_action]")
    page.select_option("select[name=action]", "refresh_metrics")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "Refreshed 1 players." in page.locator(".messagelist").inner_text()
    assert Player.objects.get(pk=player.pk).segment == "winning"
    assert list(
        SegmentChange.objects.filter(player=player)
        .order_by("pk")
        .values_list("from_segment", "to_segment")
    ) == [("new", "losing"), ("losing", "winning")]
