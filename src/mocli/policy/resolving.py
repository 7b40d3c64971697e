"""Step 8 as pure functions: which questions a resolution needs, whether the answers follow the tier's
policy, and the resolved case record (resolution, status, history). No I/O, no prompts, no printing.

Works on the stored case dict (JSON shapes), so the same code resolves a case in `mocli resolve` and
generates realistic resolved cases in the benchmark.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mocli.errors import InvalidInput, MocliError

if TYPE_CHECKING:
    from mocli.models import Resolution

# What the investigation (or the call) established. `not_received`: a remedy given on the customer's
# word alone (a VIP's proactive offer); nobody established where the parcel is.
OUTCOMES = ("found", "lost", "damaged", "not_confirmed", "not_received")
REMEDIES = {
    "found": ("confirm", "redeliver"),
    "lost": ("reship", "refund"),
    "damaged": ("reship", "refund"),
    # The carrier maintains it was delivered: a goodwill remedy (with a lead's approval) or a respectful no.
    "not_confirmed": ("reship", "refund", "decline"),
    "not_received": ("reship", "refund"),
}
ALL_REMEDIES = ("confirm", "redeliver", "reship", "refund", "decline")
# Remedies that cost us the order's value (a refund, or the goods sent again).
PAID_REMEDIES = ("reship", "refund")
# The template key in messages.toml [resolutions.*] for each (outcome, remedy), when no carrier
# confirmation is recorded; `template_key` picks the "_confirmed" wording when one is.
TEMPLATE_KEYS = {(outcome, remedy): ("found_confirmed" if (outcome, remedy) == ("found", "confirm")
                                     else f"{outcome}_{remedy}")
                 for outcome, remedies in REMEDIES.items() for remedy in remedies}
CONFIRMABLE = ("lost",)  # outcomes whose message may say "our shipping partner has confirmed"


def template_key(outcome: str, remedy: str, carrier_reference: str | None) -> str:
    """The message for what was established: a carrier confirmation is claimed only when recorded."""
    key = TEMPLATE_KEYS[(outcome, remedy)]
    return f"{key}_confirmed" if carrier_reference and outcome in CONFIRMABLE else key


# Step 8 for a case left open at step 8 of the wizard: what closes it, by decision.
NEXT_STEP = {
    "refund_or_replacement": "When the customer has chosen: mocli resolve {id} --outcome not_received "
                             "--remedy reship|refund",
    "customer_check": "When the customer reports back: found -> mocli resolve {id} --outcome found --remedy "
                      "confirm; not found -> open the carrier investigation with mocli reassess {id}",
    "carrier_investigation": "When the carrier's trace concludes: mocli resolve {id} (found, lost with "
                             "--carrier-reference, damaged, or not_confirmed)",
    "fraud_review": "When the fraud review concludes: mocli resolve {id} --fraud-review cleared|confirmed "
                    "--reviewed-by NAME (no reship or refund before it)",
    "awaiting_shipment": "At the follow-up, check the order has shipped; add what you learn: mocli note {id} TEXT",
    "awaiting_delivery": "If it has not arrived by the follow-up: mocli resolve {id}, or mocli note {id} TEXT",
    "found": "Resolved now: the customer found the package.",
}

MAX_TEXT = 2000  # notes, reasons and names: bounded, so a paste accident cannot bloat the store


@dataclass(frozen=True)
class Question:
    """One answer a resolution needs: asked interactively, or given as `flag`."""

    name: str
    flag: str
    prompt: str
    choices: tuple[str, ...] = ()
    default: str | None = None

    def missing(self) -> str:
        """How `--no-input` names it: the flag, and what it is for."""
        text = self.prompt.rstrip("?:")
        hint = "|".join(self.choices) if self.choices else text[:1].lower() + text[1:]
        return f"{self.flag} ({hint})"


def clean_text(text: str | None, what: str) -> str | None:
    """Free text from an agent: stripped, bounded; empty means not given."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} is too long ({len(text)} characters; at most {MAX_TEXT})")
    return text


def order_value(case: dict[str, Any]) -> tuple[float, str]:
    order = case.get("order") or {}
    return float(order.get("value") or 0.0), str(order.get("currency") or "USD")


