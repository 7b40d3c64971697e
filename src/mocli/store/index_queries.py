"""What the local backend asks of the case index (store/index.py): the report's counts by SQL aggregates
with the filters as WHERE clauses (a few hundred grouped rows come back, never the cases), the listing's
page, the repeat-claim history. Each gives what its full-read counterpart in `mocli.reporting` gives."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import orjson  # noqa: TID253 (the store is imported only inside commands)

from mocli.store.index import Index, micros

if TYPE_CHECKING:
    from mocli.reporting import Filters, Tally
    from mocli.store.index_rows import WindowClock

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


# What policy/claims.py `recovery_rows` adds up, one kind of sum a line, each with the carrier and currency
# it is kept under: claims lost, claims filed (and of them paid, denied), recovered, expired unfiled (and of
# them the amount left with the carrier). {of}: the views of the cases selected; a view whose values the
# columns cannot hold (PYTHON) is folded by policy/claims.py itself.
_RECOVERY_ROWS = """
      SELECT 'lost' AS kind, claim_carrier AS carrier, lost_cur AS cur, 0 AS paid, 0 AS denied,
             lost_value AS amount, doc_id
      {of} AND rules <> 'python' AND lost_cur IS NOT NULL
      UNION ALL
      SELECT 'filed', claim_carrier, claim_cur, claim_status = 'paid', claim_status = 'denied', claim_amount, doc_id
      {of} AND rules <> 'python' AND claim_status IS NOT NULL
      UNION ALL
      SELECT 'recovered', claim_carrier, claim_cur, 0, 0, claim_paid, doc_id
      {of} AND rules <> 'python' AND claim_status = 'paid'
      UNION ALL
      SELECT 'expired', claim_carrier, order_cur, 0, 0, 0, doc_id
      {of} AND rules <> 'python' AND claim_status IS NULL AND expires < ?
      UNION ALL
      SELECT 'left', claim_carrier, order_cur, 0, 0, recoverable, doc_id
      {of} AND rules <> 'python' AND claim_status IS NULL AND expires < ? AND recoverable IS NOT NULL"""
_RECOVERY = f"""
SELECT kind, carrier, cur, count(*), sum(paid), sum(denied), sum(amount), min(doc_id),
       sum(abs(amount * 100 - round(amount * 100)) > 1e-6)
FROM ({_RECOVERY_ROWS}) GROUP BY kind, carrier, cur ORDER BY min(doc_id), kind"""
_MONEY = {"lost": "lost", "filed": "claimed", "recovered": "recovered", "left": "left_with_carrier"}


def recovery(ix: Index, filters: Filters, now: datetime, clock: WindowClock) -> dict[str, Any]:
    """The report's recovery figures (policy/claims.py `recovery` with `clock`'s rules) over the cases `filters`
    selects, by GROUP BY over the claim columns kept with each claim case's view. Windows kept under other
    rules (claims.toml edited, a holiday calendar release), or not worked out yet, are worked out again
    first; a case whose values the columns cannot hold is folded from its view, as the full read folds it."""
    from mocli.claim_rules import destination_calendar
    from mocli.policy.claims import add_money, finish_recovery, merge_recovery, recovery_row, recovery_rows
    from mocli.reporting import carrier_of
    from mocli.store.index_rows import PYTHON, RECOVERY_COLUMNS, recovery_columns

    conn, today = ix.conn, now.date()
    stale = conn.execute("SELECT doc_id, view FROM views WHERE rules IS NULL OR rules NOT IN ('', ?, ?)",
                         (clock.fingerprint, PYTHON)).fetchall()
    if stale:
        sets = ", ".join(f"{c} = ?" for c in RECOVERY_COLUMNS)
        conn.executemany(f"UPDATE views SET {sets} WHERE doc_id = ?",
                         [(*recovery_columns(orjson.loads(v), clock), doc_id) for doc_id, v in stale])
    sql, params = where(filters)
    of = _of("views", sql)
    day = today.toordinal()
    args = [*params, *params, *params, *params, day, *params, day]
    rows: dict[str, dict[str, Any]] = {}
    for kind, carrier, cur, n, paid, denied, amount, _, uneven in conn.execute(
            _RECOVERY.replace("{of}", of), args):
        r = recovery_row(rows, carrier)
        if kind == "filed":
            r["filed"] += n
            r["paid"] += paid
            r["denied"] += denied
            r["pending"] += n - paid - denied
        elif kind == "expired":
            r["expired_unfiled"] += n
        if kind not in _MONEY:
            continue
        if uneven:  # amounts finer than a cent: added one by one in the order added, as the fold rounds them
            for (each,) in conn.execute(f"SELECT amount FROM ({_RECOVERY_ROWS.replace('{of}', of)}) "
                                        "WHERE kind = ? AND carrier = ? AND cur IS ? ORDER BY doc_id",
                                        [*args, kind, carrier, cur]):
                add_money(r[_MONEY[kind]], cur, each)
        else:  # whole cents: the sum rounded once is what rounding after each addition gives
            add_money(r[_MONEY[kind]], cur, amount)
    folded = [orjson.loads(v) for (v,) in conn.execute(f"SELECT view {of} AND rules = ? ORDER BY doc_id",
                                                          [*params, PYTHON])]
    if folded:
        merge_recovery(rows, recovery_rows(folded, clock.book.rules, today, carrier_of=carrier_of,
                                           calendar_for=destination_calendar))
    return finish_recovery(rows)


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


def report(path: Any, filters: Filters, now: datetime, *, top: int,
           lock_timeout: float) -> tuple[Tally, dict[str, Any], list[str], list[str]] | None:
    """From the index of the journal `path`: the report's counts, the recovery figures (by the configured
    claim rules), every agent, and the ids several cases share; None when the index cannot answer exactly
    (a damaged journal, a case of unusual shape): then the report reads the journal."""
    from mocli.claim_rules import load_claim_rules
    from mocli.store.index import Unusable, open_index
    from mocli.store.index_rows import WindowClock
    from mocli.store.local import warn_if_quarantined

    warn_if_quarantined(path)
    clock = WindowClock.of(load_claim_rules().rules)
    try:
        with open_index(path, lock_timeout=lock_timeout, clock=clock) as ix:
            if has_odd(ix):
                return None
            return (tally(ix, filters, now, top=top), recovery(ix, filters, now, clock), agents(ix),
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
