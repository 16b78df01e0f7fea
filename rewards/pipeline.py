"""The decision pipeline (SPEC §6, §7), vectorised over a chunk of players.

    exclusivity → segment → condition → amount → eligibility → holdout → profit → fraud →
    limits → approval

`frame_load` reads one chunk's players and every name the rules need in one query;
`rules_evaluate` runs the rules in priority order over that frame with numpy/pandas — never a
Python loop per player per rule for the conditions and formulas. Only the rows that matched
(a reward will be decided) get per-row Decimal work: rounding down to the currency and caps.
Each step appends its JSON fragment to the row's trace text, so a chunk's decisions are ready
for COPY (one row per player and rule, ADR 0007). The first `failed` step ends a decision.

This module (with rewards/history.py and rewards/limits.py) reads the database but never
writes.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from players.models import Player, Segment
from rewards import checks
from rewards.expressions import compile_expression
from rewards.history import Budget, History, players_in
from rewards.limits import EIGHT_PLACES, limits_apply
from rewards.models import (
    CustomSegmentMembership,
    Decision,
    Rule,
)
from rewards.money import money_round_down, money_str, reporting_rates
from rewards.names import players_with_names
from rewards.rules import amount_context, condition_context

BASE_COLUMNS = ("status", "country", "currency", "segment", "risk_score")
EVENT_FIELDS = ("amount", "type", "game_category", "currency")
OUT = Decision.Outcome


def custom_memberships(*, player_ids: list[int], names: list[str]) -> list[tuple[int, str]]:
    """(player id, segment name) for the players' memberships of the named custom segments."""
    if not names:
        return []
    return list(
        CustomSegmentMembership.objects.filter(
            players_in(player_ids, "player_id"), segment__name__in=names
        ).values_list("player_id", "segment__name")
    )


def rule_names(rule: Rule) -> set[str]:
    names: set[str] = set()
    if rule.condition.strip():
        names |= compile_expression(rule.condition, context=condition_context(rule)).names
    if rule.reward_type != Rule.RewardType.FREE_SPINS and rule.amount.strip():
        names |= compile_expression(rule.amount, context=amount_context(rule)).names
    return names


def frame_load(
    *, player_ids: list[int], names: set[str], event: dict | None = None
) -> pd.DataFrame:
    """One row per player (ordered by id): the base columns plus every expression name."""
    extra = sorted(n for n in names if not n.startswith("event.") and n not in BASE_COLUMNS)
    queryset, resolve = players_with_names(Player.objects.filter(players_in(player_ids)), extra)
    aliases = {f"v_{i}": resolve(name) for i, name in enumerate(extra)}
    rows = list(
        queryset.annotate(**aliases)
        .order_by("pk")
        .values_list(
            "pk", "status", "country", "currency_id", "segment", "risk_score", "no_bonus", *aliases
        )
    )
    columns = ["_player_id", *BASE_COLUMNS, "_no_bonus", *extra]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if len(frame) > len(player_ids):  # a range also read players outside the chunk
        frame = frame[frame["_player_id"].isin(player_ids)].reset_index(drop=True)
    for name in extra:
        if frame[name].dtype == object and len(frame) and _is_number_column(frame[name]):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["country"] = frame["country"].replace("", None)
    for name in EVENT_FIELDS:
        frame[f"event.{name}"] = (event or {}).get(name)
    if event and event.get("amount") is not None:
        frame["event.amount"] = float(event["amount"])
    return frame


def _is_number_column(series: pd.Series) -> bool:
    sample = series.dropna()
    return not sample.empty and isinstance(sample.iloc[0], Decimal | int | float)


