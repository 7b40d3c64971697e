"""The support team's nouns: customer, order, tracking, case. Pydantic models, JSON in and out.

Import this module only inside commands (pydantic is not loaded by `mocli --help`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator  # noqa: TID253 (loaded inside commands)

TIERS = ("VIP", "Standard", "New Customer", "B2B")

TrackingStatus = Literal[
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "attempt_failed",
    "available_for_pickup",
    "delivered",
    "exception",
    "return_to_sender",
    "cancelled",
    "expired",
    "unknown",
]
TRACKING_STATUSES: tuple[str, ...] = TrackingStatus.__args__  # type: ignore[attr-defined]

FulfillmentStatus = Literal[
    "unfulfilled", "packed", "delayed", "partially_shipped", "shipped", "delivered", "cancelled"
]

Action = Literal[
    "refund_or_replacement",
    "customer_check",
    "carrier_investigation",
    "fraud_review",
    "awaiting_shipment",
    "awaiting_delivery",
    "found",
]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]

CaseStatus = Literal["open", "resolved"]


class Model(BaseModel):
    """Base: unknown keys are refused, so a typo in a data file is an error, not a silent blank."""

    model_config = ConfigDict(extra="forbid")


class Address(Model):
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str = "US"

    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, self.region, self.postal_code, self.country]
        return ", ".join(p for p in parts if p)

    def key(self) -> str:
        """A normalised form for comparing delivery addresses across customers."""
        from mocli.addresses import address_key

        return address_key(self.model_dump()) or ""


class PriorClaim(Model):
    """A missing-order claim the CRM already knows of (before mocli, or from another system)."""

    date: date
    order: str
    address: Address | None = None


class Customer(Model):
    id: str
    email: str
    name: str
    tier: str
    phone: str | None = None
    since: date | None = None
    notes: str | None = None  # special handling instructions from the CRM
    contact_name: str | None = None  # a business account's contact person (greeted by first name)
    address: Address | None = None
    prior_claims: list[PriorClaim] = Field(default_factory=list)
    locale: str | None = None  # the customer's language as the CRM has it (fr-CA), for their messages
    source: str = "demo"
    missing: list[str] = Field(default_factory=list)  # what the CRM record lacks, e.g. "name", "email"


class Order(Model):
    number: str
    customer_id: str
    customer_email: str | None = None  # lets a CRM's customer be matched to another system's order
    placed_at: datetime
    expected_delivery: date | None = None
    shipping_method: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    address: Address
    value: float = 0.0
    currency: str = "USD"
    fulfillment_status: FulfillmentStatus = "unfulfilled"
    warehouse: str | None = None
    not_shipped_reason: str | None = None
    new_ship_date: date | None = None
    items: list[str] = Field(default_factory=list)
    source: str = "demo"

    @model_validator(mode="after")
    def _dates_in_order(self) -> Order:
        placed = self.placed_at.date()
        if self.expected_delivery is not None and self.expected_delivery < placed:
            raise ValueError(f"expected_delivery {self.expected_delivery} is before the order date {placed}")
        if self.new_ship_date is not None and self.new_ship_date < placed:
            raise ValueError(f"new_ship_date {self.new_ship_date} is before the order date {placed}")
        return self


class TrackingEvent(Model):
    at: datetime
    status: str
    description: str
    location: str | None = None
    raw_code: str | None = None


class Gps(Model):
    lat: float
    lon: float


class ProofOfDelivery(Model):
    photo_available: bool = False
    signature_available: bool = False
    received_by: str | None = None
    location_note: str | None = None  # e.g. "Front Door", "Left with neighbour at No. 12"
    gps: Gps | None = None


class Tracking(Model):
    tracking_number: str
    carrier: str
    status: str = "unknown"
    raw_status: str | None = None
    raw_description: str | None = None
    estimated_delivery: datetime | None = None  # the end of the carrier's window when it gives one
    estimated_delivery_from: datetime | None = None  # the start of that window
    delivered_at: datetime | None = None
    delivered_location: str | None = None
    events: list[TrackingEvent] = Field(default_factory=list)  # newest first
    proof_of_delivery: ProofOfDelivery | None = None
    source: str = "demo"
    flags: list[str] = Field(default_factory=list)  # carrier data that contradicts itself: for the agent to check


class Signal(Model):
    """A fraud / repeat-claim rule that fired, with its evidence."""

    rule: str
    evidence: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Decision(Model):
    action: Action
    macro: str
    reasons: list[str]
    situation: str


class ChecklistItem(Model):
    """One of the tier's handling actions, and whether the agent ticked it before saving."""

    item: str
    done: bool = False


class HistoryEvent(Model):
    at: datetime
    agent: str
    event: str
    detail: str | None = None


class KnownIssue(Model):
    id: str
    note: str
    carrier: str | None = None
    region: str | None = None
    warehouse: str | None = None
    start: date
    end: date | None = None


class FraudReview(BaseModel):
    result: str
    reviewed_by: str | None = None


class Resolution(BaseModel):
    """Step 8's record, `case["resolution"]` (docs/lifecycle.md, "The resolution record")."""

    # Keys a later or earlier version wrote are ignored, not refused: a stored case must always read.
    model_config = ConfigDict(extra="ignore")

    outcome: str
    remedy: str
    value: float = 0.0  # what the remedy costs us: the refund, or the replacement's value
    currency: str = ""
    resolved_at: str | None = None  # as written, so the stored text is kept to the character
    resolved_by: str | None = None
    hours_to_resolution: float | None = None
    within_sla: bool | None = None
    remedy_choice: str | None = None
    approval_limit: float | None = None
    approved_by: str | None = None
    reason: str | None = None
    carrier_reference: str | None = None  # the carrier's confirmation; without it the message claims none
    fraud_review: FraudReview | None = None
    note: str | None = None
    macro: str = ""
    message: str = ""
    locale: dict[str, Any] | None = None  # set by `mocli resolve` when written in the customer's language

    @model_serializer(mode="wrap")
    def _stored_shape(self, handler: Any) -> dict[str, Any]:
        """The record as stored before it was typed: `locale` only when `mocli resolve` set one."""
        data = handler(self)
        if self.locale is None:
            data.pop("locale", None)
        return data


class Case(Model):
    """A stored missing-order case (schema documented in README, "The case record")."""

    id: str
    created_at: datetime
    agent: str
    customer: Customer
    order: Order
    tracking: Tracking | None = None
    # Why there is no tracking when the order names a number: {"reason": ..., "source": "fedex"}.
    tracking_unavailable: dict[str, str] | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    signals: list[Signal] = Field(default_factory=list)
    known_issues: list[KnownIssue] = Field(default_factory=list)
    decision: Decision
    follow_up_by: datetime
    message: str
    status: CaseStatus = "open"
    ticket: str | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    resolution: Resolution | None = None
    carrier_claim: dict[str, Any] | None = None  # the recovery ledger (mocli claim file / update)
    # The language of the message and why (README, "Messages in the customer's language").
    locale: dict[str, Any] | None = None
    history: list[HistoryEvent] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)  # the tier's handling actions
