"""A saved case as the internal note on its helpdesk ticket: what an agent opening the ticket needs to
know, in plain text."""

from __future__ import annotations

from typing import Any

from mocli.render import sanitize


def case_note(case: dict[str, Any]) -> str:
    """The internal note for a case record (as saved), one fact a line."""
    customer = case.get("customer") or {}
    order = case.get("order") or {}
    tracking = case.get("tracking") or {}
    decision = case.get("decision") or {}
    lines = [
        f"mocli case {case.get('id')} (opened {str(case.get('created_at', ''))[:16].replace('T', ' ')} "
        f"by {case.get('agent')})",
        f"Customer: {customer.get('name')} <{customer.get('email')}>, tier {customer.get('tier')}",
        f"Order: {order.get('number')}, placed {str(order.get('placed_at', ''))[:10]}, "
        f"fulfilment {order.get('fulfillment_status')}",
    ]
    if tracking or order.get("tracking_number"):
        number = tracking.get("tracking_number") or order.get("tracking_number")
        carrier = tracking.get("carrier") or order.get("carrier") or "carrier"
        lines.append(f"Tracking: {carrier} {number}, status {tracking.get('status', 'not looked up')}")
    lines.append(f"Situation: {decision.get('situation')}")
    lines.append(f"Decision: {decision.get('action')} (macro: {decision.get('macro')})")
    for reason in decision.get("reasons") or []:
        lines.append(f"  - {reason}")
    for signal in case.get("signals") or []:
        lines.append(f"Review signal: {signal.get('rule')}: {signal.get('evidence')}")
    answers = {k: v for k, v in (case.get("answers") or {}).items() if v not in (None, "")}
    if answers:
        shown = "; ".join(f"{k.replace('_', ' ')}: {'yes' if v is True else 'no' if v is False else v}"
                          for k, v in answers.items())
        lines.append(f"Answers: {shown}")
    if case.get("sources"):
        lines.append("Facts from: " + ", ".join(f"{k} {v}" for k, v in case["sources"].items()))
    lines.append(f"Follow up by: {str(case.get('follow_up_by', ''))[:16].replace('T', ' ')}")
    # Provider data and typed notes are untrusted: the helpdesk gets the text the terminal shows, with
    # no escape sequences, NUL, C1 controls or bidi overrides.
    return "\n".join(sanitize(line) for line in "\n".join(lines).split("\n"))
