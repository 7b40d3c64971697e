"""What the local backend asks of the case index (store/index.py): the report's counts by SQL aggregates
with the filters as WHERE clauses (a few hundred grouped rows come back, never the cases), the listing's
page, the repeat-claim history. Each gives what its full-read counterpart in `mocli.reporting` gives."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import orjson  # noqa: TID253 (the store is imported only inside commands)

from mocli.store.index import Index, micros

if TYPE_CHECKING:
    from mocli.reporting import Filters, Tally

_MINUTE = 60_000_000
_HOUR = 60 * _MINUTE
_LATE_MARGIN = 7 * _MINUTE  # two follow-ups this close can round to the same tenth of an hour late


def where(filters: Filters) -> tuple[str, list[Any]]:
    """reporting.Filters as SQL over the index's columns (each compared as Filters.matches compares it)."""
    parts, params = ["1"], []  # (callers first make sure no case is odd: has_odd)
    for name, sql, value in (("status", "status = ?", filters.status), ("agent", "f_agent = ?", filters.agent),
                             ("tier", "f_tier = ?", filters.tier), ("carrier", "f_carrier = ?", filters.carrier),
                             ("action", "action = ?", filters.action)):
        if value:
            parts.append(sql)
            params.append(value.casefold() if name in ("agent", "tier", "carrier") else value)
    if filters.since:
        parts.append("created_us >= ?")
        params.append(micros(filters.since))
    if filters.until:
        parts.append("created_us < ?")
        params.append(micros(filters.until))
    return " AND ".join(parts[1:] or parts), params


def _of(table: str, sql: str) -> str:
    """FROM and WHERE for the rows of a side table whose cases `sql` selects (no join when it selects all)."""
    return f"FROM {table} WHERE 1" if sql == "1" else f"FROM {table} JOIN cases USING (doc_id) WHERE {sql}"


def has_odd(ix: Index) -> bool:
    """True when a case's fields would be read differently from the index's columns: the report then
    reads the journal."""
    return ix.conn.execute("SELECT 1 FROM cases WHERE odd LIMIT 1").fetchone() is not None


def agents(ix: Index) -> list[str]:
    """Every agent named on a case, sorted (for the report's "no such agent" check)."""
    return [a for (a,) in ix.conn.execute("SELECT DISTINCT agent_raw FROM cases WHERE agent_raw IS NOT NULL "
                                          "ORDER BY agent_raw")]


def duplicate_ids(ix: Index, filters: Filters) -> list[str]:
    """Ids that more than one selected case carries, sorted (the id index finds the rare shared ones)."""
    sql, params = where(filters)
    return [i for (i,) in ix.conn.execute(
        f"SELECT id FROM cases WHERE {sql} AND id IN (SELECT id FROM cases WHERE id IS NOT NULL GROUP BY id "
        "HAVING count(*) > 1) GROUP BY id HAVING count(*) > 1 ORDER BY id", params)]


def claim_views(ix: Index, filters: Filters) -> Iterator[dict[str, Any]]:
    """What the recovery figures read of each case a carrier claim concerns, in the order added (one at
    a time: at 200,000 cases there are some 60,000)."""
    sql, params = where(filters)
    for (view,) in ix.conn.execute(f"SELECT view {_of('views', sql)} ORDER BY doc_id", params):
        yield orjson.loads(view)


def tally(ix: Index, filters: Filters, now: datetime, *, top: int) -> Tally:
    """reporting.tally's counts over the cases `filters` selects, by SQL aggregates (`top`: how many
    repeat claimants, addresses and overdue follow-ups to name; 0: all)."""
    from mocli import reporting
    from mocli.reporting.groups import add_group

    conn = ix.conn
    sql, params = where(filters)
    now_us = micros(now)
    t = reporting.Tally(*(Counter() for _ in range(11)), defaultdict(Counter), (0, None, None), 0,
                        Counter(), 0, Counter(), 0, Counter(), 0, [], [])
    overdue = "(status = 'open' AND sla AND follow_us < ?)"
    for (status, tier, action, carrier, agent, outcome, remedy, currency, n, value, late_now, settled,
         breached) in conn.execute(
            f"SELECT status, tier, action, carrier, agent, outcome, remedy, currency, count(*), sum(value), "
            f"sum({overdue}), sum(status <> 'open' AND sla), sum(status <> 'open' AND sla AND late) "
            f"FROM cases WHERE {sql} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8", [now_us, *params]):
        add_group(t, status, tier, action, carrier, agent, outcome, remedy, currency, n, value, late_now,
                  late_now + settled, late_now + breached)
    t.hours = _hours(ix, sql, params)
    t.fraud_signals.update(dict(conn.execute(
        f"SELECT rule, count(*) FROM signals JOIN cases USING (doc_id) WHERE {sql} AND action = 'fraud_review' "
        "GROUP BY rule", params)))
    _repeat_claimants(ix, t, sql, params, top)
    _overdue_cases(ix, t, sql, params, now, top)
    _weeks(ix, t, sql, params, now)
    return t


