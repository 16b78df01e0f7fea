"""Rules: validation of every field of the SPEC §10 shape, versioned saves and the beat entry.

`rule_save` is the one way a rule changes (API and admin): it validates, bumps `version`,
stores a `RuleVersion` snapshot and keeps the rule's django-celery-beat `PeriodicTask` in step
with its `schedule` trigger. Errors are one `DomainError` ("invalid_rule", or
"invalid_expression" for a condition or formula) whose `details` map field → problems.
"""

import json
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.errors import DomainError
from players.models import Activity, Currency, Segment
from rewards.expressions import ExpressionError, compile_expression
from rewards.models import CustomSegment, Rule, RuleVersion
from rewards.queueing import SCHEDULE_TASK

TRIGGERS = ("manual", "after_import", "schedule")
EVENT_PREFIX = "on_event:"
PERIODS = ("day", "week", "month")
WAGERING_BASES = ("bonus", "bonus+deposit", "bonus_plus_deposit", "deposit")
LOOKBACKS = ("7d", "30d", "lifetime")
FIELDS = [
    "name",
    "description",
    "active",
    "valid_from",
    "valid_until",
    "priority",
    "exclusive",
    "trigger",
    "schedule",
    "target_segments",
    "condition",
    "reward_type",
    "amount",
    "currency",
    "terms",
    "free_spins",
    "limits",
    "approval_threshold",
    "holdout_percent",
    "acquisition",
    "max_cost_share",
    "lookback",
]


def is_event_trigger(trigger: str) -> bool:
    return trigger.startswith(EVENT_PREFIX)


def condition_context(rule: Rule) -> str:
    return "event_condition" if is_event_trigger(rule.trigger) else "condition"


def amount_context(rule: Rule) -> str:
    return "event_amount" if is_event_trigger(rule.trigger) else "amount"


def _problems(error: ExpressionError) -> list[dict]:
    return [
        {
            "message": p.message,
            "position": p.offset,
            "line": p.line,
            "column": p.column,
            "suggestions": list(p.suggestions),
        }
        for p in error.problems
    ]


def _money(value, field: str, errors: dict, *, allow_zero: bool = False) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [f"{value!r} is not a decimal number."]
        return None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        errors[field] = ["Must be a positive decimal number."]
        return None
    if amount > Decimal("1e12"):
        errors[field] = ["Too large."]
        return None
    return amount


