"""Carrier claims as pure functions: which rule applies, the claim clock, what is recoverable, what
evidence is missing, and the recovery ledger's transitions. No I/O, no prompts, no printing.
Long because each carrier's claim rule has its own clock; they are read side by side.

Works on the stored case dict (JSON shapes) and on `reporting.summary`'s slim view alike: both carry
the keys `claim_facts` reads.
"""

from __future__ import annotations

import calendar as _months
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

ANCHORS = ("mailed", "expected_delivery", "delivered", "last_scan")
UNITS = ("calendar_days", "working_days")
EVIDENCE = ("tracking_history", "item_description", "proof_of_value", "proof_of_mailing", "serial_numbers",
            "trace_reference", "proof_of_delivery", "customer_statement")
# What each evidence kind is called in the packet's "still missing" list, and how to supply it.
EVIDENCE_LABELS = {
    "tracking_history": "the carrier's scans (track the parcel: mocli track NUMBER)",
    "item_description": "a description of the items (the order has none)",
    "proof_of_value": "the invoice (--invoice FILE)",
    "proof_of_mailing": "proof of mailing / insurance: the receipt or label (--receipt FILE)",
    "serial_numbers": "serial numbers (--serial TEXT, once per item)",
    "trace_reference": "the carrier's completed trace reference (--trace-ref REF)",
    "proof_of_delivery": "the carrier's proof of delivery",
    "customer_statement": "the customer's step-5 answers",
}

# The recovery ledger: which status may follow which. A claim is `filed` when mocli records it;
# nothing is paid before the carrier has it (`submitted`); a denial can be appealed (re-submitted).
CLAIM_STATUSES = ("filed", "submitted", "approved", "partial", "denied", "paid")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "filed": ("submitted",),
    "submitted": ("approved", "partial", "denied", "paid"),
    "approved": ("paid",),
    "partial": ("paid",),
    "denied": ("submitted",),
    "paid": (),
}
# Clock states, in the order an agent meets them.
STATES = ("too_early", "eligible", "expiring", "expired", "unknown", "not_needed")


@dataclass(frozen=True)
class ClaimRule:
    """One row of claims.toml."""

    carrier: str
    name: str
    earliest_from: str
    earliest_days: int
    deadline_from: str
    liability: float
    currency: str
    source: str
    checked: date
    earliest_unit: str = "calendar_days"
    deadline_days: int | None = None
    deadline_months: int | None = None
    deadline_unit: str = "calendar_days"
    service: str | None = None
    evidence: tuple[str, ...] = ()
    serial_numbers_over: float | None = None
    next_step: str = ""


@dataclass(frozen=True)
class ClaimFacts:
    """What the clock needs from a case: the dates of its events, the service, where it was going."""

    carrier: str | None
    service: str | None
    country: str | None
    region: str | None
    mailed: date | None
    mailed_assumed: bool  # no carrier scan: the order date stands in for the first scan
    expected_delivery: date | None
    delivered: date | None
    last_scan: date | None


@dataclass(frozen=True)
class ClaimClock:
    """Where a claim stands today: the state, the window, and what the carrier expects next."""

    state: str
    rule: ClaimRule | None
    opens: date | None = None
    expires: date | None = None
    days_left: int | None = None
    reason: str = ""
    assumptions: list[str] = field(default_factory=list)


@lru_cache(maxsize=1024)  # called for every case a report or `cases --claimable` reads
def _key(name: str | None) -> str:
    return re.sub(r"[^0-9a-z]", "", (name or "").casefold())


def pick_rule(rules: list[ClaimRule], carrier: str | None, service: str | None) -> ClaimRule | None:
    """The carrier's row for this service: a row naming the service wins over the carrier's general row."""
    mine = [r for r in rules if _key(r.carrier) and _key(r.carrier) == _key(carrier)]
    method = _key(service)
    specific = [r for r in mine if r.service and _key(r.service) in method]
    if specific:
        return max(specific, key=lambda r: len(_key(r.service)))
    return next((r for r in mine if not r.service), None)


def _day(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])
    except ValueError:
        return None


