"""The back office's daily workflows in a real browser (issue 17 "Done means"), as a CRM manager
and an operator do them: log in; write a rule with an expression typo and read the suggestion
at the field; fix it; simulate it beside the form and read the numbers (the same the service
computes); run it (a real Celery worker over Redis runs it); approve a reward from the review
queue with a note; open the player and read the bonus's wagering progress; import a CSV and
watch the progress bar finish (the worker again), then download the error report.

Screenshots of the rule editor, the review queue, the player page and the import go to
artifacts/screenshots/ (tests/browser.py).
"""

import re
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from importer.models import ImportJob
from players.models import Currency, Player
from rewards import services
from rewards.models import Reward, Rule, RuleRun
from tests.browser import admin_login, chromium_page, screenshot
from tests.rewards.rules.conftest import player_make
from wallet.admin_player import wagering_percent
from wallet.events import EventInput, events_ingest
from wallet.models import Bonus

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "journey-password"
FIGURES = (
    "players_evaluated", "matched", "held_out", "issued", "capped", "rejected", "review",
    "total_amount", "expected_cost",
)  # fmt: skip
IMPORT_ROWS = 3000


@pytest.fixture
def shared_media(monkeypatch) -> Path:
    """The live server's media folder (the test settings') for the worker too (a subprocess):
    the worker reads the uploaded file the server stored."""
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def page(monkeypatch):
    with chromium_page(monkeypatch, viewport={"width": 1500, "height": 1000}) as page:
        yield page