def needs_approval(case: dict[str, Any], tier: Any, outcome: str | None, remedy: str | None) -> bool:
    """A lead approves a refund or a reshipment above the tier's approval limit (a limit of 0 means
    none), and any goodwill remedy for a parcel the carrier maintains was delivered."""
    if remedy not in PAID_REMEDIES:
        return False
    if outcome == "not_confirmed":
        return True
    # A reshipment costs the goods as a refund costs the money: the same limit applies to both.
    limit = float(getattr(tier, "refund_approval_limit", 0) or 0)
    value, _ = order_value(case)
    return limit > 0 and value > limit


REVIEW_RESULTS = ("cleared", "confirmed")


def under_fraud_review(case: dict[str, Any]) -> bool:
    return (case.get("decision") or {}).get("action") == "fraud_review"


def questions(case: dict[str, Any], tier: Any, answers: dict[str, Any]) -> list[Question]:
    """The questions still unanswered, given the answers so far (in the order they are asked)."""
    out: list[Question] = []
    outcome = answers.get("outcome")
    remedy = answers.get("remedy")
    value, currency = order_value(case)
    if outcome is None:
        out.append(Question("outcome", "--outcome", "What did the investigation conclude?", OUTCOMES))
    if remedy is None:
        if outcome == "found":
            out.append(Question("remedy", "--remedy", "Was delivery confirmed, or will the carrier redeliver?",
                                REMEDIES["found"]))
        elif outcome == "not_confirmed":
            out.append(Question("remedy", "--remedy", "The carrier maintains it was delivered: a goodwill "
                                "remedy (a lead approves it) or decline?", REMEDIES["not_confirmed"]))
        elif outcome in REMEDIES:
            if getattr(tier, "remedy_choice", "policy") == "customer":
                out.append(Question("remedy", "--remedy", "Which does the customer choose?", REMEDIES[outcome]))
            else:
                # Policy tiers reship by default; a refund is the exception (and needs a reason).
                out.append(Question("remedy", "--remedy",
                                    "Remedy (policy: reship unless the item cannot be reshipped)",
                                    REMEDIES[outcome], default="reship"))
        else:
            out.append(Question("remedy", "--remedy", "Remedy", ALL_REMEDIES))
    if remedy == "refund" and outcome != "not_confirmed":
        if getattr(tier, "remedy_choice", "policy") != "customer" and not answers.get("reason"):
            out.append(Question("reason", "--reason", "Why can't the item be reshipped?"))
    if under_fraud_review(case) and remedy in PAID_REMEDIES:
        # The gate: nothing is reshipped or refunded until the review's result is recorded.
        if not answers.get("fraud_review"):
            out.append(Question("fraud_review", "--fraud-review", "What did the fraud review conclude?",
                                REVIEW_RESULTS))
        if not answers.get("reviewed_by"):
            out.append(Question("reviewed_by", "--reviewed-by", "Who did the fraud review?"))
    if needs_approval(case, tier, outcome, remedy) and not answers.get("approved_by"):
        if outcome == "not_confirmed":
            why = f"A goodwill {remedy} of {value:,.2f} {currency} needs a lead's approval"
        else:
            limit = float(tier.refund_approval_limit)
            why = f"{remedy.capitalize()} of {value:,.2f} {currency} is above the approval limit of {limit:,.2f}"
        out.append(Question("approved_by", "--approved-by", f"{why}: which lead approved it?"))
    return out


def check(case: dict[str, Any], tier: Any, answers: dict[str, Any], agent: str) -> None:
    """Refuse answers that do not follow the procedure or the tier's policy (InvalidInput, exit 2)."""
    outcome, remedy = answers.get("outcome"), answers.get("remedy")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"--outcome must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
    if remedy not in REMEDIES[outcome]:
        raise InvalidInput(f"--remedy {remedy} does not apply to a {outcome} parcel "
                           f"(choose {' or '.join(REMEDIES[outcome])})")
    review = answers.get("fraud_review")
    if review is not None and review not in REVIEW_RESULTS:
        raise InvalidInput(f"--fraud-review must be cleared or confirmed (got {review!r})")
    if review == "confirmed" and remedy in PAID_REMEDIES:
        raise InvalidInput("the fraud review confirmed the concern: no reshipment or refund; resolve with "
                           "--outcome not_confirmed --remedy decline")
    reviewer = answers.get("reviewed_by")
    if reviewer and reviewer.casefold() == agent.casefold():
        raise InvalidInput("a fraud review cannot be reviewed by the agent who resolves the case; "
                           "--reviewed-by names who did the review")
    approver = answers.get("approved_by")
    if approver and approver.casefold() == agent.casefold():
        raise InvalidInput("a remedy cannot be approved by the agent who resolves the case; "
                           "--approved-by names the lead who approved it")


