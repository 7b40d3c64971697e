"""The team store's carrier-claim columns (migration 3): each case's claim facts, and its claim window as
the claim clock (policy/claims.py) works it out, written with the case; the report's recovery figures and
`cases --claimable` / `--claim-expiring` are then SQL over these columns instead of the claim clock run in
Python over every claim case's document.

The window depends on the claim rules (claims.toml, and the holiday calendars for working-day rules): each
row records the rules' fingerprint (`claim_rules`). Rows clocked under other rules (claims.toml edited, an
agent with their own rules, rows not recomputed yet after `store init` upgraded to schema 3) are read
the slow, exact way (the clock in Python) until `mocli store init` recomputes them (`refresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mocli.store.migrations import CONCERN
from mocli.store.postgres_rows import CLAIM_COLUMNS, WHOLE, claim_columns

if TYPE_CHECKING:
    from mocli.claim_rules import ClaimRules

# `claim_rules`: the fingerprint of the rules a case was clocked under; '' when it has no claim clock to run
# (nothing lost, nothing to claim: the rules do not matter to it); 'unset' (migration 3) when never worked
# out. Clocked under other rules than the fingerprint given twice: two ranges of migration 3's index.
STALE = "(claim_rules > '' AND claim_rules < %s OR claim_rules > %s)"
REFRESH_BATCH = 10_000  # cases recomputed per transaction: a big store stays usable meanwhile
# What the claim clock and the recovery figures read of a case's document.
PARTS = ("jsonb_build_object('order', doc->'order', 'tracking', doc->'tracking', 'decision', doc->'decision', "
         "'resolution', doc->'resolution', 'carrier_claim', doc->'carrier_claim')")

class ClaimClockRules:
    """The claim rules this mocli clocks claims with, their fingerprint, and a ClaimBook over them."""

    def __init__(self, rules: ClaimRules | None = None) -> None:
        from mocli.claim_rules import destination_calendar, load_claim_rules, window_fingerprint
        from mocli.policy.claims import ClaimBook

        self.rules = rules or load_claim_rules()
        # What moves a window or the amount left with the carrier (not a rule's wording, source or evidence),
        # with the holiday calendars' release: the same fingerprint the local file's index keeps.
        self.fingerprint = window_fingerprint(self.rules.rules)
        # Only the windows are kept, never a state: the day does not matter here.
        self.book = ClaimBook(self.rules.rules, date.today(), calendar_for=destination_calendar)


# The same rows from migration 4's kept recovery totals (the windows expired by today's date).
KEPT = """
SELECT carrier, kind, nullif(currency, ''), sum(n)::bigint, sum(n2)::bigint, sum(n3)::bigint, sum(amount),
       sum(amount2)
FROM mocli_report_recovery WHERE {where} AND claim_rules IN ('', %s) AND (kind <> 'expired' OR expires < %s)
GROUP BY carrier, kind, currency HAVING sum(n) <> 0"""


def recovery(cur: Any, where: list[str], params: list[Any], now: datetime,
             clock: ClaimClockRules, *, kept: bool = False) -> tuple[dict[str, Any], int]:
    """The report's recovery figures (policy/claims.py `recovery`) by GROUP BY over the claim columns, or
    from migration 4's kept totals (`kept`: `where` filters on the carrier at most); the cases clocked under
    other rules by the clock in Python over their slim views. And how many those were."""
    from mocli.claim_rules import destination_calendar
    from mocli.policy.claims import add_money, finish_recovery, merge_recovery, recovery_row, recovery_rows
    from mocli.reporting import carrier_of

    today = now.date()
    fresh = " AND ".join([*where, CONCERN, "claim_rules IN ('', %s)"])
    if kept:
        cur.execute(KEPT.format(where=" AND ".join(where) or "true"), [*params, clock.fingerprint, today])
    else:
        _count_recovery(cur, fresh, params, clock, today)
    rows: dict[str, dict[str, Any]] = {}
    for carrier, kind, currency, n, n2, n3, amount, amount2 in cur.fetchall():
        r = recovery_row(rows, carrier)
        if kind == "lost":
            add_money(r["lost"], currency, amount)
        elif kind == "filed":
            r["filed"] += n
            r["paid"] += n2
            r["denied"] += n3
            r["pending"] += n - n2 - n3
            add_money(r["claimed"], currency, amount)
            if n2:
                add_money(r["recovered"], currency, amount2)
        else:
            r["expired_unfiled"] += n
            if n2:  # a window's amount only where the rule's currency is the order's
                add_money(r["left_with_carrier"], currency, amount)
    stale = list(_views(cur.connection, [*where, CONCERN, STALE], [*params, clock.fingerprint, clock.fingerprint]))
    if stale:
        merge_recovery(rows, recovery_rows(stale, clock.rules.rules, today, carrier_of=carrier_of,
                                           calendar_for=destination_calendar))
    return finish_recovery(rows), len(stale)


def _count_recovery(cur: Any, fresh: str, params: list[Any], clock: ClaimClockRules, today: date) -> None:
    """recovery's rows counted from the cases."""
    # Each kind read by its own (parallel) scan of migration 3's index: materialising the ~300,000 rows
    # once for the three took twice as long (EXPLAIN ANALYZE at a million cases).
    cur.execute(f"""
        WITH c AS NOT MATERIALIZED (
            SELECT carrier, outcome, currency, value, claim_status, claim_currency, claim_amount, claim_paid,
                   claim_expires, claim_recoverable, order_currency
            FROM mocli_cases WHERE {fresh})
        SELECT carrier, 'lost', currency, count(*), 0, 0, sum(value::numeric), 0 FROM c
        WHERE outcome = 'lost' GROUP BY carrier, currency
        UNION ALL
        SELECT carrier, 'filed', claim_currency, count(*), count(*) FILTER (WHERE claim_status = 'paid'),
               count(*) FILTER (WHERE claim_status = 'denied'), sum(claim_amount::numeric),
               sum(claim_paid::numeric) FILTER (WHERE claim_status = 'paid') FROM c
        WHERE claim_status IS NOT NULL GROUP BY carrier, claim_currency
        UNION ALL
        SELECT carrier, 'expired', order_currency, count(*), count(claim_recoverable), 0,
               sum(claim_recoverable::numeric), 0 FROM c
        WHERE claim_status IS NULL AND claim_expires < %s GROUP BY carrier, order_currency""",
                [*params, clock.fingerprint, today])


