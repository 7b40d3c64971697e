"""One case's rows in the case index (store/index.py): the columns the report, `mocli cases` and the
repeat-claim rules read, each taken from the stored case as reporting.summary / tally / Filters take it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson  # noqa: TID253 (the store is imported only inside commands)

from mocli.addresses import address_key
from mocli.policy.claims import CLAIM_ACTIONS, ClaimBook, claim_facts, claim_fields, facts_dict, worth_claiming
from mocli.reporting import _CLAIM_FIELDS, _RESOLUTION_FIELDS, address_line, carrier_of, when

_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")

# The cases table's columns, in order (times as microseconds since the epoch).
COLUMNS = ("doc_id", "span_off", "span_len", "odd", "id", "status", "tier", "action", "carrier", "agent",
           "agent_raw", "f_agent", "f_tier", "f_carrier", "created_us", "created_week", "outcome", "remedy",
           "value", "currency", "has_res", "resolved_week", "hours", "follow_text", "follow_us", "sla", "late")


# The views table's recovery columns (after doc_id and the view): what policy/claims.py `recovery_rows`
# adds up of a claim case, the claim window's last day as a day number (date.toordinal) and the claim
# rules' fingerprint it was worked out under ('' when no window is needed; NULL: not worked out yet;
# PYTHON: a value these columns cannot hold as the fold reads it, so the report folds the view itself).
RECOVERY_COLUMNS = ("claim_carrier", "lost_cur", "lost_value", "claim_status", "claim_cur", "claim_amount",
                    "claim_paid", "order_cur", "expires", "recoverable", "rules")
PYTHON = "python"


@dataclass
class WindowClock:
    """The claim rules' fingerprint and a ClaimBook over them: what a claim case's window is kept under."""

    fingerprint: str
    book: ClaimBook

    @classmethod
    def of(cls, rules: list[Any]) -> WindowClock:
        from mocli.claim_rules import destination_calendar, window_fingerprint

        # Only the window's days are kept, never its state: the day given the book does not matter.
        return cls(window_fingerprint(rules), ClaimBook(rules, date.today(), calendar_for=destination_calendar))


def recovery_columns(view: dict[str, Any], clock: WindowClock | None) -> tuple[Any, ...]:
    """A claim case's RECOVERY_COLUMNS from its slim view, as policy/claims.py `recovery_rows` reads it
    (its window by `clock`; none given: left to be worked out when a report asks)."""
    try:
        return _recovery_columns(view, clock)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return (*([None] * (len(RECOVERY_COLUMNS) - 1)), PYTHON)


def _recovery_columns(view: dict[str, Any], clock: WindowClock | None) -> tuple[Any, ...]:
    carrier = carrier_of(view)
    if not isinstance(carrier, str):
        raise TypeError("a carrier the report keys by value")
    res = view.get("resolution") or {}
    lost_cur = lost_value = None
    if res.get("outcome") == "lost":
        lost_cur, lost_value = str(res.get("currency") or "USD"), float(res.get("value") or 0)
    claim = view.get("carrier_claim")
    status = claim_cur = amount = paid = order_cur = expires = recoverable = None
    rules = ""  # a filed claim, or nothing to claim: no window to work out
    if claim:
        got = claim.get("status")
        status = "paid" if got == "paid" else "denied" if got == "denied" else "pending"
        claim_cur, amount = str(claim.get("currency") or "USD"), float(claim.get("amount") or 0)
        paid = float(claim.get("paid") or 0) if status == "paid" else None
    elif worth_claiming(view):
        order_cur = str((view.get("order") or {}).get("currency") or "USD")
        rules = None
        if clock is not None:
            rules = clock.fingerprint
            _, _, last = clock.book.window(view)
            if last is not None:
                expires, recoverable = last.toordinal(), clock.book.recoverable(view)
    return (carrier, lost_cur, lost_value, status, claim_cur, amount, paid, order_cur, expires, recoverable, rules)


def micros(moment: datetime) -> int:
    """An aware time as whole microseconds since the epoch (what the index stores and compares)."""
    d = moment - _EPOCH
    return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds


def _monday(stamp: Any) -> str | None:
    """The Monday of a stored time's own date part (as reporting.tally's week_of), ISO, or None."""
    return _monday_of(str(stamp)[:10] if stamp else "")


@lru_cache(maxsize=4096)  # 50,000 cases fall on a few hundred dates
def _monday_of(day: str) -> str | None:
    try:
        found = date.fromisoformat(day)
    except ValueError:
        return None
    return (found - timedelta(days=found.weekday())).isoformat()


def _aware(value: Any) -> tuple[datetime | None, bool]:
    """(the time, True) as reporting.when reads it; False when it is naive (then it cannot be compared
    with the report's `now`: the row is odd)."""
    moment = when(value)
    return moment, moment is None or moment.tzinfo is not None


@dataclass
class Row:
    """One case's rows in the index's tables."""

    case: tuple[Any, ...]  # COLUMNS order
    claimant: tuple[Any, ...] | None
    view: bytes | None
    recovery: tuple[Any, ...] | None  # RECOVERY_COLUMNS, with the view
    claim: tuple[Any, ...] | None
    rules: list[str]


def row(doc_id: int, case: dict[str, Any], off: int, length: int, clock: WindowClock | None = None) -> Row:
    """The index rows of one stored case.

    Each column is what reporting.tally / Filters / listing read from the case's summary
    (reporting.summary), taken from the case the same way (without building the summary: a first index
    of 50,000 cases projects each once); `odd` marks a case with a field of a type those would read
    differently, or that they could not read at all (the commands then read the journal instead). A
    claim case's window is worked out by `clock` (none: when a report first asks).
    """
    try:
        return _row(doc_id, case, off, length, clock)
    except (AttributeError, TypeError, ValueError):
        return Row((doc_id, off, length, 1, *([None] * (len(COLUMNS) - 4))), None, None, None, None, [])


def _row(doc_id: int, case: dict[str, Any], off: int, length: int, clock: WindowClock | None) -> Row:
    get = case.get
    status = get("status", "open")
    customer = get("customer") or {}
    order = get("order") or {}
    tracking = get("tracking")
    tracking = tracking if isinstance(tracking, dict) else None
    action = (get("decision") or {}).get("action")
    tier = customer.get("tier") or "unknown"
    carrier = (tracking or {}).get("carrier") or order.get("carrier") or "none"
    agent_raw = get("agent")
    res = get("resolution")
    res = res if isinstance(res, dict) else None
    case_id = get("id")
    odd = not (type(case_id) is str and type(status) is str and type(tier) is str  # JSON gives no subclasses
               and type(action or "unknown") is str and type(carrier) is str)
    created_text = get("created_at")
    created, ok = _aware(created_text)
    odd = odd or not ok
    # The summary keeps a resolution record (even an empty one) as a non-empty dict: "had one" is "is a dict".
    outcome = res.get("outcome") if res is not None else ("found" if status == "resolved" else None)
    remedy = res.get("remedy") if res is not None else None
    odd = odd or not isinstance(outcome or "", str) or not isinstance(remedy or "", str)
    value, currency, hours, resolved_week, late = 0.0, None, None, None, 0
    follow_text = get("follow_up_by")
    follow, ok = _aware(follow_text)
    odd = odd or not ok or not isinstance(follow_text or "", str)
    if res is not None:
        resolved_text = res.get("resolved_at")
        resolved_week = _monday(resolved_text)
        if isinstance(res.get("hours_to_resolution"), int | float):
            hours = float(res["hours_to_resolution"])
        currency = str(res.get("currency") or "USD")
        try:
            value = float(res.get("value") or 0)
        except (TypeError, ValueError):
            odd = True
        resolved, ok = _aware(resolved_text)
        odd = odd or not ok
        if ok and follow is not None and resolved is not None and follow.tzinfo is not None:
            late = int(resolved > follow)
    sla = int(follow is not None and not (status == "resolved" and res is None))
    claimant = None
    address = order.get("address")
    fields = claim_fields(case)
    if action in CLAIM_ACTIONS:
        cid = str(customer.get("id") or customer.get("email") or "unknown")
        # claim_fields worked the address's key out already (the same call): not twice per claim
        key = (fields["address"] if fields else address_key(address)) if isinstance(address, dict) else None
        line = address_line(address) if isinstance(address, dict) else None
        claimant = (doc_id, cid, str(customer.get("email") or ""), key or None, line or "")
    claim = get("carrier_claim")
    claim = {k: claim.get(k) for k in _CLAIM_FIELDS} if isinstance(claim, dict) else None
    view = recovery = None
    if (res and res.get("outcome") == "lost") or claim or (
            res.get("outcome") == "lost" if res and res.get("outcome") else action in CLAIM_ACTIONS):
        # What the recovery figures (policy/claims.py `recovery`) read, as the summary holds it.
        slim = {"order": {k: order.get(k) for k in ("carrier", "value", "currency")},
                "tracking": {"carrier": tracking.get("carrier")} if tracking is not None else None,
                "resolution": {k: res.get(k) for k in _RESOLUTION_FIELDS} if res is not None else None,
                "carrier_claim": claim, "claim_facts": facts_dict(claim_facts(case)), "decision": {"action": action}}
        view, recovery = orjson.dumps(slim), recovery_columns(slim, clock)
    rules = ([str(sig.get("rule") or "unknown") for sig in get("signals") or () if isinstance(sig, dict)]
             if action == "fraud_review" else [])
    action = action or "unknown"
    values = (doc_id, off, length, int(odd), case_id if isinstance(case_id, str) else None, str(status),
              str(tier), str(action), str(carrier), str(agent_raw or "unknown"),
              str(agent_raw) if agent_raw else None, str(agent_raw).casefold(), str(tier).casefold(),
              str(carrier).casefold(), micros(created) if created and created.tzinfo else None,
              _monday(created_text), outcome or None, remedy or None, value, currency, int(res is not None),
              resolved_week, hours, follow_text if isinstance(follow_text, str) else None,
              micros(follow) if follow and follow.tzinfo else None, sla, late)
    return Row(values, claimant, view, recovery,
               (doc_id, _text(fields, "customer"), _text(fields, "address"), orjson.dumps(fields)) if fields else None,
               rules)


def _text(fields: dict[str, Any] | None, key: str) -> str | None:
    value = fields.get(key) if fields else None
    return value if isinstance(value, str) else None
