"""Steps 6, 7 and 9 put together: from the facts and the answers to a complete case record.

Pure: the clock, the config and past claims are passed in; nothing here prompts, prints or writes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mocli.messages import choose_locale, compose_for
from mocli.models import Case, ChecklistItem, Customer, Decision, HistoryEvent, Order, Tracking
from mocli.policy.calendar import BusinessCalendar, describe_sla
from mocli.policy.claims import CLAIM_ACTIONS, claim_fields  # noqa: F401 (claim_fields: named here too)
from mocli.policy.decide import decide
from mocli.policy.fraud import Claim, signals
from mocli.policy.resolving import TEMPLATE_KEYS
from mocli.policy.situation import classify

if TYPE_CHECKING:
    from mocli.config import Config

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


def classify_case(cfg: Config, order: Order, tracking: Tracking | None, now: datetime) -> tuple[Any, str]:
    """Step 3's situation with the configured thresholds and the carrier's lost rule."""
    from mocli.policy.situation import lost_after

    sit = cfg.settings.situation
    carrier = (tracking.carrier if tracking else None) or order.carrier
    return classify(order, tracking, now, late_after_days=sit.late_after_days,
                    stalled_after_days=sit.stalled_after_days, calendar=calendar(cfg),
                    lost_after_business_days=lost_after(cfg.policy.lost, carrier))


def message_values(cfg: Config, customer: Customer, order: Order, tracking: Tracking | None,
                   follow_up_by: datetime, case_id: str, agent: str,
                   answers: dict[str, Any] | None = None, locale: str | None = None) -> dict[str, str]:
    """The placeholders' values; dates, money and the SLA written for `locale` (default: the default texts')."""
    from mocli.messages import count_text, date_text, money_text, word

    locale = locale or cfg.messages.default_locale
    expected = _expected_delivery(order, tracking)
    sla = cfg.tier(customer.tier).sla
    return {
        "first_name": greeting_name(customer) or word(cfg, locale, "no_contact_name"),
        "customer_name": customer.name,
        "tier": customer.tier,
        "order_number": order.number,
        "carrier": (tracking.carrier if tracking else None) or order.carrier or word(cfg, locale, "our_carrier"),
        "tracking_number": ((tracking.tracking_number if tracking else None) or order.tracking_number
                            or word(cfg, locale, "not_available")),
        "expected_delivery": date_text(expected, locale) if expected else word(cfg, locale, "soon"),
        "new_ship_date": (date_text(order.new_ship_date, locale) if order.new_ship_date
                          else word(cfg, locale, "as_soon_as_possible")),
        "not_shipped_reason": order.not_shipped_reason or word(cfg, locale, "still_being_prepared"),
        "follow_up_date": date_text(follow_up_by.date(), locale),
        "sla": count_text(cfg, sla.amount, sla.unit, locale) or sla_text(cfg, customer.tier),
        "case_id": case_id,
        "agent": agent,
        "address": order.address.one_line(),
        # Where the customer lives now when they did not confirm the order's address (step 2).
        "customer_address": (answers or {}).get("customer_address") or order.address.one_line(),
        "amount": money_text(order.value, order.currency, locale),
        "exception": _exception_text(tracking) or word(cfg, locale, "no_tracking" if tracking is None
                                                       else "delivery_exception"),
    }


def _expected_delivery(order: Order, tracking: Tracking | None):
    return (tracking.estimated_delivery.date() if tracking and tracking.estimated_delivery
            else order.expected_delivery)


def greeting_name(customer: Customer) -> str | None:
    """Who "Hi …," greets: the contact person's first name, or None (the message's word for nobody in
    particular); a business without one is not greeted by the first word of its company name ("Hi Dunmore,")."""
    person = customer.contact_name or (None if customer.tier == "B2B" else customer.name)
    words = (person or "").split()
    return words[0] if words else None


def _exception_text(tracking: Tracking | None) -> str | None:
    """The carrier's latest exception in its words ("address correction needed"), or None when it gave none."""
    if tracking is None:
        return None
    text = next((e.description for e in tracking.events if e.status == "exception"), None)
    return (text or tracking.raw_description or "").rstrip(".") or None