def claim_facts(case: dict[str, Any]) -> ClaimFacts:
    """The clock's facts from a stored case: first carrier scan, service, expected and actual delivery."""
    order = case.get("order") or {}
    tracking = case.get("tracking") or {}
    address = order.get("address") or {}
    # Each event's day read once (a first index of 50,000 cases reads some 80,000 of them).
    days = [(day, e) for e in tracking.get("events") or () if isinstance(e, dict) and (day := _day(e.get("at")))]
    # A label created is not a carrier scan: the carrier's clocks start when it has the parcel.
    scans = sorted(day for day, e in days if e.get("status") != "pre_transit")
    mailed = scans[0] if scans else None
    expected = _day(order.get("expected_delivery")) or _day(tracking.get("estimated_delivery"))
    placed = _day(order.get("placed_at"))
    return ClaimFacts(
        carrier=tracking.get("carrier") or order.get("carrier"),
        service=order.get("shipping_method"),
        country=address.get("country"),
        region=address.get("region"),
        mailed=mailed or placed,
        mailed_assumed=mailed is None and placed is not None,
        expected_delivery=expected,
        delivered=_day(tracking.get("delivered_at")),
        last_scan=scans[-1] if scans else None,
    )


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def _count(start: date, days: int, unit: str, working: Any) -> date:
    if unit == "working_days":
        for _ in range(days):
            start = working.next_business_day(start)
        return start
    return start + timedelta(days=days)


def _anchor(facts: ClaimFacts, name: str) -> date | None:
    return getattr(facts, name)


ANCHOR_WORDS = {"mailed": "the first carrier scan", "expected_delivery": "the expected delivery date",
                "delivered": "the delivery scan", "last_scan": "the last scan"}


def claim_clock(rules: list[ClaimRule], facts: ClaimFacts, today: date, *, expiring_within: int = 7,
                working_calendar: Any = None, rule: ClaimRule | None = None) -> ClaimClock:
    """Too early, eligible, expiring (deadline within `expiring_within` days) or expired, from the rule
    (`rule`, else the carrier's row picked from `rules`).

    `working_calendar` counts working days (a `BusinessCalendar` in the destination's country); the
    deadline is the last day a claim is accepted.
    """
    rule = rule or pick_rule(rules, facts.carrier, facts.service)
    if rule is None:
        return ClaimClock("unknown", None, reason=f"no claim rule for carrier {facts.carrier or 'none'} "
                                                  "in claims.toml")
    assumptions = ["no carrier scan on the case: the order date stands in for the first scan"] \
        if facts.mailed_assumed and "mailed" in (rule.earliest_from, rule.deadline_from) else []
    start, end = _anchor(facts, rule.earliest_from), _anchor(facts, rule.deadline_from)
    for name, day in ((rule.earliest_from, start), (rule.deadline_from, end)):
        if day is None:
            return ClaimClock("unknown", rule, reason=f"the case has no {ANCHOR_WORDS[name]}, which "
                                                      f"{rule.name}'s clock counts from", assumptions=assumptions)
    if "working_days" in (rule.earliest_unit, rule.deadline_unit) and working_calendar is None:
        raise ValueError("a working-day rule needs the destination's calendar")
    opens, expires = _opens(rule, start, working_calendar), _expires(rule, end, working_calendar)
    state = _state(opens, expires, today, expiring_within)
    return ClaimClock(state, rule, opens, expires, (expires - today).days, assumptions=assumptions)


def _opens(rule: ClaimRule, start: date, working: Any) -> date:
    return _count(start, rule.earliest_days, rule.earliest_unit, working)


def _expires(rule: ClaimRule, end: date, working: Any) -> date:
    if rule.deadline_months:
        return add_months(end, rule.deadline_months)
    return _count(end, rule.deadline_days or 0, rule.deadline_unit, working)


def _state(opens: date, expires: date, today: date, expiring_within: int) -> str:
    if today > expires:
        return "expired"
    if today < opens:
        return "too_early"
    return "expiring" if (expires - today).days <= expiring_within else "eligible"