def holdout_draw(rule_id: int, player_ids: np.ndarray) -> np.ndarray:
    """A stable number in [0, 100) per player for this rule: a hash of (rule id, player id),
    so the same player is held out of the same rule on every run and simulation."""
    salt = int.from_bytes(hashlib.blake2b(str(rule_id).encode(), digest_size=8).digest(), "big")
    x = player_ids.astype(np.uint64) ^ np.uint64(salt)
    with np.errstate(over="ignore"):  # splitmix64: wrapping arithmetic is the point
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x % np.uint64(1_000_000)).astype(np.float64) / 10_000


@dataclass
class Evaluation:
    """Shared state of one chunk: the frame, the clock and what earlier rules decided."""

    frame: pd.DataFrame
    now: datetime
    history: History
    budgets: dict[int, Budget]
    jurisdictions: dict
    memberships: dict[str, set[int]] = field(default_factory=dict)
    excluded_by: np.ndarray | None = None
    _values: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.frame)
        if self.excluded_by is None:
            self.excluded_by = np.zeros(n, dtype=np.int64)
        self.player_ids = self.frame["_player_id"].to_numpy(dtype=np.int64)
        self.rates = reporting_rates(self.frame["currency"].unique(), at=self.now)
        self.segment_json = _json_texts(self.frame["segment"])

    def value_json(self, name: str) -> np.ndarray:
        if name not in self._values:
            self._values[name] = _json_texts(self.frame[name])
        return self._values[name]


def _json_texts(series: pd.Series) -> np.ndarray:
    """Each value as JSON text: numbers as decimal strings, missing as null."""
    if series.dtype.kind in "fiu":
        values = series.to_numpy(dtype="float64")
        texts = np.array([f'"{v:.10g}"' for v in values], dtype=object)
        texts[np.isnan(values)] = "null"
        return texts
    uniques = {v: ("null" if v is None or v == "" else json.dumps(str(v))) for v in series.unique()}
    return series.map(uniques).to_numpy(dtype=object)


@dataclass
class RuleOutcome:
    """A rule's decisions over the chunk, one entry per row."""

    rule: Rule
    outcome: np.ndarray
    reason: np.ndarray
    steps: np.ndarray  # JSON text of the steps list
    requested: np.ndarray  # Decimal or None
    amount: np.ndarray  # Decimal or None
    expected_cost: np.ndarray  # Decimal or None
    currency: np.ndarray  # currency code per row
    reporting_amount: np.ndarray  # Decimal or None
    capped: np.ndarray  # bool
    terms: dict[int, dict]  # row → terms with a jurisdiction override
    budget_spent: Decimal = Decimal(0)
    budget_id: int | None = None

    @property
    def matched_rows(self) -> np.ndarray:
        return np.flatnonzero(self.outcome != OUT.NOT_MATCHED)


class _Trace:
    """The steps text of every row; a step appends its fragment to the rows it concerns."""

    def __init__(self, n: int):
        self.text = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, step: str, outcome: str, details) -> None:
        if not mask.any():
            return
        head = f'{{"step":"{step}","outcome":"{outcome}","details":'
        if isinstance(details, str):
            self.text[mask] = self.text[mask] + ("," + head + details + "}")
        else:
            self.text[mask] = self.text[mask] + ("," + head) + details[mask] + "}"

    def result(self) -> np.ndarray:
        return "[" + np.array([t[1:] for t in self.text], dtype=object) + "]"


def _dec(value: Decimal | None) -> str:
    return "null" if value is None else f'"{money_str(value)}"'


def rules_evaluate(*, rules: list[Rule], evaluation: Evaluation) -> list[RuleOutcome]:
    """Decide every rule (in priority order) for every row of the evaluation's frame."""
    ordered = sorted(rules, key=lambda r: (-r.priority, r.pk))
    return [_rule_evaluate(rule, evaluation) for rule in ordered]