def _hours(ix: Index, sql: str, params: list[Any]) -> tuple[int, float | None, float | None]:
    """(count, median, 90th percentile) of the hours to resolution, by reporting's own functions."""
    from mocli.reporting import median, percentile

    hours = [h for (h,) in ix.conn.execute(f"SELECT hours FROM cases WHERE {sql} AND has_res AND hours IS NOT NULL",
                                           params)]
    return len(hours), median(hours), percentile(hours, 90)


def _repeat_claimants(ix: Index, t: Tally, sql: str, params: list[Any], top: int) -> None:
    """The `top` customers with more than one claim, the `top` addresses claimed at by more than one
    customer, and how many there are of each (each as reporting.tally lists and assemble orders them)."""
    conn = ix.conn
    limit = top or -1
    found = conn.execute(
        f"SELECT cid, n, first, count(*) OVER () FROM (SELECT cid, count(*) AS n, min(doc_id) AS first "
        f"{_of('claimants', sql)} GROUP BY cid HAVING count(*) > 1) ORDER BY n DESC, cid LIMIT ?",
        [*params, limit]).fetchall()
    t.repeat_customers_total = found[0][3] if found else 0
    ids: dict[str, list[str]] = defaultdict(list)
    for who, case_id in conn.execute(f"SELECT cid, id FROM claimants JOIN cases USING (doc_id) WHERE {sql} AND cid IN "
                                     "(SELECT value FROM json_each(?))",
                                     [*params, orjson.dumps([r[0] for r in found]).decode()]):
        ids[who].append(case_id)
    emails = {first: conn.execute("SELECT email FROM claimants WHERE doc_id = ?", (first,)).fetchone()[0]
              for _, _, first, _ in found}
    t.repeat_customers = [{"customer": who, "email": emails[first], "claims": n, "cases": sorted(ids[who])}
                          for who, n, first, _ in found]
    found = conn.execute(
        f"SELECT c.addr_text, a.w, a.n, count(*) OVER () FROM (SELECT addr_key, count(DISTINCT cid) AS w, "
        f"count(*) AS n, min(doc_id) AS first {_of('claimants', sql)} AND addr_key <> '' "
        "GROUP BY addr_key HAVING count(DISTINCT cid) > 1) a JOIN claimants c ON c.doc_id = a.first "
        "ORDER BY a.w DESC, a.n DESC, c.addr_text, a.first LIMIT ?", [*params, limit]).fetchall()
    t.repeat_addresses_total = found[0][3] if found else 0
    t.repeat_addresses = [{"address": line, "customers": w, "claims": n} for line, w, n, _ in found]


def _overdue_cases(ix: Index, t: Tally, sql: str, params: list[Any], now: datetime, top: int) -> None:
    """Open cases past their follow-up: the `top` most late (and those that round to as late), by the
    open-follow-up index."""
    now_us = micros(now)
    base = f"FROM cases WHERE {sql} AND status = 'open' AND sla AND follow_us < ?"
    cut, extra = "", []
    if top:
        kth = ix.conn.execute(f"SELECT follow_us {base} ORDER BY follow_us LIMIT 1 OFFSET ?",
                              [*params, now_us, top - 1]).fetchone()
        if kth is not None:
            cut, extra = " AND follow_us <= ?", [kth[0] + _LATE_MARGIN]
    t.overdue_cases = [{"id": i, "agent": agent, "tier": tier, "follow_up_by": text,
                        "hours_late": round((now_us - us) / 10**6 / 3600, 1)}
                       for i, agent, tier, text, us in ix.conn.execute(
                           f"SELECT id, agent, tier, follow_text, follow_us {base}{cut}", [*params, now_us, *extra])]


def _weeks(ix: Index, t: Tally, sql: str, params: list[Any], now: datetime) -> None:
    """Per week: cases opened and resolved, follow-ups settled and breached (as reporting.tally counts)."""
    from mocli import reporting

    weekly = t.weekly
    for opened, resolved, n in ix.conn.execute(
            f"SELECT created_week, CASE WHEN has_res THEN resolved_week END, count(*) FROM cases WHERE {sql} "
            "GROUP BY 1, 2", params):
        if opened is not None:
            weekly[date.fromisoformat(opened)]["opened"] += n
        if resolved is not None:
            weekly[date.fromisoformat(resolved)]["resolved"] += n
    # A settled follow-up counts in the week of its date in the agent's zone (this week if it is not due
    # yet). Counted by the hour in SQL, then each hour's date is looked up once; an hour that a local
    # midnight splits (a zone half an hour off, a change of offset at midnight) is counted by the minute.
    now_us, tz = micros(now), now.tzinfo
    settled = (f"FROM cases WHERE {sql} AND sla AND (status <> 'open' OR follow_us < ?)", [*params, now_us])

    def day(us: int) -> date:
        return (reporting._EPOCH + timedelta(microseconds=us)).astimezone(tz).date()

    def count(monday: date, n: int, breached: int) -> None:
        w = weekly[monday]
        w["settled"] += n
        w["breached"] += breached

    def by(unit: int, extra: str = "", more: tuple[Any, ...] = ()) -> list[tuple[Any, int, int]]:
        floor = f"(follow_us / {unit} - (follow_us % {unit} < 0))"  # SQLite's / truncates toward zero
        return ix.conn.execute(f"SELECT CASE WHEN follow_us >= ? THEN NULL ELSE {floor} END, count(*), "
                               f"sum(status = 'open' OR late) {settled[0]}{extra} GROUP BY 1",
                               [now_us, *settled[1], *more]).fetchall()

    this_week = date.fromisoformat(now.isoformat()[:10])
    for hour, n, breached in by(_HOUR):
        if hour is None:
            count(this_week - timedelta(days=this_week.weekday()), n, breached)
            continue
        first, last = day(hour * _HOUR), day(hour * _HOUR + _HOUR - 1)
        if first == last:
            count(first - timedelta(days=first.weekday()), n, breached)
            continue
        for minute, n, breached in by(_MINUTE, " AND follow_us >= ? AND follow_us < ?",
                                      (hour * _HOUR, (hour + 1) * _HOUR)):
            if minute is None:  # not due yet: counted this week above
                continue
            local = day(minute * _MINUTE)
            count(local - timedelta(days=local.weekday()), n, breached)