class ClaimBook:
    """The claim clock for many cases' slim views (`reporting.summary`'s `claim_facts`) at once, as
    `assess` would give it: rules, windows and calendars are worked out once per distinct input, so a
    report over 50,000 cases costs a few dictionary look-ups per case."""

    def __init__(self, rules: list[ClaimRule], today: date, *, expiring_within: int = 7,
                 calendar_for: Any = None) -> None:
        self.rules, self.today, self.within, self.calendar_for = rules, today, expiring_within, calendar_for
        self._rule: dict[tuple[Any, Any], ClaimRule | None] = {}
        self._days: dict[tuple[Any, ...], date | None] = {}

    def window(self, case: dict[str, Any]) -> tuple[str, date | None, date | None]:
        """(state, opens, expires) of a case's slim view; state as `assess` (not_needed, unknown, ...)."""
        if no_claim_reason(case):
            return "not_needed", None, None
        cf = case.get("claim_facts") or {}
        rule = self.rule(cf)
        if rule is None:
            return "unknown", None, None
        start, end = cf.get(rule.earliest_from), cf.get(rule.deadline_from)
        if not start or not end:
            return "unknown", None, None
        opens = self._day(rule, "opens", start, cf, rule.earliest_unit)
        expires = self._day(rule, "expires", end, cf, rule.deadline_unit)
        if opens is None or expires is None:
            return "unknown", None, None
        return _state(opens, expires, self.today, self.within), opens, expires

    def recoverable(self, case: dict[str, Any]) -> float | None:
        """What the carrier pays at most for a slim view's order (as `recoverable`, without its sentence:
        this runs for every case a report or a store write clocks); None without a rule in its currency."""
        order = case.get("order") or {}
        rule = self.rule(case.get("claim_facts") or {})
        currency = str(order.get("currency") or "USD")
        if rule is None or rule.currency.upper() != currency.upper():
            return None
        return min(rule.liability, float(order.get("value") or 0))

    def rule(self, cf: dict[str, Any]) -> ClaimRule | None:
        """The rule for a slim view's carrier and service."""
        key = (cf.get("carrier"), cf.get("service"))
        if key not in self._rule:
            self._rule[key] = pick_rule(self.rules, *key)
        return self._rule[key]

    def _day(self, rule: ClaimRule, which: str, anchor: str, cf: dict[str, Any], unit: str) -> date | None:
        place = (cf.get("country"), cf.get("region")) if unit == "working_days" else None
        key = (id(rule), which, anchor, place)
        if key not in self._days:
            working = None
            if place is not None:
                try:
                    working = self.calendar_for(facts_from_dict(cf))
                except Exception:  # noqa: BLE001 - an unknown destination calendar: the clock is unknown
                    self._days[key] = None
                    return None
            day = _day(anchor)
            self._days[key] = None if day is None else \
                (_opens(rule, day, working) if which == "opens" else _expires(rule, day, working))
        return self._days[key]


def describe(clock: ClaimClock, today: date) -> str:
    """One line for an agent: 'eligible until 2027-01-01 (24 days left)'."""
    if clock.state == "unknown":
        return f"unknown: {clock.reason}"
    if clock.state == "not_needed":
        return f"no claim needed: {clock.reason}"
    assert clock.opens and clock.expires
    if clock.state == "too_early":
        wait = (clock.opens - today).days
        return (f"too early: can be filed from {clock.opens:%a %Y-%m-%d} (in {wait} day{'s' * (wait != 1)}), "
                f"until {clock.expires:%Y-%m-%d}")
    if clock.state == "expired":
        ago = (today - clock.expires).days
        return f"expired on {clock.expires:%Y-%m-%d} ({ago} day{'s' * (ago != 1)} ago)"
    left = clock.days_left or 0
    head = "expiring" if clock.state == "expiring" else "eligible"
    return (f"{head}: can be filed until {clock.expires:%a %Y-%m-%d} "
            f"({left} day{'s' * (left != 1)} left)")


def recoverable(rule: ClaimRule | None, value: float, currency: str) -> tuple[float | None, str]:
    """What the carrier pays at most without a declared value, against the order value."""
    if rule is None:
        return None, "no claim rule"
    if rule.currency.upper() != (currency or "").upper():
        # Converting money is not mocli's call: show both and let the agent read the carrier's terms.
        return None, (f"carrier cover {rule.liability:,.2f} {rule.currency} against an order of "
                      f"{value:,.2f} {currency}")
    amount = min(rule.liability, value)
    return amount, f"recoverable {amount:,.2f} of {value:,.2f} {currency}"


def required_evidence(rule: ClaimRule, value: float) -> list[str]:
    """The rule's evidence for this order (serial numbers only above the rule's value threshold)."""
    out = []
    for kind in rule.evidence:
        if kind == "serial_numbers" and rule.serial_numbers_over is not None and value <= rule.serial_numbers_over:
            continue
        out.append(kind)
    return out


