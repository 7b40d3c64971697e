"""Report figures and case filters over stored case dicts: pure, one pass, no pydantic per case.

Everything here takes plain case dicts (the stored JSON) and a `now`; nothing reads files or prints.
The JSON keys of `figures()` are documented in docs/lifecycle.md ("Report JSON keys").
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from mocli.addresses import address_key
from mocli.errors import InvalidInput
from mocli.policy.claims import CLAIM_ACTIONS, claim_facts, facts_dict

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
# How many repeat claimants, repeat addresses and overdue follow-ups the report names (`report --top`):
# a team store of a million cases has over 100,000 repeat claimants, a list no lead reads (0: all).
TOP = 20


# ---------------------------------------------------------------- small accessors on raw dicts


def carrier_of(case: dict[str, Any]) -> str:
    """The carrier that handled the parcel: tracking's, else the order's, else "none"."""
    tracking = case.get("tracking") or {}
    order = case.get("order") or {}
    return tracking.get("carrier") or order.get("carrier") or "none"


def tier_of(case: dict[str, Any]) -> str:
    return (case.get("customer") or {}).get("tier") or "unknown"


def action_of(case: dict[str, Any]) -> str:
    return (case.get("decision") or {}).get("action") or "unknown"


def address_line(address: dict[str, Any]) -> str:
    parts = [address.get(k) for k in ("line1", "line2", "city", "region", "postal_code", "country")]
    return ", ".join(str(p) for p in parts if p)


def when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


# ---------------------------------------------------------------- the slim view the report reads

# Names the cached projection (store.read_projection); bump the version when `summary` changes.
SUMMARY_KEY = "report-v3"
_RESOLUTION_FIELDS = ("outcome", "remedy", "value", "currency", "resolved_at", "hours_to_resolution")
_CLAIM_FIELDS = ("carrier", "carrier_ref", "status", "amount", "paid", "currency", "filed_at", "deadline")


def summary(case: dict[str, Any]) -> dict[str, Any]:
    """A case cut down to what filters and figures read, in the same shape (a few keys instead of the
    whole record): parsing 50,000 of these is several times faster than 50,000 full cases."""
    customer = case.get("customer") or {}
    order = case.get("order") or {}
    decision = case.get("decision") or {}
    res = case.get("resolution")
    tracking = case.get("tracking")
    address = order.get("address")
    claim = case.get("carrier_claim")
    return {
        "id": case.get("id"),
        "created_at": case.get("created_at"),
        "agent": case.get("agent"),
        "status": case.get("status", "open"),
        "follow_up_by": case.get("follow_up_by"),
        "customer": {"id": customer.get("id"), "email": customer.get("email"), "tier": customer.get("tier")},
        "order": {"carrier": order.get("carrier"), "value": order.get("value"), "currency": order.get("currency"),
                  "address_key": address_key(address) if isinstance(address, dict) else None,
                  "address_line": address_line(address) if isinstance(address, dict) else None},
        "tracking": {"carrier": tracking.get("carrier")} if isinstance(tracking, dict) else None,
        "decision": {"action": decision.get("action")},
        "signals": [{"rule": s.get("rule")} for s in case.get("signals") or () if isinstance(s, dict)],
        "resolution": {k: res.get(k) for k in _RESOLUTION_FIELDS} if isinstance(res, dict) else None,
        "history_count": len(case.get("history") or ()),
        # The carrier claim: the clock's facts and the ledger (policy/claims.py, commands/claim.py).
        "claim_facts": facts_dict(claim_facts(case)),
        "carrier_claim": {k: claim.get(k) for k in _CLAIM_FIELDS} if isinstance(claim, dict) else None,
    }


# Names the cached view `mocli cases` filters and sorts (store/file_backend.py); bump it when `listing`
# changes.
LISTING_KEY = "listing-v1"
_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def follow_up_key(case: dict[str, Any]) -> int | None:
    """The follow-up time in whole microseconds since the epoch (None: none, or unreadable): what the
    listing sorts on; comparing aware datetimes is several times slower."""
    follow = when(case.get("follow_up_by"))
    return None if follow is None else (follow - _EPOCH) // timedelta(microseconds=1)


def listing(case: dict[str, Any]) -> dict[str, Any]:
    """A case cut down to what `mocli cases` filters (`Filters`, due, overdue) and sorts on, in the same
    shape: a third of the report's summary, so the listing loads its cached view that much faster."""
    customer = case.get("customer") or {}
    order = case.get("order") or {}
    tracking = case.get("tracking")
    return {
        "id": case.get("id"),
        "created_at": case.get("created_at"),
        "agent": case.get("agent"),
        "status": case.get("status", "open"),
        "follow_up_by": case.get("follow_up_by"),
        "follow_up_key": follow_up_key(case),
        "customer": {"tier": customer.get("tier")},
        "order": {"carrier": order.get("carrier")},
        "tracking": {"carrier": tracking.get("carrier")} if isinstance(tracking, dict) else None,
        "decision": {"action": (case.get("decision") or {}).get("action")},
    }


