"""`mocli report` on the team store: the counts of reporting.Tally by SQL aggregates over the indexed
columns (a few thousand grouped rows come back, never the cases); `reporting.assemble` turns them into
the same figures as the local report.

At a million cases every pass over the cases costs half a second or more: the counts are one pass (in
parallel), the weekly trend and the time-to-resolution histogram another (GROUPING SETS), both over
migration 3's narrow covering index rather than the table; the claims' groupings read migration 2's
indexes (benchmarks/team_store.py; EXPLAIN ANALYZE).

Since schema 4 most of it is read from the totals that triggers keep on every write (migrations.py):
a few thousand summary rows instead of the cases, where the report's filters are the totals' keys; the
passes above remain for the filters that are not (`--since` / `--until`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from mocli.store import migrations

# Times are grouped in 15-minute steps (every time zone's offset is a multiple of 15 minutes), and each
# step's week is worked out in Python, in the report's zone: a few thousand conversions instead of
# three per case in SQL.
STEP = "date_bin('15 minutes', {}, timestamptz '2000-01-03 00:00+00')"

# Each kind of case: how many, their value, and their SLA (plain GROUP BY: the database spreads it over
# its parallel workers, which it cannot do for grouping sets).
COUNTS = """
SELECT status, tier, action, carrier, agent, outcome, remedy, currency, count(*), sum(value),
       count(*) FILTER (WHERE overdue), count(*) FILTER (WHERE met), count(*) FILTER (WHERE overdue OR (met AND late))
FROM (SELECT status, tier, action, carrier, agent, currency, value,
             CASE WHEN has_resolution THEN outcome WHEN status = 'resolved' THEN 'found' END AS outcome,
             CASE WHEN has_resolution THEN nullif(remedy, '') END AS remedy,
             status = 'open' AND follow_up_by < %s AS overdue,
             follow_up_by IS NOT NULL AND status <> 'open' AND NOT (status = 'resolved' AND NOT has_resolution)
                 AS met,
             coalesce(resolved_at > follow_up_by, false) AS late
      FROM mocli_cases WHERE {where}) c
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""

# The weekly trend and the times to resolution in one pass (GROUPING SETS): the 15-minute steps each
# case was opened in, resolved in, and had its follow-up settled in (met or breached), as reporting.tally
# counts them; and how often each time to resolution occurs.
TREND = f"""
SELECT GROUPING(opened, resolved, settled, breached, hours), opened, resolved, settled, breached, hours, count(*)
FROM (SELECT {STEP.format("created_at")} AS opened,
             CASE WHEN has_resolution THEN {STEP.format("resolved_at")} END AS resolved,
             CASE WHEN follow_up_by IS NOT NULL AND NOT (status = 'resolved' AND NOT has_resolution)
                       AND (status = 'resolved' OR follow_up_by < %s)
                  THEN {STEP.format("least(follow_up_by, %s)")} END AS settled,
             status = 'open' OR coalesce(resolved_at > follow_up_by, false) AS breached,
             CASE WHEN has_resolution THEN hours_to_resolution END AS hours
      FROM mocli_cases WHERE {{where}}) c
GROUP BY GROUPING SETS ((opened), (resolved), (settled, breached), (hours))"""