def wait_for(check, *, seconds: float = 60, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def players_seed() -> dict[str, list[Player]]:
    """Losing players: big losers get a reward over the approval threshold (review), small
    losers one under it (issued), winners nothing."""

    def losers(net_loss: str, count: int) -> list[Player]:
        return [player_make(metrics={"7d": {"net_loss": net_loss}}) for _ in range(count)]

    return {"review": losers("200", 3), "issued": losers("60", 4), "none": losers("0", 2)}


def rule_form_fill(page, *, condition: str) -> None:
    page.fill("#id_name", "Weekly cashback (journey)")
    page.fill("#id_condition", condition)
    page.select_option("#id_reward_type", "bonus")
    page.fill("#id_amount", "clamp(net_loss_7d * 0.10, 1, 100)")
    page.select_option("#id_currency", "EUR")
    page.fill("#id_terms", '{"wagering_multiplier": 10}')
    page.fill("#id_approval_threshold", "15")


def test_rule_review_player_and_import_journey(
    shared_media, celery_worker_process, live_server, page, tmp_path
):
    groups = players_seed()
    get_user_model().objects.create_superuser("crm", "crm@example.test", PASSWORD)
    admin_login(page, live_server, "crm", PASSWORD)

    # write a rule with a typo: the message and its suggestion at the field, nothing saved
    page.goto(f"{live_server.url}/admin/rewards/rule/add/")
    rule_form_fill(page, condition="net_los_7d >= 50")
    page.click("#simulate-button")
    page.wait_for_selector("#simulation[data-state=errors]")
    condition_errors = page.locator(".field-condition ul.errorlist").inner_text()
    assert "unknown name 'net_los_7d'" in condition_errors
    assert "did you mean 'net_loss_7d'" in condition_errors
    assert Rule.objects.count() == 0

    # fix it and simulate: the table beside the form, the rule still unsaved
    page.fill("#id_condition", "net_loss_7d >= 50")
    page.click("#simulate-button")
    page.wait_for_selector("#simulation[data-state=done]")
    assert page.locator(".field-condition ul.errorlist").count() == 0
    shown = {
        name: page.locator(f"#simulation td[data-figure={name}]").inner_text() for name in FIGURES
    }
    assert Rule.objects.count() == 0
    screenshot(page, "rule-editor")

    page.click("input[name=_continue]")
    page.wait_for_url(re.compile(r".*/admin/rewards/rule/\d+/change/"))
    rule = Rule.objects.get()
    expected = services.rule_simulate(rule=rule)  # the same data, through the service
    assert shown == {name: str(expected[name]) for name in FIGURES}
    assert (shown["matched"], shown["review"], shown["issued"]) == ("7", "3", "4")

    # run it: the worker runs the saved rule
    page.click("#run-now")
    page.wait_for_url(re.compile(r".*/admin/rewards/rulerun/\d+/change/"))
    run = RuleRun.objects.get()
    wait_for(
        lambda: RuleRun.objects.get(pk=run.pk).status == RuleRun.Status.SUCCEEDED,
        what="the rule run",
    )
    pending = Reward.objects.filter(status=Reward.Status.PENDING_REVIEW)
    assert {r.player_id for r in pending} == {p.pk for p in groups["review"]}

    # the review queue: approve the oldest with a note
    page.goto(f"{live_server.url}/admin/rewards/rule/{rule.pk}/change/")
    page.click('.object-tools a:text-is("Review queue")')
    page.wait_for_url(re.compile(r".*/admin/rewards/reviewqueueitem/.*"))
    assert page.locator("#result_list tbody tr").count() == 3
    screenshot(page, "review-queue")
    page.locator("#result_list input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    page.fill("#id_note", "checked the player's history")
    page.click("input[type=submit][value=Approve]")
    page.wait_for_selector(".messagelist")
    assert "Approved 1 reward(s)." in page.locator(".messagelist").inner_text()
    approved = Reward.objects.get(status=Reward.Status.ISSUED, note="checked the player's history")
    assert approved.decided_by.username == "crm"
    assert page.locator("#result_list tbody tr").count() == 2

    # the player bets with the bonus; their page shows the wagering progress
    player = approved.player
    events_ingest(
        events=[
            EventInput(
                external_id="journey-bet-1", player_id=player.external_id, type="bet",
                amount=Decimal("5.00"), currency=Currency.objects.get(code="EUR"),
                occurred_at=timezone.now() - timedelta(minutes=1), game_category="slots",
            )
        ]
    )  # fmt: skip
    bonus = Bonus.objects.get(player=player)
    assert bonus.wagering_done > 0
    page.goto(f"{live_server.url}/admin/players/player/?q={player.external_id}")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_url(re.compile(rf".*/admin/players/player/{player.pk}/change/"))
    bar = page.locator("#bonuses-group td.field-wagering_bar")
    percent = wagering_percent(required=bonus.wagering_required, done=bonus.wagering_done)
    assert bar.locator("progress").get_attribute("value") == str(percent)
    figures = bar.locator(".wagering-figures").inner_text()
    assert figures == f"5.00 / {bonus.wagering_required:.2f} ({percent}%)"
    assert page.locator("#bonuses-group a", has_text="Forfeit").count() == 1
    assert page.locator(".object-tools a", has_text="Grant a bonus").count() == 1
    decision = page.locator("#decisions-group tr", has_text="Weekly cashback (journey)")
    assert decision.locator("td.field-outcome").inner_text() == "Pending Review"
    assert decision.locator("td.field-reward_now").inner_text() == "Issued"
    screenshot(page, "player")

    # import a CSV: the automatic matches, then the progress bar until the worker is done
    rows = ["UserID,Username,Currency,RegDate"] + [
        f"imp-{n},user{n},EUR,2024-01-{1 + n % 28:02d}" for n in range(IMPORT_ROWS)
    ]
    rows.append("imp-bad,nobody,EUR,not a date")
    csv = tmp_path / "players.csv"
    csv.write_text("\n".join(rows) + "\n")
    page.goto(f"{live_server.url}/admin/importer/importjob/upload/")
    page.set_input_files("#id_file", str(csv))
    page.select_option("#id_kind", "players")
    page.select_option("#id_on_error", "skip")
    page.click("input[name=_preview]")
    mapping = page.locator("#mapping-preview")
    assert "automatically" in mapping.locator("tr[data-field=player_id]").inner_text()
    assert "UserID" in mapping.locator("tr[data-field=player_id]").inner_text()
    screenshot(page, "import-preview")
    page.click("input[name=_import]")
    page.wait_for_url(re.compile(r".*/admin/importer/importjob/\d+/change/"))
    progress = page.locator("#import-progress")
    # the page is rendered while the worker runs the job's chain (parse to issue, 3,001 rows)
    assert progress.get_attribute("data-state") in ("queued", "running")
    page.wait_for_selector("#import-progress[data-state=succeeded]", timeout=90_000)
    assert progress.locator("progress").get_attribute("value") == "100"
    assert progress.locator(".import-reload").is_visible()  # the fields below are stale
    assert progress.locator(".import-rows").inner_text() == f"{IMPORT_ROWS + 1} / {IMPORT_ROWS + 1}"
    job = ImportJob.objects.get()
    assert (job.status, job.rows_rejected) == (ImportJob.Status.SUCCEEDED, 1)
    assert Player.objects.filter(external_id__startswith="imp-").count() == IMPORT_ROWS
    screenshot(page, "import-progress")
    with page.expect_download() as download:
        progress.locator("a.import-error-report").click()
    report = download.value.path().read_text()
    assert "imp-bad" in report or "not a date" in report
