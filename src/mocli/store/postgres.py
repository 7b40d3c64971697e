"""The team backend of the store interface: one PostgreSQL database shared by every agent (psycopg 3).

* One transaction per change: a connection dropped mid-write leaves no partial case.
* `update` locks the case's row (SELECT ... FOR UPDATE) from the read to the write: of several agents
  resolving one case at once, one wins and the others see it resolved ("already resolved").
* The history is the append-only `mocli_case_events` table; `doc` holds the rest of the case.
* Filters, look-ups and the report run in the database, on indexed columns (migrations.py).
* Every statement has a timeout (`[store] statement_timeout_seconds`); connecting has one too.
* Messages name the host and the database, never a password (libpq's PGPASSWORD / ~/.pgpass /
  PGSERVICE supply it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mocli.errors import NotFound, StoreError
from mocli.store import migrations
from mocli.store.interface import CaseIdTaken
from mocli.store.postgres_report import count_overdue, tally
from mocli.store.postgres_rows import (
    COLUMNS,
    INSERT,
    WHOLE,
    append_events,
    columns,
    filtered_on,
    follow_up_due,
    like_prefix,
    load_psycopg,
    sql_params,
    sql_where_of,
)
from mocli.store.urls import describe_url

if TYPE_CHECKING:
    from mocli.reporting import Filters
    from mocli.store.postgres_claims import ClaimClockRules

Case = dict[str, Any]


class PostgresCaseStore:
    """The team's cases in one PostgreSQL database (see the module docstring)."""

    backend = "postgresql"

    def __init__(self, url: str, *, statement_timeout: float = 15, connect_timeout: int = 5) -> None:
        self.url = url
        self.where = describe_url(url)
        self.path = self.where  # what "Saved case X to ..." names
        self.statement_timeout = statement_timeout
        self.connect_timeout = connect_timeout
        self._pg = load_psycopg()
        self._conn: Any = None
        self._clock: ClaimClockRules | None = None

    @property
    def claim_clock(self) -> ClaimClockRules:
        """The claim rules this store's writes clock claims with (read once, on first use)."""
        if self._clock is None:
            from mocli.store.postgres_claims import ClaimClockRules

            self._clock = ClaimClockRules()
        return self._clock

    def row(self, case: Case) -> tuple[Any, ...]:
        """The case's columns as this store writes them (`columns`)."""
        return columns(case, self.claim_clock)

    # -- connections and errors
    def connection(self, *, check_schema: bool = True) -> Any:
        if self._conn is None or self._conn.closed:
            pg = self._pg
            # The statement timeout joins whatever `options` the URL or PGOPTIONS already give (a search_path).
            timeout = f"-c statement_timeout={int(self.statement_timeout * 1000)}"
            try:
                given = pg.conninfo.conninfo_to_dict(self.url).get("options") or os.environ.get("PGOPTIONS")
                conn = pg.connect(self.url, connect_timeout=self.connect_timeout, application_name="mocli",
                                  options=f"{given} {timeout}" if given else timeout)
            except pg.Error as exc:
                raise self._error(exc) from None
            if check_schema:
                try:
                    with conn.cursor() as cur:
                        version = migrations.current_version(cur)
                    conn.commit()
                except pg.Error as exc:
                    conn.close()
                    raise self._error(exc) from None
                if version is None:
                    conn.close()
                    raise StoreError(f"the team case store ({self.where}) has no mocli tables yet: run "
                                     "`mocli store init`")
                if version > migrations.LATEST:
                    conn.close()
                    raise StoreError(f"the team case store ({self.where}) is at schema version {version}, newer "
                                     f"than this mocli knows ({migrations.LATEST}): upgrade mocli")
                if version < migrations.LATEST:
                    conn.close()
                    raise StoreError(f"the team case store ({self.where}) is at schema version {version}: run "
                                     f"`mocli store init` to upgrade it to {migrations.LATEST}")
            self._conn = conn
        return self._conn

    def _error(self, exc: Exception) -> StoreError:
        """One line naming host and database; libpq's reason, first line only, without any password."""
        pg = self._pg
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, pg.errors.QueryCanceled):
            reason = f"a statement ran past the {self.statement_timeout:g} s statement timeout"
        if isinstance(exc, pg.OperationalError) and not isinstance(exc, pg.errors.QueryCanceled):
            what = "cannot reach the team case store"
        else:
            what = "the team case store failed"
        return StoreError(f"{what} ({self.where}): {reason}")

    def _run(self, work: Callable[[Any], Any]) -> Any:
        """`work(cursor)` in one transaction: all of it is stored, or none of it."""
        conn = self.connection()
        pg = self._pg
        try:
            with conn.transaction(), conn.cursor() as cur:
                return work(cur)
        except pg.Error as exc:
            if conn.closed or conn.broken:
                self._conn = None
            raise self._error(exc) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- schema
    def init(self) -> tuple[int | None, int]:
        """Create or upgrade the schema (idempotent): (version before, version after)."""
        conn = self.connection(check_schema=False)
        try:
            return migrations.migrate(conn)
        except self._pg.Error as exc:
            raise self._error(exc) from None

    # -- the interface
    def add(self, case: Case, fresh: Callable[[], Case] | None = None) -> Case:
        """Store a new case; with `fresh` (the case built again with a newly drawn id), an id another agent
        took meanwhile is drawn again instead of failing. Returns the case stored."""
        for _ in range(100):
            row = self.row(case)

            def work(cur: Any, case: Case = case, row: Any = row) -> None:
                cur.execute(INSERT, sql_params(row))
                if cur.rowcount == 0:
                    raise CaseIdTaken(f"case id {case['id']} is already taken in the team case store ({self.where})")
                append_events(cur, case["id"], case.get("history") or [])
            try:
                self._run(work)
                return case
            except CaseIdTaken:
                if fresh is None:
                    raise
                case = fresh()
        raise StoreError(f"could not draw an unused case id in the team case store ({self.where})")

    def add_many(self, cases: list[Case], rows: list[tuple[Any, ...]] | None = None) -> list[str]:
        """Store the cases whose ids are not taken yet, in one transaction (COPY into a staging table, then
        one INSERT ... ON CONFLICT DO NOTHING); the ids stored. A case twice in `cases` is stored once.
        `rows`: their `columns`, when the caller has computed them already."""
        Jsonb = self._pg.types.json.Jsonb
        rows = [(*sql_params(row), Jsonb(c.get("history") or []), n)
                for n, (c, row) in enumerate(zip(cases, rows or [self.row(c) for c in cases], strict=True))]
        names = ", ".join(COLUMNS)

        def work(cur: Any) -> list[str]:
            cur.execute(f"CREATE TEMP TABLE mocli_incoming ON COMMIT DROP AS SELECT {names}, "
                        "NULL::jsonb AS history, 0::bigint AS n FROM mocli_cases WITH NO DATA")
            with cur.copy(f"COPY mocli_incoming ({names}, history, n) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # Stored in the order of the file (`n`), the first copy of an id counting.
            cur.execute(f"WITH incoming AS (SELECT DISTINCT ON (id) * FROM mocli_incoming ORDER BY id, n), "
                        f"added AS (INSERT INTO mocli_cases ({names}) SELECT {names} FROM incoming ORDER BY n "
                        "ON CONFLICT (id) DO NOTHING RETURNING id), "
                        "events AS (INSERT INTO mocli_case_events (case_id, entry) "
                        "SELECT i.id, h.entry FROM incoming i JOIN added a ON a.id = i.id, "
                        "jsonb_array_elements(i.history) WITH ORDINALITY AS h(entry, n) ORDER BY i.id, h.n) "
                        "SELECT id FROM added")
            return [r[0] for r in cur.fetchall()]
        return self._run(work)

    def _pick(self, cur: Any, ref: str, lock: bool = False) -> str:
        from mocli.store.local import _normal_ref

        ref = _normal_ref(ref)
        cur.execute("SELECT id FROM mocli_cases WHERE id = %s", (ref,))  # mocli's ids are upper case
        row = cur.fetchone()
        if row is None:
            # A unique end of the id: a prefix of the reversed id (indexed). Ids are upper case.
            cur.execute("SELECT id FROM mocli_cases WHERE reverse(id) LIKE %s ORDER BY id LIMIT 6",
                        (like_prefix(ref[::-1]),))
            found = [r[0] for r in cur.fetchall()]
            if not found:
                raise NotFound(f"no case {ref!r} in the team case store ({self.where})")
            if len(found) > 1:
                raise NotFound(f"case {ref!r} is ambiguous: {', '.join(found[:5])}")
            row = (found[0],)
        if lock:
            cur.execute("SELECT id FROM mocli_cases WHERE id = %s FOR UPDATE", row)
        return row[0]

    def find(self, ref: str) -> Case:
        def work(cur: Any) -> Case:
            case_id = self._pick(cur, ref)
            cur.execute(f"SELECT {WHOLE} FROM mocli_cases c WHERE c.id = %s", (case_id,))
            return cur.fetchone()[0]
        return self._run(work)

    def update(self, ref: str, change: Callable[[Case], Case]) -> Case:
        def work(cur: Any) -> Case:
            case_id = self._pick(cur, ref, lock=True)  # the row stays locked until the commit
            cur.execute(f"SELECT {WHOLE} FROM mocli_cases c WHERE c.id = %s", (case_id,))
            old = cur.fetchone()[0]
            updated = change(dict(old))
            before, after = old.get("history") or [], updated.get("history") or []
            if after[:len(before)] != before:
                raise StoreError(f"case {case_id}: the history is append-only; an earlier entry was changed")
            if updated.get("id") != case_id:
                raise StoreError(f"case {case_id}: a case's id never changes")
            row = self.row(updated)
            sets = ", ".join(f"{name} = %s" for name in COLUMNS[1:])
            cur.execute(f"UPDATE mocli_cases SET {sets} WHERE id = %s", (*sql_params(row)[1:], case_id))
            append_events(cur, case_id, after[len(before):])
            return updated
        return self._run(work)

    def list_cases(self, filters: Filters, *, now: datetime, due: bool = False, overdue: bool = False,
                   limit: int = 0) -> tuple[list[Case], int]:
        where, params = sql_where_of(filters)
        if due or overdue:
            cond, more = follow_up_due(now, due=due, overdue=overdue)
            where, params = [*where, cond], [*params, *more]
        sql_where = " AND ".join(where) or "true"

        # Sorted as the local backend sorts (no follow-up: as if due now; then the id, byte order). Due and
        # overdue cases all have a follow-up: then the open-follow-up index gives the order directly.
        key, key_params = ("follow_up_by", []) if due or overdue else ("coalesce(follow_up_by, %s)", [now])

        def work(cur: Any) -> tuple[list[Case], int]:
            # Pick the rows on the narrow columns first; only those shown are read whole (with history).
            cur.execute(f"SELECT {WHOLE} FROM (SELECT id, {key} AS k FROM mocli_cases WHERE {sql_where} "
                        f"ORDER BY k, id COLLATE \"C\" {'LIMIT %s' if limit else ''}) s "
                        "JOIN mocli_cases c ON c.id = s.id ORDER BY s.k, s.id COLLATE \"C\"",
                        [*key_params, *params, *([limit] if limit else [])])
            shown = [r[0] for r in cur.fetchall()]
            if limit and len(shown) == limit:
                if overdue and not due and filtered_on(filters) <= {"status", "tier", "agent"}:
                    return shown, count_overdue(cur, *sql_where_of(filters), now)
                cur.execute(f"SELECT count(*) FROM mocli_cases c WHERE {sql_where}", params)
                return shown, cur.fetchone()[0]
            return shown, len(shown)
        return self._run(work)

    def claim_history(self, customer_id: str, address_key: str) -> list[dict[str, Any]]:
        def work(cur: Any) -> list[dict[str, Any]]:
            cur.execute("SELECT customer_id, order_number, claim_on, address_key, id FROM mocli_cases "
                        "WHERE is_claim AND customer_id = %s UNION "
                        "SELECT customer_id, order_number, claim_on, address_key, id FROM mocli_cases "
                        "WHERE is_claim AND address_key = %s", (customer_id, address_key))
            return [{"customer": c, "order": o, "on": on.isoformat(), "address": a, "id": i}
                    for c, o, on, a, i in cur.fetchall()]
        return self._run(work)

    def report(self, filters: Filters, now: datetime, *, top: int = 20) -> dict[str, Any]:
        """The report's counts by SQL aggregates over the indexed columns (a few thousand grouped rows come
        back, never the cases), assembled into figures by the same code as the local report."""
        from mocli import reporting

        where, params = sql_where_of(filters)
        on = filtered_on(filters)
        return reporting.assemble(self._run(lambda cur: tally(cur, where, params, now, top, on=on)), now, top=top)

    def recovery(self, filters: Filters, now: datetime) -> tuple[dict[str, Any], int]:
        """The report's carrier-claim recovery figures (policy/claims.py `recovery`), by SQL over the claim
        columns (postgres_claims.py); and how many cases were clocked under other claim rules (read the
        slow way: `mocli store init` recomputes them)."""
        from mocli.store import postgres_claims

        where, params = sql_where_of(filters)
        clock = self.claim_clock
        kept = filtered_on(filters) <= {"carrier"}  # migration 4's kept recovery is by carrier alone
        return self._run(lambda cur: postgres_claims.recovery(cur, where, params, now, clock, kept=kept))

    def claimable(self, filters: Filters, now: datetime, window: int | None, rules: Any, *, limit: int = 0,
                  due: bool = False, overdue: bool = False) -> tuple[list[Case], int, dict[str, Any]]:
        """`cases --claimable` / `--claim-expiring` (commands/cases.py): the cases whose claim is open for
        filing and not filed, within `window` days of the deadline, nearest first: at most `limit`, how many
        in all, and each one's deadline. SQL over the claim columns; cases clocked under other rules than
        `rules` by the clock in Python."""
        from mocli.store import postgres_claims

        where, params = sql_where_of(filters)
        if due or overdue:
            cond, more = follow_up_due(now, due=due, overdue=overdue)
            where, params = [*where, cond], [*params, *more]
        clock = self.claim_clock if rules == self.claim_clock.rules else postgres_claims.ClaimClockRules(rules)
        return self._run(lambda cur: postgres_claims.claimable(cur, where, params, now, window, clock, limit=limit))

    def refresh_claims(self, progress: Callable[[int], None] | None = None) -> int:
        """Work out again the claim columns of the cases clocked under other claim rules than this mocli's
        (claims.toml changed) or never (stored before schema 3); how many. Part of `mocli store init`."""
        from mocli.store import postgres_claims

        conn = self.connection()
        try:
            return postgres_claims.refresh(conn, self.claim_clock, progress)
        except self._pg.Error as exc:
            raise self._error(exc) from None

    def export(self) -> Iterator[Case]:
        conn = self.connection()
        try:
            with conn.transaction(), conn.cursor(name="mocli_export") as cur:
                cur.itersize = 500
                cur.execute(f"SELECT {WHOLE} FROM mocli_cases c ORDER BY c.seq")
                for (case,) in cur:
                    yield case
        except self._pg.Error as exc:
            raise self._error(exc) from None

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": self.backend, "where": self.where, "schema_version": None,
                               "latest_schema_version": migrations.LATEST, "cases": None, "reachable": False}
        try:
            conn = self.connection(check_schema=False)
        except StoreError as exc:
            out["error"] = str(exc)
            return out
        out["reachable"] = True
        try:
            with conn.transaction(), conn.cursor() as cur:
                out["schema_version"] = migrations.current_version(cur)
                if out["schema_version"] is not None:
                    cur.execute("SELECT count(*) FROM mocli_cases")
                    out["cases"] = cur.fetchone()[0]
        except self._pg.Error as exc:
            out["error"] = str(self._error(exc))
        return out
