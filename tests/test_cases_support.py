"""Helpers for the lifecycle tests (cases, resolve, report): real cases built by opening.build_case
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
    "#1007": "orders@dunmore-supply.example.com",  # B2B, no DHL scan for 3 weeks: lost -> refund_or_replacement
    "#1008": "ivan.petrov@example.com",  # Standard, damaged -> refund_or_replacement
    "#1010": "eli.brooks@example.com",  # repeat claimant -> fraud_review
    "#1012": "kai.moreau@example.com",  # New Customer, high value -> fraud_review
}
CLAIM_ANSWERS = {"address_confirmed": True, "received_by_someone_else": False,
                 "checked_drop_off_spots": True, "theft_in_area": False, "package_found": False}


def build(cfg: Any, order: str, *, now: datetime = NOW, agent: str = "test-agent",
          answers: dict[str, Any] | None = None, case_id: str | None = None) -> dict[str, Any]:
    """One case dict in the stored shape, built as `mocli new-case` builds it."""
    from mocli.policy.opening import build_case
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


def iso(moment: datetime) -> str:
    return moment.isoformat()


def resolved(cfg: Any, case: dict[str, Any], at: datetime, outcome: str, remedy: str,
             **answers: str) -> dict[str, Any]:
    from mocli.policy import resolving

    return resolving.resolve(case, cfg.tier(case["customer"]["tier"]),
                             {"outcome": outcome, "remedy": remedy, **answers}, now=at,
                             agent=case["agent"], macro="M", message="msg")


def team_set(cfg: Any) -> dict[str, dict[str, Any]]:
    """Seven cases with hand-chosen dates, agents and outcomes; the expected report figures are worked
    out by hand in test_report.py."""

    def make(order: str, name: str, agent: str, created: datetime, follow: datetime) -> dict[str, Any]:
        case = build(cfg, order, agent=agent, case_id=f"MO-000000-{name}0000")  # the situation as of NOW
        case["created_at"], case["follow_up_by"] = iso(created), iso(follow)
        case["history"][0]["at"] = iso(created)
        return case

    a = make("#1001", "A", "amy", ago(hours=48), NOW + timedelta(hours=79))
    b = make("#1002", "B", "bob", ago(hours=72), ago(hours=24))
    b["order"]["address"] = dict(a["order"]["address"])  # another customer claims at Ava's address
    c = make("#1006", "C", "amy", ago(days=10), ago(days=5))
    d = make("#1003", "D", "bob", ago(hours=1), NOW + timedelta(days=2))
    e = make("#1012", "E", "amy", ago(days=40), ago(days=39))
    f = make("#1007", "F", "carl", ago(hours=5), ago(hours=1))
    g = make("#1001", "G", "amy", ago(hours=3), NOW + timedelta(days=1))
    cases = {
        "A": resolved(cfg, a, ago(hours=24), "lost", "refund"),
        "B": resolved(cfg, b, NOW, "found", "redeliver"),
        "C": c,
        "D": d,
        "E": resolved(cfg, e, ago(days=40) + timedelta(hours=12), "lost", "reship", fraud_review="cleared",
                      reviewed_by="risk01", approved_by="lead01"),  # fraud-review case, 1249 > 150
        "F": f,
        "G": g,
    }
    expected_actions = {"A": "refund_or_replacement", "B": "carrier_investigation", "C": "carrier_investigation",
                        "D": "awaiting_delivery", "E": "fraud_review", "F": "refund_or_replacement",
                        "G": "refund_or_replacement"}
    assert {k: v["decision"]["action"] for k, v in cases.items()} == expected_actions
    return cases


def add_note(case: dict[str, Any], text: str) -> dict[str, Any]:
    from mocli.policy import resolving

    return resolving.add_note(case, text, now=NOW, agent="test-agent")
