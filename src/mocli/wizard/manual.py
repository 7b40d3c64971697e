"""Facts typed in by the agent when a provider is down or slow (the case records them as "manual")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mocli.models import TRACKING_STATUSES, Address, Customer, Order, ProofOfDelivery, Tracking, TrackingEvent
from mocli.wizard.questions import EMAIL

FULFILMENT = ["unfulfilled", "packed", "delayed", "partially_shipped", "shipped", "delivered", "cancelled"]


def _needed(value: str) -> str | None:
    return None if value.strip() else "an answer is needed"


def _date(optional: bool = False):
    def check(value: str) -> str | None:
        if optional and not value.strip():
            return None
        try:
            date.fromisoformat(value.strip())
        except ValueError:
            return "a date as YYYY-MM-DD"
        return None

    return check


def _datetime(value: str) -> str | None:
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        return "a date and time as YYYY-MM-DD HH:MM"
    return None


def _money(value: str) -> str | None:
    try:
        return None if float(value) >= 0 else "a positive amount"
    except ValueError:
        return "an amount such as 129.00"


def _local(wizard: Any, text: str) -> datetime:
    when = datetime.fromisoformat(text.strip())
    return when if when.tzinfo else when.replace(tzinfo=wizard.now.tzinfo)


def enter_customer(prompter: Any, wizard: Any) -> Customer:
    ref = wizard.answers.get("customer") or ""
    email = ref if "@" in ref else prompter.text(
        "Customer email:", check=lambda v: None if EMAIL.match(v.strip()) else "an email address")
    name = prompter.text("Customer name:", check=_needed)
    tier = prompter.choose("Customer tier:", list(wizard.cfg.tiers), default="Standard"
                           if "Standard" in wizard.cfg.tiers else None)
    return Customer(id=ref if "@" not in ref else f"manual:{email.strip()}", email=email.strip(), name=name.strip(),
                    tier=tier, source="manual")


def enter_order(prompter: Any, wizard: Any) -> Order:
    number = wizard.answers.get("order") or ""
    placed = prompter.text("Order date (YYYY-MM-DD):", check=_date())
    expected = prompter.text("Expected delivery date (YYYY-MM-DD, Enter if unknown):", check=_date(True))
    status = prompter.choose("Fulfilment status:", FULFILMENT, default="shipped")
    carrier = prompter.text("Carrier (Enter if none yet):")
    tracking = prompter.text("Tracking number (Enter if none yet):")
    line1 = prompter.text("Ship to, street:", check=_needed)
    city = prompter.text("Ship to, city:", check=_needed)
    region = prompter.text("Ship to, state / region:")
    postal = prompter.text("Ship to, postal code:", check=_needed)
    country = prompter.text("Ship to, country code:", default="US", check=_needed)
    value = prompter.text("Order value:", check=_money)
    return Order(
        number=number, customer_id=wizard.facts.customer.id, customer_email=wizard.facts.customer.email,
        placed_at=datetime.combine(date.fromisoformat(placed.strip()), datetime.min.time(), tzinfo=wizard.now.tzinfo),
        expected_delivery=date.fromisoformat(expected.strip()) if expected.strip() else None,
        carrier=carrier.strip() or None, tracking_number=tracking.strip() or None,
        address=Address(line1=line1.strip(), city=city.strip(), region=region.strip() or None,
                        postal_code=postal.strip(), country=country.strip().upper()),
        value=float(value), fulfillment_status=status, source="manual")


def enter_tracking(prompter: Any, wizard: Any) -> Tracking:
    order = wizard.facts.order
    status = prompter.choose("Status on the carrier's site:", list(TRACKING_STATUSES), default="in_transit")
    last_at = prompter.text("Latest scan, date and time (YYYY-MM-DD HH:MM):", check=_datetime)
    last_text = prompter.text("Latest scan, what it says:", check=_needed)
    location = prompter.text("Latest scan, where (Enter if not shown):")
    event = TrackingEvent(at=_local(wizard, last_at), status=status, description=last_text.strip(),
                          location=location.strip() or None)
    tracking = Tracking(tracking_number=order.tracking_number or "", carrier=order.carrier or "unknown",
                        status=status, events=[event], source="manual")
    if status == "delivered":
        tracking.delivered_at = event.at
        tracking.delivered_location = prompter.text("Delivered where (e.g. Front Door):").strip() or None
        photo = prompter.choose("Photo proof of delivery?", ["yes", "no"]) == "yes"
        tracking.proof_of_delivery = ProofOfDelivery(photo_available=photo,
                                                     location_note=tracking.delivered_location)
    return tracking