def ensure_open(case: dict[str, Any]) -> None:
    """Resolving twice is refused (exit 1): a resolution is never overwritten."""
    if case.get("status") == "resolved":
        res = case.get("resolution") or {}
        how = (f" as {res.get('outcome')} / {res.get('remedy')} on {str(res.get('resolved_at', ''))[:10]} "
               f"by {res.get('resolved_by')}") if res else " when it was opened (the customer found it)"
        raise MocliError(f"case {case.get('id')} is already resolved{how}; add a note instead "
                         "(mocli note CASE TEXT)")


def hours_between(start: str | datetime, end: datetime) -> float:
    begin = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
    return round((end - begin).total_seconds() / 3600, 2)


def resolution_record(case: dict[str, Any], tier: Any, answers: dict[str, Any], *, now: datetime,
                      agent: str, macro: str, message: str) -> Resolution:
    """What `case["resolution"]` holds (docs/lifecycle.md, "The resolution record")."""
    from mocli.models import Resolution

    outcome, remedy = answers["outcome"], answers["remedy"]
    value, currency = order_value(case)
    follow_up = case.get("follow_up_by")
    return Resolution.model_validate({
        "outcome": outcome,
        "remedy": remedy,
        # What the remedy costs us: the refund, or the value of the replacement; nothing when found.
        "value": value if remedy in PAID_REMEDIES else 0.0,
        "currency": currency,
        "resolved_at": now.isoformat(),
        "resolved_by": agent,
        "hours_to_resolution": hours_between(case["created_at"], now),
        "within_sla": (datetime.fromisoformat(str(follow_up)) >= now) if follow_up else None,
        "remedy_choice": getattr(tier, "remedy_choice", "policy"),
        "approval_limit": float(getattr(tier, "refund_approval_limit", 0) or 0) or None,
        "approved_by": answers.get("approved_by"),
        "reason": answers.get("reason"),
        # The carrier's trace / claim reference when the carrier confirmed the outcome; else null, and
        # the message claims no confirmation.
        "carrier_reference": answers.get("carrier_reference"),
        "fraud_review": ({"result": answers["fraud_review"], "reviewed_by": answers.get("reviewed_by")}
                         if answers.get("fraud_review") else None),
        "note": answers.get("note"),
        "macro": macro,
        "message": message,
    })


def history_event(now: datetime, agent: str, event: str, detail: str | None) -> dict[str, Any]:
    """One history entry in the stored shape (models.HistoryEvent)."""
    return {"at": now.isoformat(), "agent": agent, "event": event, "detail": detail}


def resolve(case: dict[str, Any], tier: Any, answers: dict[str, Any], *, now: datetime, agent: str,
            macro: str, message: str) -> dict[str, Any]:
    """The resolved case: a new dict with the resolution, status "resolved" and history appended."""
    ensure_open(case)
    check(case, tier, answers, agent)
    missing = questions(case, tier, answers)
    if missing:
        raise InvalidInput("missing answers: " + ", ".join(q.missing() for q in missing))
    out = copy.deepcopy(case)
    record = resolution_record(case, tier, answers, now=now, agent=agent, macro=macro, message=message)
    res = out["resolution"] = record.model_dump(mode="json", exclude_unset=True)
    previous = case.get("status", "open")
    out["status"] = "resolved"
    what = f"{res['outcome']}, {res['remedy']}"
    if res["value"]:
        what += f" {res['value']:,.2f} {res['currency']}"
    if res["approved_by"]:
        what += f", approved by {res['approved_by']}"
    if res["fraud_review"]:
        what += f", fraud review {res['fraud_review']['result']} by {res['fraud_review']['reviewed_by']}"
    if res["carrier_reference"]:
        what += f", confirmed by the carrier ({res['carrier_reference']})"
    if res["reason"]:
        what += f"; reason: {res['reason']}"
    history = list(out.get("history") or [])
    history.append(history_event(now, agent, "resolved",
                                 f"status {previous} → resolved: {what}; macro {macro}"))
    if res["note"]:
        history.append(history_event(now, agent, "note", res["note"]))
    out["history"] = history
    return out


def add_note(case: dict[str, Any], text: str, *, now: datetime, agent: str) -> dict[str, Any]:
    """The case with one note appended to its history (open or resolved: notes never change status)."""
    out = dict(case)
    out["history"] = [*(case.get("history") or []), history_event(now, agent, "note", text)]
    return out
