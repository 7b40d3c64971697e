"""Where the parcel is, in the procedure's words: not shipped, on its way, late, delivered..."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from mocli.models import Order, Tracking


class Situation(StrEnum):
    NOT_SHIPPED = "not_shipped"
    IN_TRANSIT = "in_transit"  # on its way and on time
    DELIVERED = "delivered"  # carrier says delivered
    LATE = "late"
    STALLED = "stalled"
    EXCEPTION = "exception"
    RETURNED = "returned"
    LOST = "lost"

    @property
    def is_claim(self) -> bool:
        """The customer claims a parcel that should be with them (steps 5-6 apply)."""
        return self not in (Situation.NOT_SHIPPED, Situation.IN_TRANSIT)


NOT_SHIPPED_FULFILMENT = {"unfulfilled", "packed", "delayed"}
ON_THE_WAY = {"pre_transit", "in_transit", "out_for_delivery", "attempt_failed", "available_for_pickup"}


def late_or_stalled(tracking: Tracking, expected: date | None, now: datetime, *, late_after_days: int,
                    stalled_after_days: int) -> tuple[Situation, str] | None:
    """A parcel on its way that is stalled (no scan for days) or late (past its expected delivery),
    with the reason; None when neither. The carrier's estimate, when it gives one, wins over `expected`."""
    if tracking.events:
        last_scan = tracking.events[0].at
        idle = now - last_scan
        if idle > timedelta(days=stalled_after_days):
            return Situation.STALLED, f"no carrier scan for {idle.days} days (last: {last_scan:%Y-%m-%d})"
    if tracking.estimated_delivery is not None:
        expected = tracking.estimated_delivery.astimezone(now.tzinfo).date()
    if expected is not None and now.date() > expected + timedelta(days=late_after_days):
        late_by = (now.date() - expected).days
        return Situation.LATE, f"{late_by} days past the expected delivery date ({expected:%Y-%m-%d})"
    return None


def classify(order: Order, tracking: Tracking | None, now: datetime, *, late_after_days: int,
             stalled_after_days: int) -> tuple[Situation, str]:
    """The situation and a one-line reason an agent can read."""
    has_scans = tracking is not None and any(e.status != "pre_transit" for e in tracking.events)
    if order.fulfillment_status in NOT_SHIPPED_FULFILMENT and not has_scans:
        why = order.not_shipped_reason or "not yet handed to the carrier"
        return Situation.NOT_SHIPPED, f"order not shipped ({order.fulfillment_status}): {why}"
    if tracking is None:
        return Situation.LOST, "order marked shipped but no tracking is available"
    status = tracking.status
    if status == "delivered":
        where = f" ({tracking.delivered_location})" if tracking.delivered_location else ""
        return Situation.DELIVERED, f"carrier reports delivered{where}"
    if status == "return_to_sender":
        return Situation.RETURNED, "carrier is returning the parcel to the sender"
    if status == "exception":
        last = tracking.events[0].description if tracking.events else "no detail"
        return Situation.EXCEPTION, f"carrier exception: {last}"
    if status in ("cancelled", "expired"):
        return Situation.LOST, f"tracking {status}: the parcel is no longer being tracked"
    overdue = late_or_stalled(tracking, order.expected_delivery, now, late_after_days=late_after_days,
                              stalled_after_days=stalled_after_days)
    if overdue is not None:
        return overdue
    expected = order.expected_delivery
    if tracking.estimated_delivery is not None:
        expected = tracking.estimated_delivery.astimezone(now.tzinfo).date()
    if status in ON_THE_WAY or status == "unknown":
        when = f", expected {expected:%Y-%m-%d}" if expected else ""
        return Situation.IN_TRANSIT, f"on its way ({status.replace('_', ' ')}{when})"
    return Situation.LOST, f"unrecognised tracking status {status!r}"
