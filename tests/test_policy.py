"""The procedure as tables: tier x situation x answers -> action, macro, follow-up date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mocli.models import Address, Customer, Order, ProofOfDelivery, Tracking, TrackingEvent
from mocli.policy.calendar import BusinessCalendar, describe_sla
from mocli.policy.fraud import Claim
from mocli.policy.opening import build_case
from mocli.policy.situation import Situation, classify

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=NY)  # Friday after Thanksgiving
INVESTIGATE = "Retail::Missing Order – Carrier Investigation"
RESOLVED = "Retail::Missing Order – Resolved (Refund/Replacement)"
OFFERED = "Retail::Missing Order – Remedy Offered"  # step 6's offer; Resolved only once the customer chooses
ADDR = Address(line1="1 Main St", city="Springfield", region="OH", postal_code="45501")


def customer(tier: str, cid: str = "C-1") -> Customer:
    return Customer(id=cid, email=f"{cid.lower()}@example.com", name="Pat Doe", tier=tier)


def order(value: float = 80.0, status: str = "shipped", expected: date | None = date(2026, 11, 25)) -> Order:
    return Order(number="#5001", customer_id="C-1", placed_at=NOW - timedelta(days=7), expected_delivery=expected,
                 carrier="UPS", tracking_number="1Z4E57A20368154024", address=ADDR, value=value,
                 fulfillment_status=status, not_shipped_reason="backorder", new_ship_date=date(2026, 12, 2))


def tracking(state: str) -> Tracking | None:
    ev = lambda days, status, text: TrackingEvent(at=NOW - timedelta(days=days), status=status, description=text)  # noqa: E731
    if state == "none":
        return None
    if state == "delivered":
        return Tracking(tracking_number="1Z", carrier="UPS", status="delivered", delivered_at=NOW - timedelta(days=2),
                        proof_of_delivery=ProofOfDelivery(photo_available=True),
                        events=[ev(2, "delivered", "Delivered"), ev(3, "in_transit", "Arrived")])
    if state == "on_time":
        return Tracking(tracking_number="1Z", carrier="UPS", status="in_transit",
                        estimated_delivery=NOW + timedelta(days=1), events=[ev(1, "in_transit", "Departed")])
    if state == "late":
        return Tracking(tracking_number="1Z", carrier="UPS", status="in_transit",
                        estimated_delivery=NOW - timedelta(days=4), events=[ev(1, "in_transit", "Departed")])
    if state == "stalled":
        return Tracking(tracking_number="1Z", carrier="UPS", status="in_transit",
                        estimated_delivery=NOW + timedelta(days=1), events=[ev(6, "in_transit", "Departed")])
    if state == "exception":  # held for an address correction: not a loss
        return Tracking(tracking_number="1Z", carrier="UPS", status="exception",
                        events=[ev(1, "exception", "Shipment on hold: address correction needed")])
    if state == "damaged":
        return Tracking(tracking_number="1Z", carrier="UPS", status="exception",
                        events=[ev(1, "exception", "Damaged - package contents damaged in transit")])
    if state == "carrier_lost":
        return Tracking(tracking_number="1Z", carrier="UPS", status="exception",
                        events=[ev(1, "exception", "Package lost - trace concluded")])
    if state == "no_scan_12":  # no scan for 12 business days: lost by the default rule (10)
        return Tracking(tracking_number="1Z", carrier="UPS", status="in_transit",
                        estimated_delivery=NOW - timedelta(days=14), events=[ev(18, "in_transit", "Departed")])
    if state == "returned":
        return Tracking(tracking_number="1Z", carrier="UPS", status="return_to_sender",
                        events=[ev(1, "return_to_sender", "Returning")])
    raise ValueError(state)


NOT_FOUND = {"address_confirmed": True, "received_by_someone_else": False, "checked_drop_off_spots": True,
             "theft_in_area": False, "package_found": False}

NOT_CHECKED = {**NOT_FOUND, "checked_drop_off_spots": False}
NEIGHBOUR = {**NOT_FOUND, "received_by_someone_else": True}
CHECK = "Retail::Missing Order – Customer Check"

# tier, order status, tracking state, answers, -> action, macro, follow-up (local)
TABLE = [
    # Step 5: the customer has not yet checked the drop-off spots, or a neighbour may have it: wait for
    # that check (a short, per-tier follow-up), no carrier escalation yet; VIP keeps its proactive offer.
    ("Standard", "delivered", "delivered", NOT_CHECKED, "customer_check", CHECK, "2026-11-30 17:00"),
    ("Standard", "delivered", "delivered", NEIGHBOUR, "customer_check", CHECK, "2026-11-30 17:00"),
    ("New Customer", "delivered", "delivered", NEIGHBOUR, "customer_check", CHECK, "2026-11-27 14:00"),
    ("B2B", "delivered", "delivered", NOT_CHECKED, "customer_check", CHECK, "2026-11-27 12:00"),
    ("VIP", "delivered", "delivered", NOT_CHECKED, "refund_or_replacement", OFFERED, "2026-11-30 17:00"),
    ("VIP", "delivered", "delivered", NOT_FOUND, "refund_or_replacement", OFFERED, "2026-11-30 17:00"),
    ("Standard", "delivered", "delivered", NOT_FOUND, "carrier_investigation", INVESTIGATE, "2026-12-01 17:00"),
    ("New Customer", "delivered", "delivered", NOT_FOUND, "carrier_investigation", INVESTIGATE, "2026-11-30 10:00"),
    ("B2B", "delivered", "delivered", NOT_FOUND, "carrier_investigation", INVESTIGATE, "2026-11-27 14:00"),
    # Late, stalled, held, returned: not lost by any stated rule, so every tier investigates first.
    ("VIP", "shipped", "late", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-11-30 17:00"),
    ("Standard", "shipped", "late", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-12-01 17:00"),
    ("B2B", "shipped", "stalled", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-11-27 14:00"),
    ("B2B", "shipped", "exception", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-11-27 14:00"),
    # Lost by a stated rule: the tier's on_lost.
    ("B2B", "shipped", "no_scan_12", {"address_confirmed": True}, "refund_or_replacement", OFFERED,
     "2026-11-27 14:00"),
    ("B2B", "shipped", "carrier_lost", {"address_confirmed": True}, "refund_or_replacement", OFFERED,
     "2026-11-27 14:00"),
    ("Standard", "shipped", "no_scan_12", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-12-01 17:00"),
    # Damaged: its own path, a replacement or a refund offered whatever the tier.
    ("Standard", "shipped", "damaged", {"address_confirmed": True}, "refund_or_replacement", OFFERED,
     "2026-12-01 17:00"),
    ("Standard", "shipped", "exception", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-12-01 17:00"),
    ("Standard", "shipped", "returned", {"address_confirmed": True}, "carrier_investigation", INVESTIGATE,
     "2026-12-01 17:00"),
    ("Standard", "shipped", "on_time", {"address_confirmed": True}, "awaiting_delivery",
     "Retail::Missing Order – In Transit", "2026-12-01 17:00"),
    ("VIP", "unfulfilled", "none", {"address_confirmed": True}, "awaiting_shipment",
     "Retail::Missing Order – Not Yet Shipped", "2026-11-30 17:00"),
    ("Standard", "delivered", "delivered", {**NOT_FOUND, "package_found": True}, "found",
     "Retail::Missing Order – Found", "2026-12-01 17:00"),
    # A customer who moved: not fraud by itself; recover the parcel from the old address.
    ("VIP", "delivered", "delivered", {**NOT_FOUND, "address_confirmed": False}, "carrier_investigation",
     INVESTIGATE, "2026-11-30 17:00"),
    ("Standard", "shipped", "on_time", {"address_confirmed": False}, "carrier_investigation", INVESTIGATE,
     "2026-12-01 17:00"),
]


@pytest.mark.parametrize("tier,status,state,answers,action,macro,follow_up", TABLE)
def test_policy_table(cfg, tier, status, state, answers, action, macro, follow_up):
    case = build_case(cfg, customer=customer(tier), order=order(status=status), tracking=tracking(state),
                      answers=answers, claims=[], now=NOW, agent="a")
    assert case.decision.action == action
    assert case.decision.macro == macro
    assert f"{case.follow_up_by.astimezone(NY):%Y-%m-%d %H:%M}" == follow_up
    assert case.message.endswith("we're here whenever you need us.")  # step 9's closing


def test_fraud_review_overrides_vip_and_never_accuses(cfg):
    claims = [Claim("C-1", f"#40{i}", date(2026, 10, i + 1), None, "crm") for i in range(2)]
    case = build_case(cfg, customer=customer("VIP"), order=order(status="delivered"), tracking=tracking("delivered"),
                      answers=NOT_FOUND, claims=claims, now=NOW, agent="a")
    assert case.decision.action == "fraud_review"
    [signal] = case.signals
    assert signal.rule == "repeat_claims" and "#400" in signal.evidence and "#401" in signal.evidence
    for word in ("fraud", "suspicious", "suspect"):
        assert word not in case.message.lower()


def test_one_prior_claim_is_not_yet_a_pattern(cfg):
    claims = [Claim("C-1", "#400", date(2026, 10, 1), None, "crm")]
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=NOT_FOUND, claims=claims, now=NOW, agent="a")
    assert case.decision.action == "carrier_investigation" and case.signals == []


def test_claims_outside_the_window_do_not_count(cfg):
    claims = [Claim("C-1", f"#40{i}", date(2025, 1, i + 1), None, "crm") for i in range(3)]
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=NOT_FOUND, claims=claims, now=NOW, agent="a")
    assert case.signals == []


def test_same_address_claimed_by_another_customer(cfg):
    claims = [Claim("C-9", "#77", date(2026, 11, 1), ADDR.key(), "case MO-1")]
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=NOT_FOUND, claims=claims, now=NOW, agent="a")
    assert [s.rule for s in case.signals] == ["address_claims"]
    assert case.signals[0].detail["other_customers"] == ["C-9"]


def test_high_value_new_customer(cfg):
    case = build_case(cfg, customer=customer("New Customer"), order=order(value=500.0, status="delivered"),
                      tracking=tracking("delivered"), answers=NOT_FOUND, claims=[], now=NOW, agent="a")
    assert [s.rule for s in case.signals] == ["high_value_new_customer"]
    assert case.decision.action == "fraud_review"
    cheap = build_case(cfg, customer=customer("New Customer"), order=order(value=499.99, status="delivered"),
                       tracking=tracking("delivered"), answers=NOT_FOUND, claims=[], now=NOW, agent="a")
    assert cheap.signals == []


def test_signals_are_recorded_but_do_not_block_a_parcel_still_on_its_way(cfg):
    case = build_case(cfg, customer=customer("New Customer"), order=order(value=900.0),
                      tracking=tracking("on_time"), answers={"address_confirmed": True}, claims=[], now=NOW,
                      agent="a")
    assert case.decision.action == "awaiting_delivery"
    assert [s.rule for s in case.signals] == ["high_value_new_customer"]


def test_situations():
    kw = {"late_after_days": 2, "stalled_after_days": 4}
    assert classify(order(status="unfulfilled"), None, NOW, **kw)[0] is Situation.NOT_SHIPPED
    assert classify(order(), tracking("on_time"), NOW, **kw)[0] is Situation.IN_TRANSIT
    assert classify(order(), tracking("late"), NOW, **kw)[0] is Situation.LATE
    assert classify(order(), tracking("stalled"), NOW, **kw)[0] is Situation.STALLED
    assert classify(order(), tracking("exception"), NOW, **kw)[0] is Situation.EXCEPTION
    assert classify(order(), tracking("returned"), NOW, **kw)[0] is Situation.RETURNED
    assert classify(order(), tracking("delivered"), NOW, **kw)[0] is Situation.DELIVERED
    assert classify(order(), tracking("damaged"), NOW, **kw)[0] is Situation.DAMAGED
    assert classify(order(), tracking("carrier_lost"), NOW, **kw)[0] is Situation.LOST
    # Missing tracking is not a loss (#11 item 3): the order system's "delivered" stands; else ask the carrier.
    assert classify(order(status="delivered"), None, NOW, **kw)[0] is Situation.DELIVERED
    assert classify(order(status="shipped", expected=date(2026, 11, 20)), None, NOW, **kw)[0] \
        is Situation.NO_TRACKING


def test_exception_texts_in_the_procedures_words():
    from mocli.policy.situation import exception_kind

    held = tracking("exception").model_copy(update={"events": [TrackingEvent(
        at=NOW, status="exception", description="On hold: address correction needed (dock number missing)")]})
    assert classify(order(), held, NOW, late_after_days=2, stalled_after_days=4)[0] is Situation.EXCEPTION
    assert exception_kind("Held in customs: clearance delay") == "customs"
    assert exception_kind("Severe weather delay") == "weather"
    assert exception_kind("Incorrect address - consignee moved") == "address"


def test_an_exception_is_named_and_is_not_a_loss(cfg):
    case = build_case(cfg, customer=customer("B2B"), order=order(), tracking=tracking("exception"),
                      answers={"address_confirmed": True}, claims=[], now=NOW, agent="a")
    assert case.decision.situation == "exception"
    assert any("address correction" in r for r in case.decision.reasons)
    assert "address correction" in case.message  # the customer is told what holds it


def test_lost_after_n_business_days_without_a_scan_per_carrier(cfg):
    from mocli.policy.situation import lost_after

    us = BusinessCalendar("America/New_York", "US")
    kw = {"late_after_days": 2, "stalled_after_days": 4, "calendar": us}
    # 18 calendar days back is 12 business days (Thanksgiving and weekends skipped).
    assert classify(order(), tracking("no_scan_12"), NOW, lost_after_business_days=10, **kw)[0] is Situation.LOST
    assert classify(order(), tracking("no_scan_12"), NOW, lost_after_business_days=15, **kw)[0] \
        is Situation.STALLED
    rules = cfg.policy.lost
    assert lost_after(rules, "UPS") == rules.no_scan_business_days
    assert lost_after(rules, "dhl") == rules.by_carrier["dhl"]  # DHL Freight / international: slower scans
    case = build_case(cfg, customer=customer("B2B"), order=order(), tracking=tracking("no_scan_12"),
                      answers={"address_confirmed": True}, claims=[], now=NOW, agent="a")
    assert any("12 business days" in r for r in case.decision.reasons)


US = BusinessCalendar("America/New_York", "US")


@pytest.mark.parametrize("start,amount,unit,expected", [
    # Friday after Thanksgiving (a business day) + 1 day -> Monday.
    ("2026-11-27 10:00", 1, "business_days", "2026-11-30 17:00"),
    # Wednesday before Thanksgiving + 1 day skips Thursday (holiday) -> Friday.
    ("2026-11-25 12:00", 1, "business_days", "2026-11-27 17:00"),
    # Saturday + 2 days -> Tuesday.
    ("2026-11-28 09:00", 2, "business_days", "2026-12-01 17:00"),
    # 8 business hours from Friday 10:00 -> Monday 10:00.
    ("2026-11-27 10:00", 8, "business_hours", "2026-11-30 10:00"),
    # 4 business hours from 15:00 Wednesday before Thanksgiving -> Friday 11:00.
    ("2026-11-25 15:00", 4, "business_hours", "2026-11-27 11:00"),
    # Before opening counts from 09:00; on a Sunday from Monday 09:00.
    ("2026-11-30 06:00", 2, "business_hours", "2026-11-30 11:00"),
    ("2026-11-29 12:00", 3, "business_hours", "2026-11-30 12:00"),
    # Christmas Day (Friday 2026-12-25) is skipped.
    ("2026-12-24 16:00", 1, "business_days", "2026-12-28 17:00"),
])
def test_business_calendar(start, amount, unit, expected):
    begin = datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=NY)
    assert f"{US.follow_up(begin, amount, unit):%Y-%m-%d %H:%M}" == expected


def test_holidays_follow_the_configured_country():
    de = BusinessCalendar("Europe/Berlin", "DE")
    # 3 October (German Unity Day) 2025 is a Friday: Thursday + 1 business day -> Monday 6th.
    start = datetime(2025, 10, 2, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    assert de.follow_up(start, 1, "business_days").date() == date(2025, 10, 6)
    assert US.follow_up(start.astimezone(NY), 1, "business_days").date() == date(2025, 10, 3)


def test_describe_sla():
    assert describe_sla(2, "business_days") == "2 business days"
    assert describe_sla(1, "business_days") == "1 business day"
    assert describe_sla(8, "business_hours") == "8 business hours"


# ------------------------------------------------------------------ issue 10 item 4: the VIP offer at step 6


def test_vip_offer_without_a_choice_stays_open_without_the_resolved_macro(cfg):
    case = build_case(cfg, customer=customer("VIP"), order=order(status="delivered"), tracking=tracking("delivered"),
                      answers=NOT_FOUND, claims=[], now=NOW, agent="a")
    assert case.decision.action == "refund_or_replacement"
    assert case.decision.macro == OFFERED and RESOLVED not in case.message
    assert case.status == "open" and case.resolution is None
    assert "replacement" in case.message and "refund" in case.message


@pytest.mark.parametrize("choice,remedy", [("replacement", "reship"), ("refund", "refund")])
def test_vip_choice_in_the_call_resolves_the_case_then_and_there(cfg, choice, remedy):
    case = build_case(cfg, customer=customer("VIP"), order=order(status="delivered"), tracking=tracking("delivered"),
                      answers={**NOT_FOUND, "customer_choice": choice}, claims=[], now=NOW, agent="a")
    assert case.decision.macro == RESOLVED
    assert case.status == "resolved"
    assert (case.resolution.outcome, case.resolution.remedy) == ("not_received", remedy)
    assert case.resolution.carrier_reference is None
    assert "locale" not in case.model_dump(mode="json")["resolution"]  # stored as before the model
    assert "confirmed" not in case.message.lower()  # nobody established a loss
    assert [h.event for h in case.history] == ["opened", "resolved"]


def test_vip_refund_above_the_approval_limit_waits_for_a_lead(cfg):
    case = build_case(cfg, customer=customer("VIP"), order=order(value=1249.0, status="delivered"),
                      tracking=tracking("delivered"), answers={**NOT_FOUND, "customer_choice": "refund"},
                      claims=[], now=NOW, agent="a")
    assert case.status == "open" and case.decision.macro == OFFERED
    assert any("approval limit" in r for r in case.decision.reasons)


def test_damaged_parcel_resolved_in_the_call_records_damage_not_loss(cfg):
    case = build_case(cfg, customer=customer("Standard"), order=order(), tracking=tracking("damaged"),
                      answers={"address_confirmed": True, "customer_choice": "replacement"}, claims=[], now=NOW,
                      agent="a")
    assert case.resolution.outcome == "damaged" and case.resolution.remedy == "reship"
    assert "damaged" in case.message and "lost" not in case.message


# ------------------------------------------------------------------ issue 10 item 6: a customer who moved

MOVED = {**NOT_FOUND, "address_confirmed": False, "customer_address": "22 Elm St, Dayton, OH 45402"}


def test_address_mismatch_alone_is_not_fraud_and_the_new_address_is_recorded(cfg):
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=MOVED, claims=[], now=NOW, agent="a")
    assert case.decision.action == "carrier_investigation" and case.signals == []
    assert case.answers["customer_address"] == "22 Elm St, Dayton, OH 45402"
    assert any("recover" in r for r in case.decision.reasons)
    assert "22 Elm St" in case.message and "1 Main St" in case.message


def test_address_mismatch_on_an_order_not_shipped_corrects_the_address(cfg):
    case = build_case(cfg, customer=customer("Standard"), order=order(status="unfulfilled"), tracking=None,
                      answers=MOVED, claims=[], now=NOW, agent="a")
    assert case.decision.action == "awaiting_shipment" and case.signals == []
    assert "22 Elm St" in case.message


def test_address_mismatch_in_transit_is_redirected(cfg):
    case = build_case(cfg, customer=customer("Standard"), order=order(), tracking=tracking("on_time"),
                      answers=MOVED, claims=[], now=NOW, agent="a")
    assert case.decision.action == "carrier_investigation"
    assert "redirect" in case.message and "22 Elm St" in case.message


def test_address_mismatch_with_another_signal_is_fraud_review(cfg):
    claims = [Claim("C-1", f"#40{i}", date(2026, 10, i + 1), None, "crm") for i in range(2)]
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=MOVED, claims=claims, now=NOW, agent="a")
    assert case.decision.action == "fraud_review"
    assert [s.rule for s in case.signals] == ["repeat_claims", "address_mismatch"]


def test_config_can_make_an_address_mismatch_a_signal_alone(cfg):
    cfg.policy.fraud.address_mismatch.alone = True
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=MOVED, claims=[], now=NOW, agent="a")
    assert case.decision.action == "fraud_review"


def test_customer_check_message_asks_the_customer_and_escalates_nothing(cfg):
    case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                      tracking=tracking("delivered"), answers=NEIGHBOUR, claims=[], now=NOW, agent="a")
    text = " ".join(case.message.split())
    assert "neighbour" in text and "porch" in text
    assert "shipping partner" not in text and INVESTIGATE != case.decision.macro


# ------------------------------------------------------------------ issue 10 item 10: message wording


def test_b2b_greeting_uses_the_contact_persons_first_name(cfg):
    company = Customer(id="C-9", email="orders@dunmore.example.com", name="Dunmore Supply Co.", tier="B2B",
                       contact_name="Rosa Alvarez")
    case = build_case(cfg, customer=company, order=order(), tracking=tracking("late"),
                      answers={"address_confirmed": True}, claims=[], now=NOW, agent="a")
    assert case.message.startswith("Hi Rosa,")
    nobody = company.model_copy(update={"contact_name": None})
    case = build_case(cfg, customer=nobody, order=order(), tracking=tracking("late"),
                      answers={"address_confirmed": True}, claims=[], now=NOW, agent="a")
    assert case.message.startswith("Hi there,") and "Dunmore," not in case.message


def test_closing_fits_the_outcome(cfg):
    found = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                       tracking=tracking("delivered"), answers={**NOT_FOUND, "package_found": True}, claims=[],
                       now=NOW, agent="a")
    assert "glad" in found.message and "while we sort this out" not in found.message
    open_case = build_case(cfg, customer=customer("Standard"), order=order(status="delivered"),
                           tracking=tracking("delivered"), answers=NOT_FOUND, claims=[], now=NOW, agent="a")
    assert "while we sort this out" in open_case.message


def test_in_transit_follow_up_is_never_before_the_expected_delivery_it_quotes(cfg):
    far = Tracking(tracking_number="1Z", carrier="UPS", status="in_transit",
                   estimated_delivery=NOW + timedelta(days=6),  # Thursday 3 December
                   events=[TrackingEvent(at=NOW - timedelta(hours=5), status="in_transit", description="Departed")])
    case = build_case(cfg, customer=customer("Standard"), order=order(expected=date(2026, 12, 3)), tracking=far,
                      answers={"address_confirmed": True}, claims=[], now=NOW, agent="a")
    assert case.decision.action == "awaiting_delivery"
    assert "Thursday, December 3" in case.message
    assert case.follow_up_by.astimezone(NY).date() > date(2026, 12, 3)  # the business day after it
    assert f"{case.follow_up_by.astimezone(NY):%Y-%m-%d %H:%M}" == "2026-12-04 17:00"