def tally(cur: Any, where: list[str], params: list[Any], now: datetime, top: int, *, on: set[str] | None = None) -> Any:
    """reporting.Tally of the cases `where` selects (SQL conditions on mocli_cases, `%s` parameters).

    `on`: the filters `where` states (postgres_rows.filtered_on); migration 4's kept totals are read where
    they allow (None: never): the counts by status, agent, tier, carrier and action (never by date), the
    trend only unfiltered, the overdue by status, tier and agent. The rest is counted from the cases."""
    kept = "" if on is None or on & {"since", "until"} else "counts" if on else "all"
    by_day = bool(kept) and on is not None and on <= {"status", "tier", "agent"}
    from mocli import reporting

    # The grouping sets hash a few thousand groups each; planned with the default 4 MB, they would be
    # sorted instead. Compiling these statements (JIT) costs more than it saves: a second at a million.
    cur.execute("SET LOCAL work_mem = '256MB'")
    cur.execute("SET LOCAL jit = off")
    # A team store's indexes live in memory: at the default random_page_cost (4, for spinning disks) the
    # planner reads the claims from the 600 MB table instead of migration 2's 60 MB index, twice as slow.
    cur.execute("SET LOCAL random_page_cost = 1.1")
    t = reporting.Tally(*(Counter() for _ in range(11)), defaultdict(Counter), (0, None, None), 0,
                        Counter(), 0, Counter(), 0, Counter(), 0, [], [])
    sql_where = " AND ".join(where) or "true"
    if kept:
        _kept_counts(cur, t, sql_where, params, now, by_day)
    else:
        cur.execute(COUNTS.format(where=sql_where), [now, *params])
        for row in cur.fetchall():
            _count(t, *row)
    weeks: dict[datetime | int, date] = {}

    def week(step: datetime | int) -> date:  # the kept trend's steps are seconds since the epoch
        if step not in weeks:
            moment = datetime.fromtimestamp(step, now.tzinfo) if isinstance(step, int) else step
            day = moment.astimezone(now.tzinfo).date()
            weeks[step] = day - timedelta(days=day.weekday())
        return weeks[step]

    hours: Counter = Counter()
    if kept == "all":
        rows = _kept_trend(cur, now)
    else:
        cur.execute(TREND.format(where=sql_where), [now, now, *params])
        rows = cur.fetchall()
    for sets, opened, resolved, settled, breached, hrs, n in rows:
        if sets == 0b01111:
            t.weekly[week(opened)]["opened"] += n
        elif sets == 0b10111:
            if resolved is not None:
                t.weekly[week(resolved)]["resolved"] += n
        elif sets == 0b11001:
            if settled is not None:
                t.weekly[week(settled)]["settled"] += n
                t.weekly[week(settled)]["breached"] += n if breached else 0
        elif hrs is not None:
            hours[hrs] += n
    t.hours = _hours(hours)
    _signals(cur, t, where, params)
    _repeats(cur, t, where, params, top)
    _overdue(cur, t, where, params, now, top)
    return t


# Migration 4's totals, as COUNTS gives them; the cases overdue (relative to now) from their index.
KEPT_COUNTS = """
SELECT status, tier, action, carrier, agent, nullif(outcome, ''), nullif(remedy, ''), nullif(currency, ''),
       sum(n)::bigint, sum(value)::float8, 0, sum(met)::bigint, sum(met_late)::bigint
FROM mocli_report_totals WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
HAVING sum(n) <> 0 OR sum(value) <> 0 OR sum(met) <> 0"""
OVERDUE = ("SELECT tier, agent, count(*) FROM mocli_cases WHERE status = 'open' AND follow_up_by < %s AND {where} "
           "GROUP BY 1, 2")
# The same from migration 4's follow-ups by day (filters on status, tier or agent only): the days before
# today's (UTC), and today's up to now from the index.
KEPT_OVERDUE = """
SELECT tier, agent, sum(n)::bigint FROM (
    SELECT tier, agent, n FROM mocli_report_follow_ups
    WHERE status = 'open' AND day < (%s::timestamptz AT TIME ZONE 'UTC')::date AND {where}
    UNION ALL
    SELECT tier, agent, 1 FROM mocli_cases WHERE status = 'open' AND {where}
        AND follow_up_by >= date_trunc('day', %s::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        AND follow_up_by < %s) o
GROUP BY 1, 2 HAVING sum(n) <> 0"""


def count_overdue(cur: Any, where: list[str], params: list[Any], now: datetime) -> int:
    """How many open cases `where` selects are overdue, from migration 4's follow-ups by day (`where` on
    status, tier or agent only): not a count of every overdue case's index entry."""
    cur.execute(f"SELECT coalesce(sum(o.sum), 0)::bigint FROM ({KEPT_OVERDUE}) o".format(
        where=" AND ".join(where) or "true"), [now, *params, *params, now, now])
    return cur.fetchone()[0]