def _check_terms(terms, errors: dict) -> dict | None:
    if terms is None:
        return None
    if not isinstance(terms, dict):
        errors["terms"] = ["Must be an object or null."]
        return None
    clean = dict(terms)
    multiplier = _money(terms.get("wagering_multiplier", 0), "terms", errors, allow_zero=True)
    if multiplier is not None and multiplier > 1000:
        errors["terms"] = ["wagering_multiplier must be at most 1000."]
    clean["wagering_multiplier"] = str(multiplier if multiplier is not None else 0)
    base = terms.get("wagering_base", "bonus")
    if base not in WAGERING_BASES:
        errors["terms"] = [f"wagering_base must be one of {', '.join(WAGERING_BASES)}."]
    clean["wagering_base"] = base
    for name in ("max_bet", "max_conversion"):
        value = _money(terms.get(name), "terms", errors, allow_zero=name == "max_conversion")
        clean[name] = None if value is None else str(value)
    days = terms.get("expires_in_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days <= 0):
        errors["terms"] = ["expires_in_days must be a positive whole number or null."]
    clean["expires_in_days"] = days
    weights = terms.get("contribution_weights") or {}
    if not isinstance(weights, dict):
        errors["terms"] = ["contribution_weights must be an object."]
        weights = {}
    clean["contribution_weights"] = {str(k): str(v) for k, v in weights.items()}
    return clean


def _check_limits(limits, errors: dict) -> dict:
    if limits is None:
        return {}
    if not isinstance(limits, dict):
        errors["limits"] = ["Must be an object."]
        return {}
    clean: dict = {}
    max_amount = _money(limits.get("max_amount"), "limits", errors)
    clean["max_amount"] = None if max_amount is None else str(max_amount)
    cooldown = limits.get("cooldown_days") or 0
    if not isinstance(cooldown, int) or isinstance(cooldown, bool) or cooldown < 0:
        errors["limits"] = ["cooldown_days must be a whole number ≥ 0."]
        cooldown = 0
    clean["cooldown_days"] = cooldown
    clean["per_player"] = []
    for entry in limits.get("per_player") or []:
        if not isinstance(entry, dict) or entry.get("period") not in PERIODS:
            errors["limits"] = [f"per_player entries need a period in {', '.join(PERIODS)}."]
            continue
        count = entry.get("count")
        if count is not None and (not isinstance(count, int) or count <= 0):
            errors["limits"] = ["per_player count must be a positive whole number or null."]
        amount = _money(entry.get("amount"), "limits", errors)
        clean["per_player"].append(
            {
                "period": entry["period"],
                "count": count,
                "amount": None if amount is None else str(amount),
            }
        )
    budget = limits.get("budget")
    if budget is not None:
        if not isinstance(budget, dict) or budget.get("period") not in PERIODS:
            errors["limits"] = [f"budget needs a period in {', '.join(PERIODS)} and an amount."]
            budget = None
        else:
            amount = _money(budget.get("amount"), "limits", errors)
            budget = None if amount is None else {"period": budget["period"], "amount": str(amount)}
    clean["budget"] = budget
    return clean


def rule_validate(data: dict) -> dict:
    """Check a complete rule shape (SPEC §10); → the cleaned fields. Raises DomainError
    `invalid_expression` (details.condition / details.amount: [{message, position, line,
    column, suggestions}]) or `invalid_rule` (details: field → messages)."""
    errors: dict[str, list] = {}
    clean = {name: data.get(name) for name in FIELDS if name in data}
    trigger = data.get("trigger") or "manual"
    if trigger not in TRIGGERS and not (
        is_event_trigger(trigger) and trigger[len(EVENT_PREFIX) :] in Activity.Type.values
    ):
        errors["trigger"] = [
            "Must be manual, after_import, schedule or on_event:<type> with a type in "
            + ", ".join(Activity.Type.values)
            + "."
        ]
    clean["trigger"] = trigger
    schedule = (data.get("schedule") or "").strip()
    if trigger == "schedule" and len(schedule.split()) != 5:
        errors["schedule"] = ['A cron expression of five fields, e.g. "0 6 * * 1".']
    clean["schedule"] = schedule
    event = is_event_trigger(trigger)
    for field, context in (("condition", "event_condition" if event else "condition"),):
        text = data.get(field) or ""
        if text.strip():
            try:
                compile_expression(text, context=context)
            except ExpressionError as error:
                errors[field] = _problems(error)
        clean[field] = text
    reward_type = data.get("reward_type")
    if reward_type not in Rule.RewardType.values:
        errors["reward_type"] = [f"One of {', '.join(Rule.RewardType.values)}."]
    free_spins = data.get("free_spins")
    if reward_type == Rule.RewardType.FREE_SPINS:
        count = free_spins.get("count") if isinstance(free_spins, dict) else None
        spin_value = (
            _money(free_spins.get("spin_value"), "free_spins", errors)
            if isinstance(free_spins, dict)
            else None
        )
        if not isinstance(count, int) or count <= 0 or spin_value is None:
            errors["free_spins"] = ['Needs {"count": n > 0, "spin_value": "0.20", "game_id"}.']
        else:
            free_spins = {
                "count": count,
                "spin_value": str(spin_value),
                "game_id": str(free_spins.get("game_id") or ""),
            }
        clean["amount"] = data.get("amount") or ""
    else:
        free_spins = None
        text = data.get("amount") or ""
        if not text.strip():
            errors["amount"] = [{"message": "An amount formula is required.", "position": 0}]
        else:
            try:
                compile_expression(text, context="event_amount" if event else "amount")
            except ExpressionError as error:
                errors["amount"] = _problems(error)
        clean["amount"] = text
    clean["free_spins"] = free_spins
    terms = data.get("terms")
    if reward_type in (Rule.RewardType.BONUS, Rule.RewardType.FREE_SPINS) and terms is None:
        terms = {}
    if reward_type == Rule.RewardType.CASH:
        terms = None
    clean["terms"] = _check_terms(terms, errors)
    clean["limits"] = _check_limits(data.get("limits"), errors)
    segments = data.get("target_segments") or []
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        errors["target_segments"] = ["A list of segment names."]
    else:
        known = set(Segment.values) | set(CustomSegment.objects.values_list("name", flat=True))
        unknown = [s for s in segments if s not in known]
        if unknown:
            errors["target_segments"] = [f"Unknown segment(s): {', '.join(unknown)}."]
    clean["target_segments"] = segments
    threshold = _money(data.get("approval_threshold"), "approval_threshold", errors)
    clean["approval_threshold"] = threshold
    holdout = data.get("holdout_percent") or 0
    try:
        holdout = Decimal(str(holdout))
        if not holdout.is_finite() or not 0 <= holdout <= 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["holdout_percent"] = ["A number from 0 to 100."]
        holdout = Decimal(0)
    clean["holdout_percent"] = holdout
    share = data.get("max_cost_share")
    try:
        share = Decimal("0.30") if share in (None, "") else Decimal(str(share))
        if not share.is_finite() or not 0 <= share <= 1:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["max_cost_share"] = ["A share from 0 to 1 (0.30 = 30% of the player's NGR)."]
        share = Decimal("0.30")
    clean["max_cost_share"] = share
    if (data.get("lookback") or "30d") not in LOOKBACKS:
        errors["lookback"] = [f"One of {', '.join(LOOKBACKS)}."]
    clean["lookback"] = data.get("lookback") or "30d"
    currency = data.get("currency")
    if currency and not Currency.objects.filter(code=currency).exists():
        errors["currency"] = [f"Unknown currency {currency}."]
    clean["currency"] = currency or None
    if not (data.get("name") or "").strip():
        errors["name"] = ["Required."]
    if (
        data.get("valid_from")
        and data.get("valid_until")
        and data["valid_until"] <= data["valid_from"]
    ):
        errors["valid_until"] = ["Must be after valid_from."]
    if errors:
        expression_fields = {"condition", "amount"} & set(errors)
        if expression_fields and all(
            isinstance(e, dict) for f in expression_fields for e in errors[f]
        ):
            field = sorted(expression_fields)[0]
            first = errors[field][0]
            raise DomainError("invalid_expression", f"{field}: {first['message']}", details=errors)
        field = sorted(errors)[0]
        raise DomainError("invalid_rule", f"{field}: {errors[field][0]}", details=errors)
    return clean


def rule_snapshot(rule: Rule) -> dict:
    """The SPEC §10 shape of a rule (JSON-safe)."""
    from rewards.serialize import rule_as_dict

    return json.loads(json.dumps(rule_as_dict(rule), default=str))


def _budget_key(name: str, clean: dict):
    """A budget field as compared: no limits and empty limits are the same limits."""
    value = clean[name]
    return _check_limits(value or {}, {}) if name == "limits" else value


# A rule's budget and thresholds: set or changed only by admins (`rewards.change_rulebudget`,
# config/roles.py); operators write the rest of a rule.
BUDGET_FIELDS = ("limits", "approval_threshold", "max_cost_share")


@transaction.atomic
def rule_save(
    *, rule: Rule | None = None, data: dict, by=None, budget_locked: bool = False
) -> Rule:
    """Create or edit a rule (`data`: the SPEC §10 shape, partial for an edit); the version
    goes up by one on every edit and a snapshot is kept. With `budget_locked` (a user without
    `rewards.change_rulebudget`) the BUDGET_FIELDS must keep their values (a new rule's: the
    defaults). Raises DomainError (see rule_validate), `budget_admin_only` (403)."""
    from rewards.serialize import rule_as_dict

    if rule is not None:
        data = {**rule_as_dict(rule), **data}
    clean = rule_validate(data)
    if budget_locked:
        # compared as rule_validate writes them: the rule's current values, or a new rule's
        # defaults (the data without its budget fields)
        before = rule_validate(
            rule_as_dict(rule) if rule is not None else {**data, **dict.fromkeys(BUDGET_FIELDS)}
        )
        changed = [
            name for name in BUDGET_FIELDS if _budget_key(name, clean) != _budget_key(name, before)
        ]
        if changed:
            raise DomainError(
                "budget_admin_only",
                f"Only an admin sets a rule's budget and thresholds: {', '.join(changed)}.",
                details={"fields": changed},
                status=403,
            )
    if rule is None:
        rule = Rule()
    else:
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        rule.version += 1
    for name, value in clean.items():
        if name == "currency":
            rule.currency_id = value
        else:
            setattr(rule, name, value)
    if rule.name and Rule.objects.filter(name=rule.name).exclude(pk=rule.pk).exists():
        raise DomainError("invalid_rule", "name: already used", details={"name": ["Already used."]})
    rule.save()
    RuleVersion.objects.create(
        rule=rule, version=rule.version, snapshot=rule_snapshot(rule), created_by=by
    )
    rule_schedule_sync(rule=rule)
    return rule


def rule_schedule_sync(*, rule: Rule) -> None:
    """Keep the beat entry in step: a `schedule` rule has an enabled PeriodicTask with its cron;
    any other rule has none."""
    task = rule.periodic_task
    if rule.trigger != "schedule":
        if task is not None:
            rule.periodic_task = None
            rule.save(update_fields=["periodic_task"])
            task.delete()
        return
    minute, hour, day_of_month, month_of_year, day_of_week = rule.schedule.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone="UTC",
    )
    fields = {
        "name": f"rule {rule.pk}: {rule.name}"[:200],
        "task": SCHEDULE_TASK,
        "crontab": crontab,
        "kwargs": json.dumps({"rule_id": rule.pk}),
        "enabled": rule.active,
    }
    if task is None:
        task = PeriodicTask.objects.create(**fields)
        rule.periodic_task = task
        rule.save(update_fields=["periodic_task"])
    else:
        for name, value in fields.items():
            setattr(task, name, value)
        task.save()


@transaction.atomic
def rule_delete(*, rule: Rule) -> None:
    """Delete a rule that never produced a reward; one with rewards is deactivated instead
    (rewards keep pointing at it). Raises DomainError `rule_in_use` (409) in that case."""
    task = rule.periodic_task
    if rule.rewards.exists():
        raise DomainError(
            "rule_in_use",
            "This rule has rewards; deactivate it instead (set active to false).",
            status=409,
        )
    rule.delete()
    if task is not None:
        task.delete()