# ---------------------------------------------------------------- periods and filters


def parse_when(text: str | None, now: datetime, *, flag: str, end: bool = False) -> datetime | None:
    """A period bound: "7d", "12h", "2w" (before now), "today", "YYYY-MM-DD" or an ISO date-time.

    A bare date as an upper bound (`end=True`) includes that whole day.
    """
    if text is None or not text.strip():
        return None
    s = text.strip()
    if m := _RELATIVE.match(s):
        try:
            return now - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
        except OverflowError:  # 99999999d: before the calendar starts
            raise InvalidInput(f"{flag} {text!r}: too far back (a span of at most a few thousand years)") from None
    if s.lower() == "today":
        day = now.date()
    else:
        try:
            day = date.fromisoformat(s)
        except ValueError:
            try:
                moment = datetime.fromisoformat(s)
            except ValueError:
                raise InvalidInput(f"{flag} {text!r}: use a date (2026-11-01), a date-time, "
                                   "or a span back from now such as 7d, 30d, 12h, 2w") from None
            return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
    start = datetime.combine(day, time(0), tzinfo=now.tzinfo)
    if end and day == date.max:  # the end of the calendar's last day: no upper bound at all
        return None
    return start + timedelta(days=1) if end else start


def parse_period(since: str | None, until: str | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """`--since` and `--until` as bounds; an empty period is a usage error, not a silently empty list."""
    start = parse_when(since, now, flag="--since")
    end = parse_when(until, now, flag="--until", end=True)
    if start and end and start >= end:
        raise InvalidInput(f"--since must be before --until (--since {since} is {start:%Y-%m-%d %H:%M}, "
                           f"--until {until} is {end:%Y-%m-%d %H:%M})")
    return start, end


@dataclass(frozen=True)
class Filters:
    """What `mocli cases` and `mocli report` select. None means "any"."""

    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    agent: str | None = None
    tier: str | None = None
    carrier: str | None = None
    action: str | None = None
    status: str | None = None  # "open", "resolved" or None for both

    def matches(self, case: dict[str, Any]) -> bool:
        if self.status and case.get("status", "open") != self.status:
            return False
        if self.agent and str(case.get("agent", "")).casefold() != self.agent.casefold():
            return False
        if self.tier and tier_of(case).casefold() != self.tier.casefold():
            return False
        if self.carrier and carrier_of(case).casefold() != self.carrier.casefold():
            return False
        if self.action and action_of(case) != self.action:
            return False
        if self.since or self.until:
            created = when(case.get("created_at"))
            if created is None:
                return False
            if self.since and created < self.since:
                return False
            if self.until and created >= self.until:
                return False
        return True


def select(cases: Iterable[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    return [c for c in cases if filters.matches(c)]


def merge(sources: Iterable[Iterable[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Cases from several agents' files, each case once.

    When a case is in two files (a copied file: same id, opened at the same moment for the same
    customer), the most advanced copy wins: resolved over open, then the one with the longer history.
    Two different cases that drew the same id are both kept (`duplicate_ids` names them).
    """
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    for cases in sources:
        for case in cases:
            if case.get("id") is None:
                continue
            key = _identity(case)
            old = best.get(key)
            if old is None or _progress(case) > _progress(old):
                best[key] = case
    return list(best.values())


def _identity(case: dict[str, Any]) -> tuple[Any, ...]:
    return case.get("id"), case.get("created_at"), (case.get("customer") or {}).get("id")


def duplicate_ids(cases: Iterable[dict[str, Any]]) -> list[str]:
    """Ids that more than one distinct case carries (after `merge`), sorted."""
    counts = Counter(str(c.get("id")) for c in cases if c.get("id") is not None)
    return sorted(cid for cid, n in counts.items() if n > 1)


def _progress(case: dict[str, Any]) -> tuple[int, int]:
    count = case.get("history_count")
    return (1 if case.get("status") == "resolved" else 0,
            count if isinstance(count, int) else len(case.get("history") or ()))


def is_overdue(case: dict[str, Any], now: datetime) -> bool:
    """An open case whose follow-up time has passed."""
    if case.get("status", "open") != "open":
        return False
    follow = when(case.get("follow_up_by"))
    return follow is not None and follow < now


def is_due_today(case: dict[str, Any], now: datetime) -> bool:
    """An open case whose follow-up falls on today's date (in the configured time zone)."""
    if case.get("status", "open") != "open":
        return False
    follow = when(case.get("follow_up_by"))
    return follow is not None and follow.astimezone(now.tzinfo).date() == now.date()


# ---------------------------------------------------------------- statistics


def median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s)))
    return s[rank - 1]


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _sorted_counts(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


# ---------------------------------------------------------------- the report


@dataclass
class Tally:
    """The counts behind every figure of the report: summed case by case here (`tally`), or by the team
    store's database (store/postgres.py, SQL aggregates); `assemble` turns either into the figures."""

    by_status: Counter
    by_tier: Counter
    by_action: Counter
    by_outcome: Counter
    by_remedy: Counter
    by_carrier: Counter
    carrier_claims: Counter
    carrier_found: Counter
    carrier_lost: Counter
    sla_settled: Counter
    sla_breached: Counter
    agents: dict[str, Counter]
    hours: tuple[int, float | None, float | None]  # count, median, 90th percentile
    refund_count: int
    refund_total: Counter
    reship_count: int
    reship_value: Counter
    fraud_opened: int
    fraud_signals: Counter
    overdue: int
    repeat_customers: list[dict[str, Any]]  # {"customer", "email", "claims", "cases"}, claims > 1
    repeat_addresses: list[dict[str, Any]]  # {"address", "customers", "claims"}, customers > 1
    # Open cases past their follow-up: {"id", "agent", "tier", "follow_up_by", "hours_late"}.
    overdue_cases: list[dict[str, Any]] = field(default_factory=list)
    # Monday -> cases opened, resolved, and follow-ups settled and breached that week.
    weekly: dict[date, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # How many repeat customers / addresses there are, when the lists above hold only the top ones
    # (the team store's SQL picks those); None: the lists are whole.
    repeat_customers_total: int | None = None
    repeat_addresses_total: int | None = None


def figures(cases: list[dict[str, Any]], now: datetime, *, since: datetime | None = None,
            until: datetime | None = None, filters: dict[str, Any] | None = None,
            sources: list[str] | None = None, top: int = TOP) -> dict[str, Any]:
    """Every figure of `mocli report` over `cases` (already selected), in one pass."""
    return assemble(tally(cases, now), now, since=since, until=until, filters=filters, sources=sources, top=top)


def tally(cases: list[dict[str, Any]], now: datetime) -> Tally:
    """The report's counts over `cases`, in one pass."""
    by_status: Counter = Counter()
    by_tier: Counter = Counter()
    by_action: Counter = Counter()
    by_outcome: Counter = Counter()
    by_remedy: Counter = Counter()
    by_carrier: Counter = Counter()
    carrier_claims: Counter = Counter()
    carrier_found: Counter = Counter()
    carrier_lost: Counter = Counter()
    sla_settled: Counter = Counter()
    sla_breached: Counter = Counter()
    agents: dict[str, Counter] = defaultdict(Counter)
    hours: list[float] = []
    refund_count = reship_count = 0
    refund_total: Counter = Counter()
    reship_value: Counter = Counter()
    fraud_opened = 0
    fraud_signals: Counter = Counter()
    overdue = 0
    overdue_cases: list[dict[str, Any]] = []
    weekly: dict[date, Counter] = defaultdict(Counter)  # Monday -> opened, resolved, settled, breached
    mondays: dict[str, date] = {}  # a stored time's date part -> its Monday: 50,000 cases share few dates

    def week_of(stamp: Any) -> date | None:
        # Stored times are ISO 8601 in the configured time zone, so their date part is the local date.
        key = str(stamp)[:10] if stamp else ""
        if key not in mondays:
            try:
                day = date.fromisoformat(key)
            except ValueError:
                return None
            mondays[key] = day - timedelta(days=day.weekday())
        return mondays[key]
    claims_by_customer: dict[str, list[str]] = defaultdict(list)
    customer_email: dict[str, str] = {}
    address_customers: dict[str, set[str]] = defaultdict(set)
    address_claims: Counter = Counter()
    address_text: dict[str, str] = {}

    # The loop runs once per case (50,000 and more): the accessors above are inlined, and a follow-up
    # time's week is looked up by its local date instead of formatting and parsing it again.
    tz = now.tzinfo
    now_week = week_of(now.isoformat())
    follow_weeks: dict[date, date] = {}

    def due_week_of(follow: datetime) -> Counter:
        if follow >= now:
            return weekly[now_week]  # type: ignore[index]
        day = follow.astimezone(tz).date()
        monday = follow_weeks.get(day)
        if monday is None:
            monday = follow_weeks[day] = day - timedelta(days=day.weekday())
        return weekly[monday]

    fromiso = datetime.fromisoformat
    for c in cases:
        get = c.get
        status = get("status", "open")
        tier = (get("customer") or {}).get("tier") or "unknown"
        action = (get("decision") or {}).get("action") or "unknown"
        order = get("order") or {}
        carrier = (get("tracking") or {}).get("carrier") or order.get("carrier") or "none"
        agent = str(get("agent") or "unknown")
        res = get("resolution") or None
        by_status[status] += 1
        by_tier[tier] += 1
        by_action[action] += 1
        by_carrier[carrier] += 1
        load = agents[agent]
        load["opened"] += 1
        load[status] += 1
        if (opened_week := week_of(get("created_at"))) is not None:
            weekly[opened_week]["opened"] += 1

        # Outcome: from the resolution record; a parcel found while the case was opened counts as found.
        outcome = res.get("outcome") if res else ("found" if status == "resolved" else None)
        if outcome:
            by_outcome[outcome] += 1
            if outcome == "lost":
                carrier_lost[carrier] += 1
            elif outcome == "found":
                carrier_found[carrier] += 1
        if res:
            if (resolved_week := week_of(res.get("resolved_at"))) is not None:
                weekly[resolved_week]["resolved"] += 1
            remedy = res.get("remedy")
            if remedy:
                by_remedy[remedy] += 1
            if isinstance(res.get("hours_to_resolution"), int | float):
                hours.append(float(res["hours_to_resolution"]))
            if remedy == "refund":
                refund_count += 1
                refund_total[str(res.get("currency") or "USD")] += float(res.get("value") or 0)
            elif remedy == "reship":
                reship_count += 1
                reship_value[str(res.get("currency") or "USD")] += float(res.get("value") or 0)

        # SLA: a case breaches when it was not resolved by its follow-up time. Settled = resolved, or
        # still open after the follow-up time; an open case not yet due has not met or missed it.
        follow_text = get("follow_up_by")
        try:
            follow = fromiso(str(follow_text)) if follow_text else None
        except ValueError:
            follow = None
        if follow is not None and not (status == "resolved" and res is None):
            # The SLA trend counts each settled case in the week its follow-up fell due (this week for
            # one resolved ahead of a later follow-up).
            if status == "open":
                if follow < now:
                    due_week = due_week_of(follow)
                    due_week["settled"] += 1
                    due_week["breached"] += 1
                    overdue += 1
                    overdue_cases.append({"id": get("id"), "agent": agent, "tier": tier,
                                          "follow_up_by": follow_text,
                                          "hours_late": round((now - follow).total_seconds() / 3600, 1)})
                    load["overdue"] += 1
                    sla_settled[tier] += 1
                    sla_breached[tier] += 1
            else:
                due_week = due_week_of(follow)
                resolved_at = when(res.get("resolved_at")) if res else None
                sla_settled[tier] += 1
                due_week["settled"] += 1
                if resolved_at is not None and resolved_at > follow:
                    sla_breached[tier] += 1
                    due_week["breached"] += 1

        if action in CLAIM_ACTIONS:
            carrier_claims[carrier] += 1
            customer = get("customer") or {}
            cid = str(customer.get("id") or customer.get("email") or "unknown")
            customer_email.setdefault(cid, str(customer.get("email") or ""))
            claims_by_customer[cid].append(str(get("id")))
            key = order["address_key"] if "address_key" in order else address_key(order.get("address"))
            if key:
                address_customers[key].add(cid)
                address_claims[key] += 1
                if key not in address_text:
                    address_text[key] = order.get("address_line") or address_line(order.get("address") or {})
        if action == "fraud_review":
            fraud_opened += 1
            for sig in get("signals") or ():
                fraud_signals[str(sig.get("rule") or "unknown")] += 1

    repeat_customers = [{"customer": cid, "email": customer_email.get(cid, ""), "claims": len(ids),
                         "cases": sorted(ids)} for cid, ids in claims_by_customer.items() if len(ids) > 1]
    repeat_addresses = [{"address": address_text[k], "customers": len(who), "claims": address_claims[k]}
                        for k, who in address_customers.items() if len(who) > 1]
    return Tally(by_status, by_tier, by_action, by_outcome, by_remedy, by_carrier, carrier_claims, carrier_found,
                 carrier_lost, sla_settled, sla_breached, agents, (len(hours), median(hours), percentile(hours, 90)),
                 refund_count, refund_total, reship_count, reship_value, fraud_opened, fraud_signals, overdue,
                 repeat_customers, repeat_addresses, overdue_cases, weekly)


def assemble(t: Tally, now: datetime, *, since: datetime | None = None, until: datetime | None = None,
             filters: dict[str, Any] | None = None, sources: list[str] | None = None, top: int = TOP) -> dict[str, Any]:
    """The report's figures (docs/lifecycle.md, "Report JSON keys") from its counts; the repeat claimants
    and overdue follow-ups cut to the `top` first (0: all), with how many there are in all."""
    by_tier, by_carrier, agents = t.by_tier, t.by_carrier, t.agents
    carrier_claims, carrier_found, carrier_lost = t.carrier_claims, t.carrier_found, t.carrier_lost
    sla_settled, sla_breached = t.sla_settled, t.sla_breached
    carriers = {
        name: {
            "cases": n,
            "claims": carrier_claims[name],
            "found": carrier_found[name],
            "lost": carrier_lost[name],
            "claim_rate": rate(carrier_claims[name], n),
            "lost_rate": rate(carrier_lost[name], carrier_found[name] + carrier_lost[name]),
        }
        for name, n in _sorted_counts(by_carrier).items()
    }
    sla = {
        tier: {"cases": by_tier[tier], "settled": sla_settled[tier], "breached": sla_breached[tier],
               "breach_rate": rate(sla_breached[tier], sla_settled[tier])}
        for tier in _sorted_counts(by_tier)
    }
    def first(rows: list[dict[str, Any]], key: Any) -> list[dict[str, Any]]:
        return heapq.nsmallest(top, rows, key=key) if top else sorted(rows, key=key)

    repeat_customers = first(t.repeat_customers, lambda r: (-r["claims"], r["customer"]))
    repeat_addresses = first(t.repeat_addresses, lambda r: (-r["customers"], -r["claims"], r["address"]))
    by_agent = {
        name: {"opened": load["opened"], "open": load["open"], "resolved": load["resolved"],
               "overdue": load["overdue"]}
        for name, load in sorted(agents.items(), key=lambda kv: (-kv[1]["opened"], kv[0]))
    }
    return {
        "generated_at": now.isoformat(),
        "period": {"since": since.isoformat() if since else None,
                   "until": until.isoformat() if until else None},
        "filters": {k: v for k, v in (filters or {}).items() if v},
        "sources": sources or [],
        "total": sum(t.by_status.values()),
        "open": t.by_status["open"],
        "resolved": t.by_status["resolved"],
        "by_tier": _sorted_counts(by_tier),
        "by_action": _sorted_counts(t.by_action),
        "by_outcome": _sorted_counts(t.by_outcome),
        "by_remedy": _sorted_counts(t.by_remedy),
        "by_carrier": _sorted_counts(by_carrier),
        "carriers": carriers,
        "time_to_resolution_hours": {"count": t.hours[0], "median": t.hours[1], "p90": t.hours[2]},
        "overdue_follow_ups": t.overdue,
        "overdue_cases": first(t.overdue_cases, lambda r: (-r["hours_late"], str(r["id"]))),
        "sla_by_tier": sla,
        "refunds": {"count": t.refund_count, "total": _money(t.refund_total)},
        "reshipments": {"count": t.reship_count, "value": _money(t.reship_value)},
        "fraud_reviews": {"opened": t.fraud_opened, "signals": _sorted_counts(t.fraud_signals)},
        "repeat_claimants": {
            "customers": repeat_customers, "addresses": repeat_addresses,
            "customers_total": len(t.repeat_customers) if t.repeat_customers_total is None
            else t.repeat_customers_total,
            "addresses_total": len(t.repeat_addresses) if t.repeat_addresses_total is None
            else t.repeat_addresses_total},
        "by_agent": by_agent,
        "trends": _trends(t.weekly),
    }


def _trends(weekly: dict[date, Counter]) -> list[dict[str, Any]]:
    """Per week, oldest first and with no week skipped: cases opened and resolved, and the SLA breach
    rate over the follow-ups that fell due that week."""
    if not weekly:
        return []
    first, last = min(weekly), max(weekly)
    out = []
    week = first
    while week <= last:
        w = weekly.get(week, Counter())
        out.append({"week": week.isoformat(), "opened": w["opened"], "resolved": w["resolved"],
                    "settled": w["settled"], "breached": w["breached"],
                    "breach_rate": rate(w["breached"], w["settled"])})
        week += timedelta(days=7)
    return out


def _money(totals: Counter) -> dict[str, float]:
    return {cur: round(v, 2) for cur, v in sorted(totals.items())}


# ---------------------------------------------------------------- flat rows for CSV and markdown


def rows(report: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The report as (section, key, measure, value) rows: one table for spreadsheets and wikis."""
    out: list[tuple[str, str, str, Any]] = [
        ("summary", "cases", "total", report["total"]),
        ("summary", "cases", "open", report["open"]),
        ("summary", "cases", "resolved", report["resolved"]),
        ("summary", "follow-ups", "overdue", report["overdue_follow_ups"]),
    ]
    ttr = report["time_to_resolution_hours"]
    out += [("time_to_resolution_hours", "all", k, ttr[k]) for k in ("count", "median", "p90")]
    for section in ("by_tier", "by_action", "by_outcome", "by_remedy", "by_carrier"):
        out += [(section, k, "cases", v) for k, v in report[section].items()]
    for name, figs in report["carriers"].items():
        out += [("carriers", name, k, v) for k, v in figs.items()]
    for tier, figs in report["sla_by_tier"].items():
        out += [("sla_by_tier", tier, k, v) for k, v in figs.items()]
    out.append(("refunds", "all", "count", report["refunds"]["count"]))
    out += [("refunds", cur, "total", v) for cur, v in report["refunds"]["total"].items()]
    out.append(("reshipments", "all", "count", report["reshipments"]["count"]))
    out += [("reshipments", cur, "value", v) for cur, v in report["reshipments"]["value"].items()]
    out.append(("fraud_reviews", "all", "opened", report["fraud_reviews"]["opened"]))
    out += [("fraud_reviews", rule, "signals", n) for rule, n in report["fraud_reviews"]["signals"].items()]
    repeat = report["repeat_claimants"]
    out += [("repeat_claimants", "all", k, repeat[f"{k}_total"]) for k in ("customers", "addresses")
            if f"{k}_total" in repeat]
    out += [("repeat_customers", r["customer"], "claims", r["claims"])
            for r in report["repeat_claimants"]["customers"]]
    out += [("repeat_addresses", r["address"], "customers", r["customers"])
            for r in report["repeat_claimants"]["addresses"]]
    for name, figs in report["by_agent"].items():
        out += [("by_agent", name, k, v) for k, v in figs.items()]
    for name, figs in (report.get("recovery") or {}).items():  # money per currency: "claimed USD"
        for k, v in figs.items():
            out += [("recovery", name, f"{k} {cur}", amount) for cur, amount in v.items()] if isinstance(v, dict) \
                else [("recovery", name, k, v)]
    out += [("overdue_cases", str(r["id"]), "hours_late", r["hours_late"]) for r in report.get("overdue_cases", ())]
    for w in report.get("trends", ()):
        out += [("trends", w["week"], k, w[k]) for k in ("opened", "resolved", "settled", "breached", "breach_rate")]
    return out


def title(report: dict[str, Any]) -> str:
    """What the report covers, in words: its period and every filter (`tier VIP`, `agent sam`)."""
    period = report["period"]
    text = (f"Missing-order report, {period['since'][:10] if period['since'] else 'all time'} to "
            f"{period['until'][:10] if period['until'] else 'now'}")
    filters = report.get("filters") or {}
    text += "".join(f", {name} {filters[name]}" for name in ("tier", "agent", "carrier") if filters.get(name))
    if len(report.get("sources") or ()) > 1:
        text += f" ({len(report['sources'])} case files)"
    return text


def late(hours: float) -> str:
    """How late a follow-up is, as people say it: `2d 5h`, `7h`."""
    days, rest = divmod(int(hours), 24)
    return f"{days}d {rest}h" if days else f"{rest}h"


def recovery_figures(cases: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Carrier-claim recovery by carrier (policy/claims.py `recovery`) with the configured claim rules."""
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.policy.claims import recovery

    return recovery(cases, load_claim_rules().rules, now.date(), carrier_of=carrier_of,
                    calendar_for=destination_calendar)