def _kept_counts(cur: Any, t: Any, sql_where: str, params: list[Any], now: datetime, by_day: bool) -> None:
    """The counts from migration 4's totals, and the cases overdue now: from its follow-ups by day when
    `by_day` (the filters allow it), else from the unresolved follow-ups' index."""
    cur.execute(KEPT_COUNTS.format(where=sql_where), params)
    for row in cur.fetchall():
        _count(t, *row)
    if by_day:
        cur.execute(KEPT_OVERDUE.format(where=sql_where), [now, *params, *params, now, now])
    else:
        cur.execute(OVERDUE.format(where=sql_where), [now, *params])
    for tier, agent, n in cur.fetchall():
        # As _count adds an overdue case: an open follow-up past is settled, and breached.
        t.agents[agent]["overdue"] += n
        t.overdue += n
        t.sla_settled[tier] += n
        t.sla_breached[tier] += n


# The follow-ups not resolved that fall due in the current 15-minute step, up to now: the one step of
# migration 4's kept trend that depends on the time of the report.
SETTLING = f"""
SELECT extract(epoch FROM {STEP.format("%s::timestamptz")})::bigint, count(*),
       count(*) FILTER (WHERE status = 'open' OR resolved_at > follow_up_by)
FROM mocli_cases
WHERE status <> 'resolved' AND follow_up_by >= {STEP.format("%s::timestamptz")} AND follow_up_by < %s"""


def _kept_trend(cur: Any, now: datetime) -> list[tuple[Any, ...]]:
    """TREND's rows, from migration 4's kept steps and times to resolution; the steps as seconds since the
    epoch (tens of thousands of them at a million cases: a time zone's datetime is slow to hash)."""
    cur.execute(SETTLING, [now, now, now])
    current, settling, breaching = cur.fetchone()
    rows: list[tuple[Any, ...]] = []
    if settling:
        rows += [(0b11001, None, None, current, True, None, breaching),
                 (0b11001, None, None, current, False, None, settling - breaching)]
    cur.execute("SELECT kind, extract(epoch FROM step)::bigint, breached, sum(n)::bigint FROM mocli_report_steps "
                "GROUP BY kind, step, breached HAVING sum(n) <> 0")
    for kind, step, breached, n in cur.fetchall():
        if kind == "o":
            rows.append((0b01111, step, None, None, None, None, n))
        elif kind == "r":
            rows.append((0b10111, None, step, None, None, None, n))
        elif kind == "s":  # resolved: settled at its follow-up, or now when that is still to come
            rows.append((0b11001, None, None, min(step, current), breached, None, n))
        elif step < current:  # not resolved: settled once its follow-up is past
            rows.append((0b11001, None, None, step, breached, None, n))
    cur.execute("SELECT hours, sum(n)::bigint FROM mocli_report_hours GROUP BY 1 HAVING sum(n) <> 0")
    rows += [(0b11110, None, None, None, None, hrs, n) for hrs, n in cur.fetchall()]
    return rows


def _count(t: Any, *row: Any) -> None:
    """Add one kind of case (a COUNTS or KEPT_COUNTS row: its keys, then how many, their value, how many
    overdue now, met and breached) to the tally, as reporting.tally counts each case."""
    from mocli.reporting.groups import add_group

    *kind, overdue, met, breached = row
    add_group(t, *kind, overdue, overdue + met, breached)


def _hours(counts: Counter) -> tuple[int, float | None, float | None]:
    """(count, median, 90th percentile) of the times to resolution from how often each occurs: what
    reporting.median and reporting.percentile give for the list of them."""
    import math

    total = sum(counts.values())
    if not total:
        return 0, None, None
    ordered = sorted(counts.items())

    def nth(k: int) -> float:  # the k-th smallest (from 0)
        seen = 0
        for value, n in ordered:
            seen += n
            if k < seen:
                return float(value)
        raise IndexError(k)

    mid = total // 2
    median = nth(mid) if total % 2 else (nth(mid - 1) + nth(mid)) / 2
    return total, median, nth(max(1, math.ceil(90 / 100 * total)) - 1)


