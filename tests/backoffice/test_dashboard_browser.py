"""The dashboard in a real browser (Chromium through Playwright) on a live server: a staff user
logs in and lands on the dashboard, every chart is drawn by Chart.js, nothing is blocked by the
Content-Security-Policy, the console stays clean, a chart click opens its workflow, and a
screenshot is saved to artifacts/screenshots/dashboard.png (docs/back-office.md)."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from players.models import Activity, BonusActivity, Player
from rewards.models import Reward, Rule, RuleRun

# the browser fixture (Chromium, CSP violations fail the test) and the login of the players'
# browser tests
from tests.players.test_admin_browser import login, page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "dashboard.png"
CANVASES = ("segments", "rewards", "rewards-cost", "bonus-share", "flags")


def month_of_rewards_and_play(players: list[Player]) -> None:
    """Three rules issuing rewards and daily bets, wins and bonus costs over 30 days."""
    now = timezone.now()
    rules = [
        Rule.objects.create(name=name, reward_type="bonus")
        for name in ("deposit-match", "weekend-free-spins", "vip-reload")
    ]
    rewards, activity, bonus = [], [], []
    for day in range(30):
        at = now - timedelta(days=day, hours=1)
        run = RuleRun.objects.create()
        for n, player in enumerate(players):
            rule = rules[(day + n) % 3]
            cost = Decimal(5 + (day * 7 + n * 11) % 40)
            rewards.append(
                Reward(rule=rule, rule_version=1, player=player, run=run, reward_type="bonus",
                       status="issued", amount=cost, currency=player.currency,
                       requested_amount=cost, reporting_amount=cost, created_at=at)
            )  # fmt: skip
            stake = Decimal(200 + (day * 13 + n * 29) % 300)
            for kind, amount in (("bet", stake), ("win", stake * Decimal("0.8"))):
                activity.append(
                    Activity(source="test", external_id=f"{kind}-{day}-{n}", player=player,
                             type=kind, amount=amount, currency=player.currency,
                             player_amount=amount, occurred_at=at)
                )  # fmt: skip
            bonus.append(
                BonusActivity(player=player, kind="converted", player_amount=cost, occurred_at=at)
            )
    Reward.objects.bulk_create(rewards)
    Activity.objects.bulk_create(activity)
    BonusActivity.objects.bulk_create(bonus)


def test_dashboard_draws_every_chart_and_links_into_the_workflows(page, live_server, filled):  # noqa: F811
    month_of_rewards_and_play([filled["eur"], filled["usd"]])
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1440, "height": 1800})

    login(page, live_server)  # the login lands on the dashboard
    assert page.title() == "Dashboard | Pitboss back office"
    page.wait_for_function("window.pitbossCharts && window.pitbossCharts.length === 5")
    for canvas in CANVASES:
        drawn = page.evaluate(
            """(id) => {
                const chart = window.Chart.getChart(document.getElementById(id));
                return chart ? chart.data.datasets.map((d) => d.data.length) : null;
            }""",
            f"chart-{canvas}",
        )
        assert drawn, canvas
        assert all(length > 0 for length in drawn), (canvas, drawn)
    rules = page.evaluate(
        "Chart.getChart(document.getElementById('chart-rewards')).data.datasets.map(d => d.label)"
    )
    assert sorted(rules) == [
        "deposit-match",
        "vip-reload",
        "weekend-free-spins",
        "weekly-cashback",
        "welcome",
    ]
    assert page.locator("#tile-review-queue .figure").inner_text() == "2"
    assert "XTS" in page.locator("#tile-currencies").inner_text()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000

    # the range selector, then a click on the flags chart's bar opens the flags of that signal
    page.click("text=90 days")
    page.wait_for_url(re.compile(r".*\?days=90$"))
    page.wait_for_function("window.pitbossCharts && window.pitbossCharts.length === 5")
    assert (
        page.evaluate(
            "Chart.getChart(document.getElementById('chart-bonus-share')).data.labels.length"
        )
        == 90
    )
    box = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById('chart-flags'));
            chart.canvas.scrollIntoView();
            const bar = chart.getDatasetMeta(0).data[0];
            const rect = chart.canvas.getBoundingClientRect();
            return {x: rect.left + (bar.x + bar.base) / 2, y: rect.top + bar.y};
        }"""
    )
    page.mouse.click(box["x"], box["y"])
    page.wait_for_url(
        re.compile(r".*/admin/safety/fraudflag/\?status__exact=open&signal__exact=shared_device")
    )
    assert errors == []