def missing_evidence(rule: ClaimRule, case: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """The evidence kinds the rule requires that neither the case nor the agent's attachments supply."""
    order = case.get("order") or {}
    tracking = case.get("tracking") or {}
    have = {
        "tracking_history": bool(tracking.get("events")),
        "item_description": bool(order.get("items")),
        "proof_of_value": bool(given.get("invoice")),
        "proof_of_mailing": bool(given.get("receipt")),
        "serial_numbers": bool(given.get("serials")),
        "trace_reference": bool(given.get("trace_ref")),
        "proof_of_delivery": bool(tracking.get("proof_of_delivery") or tracking.get("delivered_at")),
        "customer_statement": any(k != "notes" for k in (case.get("answers") or {})),
    }
    return [k for k in required_evidence(rule, float(order.get("value") or 0)) if not have.get(k)]


def check_transition(current: str, new: str) -> str | None:
    """Why `current` → `new` is refused, or None when the ledger allows it."""
    if new not in CLAIM_STATUSES:
        return f"unknown claim status {new!r} (known: {', '.join(CLAIM_STATUSES[1:])})"
    if new in TRANSITIONS.get(current, ()):
        return None
    allowed = TRANSITIONS.get(current, ())
    nxt = f"it can go to {' or '.join(allowed)}" if allowed else "it is closed"
    return f"a claim that is {current} cannot become {new}: {nxt}"


def facts_dict(facts: ClaimFacts) -> dict[str, Any]:
    """The facts as JSON (for `claim status --json` and the cached slim view of a case)."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in facts.__dict__.items()}


def facts_from_dict(data: dict[str, Any]) -> ClaimFacts:
    return ClaimFacts(**{k: (_day(data.get(k)) if k in ANCHORS else data.get(k))
                         for k in ClaimFacts.__dataclass_fields__})


def no_claim_reason(case: dict[str, Any]) -> str | None:
    """Why a case has nothing to claim from the carrier (found, or never shipped), else None."""
    res = case.get("resolution") or {}
    action = (case.get("decision") or {}).get("action")
    if res.get("outcome") == "found" or action == "found":
        return "the parcel was found"
    if action == "awaiting_shipment":
        return "the order has not shipped"
    return None


# Decisions that mean the parcel should be with the customer and is not (the one definition: the
# repeat-claim rules count these, the report tallies them): a carrier claim is worth filing for these,
# and for a case resolved as lost; not for one on its way and on time.
CLAIM_ACTIONS = frozenset({"refund_or_replacement", "carrier_investigation", "fraud_review"})


def claim_fields(case: dict[str, Any]) -> dict[str, Any] | None:
    """The few fields of a stored case that the repeat-claim rules read (None: not a claim)."""
    from mocli.addresses import address_key

    decision = case.get("decision") or {}
    if decision.get("action") not in CLAIM_ACTIONS:
        return None
    try:
        key = address_key(case["order"]["address"])
        return {"customer": case["customer"]["id"], "order": case["order"]["number"],
                "on": str(case["created_at"])[:10], "address": key, "id": case.get("id")}
    except (KeyError, TypeError):
        return None  # a record from an older schema without these fields cannot be a claim here


def worth_claiming(case: dict[str, Any]) -> bool:
    """A case whose parcel went missing: resolved as lost, or decided as a claim and not found since."""
    res = case.get("resolution") or {}
    if res.get("outcome"):
        return res["outcome"] == "lost"
    return (case.get("decision") or {}).get("action") in CLAIM_ACTIONS


def assess(case: dict[str, Any], rules: list[ClaimRule], today: date, *, expiring_within: int = 7,
           calendar_for: Any = None, facts: ClaimFacts | None = None) -> ClaimClock:
    """The claim clock of a stored case (or its slim view with `facts`): `not_needed` when nothing is
    claimable; `calendar_for(facts)` gives the destination's working-day calendar when a rule needs it."""
    if why := no_claim_reason(case):
        return ClaimClock("not_needed", None, reason=why)
    facts = facts or claim_facts(case)
    rule = pick_rule(rules, facts.carrier, facts.service)
    working = None
    if rule is not None and "working_days" in (rule.earliest_unit, rule.deadline_unit) and calendar_for:
        try:
            working = calendar_for(facts)
        except Exception as exc:  # noqa: BLE001 - an unknown destination calendar makes the clock unknown
            return ClaimClock("unknown", rule, reason=str(exc))
    return claim_clock(rules, facts, today, expiring_within=expiring_within, working_calendar=working, rule=rule)


def claimable(rows: list[tuple[Any, dict[str, Any]]], book: ClaimBook,
              window: int | None = None) -> list[tuple[Any, dict[str, Any], date]]:
    """(key, view, deadline) of the slim views whose carrier claim is open for filing and not filed yet
    (within `window` days of its deadline when given), nearest deadline first (then the case id)."""
    keep = []
    for key, s in rows:
        if s.get("carrier_claim") or not s.get("claim_facts") or not worth_claiming(s):
            continue
        state, _, expires = book.window(s)
        if state not in ("eligible", "expiring"):
            continue
        if window is not None and (expires - book.today).days > window:
            continue
        keep.append((key, s, expires))
    keep.sort(key=lambda row: (row[2], str(row[1].get("id"))))
    return keep


def recovery(cases: list[dict[str, Any]], rules: list[ClaimRule], today: date, *, carrier_of: Any,
             calendar_for: Any = None) -> dict[str, Any]:
    """`mocli report`'s recovery figures by carrier: claims filed and paid, money claimed, recovered
    and lost, the recovery rate, and the claims that expired unfiled (money left with the carrier).

    Works on stored cases or their slim view (which carries `claim_facts`). Amounts are per currency.
    """
    return finish_recovery(recovery_rows(cases, rules, today, carrier_of=carrier_of, calendar_for=calendar_for))


def recovery_row(rows: dict[str, dict[str, Any]], carrier: str) -> dict[str, Any]:
    """The carrier's row of the recovery figures, made empty on first use."""
    return rows.setdefault(carrier, {"filed": 0, "paid": 0, "denied": 0, "pending": 0, "claimed": {},
                                     "recovered": {}, "lost": {}, "expired_unfiled": 0, "left_with_carrier": {}})


def add_money(money: dict[str, float], currency: Any, amount: Any) -> None:
    """Add an amount to a per-currency total (USD when the case names none), to the cent."""
    cur = str(currency or "USD")
    money[cur] = round(money.get(cur, 0.0) + float(amount or 0), 2)


def recovery_rows(cases: list[dict[str, Any]], rules: list[ClaimRule], today: date, *, carrier_of: Any,
                  calendar_for: Any = None) -> dict[str, dict[str, Any]]:
    """`recovery`'s rows by carrier, before the rates and the order (`finish_recovery`)."""
    rows: dict[str, dict[str, Any]] = {}
    book = ClaimBook(rules, today, calendar_for=calendar_for)
    for case in cases:
        carrier = carrier_of(case)
        res = case.get("resolution") or {}
        claim = case.get("carrier_claim")
        if res.get("outcome") == "lost":
            add_money(recovery_row(rows, carrier)["lost"], res.get("currency"), res.get("value"))
        if claim:
            r = recovery_row(rows, carrier)
            r["filed"] += 1
            status = claim.get("status")
            r["paid" if status == "paid" else "denied" if status == "denied" else "pending"] += 1
            add_money(r["claimed"], claim.get("currency"), claim.get("amount"))
            if status == "paid":
                add_money(r["recovered"], claim.get("currency"), claim.get("paid"))
            continue
        if not worth_claiming(case):
            continue
        if "claim_facts" not in case:  # a whole stored case rather than its slim view
            case = {**case, "claim_facts": facts_dict(claim_facts(case))}
        if book.window(case)[0] == "expired":
            r = recovery_row(rows, carrier)
            r["expired_unfiled"] += 1
            amount = book.recoverable(case)
            if amount is not None:
                add_money(r["left_with_carrier"], (case.get("order") or {}).get("currency"), amount)
    return rows


def merge_recovery(rows: dict[str, dict[str, Any]], more: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`recovery_rows` of two sets of cases added together (counts summed, money per currency)."""
    for carrier, extra in more.items():
        r = recovery_row(rows, carrier)
        for key, value in extra.items():
            if isinstance(value, dict):
                for cur, amount in value.items():
                    add_money(r[key], cur, amount)
            else:
                r[key] += value
    return rows


def finish_recovery(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The recovery figures from their rows: each carrier's recovery rate, biggest carriers first."""
    for r in rows.values():
        # A rate only where one currency is both lost and recovered: mocli does not convert money.
        cur = set(r["lost"]) | set(r["recovered"])
        r["recovery_rate"] = (round(sum(r["recovered"].values()) / sum(r["lost"].values()), 4)
                              if len(cur) == 1 and sum(r["lost"].values()) else None)
    return dict(sorted(rows.items(), key=lambda kv: (-kv[1]["filed"], -kv[1]["expired_unfiled"], kv[0])))
