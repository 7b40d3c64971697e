"""Step 6: the action the procedure prescribes, from tier, situation, answers and signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mocli.models import Signal
from mocli.policy.situation import Situation


@dataclass(frozen=True)
class Verdict:
    action: str
    reasons: list[str]
    # The message's own wording for this branch (messages.toml outcomes.ACTION_VARIANT), if any.
    variant: str | None = None


def decide(tier_name: str, tier: Any, situation: Situation, situation_reason: str,
           answers: dict[str, Any], signals: list[Signal]) -> Verdict:
    """Pure: the same inputs give the same action and reasons, every time."""
    reasons = [situation_reason]
    if answers.get("package_found") is True:
        return Verdict("found", reasons + ["customer found the package"])
    mismatch = answers.get("address_confirmed") is False
    if situation is Situation.NOT_SHIPPED:
        if mismatch:
            reasons.append("address mismatch: correct the shipping address before the order ships")
            return Verdict("awaiting_shipment", reasons, "address_mismatch")
        return Verdict("awaiting_shipment", reasons)
    if situation is Situation.IN_TRANSIT:
        if mismatch:
            return Verdict("carrier_investigation",
                           reasons + ["address mismatch on a parcel in transit: ask the carrier to "
                                      "intercept or redirect it"], "redirect")
        return Verdict("awaiting_delivery", reasons)
    # A claim: the parcel should be with the customer and is not.
    if signals:
        return Verdict("fraud_review", reasons + [f"fraud signal: {s.evidence}" for s in signals]
                       + ["suspicious or repeated claims go to internal fraud review, whatever the tier"])
    if mismatch and situation is not Situation.LOST:
        # Not where the customer lives now: delivered there -> recover it; on its way -> redirect it.
        if situation is Situation.DELIVERED:
            return Verdict("carrier_investigation", reasons + [
                "address mismatch: delivered to the order's address, not the customer's; ask the carrier "
                "to recover it"], "address_mismatch")
        return Verdict("carrier_investigation", reasons + [
            "address mismatch: ask the carrier to redirect the parcel to the customer's address"], "redirect")
    if situation is Situation.DELIVERED:
        unchecked = _still_to_check(answers)
        if unchecked and not getattr(tier, "offer_before_customer_check", False):
            # Step 5: "if suspicions of loss/theft remain, proceed"; they cannot until the customer looks.
            return Verdict("customer_check", reasons + [f"waiting for the customer to check: {unchecked}; "
                                                        "no carrier escalation until then"])
        action = tier.on_delivered_not_received
        reasons.append(f"{tier_name} policy for delivered-but-not-received: {action.replace('_', ' ')}")
        _note_answers(answers, reasons)
    elif situation is Situation.LOST:
        action = tier.on_lost
        reasons.append(f"{tier_name} policy for a lost parcel: {action.replace('_', ' ')}")
    elif situation is Situation.DAMAGED:
        # The carrier established the damage: nothing to trace, the goods must be replaced or refunded.
        action = "refund_or_replacement"
        reasons.append("a damaged parcel: offer a replacement or a refund, and claim from the carrier")
    else:
        action = "carrier_investigation"
        reasons.append(f"not lost by any stated rule ({situation.value.replace('_', ' ')}): ask the carrier "
                       "to investigate, whatever the tier")
    return Verdict(action, reasons)


def _still_to_check(answers: dict[str, Any]) -> str:
    """What the customer has yet to check before a loss can be suspected ('' when nothing)."""
    todo = []
    if answers.get("checked_drop_off_spots") is False:
        todo.append("the usual drop-off spots")
    if answers.get("received_by_someone_else") is True:
        todo.append("with the neighbour or household member who may have it")
    return " and ".join(todo)


def _note_answers(answers: dict[str, Any], reasons: list[str]) -> None:
    if answers.get("received_by_someone_else") is True:
        reasons.append("customer says someone else may have received it; not yet recovered")
    if answers.get("checked_drop_off_spots") is False:
        reasons.append("customer has not yet checked the usual drop-off spots")
    if answers.get("theft_in_area") is True:
        reasons.append("customer reports recent parcel theft in the area")


def contradictions(answers: dict[str, Any]) -> list[str]:
    """Step-5 answers that do not fit together: the review screen questions them before saving."""
    out = []
    if answers.get("package_found") is True:
        if answers.get("theft_in_area") is True:
            out.append("found, yet theft in the area: was it really found, or stolen?")
        if answers.get("checked_drop_off_spots") is False:
            out.append("found, yet the drop-off spots were not checked: where was it found?")
    return out