def _signals(cur: Any, t: Any, where: list[str], params: list[Any]) -> None:
    # action stated as migration 3's partial index states it (so that it is used).
    cur.execute(f"SELECT rule, count(*) FROM mocli_cases c, unnest(c.signals) AS rule "
                f"WHERE {' AND '.join([*where, migrations.FRAUD])} GROUP BY rule", params)
    t.fraud_signals.update(dict(cur.fetchall()))


def _repeats(cur: Any, t: Any, where: list[str], params: list[Any], top: int) -> None:
    """Repeat claimants and repeat addresses: the `top` of each, and how many there are."""
    # The claims, each with its claimant, stated as migration 2's indexes are (so that they are used).
    claims = (f"(SELECT id, seq, customer_email, address_key, address_line, {migrations.CLAIMANT} AS who "
              f"FROM mocli_cases WHERE {' AND '.join([*where, migrations.CLAIMS])})")
    # Repeat claimants: the `top` customers with the most claims (more than one), and how many there
    # are; the email first seen (looked up by its row's seq, only for them: an ordered aggregate per
    # group would sort each one). Their case ids are read for those customers only.
    limit = top or None  # LIMIT NULL: every one
    cur.execute("SELECT who, (SELECT coalesce(customer_email, '') FROM mocli_cases WHERE seq = g.first), "
                "n, count(*) OVER () FROM (SELECT who, count(*) AS n, min(seq) AS first "
                f"FROM {claims} c GROUP BY who HAVING count(*) > 1) g "
                'ORDER BY n DESC, who COLLATE "C" LIMIT %s', [*params, limit])
    found = cur.fetchall()
    t.repeat_customers_total = found[0][3] if found else 0
    cur.execute(f"SELECT who, array_agg(id) FROM {claims} c WHERE who = ANY(%s) GROUP BY who",
                [*params, [r[0] for r in found]])
    ids = dict(cur.fetchall())
    t.repeat_customers = [{"customer": who, "email": email, "claims": n, "cases": sorted(ids[who])}
                          for who, email, n, _ in found]
    # Addresses claimed at by more than one customer: per (address, customer) first, then per address
    # (cheaper than count(DISTINCT)); the address as first written; the `top` of them, and how many.
    cur.execute("SELECT line, w, n, count(*) OVER () FROM (SELECT count(*) AS w, sum(n) AS n, "
                "(SELECT address_line FROM mocli_cases WHERE seq = min(first)) AS line "
                "FROM (SELECT address_key, count(*) AS n, min(seq) AS first "
                f"FROM {claims} c WHERE address_key <> '' GROUP BY address_key, who) per_customer "
                'GROUP BY address_key HAVING count(*) > 1) a ORDER BY w DESC, n DESC, line COLLATE "C" '
                "LIMIT %s", [*params, limit])
    found = cur.fetchall()
    t.repeat_addresses_total = found[0][3] if found else 0
    t.repeat_addresses = [{"address": a, "customers": w, "claims": int(n)} for a, w, n, _ in found]


def _overdue(cur: Any, t: Any, where: list[str], params: list[Any], now: datetime, top: int) -> None:
    """The overdue follow-ups, each with its agent and how late (the open-follow-up index): the `top`
    most late, and those up to 7 minutes less late than the last of them, which can round to the same
    tenth of an hour late (assemble orders those by id, as the local report does, and keeps the `top`)."""
    cases = f"(SELECT * FROM mocli_cases WHERE {' AND '.join(where) or 'true'})"
    cut = (f"AND follow_up_by <= coalesce((SELECT follow_up_by FROM {cases} c WHERE status = 'open' "
           "AND follow_up_by < %s ORDER BY follow_up_by OFFSET %s LIMIT 1) + interval '7 minutes', "
           "'infinity')") if top else ""
    cur.execute(f"SELECT id, agent, tier, follow_up_by FROM {cases} c "
                f"WHERE status = 'open' AND follow_up_by < %s {cut}",
                [*params, now, *([*params, now, top - 1] if top else [])])
    t.overdue_cases = [{"id": i, "agent": a, "tier": tier, "follow_up_by": f.astimezone(now.tzinfo).isoformat(),
                        "hours_late": round((now - f).total_seconds() / 3600, 1)}
                       for i, a, tier, f in cur.fetchall()]
