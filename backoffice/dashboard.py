"""The dashboard's figures (SPEC §11): each chart or tile is one selector of the app that owns
the data (one set-based query each, money in the reporting currency), gathered here with the
links that lead from each figure into its workflow."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.timesince import timesince

from importer.selectors import import_jobs_summary
from players.selectors import bonus_cost_share_by_day, currencies_without_rate, segment_distribution
from rewards.selectors import review_queue_summary, rewards_by_rule_and_day
from safety.selectors import open_flags_by_signal
from webhooks.selectors import endpoints_disabled

RANGES = (30, 90)  # days of the rewards and bonus cost charts (the selector on the page)


def changelist(name: str, **filters) -> str:
    """The admin list of `app_model`, filtered: `changelist("players_player", segment__exact=…)`."""
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def dashboard(*, days: int = 30) -> dict:
    """Everything the dashboard shows, as plain values (JSON-ready: money as strings in the
    reporting currency, dates as ISO strings), with the links of each figure:
    `{"currency", "days", "ranges", "segments", "rewards", "bonus_share", "review_queue",
    "flags", "imports", "currencies_without_rate", "webhooks_disabled", "links"}`.
    `days` is one of `RANGES` (other values fall back to 30)."""
    days = days if days in RANGES else RANGES[0]
    segments = segment_distribution(window="30d")
    for row in segments["segments"]:
        row["url"] = changelist("players_player", segment__exact=row["segment"])
    rewards = rewards_by_rule_and_day(days=days)
    for rule in rewards["rules"]:
        rule["url"] = changelist(
            "rewards_reward", rule__id__exact=rule["id"], status__exact="issued"
        )
    flags = open_flags_by_signal()
    for flag in flags:
        flag["url"] = changelist(
            "safety_fraudflag", status__exact="open", signal__exact=flag["signal"]
        )
        flag["oldest_at"] = flag["oldest_at"].isoformat()
    queue = review_queue_summary()
    imports = import_jobs_summary()
    return {
        "currency": settings.PITBOSS["REPORTING_CURRENCY"],
        "days": days,
        "ranges": RANGES,
        "segments": segments,
        "rewards": rewards,
        "bonus_share": bonus_cost_share_by_day(days=days),
        "review_queue": {
            "size": queue["size"],
            "oldest_at": queue["oldest_at"].isoformat() if queue["oldest_at"] else None,
            "oldest_age_hours": queue["oldest_age_hours"],
            "oldest_age": timesince(queue["oldest_at"]) if queue["oldest_at"] else None,
        },
        "flags": flags,
        "flags_open": sum(flag["open"] for flag in flags),
        "imports": {
            **imports,
            "last_failed_at": imports["last_failed_at"].isoformat()
            if imports["last_failed_at"]
            else None,
        },
        "currencies_without_rate": currencies_without_rate(),
        "webhooks_disabled": [
            {
                **endpoint,
                "failing_since": endpoint["failing_since"].isoformat()
                if endpoint["failing_since"]
                else None,
            }
            for endpoint in endpoints_disabled()
        ],
        "links": {
            "players": changelist("players_player"),
            "segment_distribution": reverse("admin:players_segment_distribution"),
            "custom_segments": changelist("rewards_customsegment"),
            "rules": changelist("rewards_rule"),
            "rewards": changelist("rewards_reward", status__exact="issued"),
            "runs": changelist("rewards_rulerun"),
            "review_queue": changelist("rewards_reviewqueueitem"),
            "flags": changelist("safety_fraudflag", status__exact="open"),
            "clusters": changelist("safety_fraudcluster"),
            "imports": changelist("importer_importjob"),
            "imports_running": changelist("importer_importjob", status__exact="running"),
            "imports_queued": changelist("importer_importjob", status__exact="queued"),
            "imports_failed": changelist("importer_importjob", status__exact="failed"),
            "import_upload": reverse("admin:importer_upload"),
            "currencies": changelist("players_currency", rate="missing"),
            "webhooks_disabled": changelist("webhooks_webhookendpoint", state="disabled"),
            "bonuses": changelist("wallet_bonus"),
        },
    }