def _rule_evaluate(rule: Rule, ev: Evaluation) -> RuleOutcome:
    frame = ev.frame
    n = len(frame)
    trace = _Trace(n)
    outcome = np.full(n, OUT.NOT_MATCHED, dtype=object)
    reason = np.full(n, "", dtype=object)
    requested = np.full(n, None, dtype=object)
    amount = np.full(n, None, dtype=object)
    capped = np.zeros(n, dtype=bool)
    rule_currency = rule.currency_id
    currency = (
        np.full(n, rule_currency, dtype=object)
        if rule_currency
        else frame["currency"].to_numpy(dtype=object)
    )

    # exclusivity: an exclusive higher-priority rule already rewarded (or held out) the player
    excluded = ev.excluded_by != 0
    for by in np.unique(ev.excluded_by[excluded]):
        trace.add(ev.excluded_by == by, "exclusivity", "failed", f'{{"excluded_by_rule":{by}}}')
    reason[excluded] = "exclusivity"
    alive = ~excluded

    # segment
    targets = list(rule.target_segments or [])
    if targets:
        lifecycle = [t for t in targets if t in Segment.values]
        in_segment = frame["segment"].isin(lifecycle).to_numpy()
        for name in targets:
            if name not in Segment.values:
                members = ev.memberships.get(name, set())
                in_segment |= np.isin(ev.player_ids, list(members))
        failed = alive & ~in_segment
        passed = alive & in_segment
    else:
        failed, passed = np.zeros(n, dtype=bool), alive
    details = '{"segment":' + ev.segment_json + "}"
    trace.add(passed, "segment", "passed", details)
    trace.add(failed, "segment", "failed", details)
    reason[failed] = "segment"
    alive = passed

    # condition
    if rule.condition.strip():
        expression = compile_expression(rule.condition, context=condition_context(rule))
        truth = expression.evaluate_frame(frame).to_numpy(dtype=bool)
        names = sorted(expression.names)
        parts = [f'"{name}":' + ev.value_json(name) for name in names]
        details = parts[0] if parts else np.full(n, "", dtype=object)
        for part in parts[1:]:
            details = details + "," + part
        details = "{" + details + "}"
        trace.add(alive & truth, "condition", "passed", details)
        trace.add(alive & ~truth, "condition", "failed", details)
        reason[alive & ~truth] = "condition"
        alive = alive & truth
    else:
        trace.add(alive, "condition", "passed", "{}")

    # amount: the formula's value, rounded down to the reward currency's minor unit
    if rule.reward_type == Rule.RewardType.FREE_SPINS:
        spins = rule.free_spins or {}
        value = float(Decimal(spins["spin_value"]) * spins["count"])
        values = np.full(n, value, dtype="float64")
    else:
        expression = compile_expression(rule.amount, context=amount_context(rule))
        values = expression.evaluate_frame(frame).to_numpy(dtype="float64")
    positive = alive & np.isfinite(values) & (values > 0)
    for i in np.flatnonzero(positive):
        rounded = money_round_down(
            Decimal(repr(float(values[i]))).quantize(EIGHT_PLACES), currency[i]
        )
        requested[i] = rounded
        if rounded <= 0:
            positive[i] = False
    value_text = np.full(n, "null", dtype=object)
    finite = alive & np.isfinite(values)
    value_text[finite] = np.array([f'"{v:.10g}"' for v in values[finite]], dtype=object)
    rows = np.flatnonzero(positive)
    value_text[rows] = [_dec(requested[i]) for i in rows]
    no_amount = alive & ~positive
    trace.add(no_amount, "amount", "failed", '{"value":' + value_text + "}")
    reason[no_amount] = "amount"
    alive = positive
    trace.add(alive, "amount", "computed", '{"value":' + value_text + "}")
    amount[alive] = requested[alive]
    matched = alive.copy()

    def safety_step(name: str, check: checks.Check, alive: np.ndarray) -> np.ndarray:
        """Record a safety check; failed rows are rejected with its reason. → still alive."""
        failed = alive & check.failed
        trace.add(alive & ~check.failed, name, "passed", check.details)
        trace.add(failed, name, "failed", check.details)
        reason[failed] = check.reason[failed]
        outcome[failed] = OUT.REJECTED
        if check.review is not None:
            review[alive & ~check.failed & check.review] = True
        return alive & ~check.failed

    review = np.zeros(n, dtype=bool)
    alive = safety_step(
        "eligibility", checks.eligibility_check(rule=rule, frame=frame, mask=alive), alive
    )

    # hold-out: a stable share of matching, eligible players gets nothing (the control group)
    percent = float(rule.holdout_percent or 0)
    if percent > 0:
        held = alive & (holdout_draw(rule.pk, ev.player_ids) < percent)
        details = f'{{"percent":{json.dumps(percent)}}}'
        trace.add(held, "holdout", "held_out", details)
        trace.add(alive & ~held, "holdout", "passed", details)
        outcome[held] = OUT.HELD_OUT
        reason[held] = "held_out"
        alive = alive & ~held

    # profit and fraud (the safety issue fills these in)
    check = checks.profit_check(rule=rule, frame=frame, mask=alive, amounts=amount)
    expected_cost = check.expected_cost
    alive = safety_step("profit", check, alive)
    alive = safety_step("fraud", checks.fraud_check(rule=rule, frame=frame, mask=alive), alive)

    # limits and budgets: a cap reduces; only nothing left (or a count / cooldown) fails
    terms_override: dict[int, dict] = {}
    reporting = np.full(n, None, dtype=object)
    limit_details = np.full(n, "{}", dtype=object)
    limit_failed = np.zeros(n, dtype=bool)
    limit_reduced = np.zeros(n, dtype=bool)
    before_limits = amount.copy()
    rows = np.flatnonzero(alive)
    if len(rows):
        limits_apply(
            rule, ev, rows, amount, currency, reporting, limit_details, limit_failed,
            limit_reduced, reason, terms_override,
        )  # fmt: skip
    trace.add(alive & limit_failed, "limits", "failed", limit_details)
    trace.add(alive & limit_reduced & ~limit_failed, "limits", "reduced", limit_details)
    trace.add(alive & ~limit_reduced & ~limit_failed, "limits", "passed", limit_details)
    outcome[alive & limit_failed] = OUT.REJECTED
    capped = alive & limit_reduced & ~limit_failed
    for i in np.flatnonzero(capped):  # the expected cost follows the amount down
        if before_limits[i] and amount[i] != before_limits[i]:
            expected_cost[i] = (expected_cost[i] * amount[i] / before_limits[i]).quantize(
                EIGHT_PLACES
            )
    alive = alive & ~limit_failed

    # approval: above the rule's threshold the reward waits for staff
    threshold = rule.approval_threshold
    over = np.zeros(n, dtype=bool)
    if threshold is not None:
        over[alive] = [a > threshold for a in amount[alive]]
    to_review = alive & (over | review)
    details = "{}" if threshold is None else f'{{"threshold":{_dec(threshold)}}}'
    trace.add(to_review, "approval", "review", details)
    trace.add(alive & ~to_review, "approval", "passed", details)
    outcome[to_review] = OUT.PENDING_REVIEW
    outcome[alive & ~to_review] = OUT.ISSUED
    amount[~matched] = None
    reporting[~alive] = None

    spent = sum((reporting[i] for i in np.flatnonzero(alive)), Decimal(0))
    if rule.exclusive:
        takes = np.isin(outcome, [OUT.ISSUED, OUT.PENDING_REVIEW, OUT.HELD_OUT])
        ev.excluded_by[takes & (ev.excluded_by == 0)] = rule.pk
    if rule.acquisition:
        ev.history.welcomed |= set(ev.player_ids[alive].tolist())
    return RuleOutcome(
        rule=rule,
        outcome=outcome,
        reason=reason,
        steps=trace.result(),
        requested=requested,
        amount=amount,
        expected_cost=expected_cost,
        currency=currency,
        reporting_amount=reporting,
        capped=capped,
        terms=terms_override,
        budget_spent=spent,
    )
