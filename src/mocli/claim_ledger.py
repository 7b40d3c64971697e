"""The carrier-claim recovery ledger on a stored case: file a claim, move it through the carrier's
statuses, every change a history entry. Pure functions on the case dict, like resolving.py."""

from __future__ import annotations

import copy
from datetime import datetime
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
