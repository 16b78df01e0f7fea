"""The admin's navigation grouped by what staff do (SPEC §11), not by Django app.

Each group lists models (`app_label.ModelName`) in the order staff reach for them. A model no
group names falls back by its app (`FALLBACK`), and anything else lands in Settings, so that a
model registered later is never unreachable.
"""

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Rewards",
        (
            "rewards.Rule",
            "rewards.RuleRun",
            "rewards.ReviewQueueItem",
            "rewards.Reward",
            "rewards.Decision",
        ),
    ),
    (
        "Players",
        (
            "players.Player",
            "players.SegmentChange",
            "rewards.CustomSegment",
            "players.PlayerMetrics",
            "players.Activity",
        ),
    ),
    (
        "Wallet",
        (
            "wallet.Bonus",
            "wallet.LedgerTransaction",
            "wallet.Account",
            "wallet.GameSession",
            "wallet.GameRound",
        ),
    ),
    ("Safety", ("safety.FraudFlag", "safety.FraudCluster")),
    ("Imports", ("importer.ImportJob", "importer.ImportTemplate", "importer.ImportLookup")),
    (
        "Settings",
        (
            "players.SegmentPolicy",
            "safety.SafetyPolicy",
            "safety.SignalWeight",
            "players.Currency",
            "rewards.JurisdictionLimit",
            "safety.HouseEdge",
            "wallet.BalancePolicy",
            "wallet.Game",
            "wallet.Aggregator",
            "django_celery_beat.PeriodicTask",
            "django_celery_beat.CrontabSchedule",
            "django_celery_beat.IntervalSchedule",
            "django_celery_beat.ClockedSchedule",
            "django_celery_beat.SolarSchedule",
            "webhooks.WebhookEndpoint",
            "webhooks.WebhookDelivery",
            "auth.User",
            "auth.Group",
            "accounts.ApiToken",
            "authtoken.TokenProxy",
        ),
    ),
)
FALLBACK = {
    "rewards": "Rewards",
    "players": "Players",
    "wallet": "Wallet",
    "safety": "Safety",
    "importer": "Imports",
}
DEFAULT_GROUP = "Settings"


def _group_of() -> dict[str, tuple[str, int]]:
    return {
        label: (group, position)
        for group, labels in GROUPS
        for position, label in enumerate(labels)
    }


GROUP_OF = _group_of()


def grouped(app_list: list[dict]) -> list[dict]:
    """Django's app list (one dict per app with its `models`) regrouped into the staff groups,
    in `GROUPS` order; each group is shaped like an app (`name`, `app_label`, `app_url`,
    `has_module_perms`, `models`) so the admin's templates render it. Empty groups are left
    out (a role sees only the models it may view)."""
    members: dict[str, list[tuple[int, str, dict]]] = {name: [] for name, _ in GROUPS}
    for app in app_list:
        for model in app["models"]:
            label = f"{app['app_label']}.{model['object_name']}"
            group, position = GROUP_OF.get(
                label, (FALLBACK.get(app["app_label"], DEFAULT_GROUP), len(GROUP_OF))
            )
            members[group].append((position, str(model["name"]), model))
    groups = []
    for name, _ in GROUPS:
        models = [model for _, _, model in sorted(members[name], key=lambda m: m[:2])]
        if not models:
            continue
        first = next((m for m in models if m.get("admin_url")), None)
        groups.append(
            {
                "name": name,
                "app_label": f"pitboss-{name.lower()}",
                "app_url": first["admin_url"] if first else "",
                "has_module_perms": True,
                "models": models,
            }
        )
    return groups
