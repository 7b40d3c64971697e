"""One group of like cases added to a `Tally`: what the SQL-backed reports (the local file's index, the
team store) count per GROUP BY row, so both add to the report exactly as `tally` counts each case."""

from __future__ import annotations

from typing import Any

from mocli.policy.claims import CLAIM_ACTIONS


def add_group(t: Any, status: str, tier: str, action: str, carrier: str, agent: str, outcome: str | None,
              remedy: str | None, currency: str | None, n: int, value: float | None, overdue: int,
              settled: int, breached: int) -> None:
    """Add `n` cases alike in every key to the tally `t`: `overdue` of them late now, `settled` with their
    follow-up passed or met (late now included), `breached` settled late (late now included)."""
    t.by_status[status] += n
    t.by_tier[tier] += n
    t.by_action[action] += n
    t.by_carrier[carrier] += n
    load = t.agents[agent]
    load["opened"] += n
    load[status] += n
    if overdue:  # a key only where there is something to count, as `tally` keeps them
        load["overdue"] += overdue
    t.overdue += overdue
    if settled:
        t.sla_settled[tier] += settled
    if breached:
        t.sla_breached[tier] += breached
    if outcome:
        t.by_outcome[outcome] += n
        if outcome == "lost":
            t.carrier_lost[carrier] += n
        elif outcome == "found":
            t.carrier_found[carrier] += n
    if remedy:
        t.by_remedy[remedy] += n
        if remedy == "refund":
            t.refund_count += n
            t.refund_total[currency] += value or 0
        elif remedy == "reship":
            t.reship_count += n
            t.reship_value[currency] += value or 0
    if action in CLAIM_ACTIONS:
        t.carrier_claims[carrier] += n
    if action == "fraud_review":
        t.fraud_opened += n
