"""Fraud and repeat-claim signals: each rule that fires is recorded with its evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mocli.models import Customer, Order, Signal


@dataclass(frozen=True)
class Claim:
    """A past missing-order claim, from the case store or the CRM."""

    customer_id: str
    order: str
    on: date
    address_key: str | None
    source: str  # "case MO-..." or "crm"


def signals(customer: Customer, order: Order, answers: dict[str, Any], claims: list[Claim],
            rules: Any, today: date) -> list[Signal]:
    """Every rule of `rules` (policy.toml [fraud]) that fires for this claim."""
    fired: list[Signal] = []

    r = rules.repeat_claims
    if r.enabled:
        since = today - timedelta(days=r.window_days)
        mine = sorted({(c.order, c.on) for c in claims
                       if c.customer_id == customer.id and c.order != order.number and c.on >= since},
                      key=lambda x: x[1])
        if len(mine) > r.max_prior_claims:
            listed = ", ".join(f"{o} on {d:%Y-%m-%d}" for o, d in mine)
            fired.append(Signal(
                rule="repeat_claims",
                evidence=f"{len(mine)} prior missing-order claims in {r.window_days} days "
                         f"(more than {r.max_prior_claims}): {listed}",
                detail={"count": len(mine), "orders": [o for o, _ in mine], "window_days": r.window_days}))

    r = rules.address_claims
    if r.enabled:
        since = today - timedelta(days=r.window_days)
        key = order.address.key()
        others = sorted({c.customer_id for c in claims
                         if c.address_key == key and c.customer_id != customer.id and c.on >= since})
        if len(others) > r.max_other_customers:
            fired.append(Signal(
                rule="address_claims",
                evidence=f"{len(others)} other customer(s) claimed missing orders at "
                         f"{order.address.one_line()} in {r.window_days} days",
                detail={"other_customers": others, "window_days": r.window_days}))

    r = rules.high_value_new_customer
    if r.enabled and customer.tier in r.tiers and order.value >= r.min_order_value:
        fired.append(Signal(
            rule="high_value_new_customer",
            evidence=f"{customer.tier} customer, order value {order.value:.2f} {order.currency} "
                     f"(threshold {r.min_order_value:.2f})",
            detail={"value": order.value, "threshold": r.min_order_value}))

    r = rules.address_mismatch
    if r.enabled and answers.get("address_confirmed") is False and (fired or r.alone):
        fired.append(Signal(
            rule="address_mismatch",
            evidence=f"customer did not confirm the order's shipping address ({order.address.one_line()})",
            detail={"order_address": order.address.one_line()}))
    return fired
