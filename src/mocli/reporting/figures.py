"""The report's figures over case dicts, in one pass (`tally`), assembled into its JSON (`assemble`; keys
in docs/lifecycle.md, "Report JSON keys"); the team store sums the same `Tally` by SQL."""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from mocli.addresses import address_key
from mocli.policy.claims import CLAIM_ACTIONS
from mocli.reporting.views import address_line, carrier_of, when

# How many repeat claimants, repeat addresses and overdue follow-ups the report names (`report --top`):
# a team store of a million cases has over 100,000 repeat claimants, a list no lead reads (0: all).
TOP = 20



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


def recovery_figures(cases: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Carrier-claim recovery by carrier (policy/claims.py `recovery`) with the configured claim rules."""
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.policy.claims import recovery

    return recovery(cases, load_claim_rules().rules, now.date(), carrier_of=carrier_of,
                    calendar_for=destination_calendar)
