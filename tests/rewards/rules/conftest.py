"""Rules engine test fixtures: players with metrics, rules from the SPEC §10 shape, the
jurisdiction seed, and the ledger conservation check after every test that touches the db."""

import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from players.models import Player, PlayerMetrics
from rewards.models import JurisdictionLimit
from rewards.rules import rule_save

# autouse: the books balance (ledger conservation) after every test here
from tests.wallet.conftest import ledger_conserved  # noqa: F401

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _jurisdictions_seed(request):
    """The seeded jurisdiction limits (a transactional test's flush removes them)."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("ledger_conserved")  # the database, set up as the wallet's tests do
    JurisdictionLimit.objects.get_or_create(
        country="GB", kind="max_wagering_multiplier", defaults={"value": Decimal(10)}
    )
    JurisdictionLimit.objects.get_or_create(country="SE", kind="one_welcome_bonus")


PROFITABLE_NGR = "1000000"


def player_make(
    *, segment="losing", country="DE", currency="EUR", status=Player.Status.ACTIVE,
    metrics=None, **fields,
) -> Player:  # fmt: skip
    """A player with metrics rows: `metrics={"7d": {"net_loss": "550"}}`."""
    player = Player.objects.create(
        external_id=f"rp-{next(_ids)}",
        currency_id=currency,
        country=country,
        registered_at=timezone.now(),
        status=status,
        segment=segment,
        **fields,
    )
    now = timezone.now()
    # Every player has an NGR large enough that the profit-safety share (30% of NGR over the
    # rule's lookback) never limits these tests' rewards; tests/safety covers that limit.
    metrics = {
        window: {"ngr": PROFITABLE_NGR, **(metrics or {}).get(window, {})}
        for window in ("7d", "30d", "lifetime")
    }
    for window, values in metrics.items():
        PlayerMetrics.objects.create(
            player=player,
            window=window,
            as_of=now,
            **{k: Decimal(str(v)) if isinstance(v, str | float) else v for k, v in values.items()},
        )
    return player


RULE = {
    "name": "Weekly cashback",
    "description": "10% of last week's net loss",
    "active": True,
    "valid_from": None,
    "valid_until": None,
    "priority": 100,
    "exclusive": False,
    "trigger": "manual",
    "target_segments": ["losing"],
    "condition": "net_loss_7d >= 50",
    "reward_type": "cashback",
    "amount": "net_loss_7d * 0.10",
    "currency": None,
    "terms": None,
    "free_spins": None,
    "limits": {},
    "approval_threshold": None,
    "holdout_percent": 0,
    "acquisition": False,
    "lookback": "30d",
}

_names = itertools.count(1)


def rule_make(**fields):
    data = {**RULE, "name": f"rule {next(_names)}", **fields}
    return rule_save(data=data)


def table_counts() -> dict[str, int]:
    """Rows in every table (to prove that something wrote nothing)."""
    from django.apps import apps

    return {
        model._meta.db_table: model.objects.count()
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.managed
    }