def build_case(cfg: Config, *, customer: Customer, order: Order, tracking: Tracking | None,
               answers: dict[str, Any], claims: list[Claim], now: datetime, agent: str,
               case_id: str | None = None, ticket: str | None = None,
               sources: dict[str, str] | None = None, locale: str | None = None,
               tracking_unavailable: dict[str, str] | None = None) -> Case:
    """The whole case: signals, decision, follow-up date, message and macro.

    The message is in `locale` (from --locale) or else the customer's locale from the CRM."""
    tier = cfg.tier(customer.tier)
    situation, why = classify_case(cfg, order, tracking, now)
    fired = signals(customer, order, answers, claims, cfg.policy.fraud, now.date())
    verdict = decide(customer.tier, tier, situation, why, answers, fired)
    sla = tier.customer_check_follow_up if verdict.action == "customer_check" else tier.sla
    cal = calendar(cfg)
    follow_up_by = cal.follow_up(now, sla.amount, sla.unit)
    if verdict.action == "awaiting_delivery":
        # The message quotes the expected delivery: never check in before it has had its chance.
        expected = _expected_delivery(order, tracking)
        if expected is not None and follow_up_by.astimezone(cal.tz).date() <= expected:
            follow_up_by = datetime.combine(cal.next_business_day(expected), cal.workday_end, tzinfo=cal.tz)
    case_id = case_id or new_case_id(now)
    choice = (choose_locale(cfg, locale, "--locale") if locale
              else choose_locale(cfg, customer.locale, customer.source if customer.locale else None))

    def values_for(fmt: str) -> dict[str, str]:
        return message_values(cfg, customer, order, tracking, follow_up_by, case_id, agent, answers, locale=fmt)

    remedy = _remedy_chosen_in_the_call(cfg, tier, order, verdict, answers)
    # What is established when the remedy is given in the call: the carrier's damage or a loss by a
    # stated rule; otherwise only that the customer has not received it.
    outcome = {"damaged": "damaged", "lost": "lost"}.get(situation.value, "not_received")
    if remedy:  # step 8 reached in the call: the customer chose, so the Resolved macro applies now
        composed = compose_for(cfg, "resolutions", TEMPLATE_KEYS[(outcome, remedy)], choice, values_for)
    else:
        # A situation's own wording when messages.toml has one (carrier_investigation_exception, ...).
        keys = [f"{verdict.action}_{v}" for v in (verdict.variant, situation.value) if v]
        key = next((k for k in keys if k in cfg.messages.outcomes), verdict.action)
        composed = compose_for(cfg, "outcomes", key, choice, values_for)
    macro, message = composed.macro, composed.message
    known = matching_known_issues(cfg, order, tracking, now.date())
    case = Case(
        id=case_id,
        created_at=now,
        agent=agent,
        customer=customer,
        order=order,
        tracking=tracking,
        tracking_unavailable=tracking_unavailable if tracking is None else None,
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
        locale=choice.record(composed),
        history=[HistoryEvent(at=now, agent=agent, event="opened",
                              detail=f"{verdict.action}; macro {macro}")],
        checklist=[ChecklistItem(item=item) for item in tier.checklist],  # ticked by the wizard
    )
    if remedy:
        from mocli.policy.resolving import resolve

        resolved = resolve(case.model_dump(mode="json"), tier, {"outcome": outcome, "remedy": remedy,
                                                                 "reason": "the customer chose in the call"},
                           now=now, agent=agent, macro=macro, message=message)
        case = Case.model_validate(resolved)
    return case


CHOICE_REMEDY = {"replacement": "reship", "refund": "refund"}


def _remedy_chosen_in_the_call(cfg: Config, tier: Any, order: Order, verdict: Any,
                               answers: dict[str, Any]) -> str | None:
    """Step 6's offer: the remedy the customer chose in the call, or None (decides later, or a lead
    must approve it first, which keeps the case open with the offer)."""
    from mocli.policy.resolving import needs_approval

    if verdict.action != "refund_or_replacement":
        return None
    remedy = CHOICE_REMEDY.get(answers.get("customer_choice") or "later")
    if remedy is None:
        verdict.reasons.append("offered a replacement or a refund; the customer decides later")
        return None
    if needs_approval({"order": {"value": order.value}}, tier, "not_received", remedy):
        verdict.reasons.append(f"the customer chose a {remedy} of {order.value:,.2f} {order.currency}, above "
                               f"the approval limit of {float(tier.refund_approval_limit):,.2f}: once a lead "
                               f"approves, mocli resolve CASE --outcome not_received --remedy {remedy} "
                               "--approved-by LEAD")
        return None
    verdict.reasons.append(f"the customer chose a {answers['customer_choice']} in the call")
    return remedy
