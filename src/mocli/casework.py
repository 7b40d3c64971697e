"""Steps 6, 7 and 9 put together: from the facts and the answers to a complete case record.

Pure: the clock, the config and past claims are passed in; nothing here prompts, prints or writes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mocli.addresses import address_key
from mocli.messages import compose
from mocli.models import Case, ChecklistItem, Customer, Decision, HistoryEvent, Order, Tracking
from mocli.policy.calendar import BusinessCalendar, describe_sla
from mocli.policy.decide import decide
from mocli.policy.fraud import Claim, signals
from mocli.policy.situation import classify

if TYPE_CHECKING:
    from mocli.config import Config

# Decisions that mean "the customer claims a parcel that should be with them": they count as claims
# for the repeat-claim rules.
CLAIM_ACTIONS = {"refund_or_replacement", "carrier_investigation", "fraud_review"}
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_case_id(now: datetime) -> str:
    """MO-YYMMDD-XXXXX: readable, sortable by day, unique across agents' files."""
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
    return f"MO-{now:%y%m%d}-{suffix}"


def calendar(cfg: Config) -> BusinessCalendar:
    c = cfg.settings.calendar
    return BusinessCalendar(c.timezone, c.country, c.subdivision, c.workday_start, c.workday_end)


def sla_text(cfg: Config, tier_name: str) -> str:
    sla = cfg.tier(tier_name).sla
    return describe_sla(sla.amount, sla.unit)


def matching_known_issues(cfg: Config, order: Order, tracking: Tracking | None, today) -> list[Any]:
    """Known warehouse / carrier issues (known_issues.toml) that apply to this order now."""
    carrier = (tracking.carrier if tracking else None) or order.carrier
    out = []
    for issue in cfg.known_issues:
        if issue.start > today or (issue.end is not None and issue.end < today):
            continue
        if issue.carrier and (carrier or "").lower() != issue.carrier.lower():
            continue
        if issue.region and (order.address.region or "").lower() != issue.region.lower():
            continue
        if issue.warehouse and (order.warehouse or "").lower() != issue.warehouse.lower():
            continue
        out.append(issue)
    return out


CLAIMS_KEY = "claims-v1"  # names the cached projection (store.read_projection); bump when claim_fields changes


def claim_fields(case: dict[str, Any]) -> dict[str, Any] | None:
    """The few fields of a stored case that the repeat-claim rules read (None: not a claim)."""
    decision = case.get("decision") or {}
    if decision.get("action") not in CLAIM_ACTIONS:
        return None
    try:
        key = address_key(case["order"]["address"])
        return {"customer": case["customer"]["id"], "order": case["order"]["number"],
                "on": str(case["created_at"])[:10], "address": key, "id": case.get("id")}
    except (KeyError, TypeError):
        return None  # a record from an older schema without these fields cannot be a claim here


def claims_from_cases(cases: list[dict[str, Any] | None]) -> list[Claim]:
    """Past claims recorded in the case store: full cases, or `claim_fields` projections of them."""
    from datetime import date

    out = []
    for c in cases:
        fields = c if c is not None and "on" in c else claim_fields(c) if c is not None else None
        if not fields:
            continue
        try:
            out.append(Claim(customer_id=fields["customer"], order=fields["order"],
                             on=date.fromisoformat(fields["on"]), address_key=fields["address"],
                             source=f"case {fields.get('id')}"))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def message_values(cfg: Config, customer: Customer, order: Order, tracking: Tracking | None,
                   follow_up_by: datetime, case_id: str, agent: str) -> dict[str, str]:
    expected = (tracking.estimated_delivery.date() if tracking and tracking.estimated_delivery
                else order.expected_delivery)
    return {
        "first_name": customer.name.split()[0] if customer.name.split() else customer.name,
        "customer_name": customer.name,
        "tier": customer.tier,
        "order_number": order.number,
        "carrier": (tracking.carrier if tracking else None) or order.carrier or "our carrier",
        "tracking_number": (tracking.tracking_number if tracking else None) or order.tracking_number or "n/a",
        "expected_delivery": f"{expected:%A, %B %-d}" if expected else "soon",
        "new_ship_date": f"{order.new_ship_date:%A, %B %-d}" if order.new_ship_date else "as soon as possible",
        "not_shipped_reason": order.not_shipped_reason or "it is still being prepared",
        "follow_up_date": f"{follow_up_by:%A, %B %-d}",
        "sla": sla_text(cfg, customer.tier),
        "case_id": case_id,
        "agent": agent,
        "address": order.address.one_line(),
        "amount": f"{order.value:,.2f} {order.currency}",
    }


def build_case(cfg: Config, *, customer: Customer, order: Order, tracking: Tracking | None,
               answers: dict[str, Any], claims: list[Claim], now: datetime, agent: str,
               case_id: str | None = None, ticket: str | None = None,
               sources: dict[str, str] | None = None) -> Case:
    """The whole case: signals, decision, follow-up date, message and macro."""
    tier = cfg.tier(customer.tier)
    sit = cfg.settings.situation
    situation, why = classify(order, tracking, now, late_after_days=sit.late_after_days,
                              stalled_after_days=sit.stalled_after_days)
    fired = signals(customer, order, answers, claims, cfg.policy.fraud, now.date())
    verdict = decide(customer.tier, tier, situation, why, answers, fired)
    follow_up_by = calendar(cfg).follow_up(now, tier.sla.amount, tier.sla.unit)
    case_id = case_id or new_case_id(now)
    macro, message = compose(cfg, "outcomes", verdict.action,
                             message_values(cfg, customer, order, tracking, follow_up_by, case_id, agent))
    known = matching_known_issues(cfg, order, tracking, now.date())
    return Case(
        id=case_id,
        created_at=now,
        agent=agent,
        customer=customer,
        order=order,
        tracking=tracking,
        answers=answers,
        signals=fired,
        known_issues=[k.model_dump() for k in known],
        decision=Decision(action=verdict.action, macro=macro, reasons=verdict.reasons,
                          situation=situation.value),
        follow_up_by=follow_up_by,
        message=message,
        status="resolved" if verdict.action == "found" else "open",
        ticket=ticket,
        sources=sources or {},
        history=[HistoryEvent(at=now, agent=agent, event="opened",
                              detail=f"{verdict.action}; macro {macro}")],
        checklist=[ChecklistItem(item=item) for item in tier.checklist],  # ticked by the wizard
    )