def page(ix: Index, filters: Filters, now: datetime, *, due: bool, overdue: bool,
         limit: int) -> tuple[list[tuple[int, int, int]], int]:
    """The cases `mocli cases` shows: (doc id, record offset, record length) of the first `limit` (0: all)
    by follow-up time (none: as if due now) then id, and how many matched."""
    sql, params = where(filters)
    if due or overdue:
        either = []
        if due:
            start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
            end = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)
            either.append("(follow_us >= ? AND follow_us < ?)")
            params += [micros(start), micros(end)]
        if overdue:
            either.append("follow_us < ?")
            params.append(micros(now))
        sql += f" AND status = 'open' AND ({' OR '.join(either)})"
    shown = ix.conn.execute(f"SELECT doc_id, span_off, span_len FROM cases WHERE {sql} "
                            "ORDER BY coalesce(follow_us, ?), id LIMIT ?",
                            [*params, micros(now), limit or -1]).fetchall()
    if limit and len(shown) == limit:
        (count,) = ix.conn.execute(f"SELECT count(*) FROM cases WHERE {sql}", params).fetchone()
        return shown, count
    return shown, len(shown)


def claim_history(ix: Index, customer_id: str, address_key: str) -> list[dict[str, Any]]:
    """The claims by this customer or at this address (opening.claim_fields of each), in the order added."""
    return [orjson.loads(f) for (f,) in ix.conn.execute(
        "SELECT fields FROM claims WHERE customer = ? OR address = ? ORDER BY doc_id", (customer_id, address_key))]


def report(path: Any, filters: Filters, now: datetime, *, top: int, lock_timeout: float,
           recover: Callable[[Iterator[dict[str, Any]]], Any] = list) -> tuple[Tally, Any, list[str], list[str]] | None:
    """From the index of the journal `path`: the report's counts, `recover(views)` over the recovery
    figures' views of the claim cases, every agent, and the ids several cases share; None when the index
    cannot answer exactly (a damaged journal, a case of unusual shape): then the report reads the journal."""
    from mocli.store.index import Unusable, open_index
    from mocli.store.local import warn_if_quarantined

    warn_if_quarantined(path)
    try:
        with open_index(path, lock_timeout=lock_timeout) as ix:
            if has_odd(ix):
                return None
            return (tally(ix, filters, now, top=top), recover(claim_views(ix, filters)), agents(ix),
                    duplicate_ids(ix, filters))
    except Unusable:
        return None


def locate(ix: Index, ref: str) -> tuple[int, str, Any] | None:
    """The case `ref` (upper case, ASCII) names, as local._pick picks it among every id: (doc id, its id,
    a Scan with where its record lies and the journal's counts). Only the ids containing `ref` are
    read (by LIKE: ASCII letters in any case), which hold every id that is, or ends with, it."""
    from mocli.store.local import Scan, _pick

    pattern = "%" + ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    ids = dict(ix.conn.execute("SELECT doc_id, id FROM cases WHERE id LIKE ? ESCAPE '\\' ORDER BY doc_id",
                               (pattern,)))
    doc_id = _pick(ref, ids, ix.path)
    meta = dict(ix.conn.execute("SELECT k, v FROM meta WHERE k IN ('records', 'next')"))
    off, length = ix.conn.execute("SELECT span_off, span_len FROM cases WHERE doc_id = ?", (doc_id,)).fetchone()
    (live,) = ix.conn.execute("SELECT count(*) FROM cases").fetchone()
    scan = Scan(ix.dev, ix.ino, {doc_id: ids[doc_id]}, {doc_id: (off, length)}, meta["records"], meta["next"],
                live=live)
    return doc_id, ids[doc_id], scan


def id_taken(ix: Index, case_id: str) -> bool:
    """True if a case in the file already has this id."""
    return ix.conn.execute("SELECT 1 FROM cases WHERE id = ? LIMIT 1", (case_id,)).fetchone() is not None
