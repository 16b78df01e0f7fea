"""The limits step of the pipeline: caps reduce, only nothing left (or a count or a cooldown)
rejects (SPEC §6). Per matched row, in player-id order so that a budget serves players in a
stable order; the rows are the chunk's matched and eligible players only."""

import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from rewards.history import period_start
from rewards.models import JurisdictionLimit
from rewards.money import money_round_down

EIGHT_PLACES = Decimal("0.00000001")
COMPACT = (",", ":")  # JSON separators of the stored traces: COPY ships fewer bytes


def limits_apply(
    rule, ev, rows, amount, currency, reporting, details, failed, reduced, reason, terms_override
) -> None:
    """Per row (matched and eligible only): max amount, jurisdiction limits, per-player count
    and amount per period, cooldown, then the budget in player-id order."""
    limits = rule.limits or {}
    history = ev.history.rows
    mine = history[history["rule_id"] == rule.pk] if len(history) else history
    by_player: dict[int, list] = defaultdict(list)
    for player_id, created_at, value in zip(
        mine.get("player_id", []), mine.get("created_at", []), mine.get("amount", []), strict=False
    ):
        by_player[int(player_id)].append((created_at, value))
    cooldown = int(limits.get("cooldown_days") or 0)
    per_player = [
        (period_start(p["period"], ev.now), p.get("count"), p.get("amount"))
        for p in limits.get("per_player") or []
    ]
    max_amount = Decimal(limits["max_amount"]) if limits.get("max_amount") else None
    countries = ev.frame["country"].to_numpy(dtype=object)
    budget = ev.budgets.get(rule.pk)
    multiplier = None
    if rule.terms is not None:
        multiplier = Decimal(str(rule.terms.get("wagering_multiplier") or 0))
    for i in rows:
        player_id = int(ev.player_ids[i])
        jurisdiction = ev.jurisdictions.get(countries[i] or "", {})
        past = by_player.get(player_id, ())
        notes: dict = {}
        failure = ""
        if cooldown and any(created >= ev.now - timedelta(days=cooldown) for created, _ in past):
            failure, notes = "cooldown", {"cooldown_days": cooldown}
        if (
            not failure
            and rule.acquisition
            and JurisdictionLimit.Kind.ONE_WELCOME_BONUS in jurisdiction
            and player_id in ev.history.welcomed
        ):
            failure = "jurisdiction_one_welcome_bonus"
            notes = {"jurisdiction": countries[i], "limit": "one_welcome_bonus"}
        cap, cap_name = None, ""

        def tighten(value: Decimal, name: str) -> None:
            nonlocal cap, cap_name
            if cap is None or value < cap:
                cap, cap_name = value, name

        if max_amount is not None:
            tighten(max_amount, "max_amount")
        jurisdiction_max = jurisdiction.get(JurisdictionLimit.Kind.MAX_AMOUNT)
        if jurisdiction_max is not None:
            tighten(jurisdiction_max, "jurisdiction_max_amount")
        for start, count, period_amount in per_player:
            if failure:
                break
            inside = [value for created, value in past if created >= start]
            if count is not None and len(inside) >= count:
                failure, notes = "player_count_limit", {"count": count, "received": len(inside)}
            elif period_amount is not None:
                tighten(
                    max(Decimal(period_amount) - sum(inside, Decimal(0)), Decimal(0)),
                    "player_amount",
                )
        if not failure and cap is not None and amount[i] > cap:
            notes = {"from": f"{amount[i]:f}", "limit": cap_name}
            amount[i] = money_round_down(cap, currency[i])
            notes["to"] = f"{amount[i]:f}"
            reduced[i] = True
            if amount[i] <= 0:
                failure = "player_amount_limit" if cap_name == "player_amount" else cap_name
        rate = ev.rates.get(currency[i]) or Decimal(1)
        if not failure and budget is not None:
            wanted = (amount[i] * rate).quantize(EIGHT_PLACES)
            if wanted > budget.remaining:
                before = amount[i]
                amount[i] = money_round_down(max(budget.remaining, Decimal(0)) / rate, currency[i])
                if amount[i] <= 0:
                    failure, notes = "budget_exhausted", {"limit": "budget"}
                else:
                    notes = {"from": f"{before:f}", "to": f"{amount[i]:f}", "limit": "budget"}
                    reduced[i] = True
        jurisdiction_multiplier = jurisdiction.get(JurisdictionLimit.Kind.MAX_WAGERING_MULTIPLIER)
        if (
            not failure
            and multiplier is not None
            and jurisdiction_multiplier is not None
            and multiplier > jurisdiction_multiplier
        ):
            terms_override[i] = {
                **rule.terms,
                "wagering_multiplier": f"{jurisdiction_multiplier.normalize():f}",
            }
            notes["wagering_multiplier"] = {
                "from": f"{multiplier.normalize():f}",
                "to": f"{jurisdiction_multiplier.normalize():f}",
                "limit": f"jurisdiction {countries[i]}",
            }
            reduced[i] = True
        if failure:
            failed[i] = True
            reason[i] = failure
        else:
            reporting[i] = (amount[i] * rate).quantize(EIGHT_PLACES)
            if budget is not None:
                budget.remaining -= reporting[i]
                budget.spent += reporting[i]
        if notes:
            details[i] = json.dumps(notes, separators=COMPACT)
