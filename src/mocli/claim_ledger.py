"""The carrier-claim recovery ledger on a stored case: file a claim, move it through the carrier's
statuses, every change a history entry. Pure functions on the case dict, like resolving.py; and the claim's
status (`status_record`: the clock under the configured rules, the money, the ledger, the next step)."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from mocli.errors import InvalidInput, MocliError
from mocli.policy.resolving import history_event


def file_claim(case: dict[str, Any], *, carrier: str, carrier_ref: str, amount: float, currency: str,
               deadline: str | None, rule: str | None, now: datetime, agent: str) -> dict[str, Any]:
    """The case with `carrier_claim` recorded as filed (refused when one is already on record)."""
    from mocli.policy.claims import no_claim_reason

    if existing := case.get("carrier_claim"):
        raise MocliError(f"case {case.get('id')} already has a {existing.get('carrier')} claim "
                         f"{existing.get('carrier_ref')} ({existing.get('status')}); "
                         "use mocli claim update CASE --status ...")
    if why := no_claim_reason(case):
        raise MocliError(f"case {case.get('id')}: nothing to claim from the carrier: {why}")
    if not amount > 0:
        raise InvalidInput(f"--amount must be more than 0 (got {amount:g})")
    out = copy.deepcopy(case)
    out["carrier_claim"] = {
        "carrier": carrier,
        "carrier_ref": carrier_ref,
        "amount": round(amount, 2),
        "currency": currency,
        "status": "filed",
        "paid": None,
        "filed_at": now.isoformat(),
        "filed_by": agent,
        "updated_at": now.isoformat(),
        "deadline": deadline,
        "rule": rule,
    }
    out["history"] = [*(case.get("history") or []), history_event(
        now, agent, "claim_filed", f"{carrier} claim {carrier_ref} filed for {amount:,.2f} {currency}"
        + (f" (deadline {deadline})" if deadline else ""))]
    return out


def update_claim(case: dict[str, Any], *, status: str, paid: float | None, note: str | None, now: datetime,
                 agent: str) -> dict[str, Any]:
    """The case with its claim moved to `status` (the ledger's transitions only) and a history entry."""
    from mocli.policy.claims import CLAIM_STATUSES, check_transition

    claim = case.get("carrier_claim")
    if not claim:
        raise MocliError(f"case {case.get('id')} has no carrier claim on record; file it first "
                         "(mocli claim file CASE --carrier-ref REF --amount N)")
    if status not in CLAIM_STATUSES[1:]:
        raise InvalidInput(f"--status must be one of {', '.join(CLAIM_STATUSES[1:])} (got {status!r})")
    if status == "paid" and paid is None:
        raise InvalidInput("--status paid needs --paid N: the amount the carrier paid")
    if status != "paid" and paid is not None:
        raise InvalidInput("--paid goes with --status paid only")
    if paid is not None and (paid < 0 or paid > claim["amount"]):
        raise InvalidInput(f"--paid {paid:g} must be between 0 and the amount claimed, "
                           f"{claim['amount']:,.2f} {claim['currency']}")
    if why := check_transition(claim["status"], status):
        raise MocliError(f"claim {claim['carrier_ref']} on case {case.get('id')}: {why}")
    out = copy.deepcopy(case)
    new = out["carrier_claim"]
    previous, new["status"], new["updated_at"] = new["status"], status, now.isoformat()
    detail = f"claim {claim['carrier_ref']}: {previous} → {status}"
    if paid is not None:
        new["paid"] = round(paid, 2)
        new["paid_at"] = now.isoformat()
        detail += f", {paid:,.2f} {claim['currency']} paid of {claim['amount']:,.2f}"
    if note:
        detail += f"; {note}"
    out["history"] = [*(case.get("history") or []), history_event(now, agent, "claim_" + status, detail)]
    return out


# ---------------------------------------------------------------- the claim's status (claim status, case, resolve)


def claim_state(case: dict[str, Any], today: date, rules: Any = None, facts: Any = None):
    """The claim clock of a case with the configured rules (`rules`: a loaded ClaimRules)."""
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.policy.claims import assess

    rules = rules or load_claim_rules()
    return assess(case, rules.rules, today, expiring_within=rules.expiring_within_days,
                  calendar_for=destination_calendar, facts=facts)


def status_record(case: dict[str, Any], today: date, rules: Any = None) -> dict[str, Any]:
    """What `mocli claim status --json` prints (documented in docs/claims.md)."""
    from mocli.policy.claims import claim_facts, describe, facts_dict, recoverable
    from mocli.policy.resolving import order_value

    clock = claim_state(case, today, rules)
    value, currency = order_value(case)
    rule = clock.rule
    amount, money = recoverable(rule, value, currency)
    ledger = case.get("carrier_claim")
    return {
        "case": case.get("id"),
        "state": clock.state,
        "summary": describe(clock, today),
        "opens": clock.opens.isoformat() if clock.opens else None,
        "expires": clock.expires.isoformat() if clock.expires else None,
        "days_left": clock.days_left,
        "carrier": rule.carrier if rule else claim_facts(case).carrier,
        "rule": rule.name if rule else None,
        "next_step": _next_step(clock, ledger),
        "order_value": value,
        "currency": currency,
        "liability": {"amount": rule.liability, "currency": rule.currency} if rule else None,
        "recoverable": amount,
        "recoverable_text": money if rule else None,
        "facts": facts_dict(claim_facts(case)),
        "assumptions": clock.assumptions,
        "source": rule.source if rule else None,
        "checked": rule.checked.isoformat() if rule else None,
        "claim": ledger,
    }


def _next_step(clock: Any, ledger: dict[str, Any] | None) -> str | None:
    if ledger:
        return {"filed": "submit the claim to the carrier, then: mocli claim update CASE --status submitted",
                "submitted": "wait for the carrier's decision; record it with mocli claim update",
                "approved": "record the payment when it arrives: --status paid --paid N",
                "partial": "record the payment when it arrives: --status paid --paid N",
                "denied": "appeal with the missing evidence (--status submitted), or accept the loss",
                "paid": None}.get(ledger.get("status"))
    if clock.state in ("not_needed", "expired") or clock.rule is None:
        return None
    return clock.rule.next_step or None