def _views(conn: Any, where: list[str], params: list[Any]) -> Iterator[dict[str, Any]]:
    """The slim view (reporting.summary) of the cases `where` selects, from the parts of their documents
    the claim clock and the recovery figures read: streamed."""
    from mocli.reporting import summary

    with conn.cursor(name="mocli_claim_views") as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT {PARTS} FROM mocli_cases WHERE {' AND '.join(where)}", params)
        for (parts,) in cur:
            yield summary(parts)


def claimable(cur: Any, where: list[str], params: list[Any], now: datetime, window: int | None,
              clock: ClaimClockRules, *, limit: int) -> tuple[list[dict[str, Any]], int, dict[str, date]]:
    """`cases --claimable` / `--claim-expiring` over the claim columns: at most `limit` whole cases whose
    claim is open for filing and not filed (within `window` days of the deadline), nearest deadline first;
    how many in all; each shown one's deadline. Cases clocked under other rules than `clock`'s are
    clocked here, in Python."""
    from mocli.claim_rules import destination_calendar
    from mocli.policy.claims import ClaimBook
    from mocli.policy.claims import claimable as pick
    from mocli.reporting import summary

    today = now.date()
    cond = [*where, "claim_status IS NULL", "claim_rules = %s", "claim_opens <= %s", "claim_expires >= %s"]
    args = [*params, clock.fingerprint, today, today]
    if window is not None:
        cond.append("claim_expires <= %s")
        args.append(date.fromordinal(today.toordinal() + window))
    sql_where = " AND ".join(cond)
    cur.execute(f'SELECT id, claim_expires FROM mocli_cases WHERE {sql_where} ORDER BY claim_expires, id COLLATE "C" '
                f"{'LIMIT %s' if limit else ''}", [*args, *([limit] if limit else [])])
    found = [(i, d) for i, d in cur.fetchall()]
    matched = len(found)
    if limit and len(found) == limit:
        cur.execute(f"SELECT count(*) FROM mocli_cases WHERE {sql_where}", args)
        matched = cur.fetchone()[0]
    cur.execute(f"SELECT {WHOLE} FROM mocli_cases c WHERE {' AND '.join([*where, STALE])} AND claim_status IS NULL",
                [*params, clock.fingerprint, clock.fingerprint])
    stale = {c["id"]: c for (c,) in cur.fetchall()}
    book = ClaimBook(clock.rules.rules, today, expiring_within=clock.rules.expiring_within_days,
                     calendar_for=destination_calendar)
    more = [(s["id"], expires) for _, s, expires in pick([(i, summary(c)) for i, c in stale.items()], book, window)]
    picked = sorted([*found, *more], key=lambda row: (row[1], row[0]))
    picked = picked[:limit] if limit else picked
    cur.execute(f"SELECT c.id, {WHOLE} FROM mocli_cases c WHERE c.id = ANY(%s)",
                ([i for i, _ in picked if i not in stale],))
    whole = {**dict(cur.fetchall()), **stale}
    return [whole[i] for i, _ in picked], matched + len(more), dict(picked)


def stale_count(cur: Any, clock: ClaimClockRules) -> int:
    """How many cases' claim columns were worked out under other rules, or never (migration 3's index)."""
    cur.execute(f"SELECT count(*) FROM mocli_cases WHERE {STALE}", (clock.fingerprint, clock.fingerprint))
    return cur.fetchone()[0]


def refresh(conn: Any, clock: ClaimClockRules, progress: Callable[[int], None] | None = None) -> int:
    """Work out again the claim columns of every case clocked under other rules (or never), in batches of
    REFRESH_BATCH cases per transaction; how many were recomputed."""
    from mocli import reporting

    done, after = 0, 0
    sets = ", ".join(f"{name} = n.{name}" for name in CLAIM_COLUMNS)
    while True:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = 0")
            cur.execute(f"SELECT seq, {PARTS} FROM mocli_cases WHERE {STALE} AND seq > %s ORDER BY seq LIMIT %s",
                        (clock.fingerprint, clock.fingerprint, after, REFRESH_BATCH))
            batch = cur.fetchall()
            if not batch:
                if done:  # the planner's statistics of the columns just filled in
                    cur.execute("ANALYZE mocli_cases")
                return done
            cur.execute("CREATE TEMP TABLE mocli_claim_refresh ON COMMIT DROP AS SELECT seq, "
                        f"{', '.join(CLAIM_COLUMNS)} FROM mocli_cases WITH NO DATA")
            with cur.copy(f"COPY mocli_claim_refresh (seq, {', '.join(CLAIM_COLUMNS)}) FROM STDIN") as copy:
                for seq, parts_of_case in batch:
                    copy.write_row((seq, *claim_columns(reporting.summary(parts_of_case), clock)))
            cur.execute(f"UPDATE mocli_cases c SET {sets} FROM mocli_claim_refresh n WHERE c.seq = n.seq")
        done, after = done + len(batch), batch[-1][0]
        if progress:
            progress(done)
