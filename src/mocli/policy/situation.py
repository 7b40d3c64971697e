"""Where the parcel is, in the procedure's words: not shipped, on its way, late, delivered..."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from mocli.clock import comparable
from mocli.models import Order, Tracking


class Situation(StrEnum):
    NOT_SHIPPED = "not_shipped"
    IN_TRANSIT = "in_transit"  # on its way and on time
    DELIVERED = "delivered"  # carrier says delivered
    LATE = "late"
    STALLED = "stalled"
    EXCEPTION = "exception"
    RETURNED = "returned"
    DAMAGED = "damaged"  # the carrier reports the parcel damaged
    NO_TRACKING = "no_tracking"  # shipped, past its date, and no tracking to read
    LOST = "lost"  # lost by a stated rule: the carrier says so, or no scan for N business days

    @property
    def is_claim(self) -> bool:
        """The customer claims a parcel that should be with them (steps 5-6 apply)."""
        return self not in (Situation.NOT_SHIPPED, Situation.IN_TRANSIT)


NOT_SHIPPED_FULFILMENT = {"unfulfilled", "packed", "delayed"}
ON_THE_WAY = {"pre_transit", "in_transit", "out_for_delivery", "attempt_failed", "available_for_pickup"}


# What a carrier's exception text says, in the procedure's words. Read top to bottom; the first match wins.
_DAMAGED = re.compile(r"\bdamage", re.I)
# "missing" alone is not a loss ("address correction needed: dock number missing").
_LOST = re.compile(r"\blost\b|cannot be located|unable to locate|\b(package|parcel|shipment) (is )?missing\b", re.I)
EXCEPTION_KINDS = (
    ("address", re.compile(r"address|addressee|incorrect|moved|undeliverable", re.I)),
    ("customs", re.compile(r"customs|clearance|duties|import", re.I)),
    ("weather", re.compile(r"weather|storm|snow|flood|hurricane|natural disaster", re.I)),
    ("held", re.compile(r"\bhold\b|\bheld\b|on hold|awaiting", re.I)),
)


def exception_kind(text: str) -> str:
    """`address`, `customs`, `weather`, `held` or `other`: what holds the parcel."""
    return next((kind for kind, pattern in EXCEPTION_KINDS if pattern.search(text)), "other")


def lost_after(rules: Any, carrier: str | None) -> int:
    """Business days without a scan after which a parcel counts as lost (policy.toml [lost])."""
    by_carrier = {k.lower(): v for k, v in (rules.by_carrier or {}).items()}
    return by_carrier.get((carrier or "").lower(), rules.no_scan_business_days)


def _business_days_between(calendar: Any, start: datetime, end: datetime) -> int:
    day, last, n = start.astimezone(calendar.tz).date(), end.astimezone(calendar.tz).date(), 0
    while True:
        day = calendar.next_business_day(day)
        if day > last:
            return n
        n += 1


def late_or_stalled(tracking: Tracking, expected: date | None, now: datetime, *, late_after_days: int,
                    stalled_after_days: int) -> tuple[Situation, str] | None:
    """A parcel on its way that is stalled (no scan for days) or late (past its expected delivery),
    with the reason; None when neither. The carrier's estimate, when it gives one, wins over `expected`."""
    if tracking.events:
        last_scan = tracking.events[0].at
        idle = now - comparable(last_scan, now.tzinfo)
        if idle > timedelta(days=stalled_after_days):
            return Situation.STALLED, f"no carrier scan for {idle.days} days (last: {last_scan:%Y-%m-%d})"
    if tracking.estimated_delivery is not None:
        expected = _local_date(tracking.estimated_delivery, now)
    if expected is not None and now.date() > expected + timedelta(days=late_after_days):
        late_by = (now.date() - expected).days
        return Situation.LATE, f"{late_by} days past the expected delivery date ({expected:%Y-%m-%d})"
    return None


def _local_date(estimate: datetime, now: datetime) -> date:
    """The estimate's date where the agent is; no offset means already the local date at the place,
    never shifted by the machine's zone."""
    return (estimate.astimezone(now.tzinfo) if estimate.tzinfo else estimate).date()


def classify(order: Order, tracking: Tracking | None, now: datetime, *, late_after_days: int,
             stalled_after_days: int, calendar: Any = None,
             lost_after_business_days: int | None = None) -> tuple[Situation, str]:
    """The situation and a one-line reason an agent can read. A parcel is lost only by a stated rule:
    the carrier says so, or no scan for `lost_after_business_days` (counted on `calendar`)."""
    has_scans = tracking is not None and any(e.status != "pre_transit" for e in tracking.events)
    if order.fulfillment_status in NOT_SHIPPED_FULFILMENT and not has_scans:
        why = order.not_shipped_reason or "not yet handed to the carrier"
        return Situation.NOT_SHIPPED, f"order not shipped ({order.fulfillment_status}): {why}"
    expected = order.expected_delivery
    if tracking is None:
        if order.fulfillment_status == "delivered":
            return Situation.DELIVERED, "the order system marks it delivered (no carrier tracking to confirm)"
        if expected is not None and now.date() <= expected + timedelta(days=late_after_days):
            return Situation.IN_TRANSIT, f"shipped, no tracking to read; expected {expected:%Y-%m-%d}"
        return Situation.NO_TRACKING, "order marked shipped but no tracking is available: ask the carrier"
    status = tracking.status
    if status == "delivered":
        where = f" ({tracking.delivered_location})" if tracking.delivered_location else ""
        return Situation.DELIVERED, f"carrier reports delivered{where}"
    if status == "return_to_sender":
        return Situation.RETURNED, "carrier is returning the parcel to the sender"
    if status == "exception":
        last = tracking.events[0].description if tracking.events else (tracking.raw_description or "no detail")
        if _DAMAGED.search(last):
            return Situation.DAMAGED, f"carrier reports the parcel damaged: {last}"
        if _LOST.search(last):
            return Situation.LOST, f"carrier reports the parcel lost: {last}"
        return Situation.EXCEPTION, f"carrier exception ({exception_kind(last)}): {last}"
    if status in ("cancelled", "expired"):
        return Situation.NO_TRACKING, f"tracking {status}: the carrier no longer reports on this parcel"
    if tracking.events and calendar is not None and lost_after_business_days:
        last_scan = tracking.events[0].at
        quiet = _business_days_between(calendar, comparable(last_scan, now.tzinfo), now)
        if quiet >= lost_after_business_days:
            return Situation.LOST, (f"no carrier scan for {quiet} business days (last: {last_scan:%Y-%m-%d}; "
                                    f"lost after {lost_after_business_days} for {tracking.carrier})")
    overdue = late_or_stalled(tracking, order.expected_delivery, now, late_after_days=late_after_days,
                              stalled_after_days=stalled_after_days)
    if overdue is not None:
        return overdue
    if tracking.estimated_delivery is not None:
        expected = _local_date(tracking.estimated_delivery, now)
    if status in ON_THE_WAY or status == "unknown":
        when = f", expected {expected:%Y-%m-%d}" if expected else ""
        return Situation.IN_TRANSIT, f"on its way ({status.replace('_', ' ')}{when})"
    return Situation.EXCEPTION, f"unrecognised tracking status {status!r}: ask the carrier"
