"""Helpers for the lifecycle tests (cases, resolve, report): real cases built by casework.build_case
from the demo data, stored with CaseStore.add. No tests here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

NOW = datetime.fromisoformat("2026-11-27T10:00:00-05:00")

# Demo order -> its customer (see `mocli demo`), and the decision build_case makes for it.
ORDERS = {
    "#1001": "ava.thompson@example.com",  # VIP, delivered not received -> refund_or_replacement
    "#1002": "ben.carter@example.com",  # Standard, delivered to a neighbour -> carrier_investigation
    "#1003": "ben.carter@example.com",  # Standard, in transit -> awaiting_delivery
    "#1004": "chloe.nguyen@example.com",  # New Customer, not shipped -> awaiting_shipment
    "#1006": "hana.kim@example.com",  # Standard, late -> carrier_investigation
    "#1007": "orders@dunmore-supply.example.com",  # B2B stalled -> refund_or_replacement
    "#1008": "ivan.petrov@example.com",  # Standard, exception -> carrier_investigation
    "#1010": "eli.brooks@example.com",  # repeat claimant -> fraud_review
    "#1012": "kai.moreau@example.com",  # New Customer, high value -> fraud_review
}
CLAIM_ANSWERS = {"address_confirmed": True, "received_by_someone_else": False,
                 "checked_drop_off_spots": True, "theft_in_area": False, "package_found": False}


def build(cfg: Any, order: str, *, now: datetime = NOW, agent: str = "test-agent",
          answers: dict[str, Any] | None = None, case_id: str | None = None) -> dict[str, Any]:
    """One case dict in the stored shape, built as `mocli new-case` builds it."""
    from mocli.casework import build_case
    from mocli.providers.registry import Providers

    demo = Providers(cfg, NOW.date()).demo.demo
    o = demo.order(order)
    tracking = demo.tracking(o.tracking_number) if o.tracking_number else None
    case = build_case(cfg, customer=demo.customer(ORDERS[order]), order=o, tracking=tracking,
                      answers=dict(CLAIM_ANSWERS if answers is None else answers), claims=[], now=now,
                      agent=agent, case_id=case_id)
    return case.model_dump(mode="json")


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


def store(cases: list[dict[str, Any]], path: Any = None) -> Any:
    from mocli.store import CaseStore

    s = CaseStore(path)
    for c in cases:
        s.add(c)
    return s
