"""The team store's schema, as numbered migrations; `mocli store init` applies the missing ones.

Cases are stored whole as JSONB (`doc`, without the history), so new keys on the case record need no
migration; columns exist only for what the commands filter, sort, look up or aggregate on. The history
is a table of events that is only ever appended to (a trigger refuses updates and deletes).
"""

from __future__ import annotations

from typing import Any

VERSION_TABLE = "mocli_schema_version"
# Who made a claim, as the report groups repeat claimants (reporting.tally's "customer id, else email"):
# store/postgres.py writes exactly this expression so that the planner matches migration 2's indexes.
CLAIMANT = "coalesce(nullif(customer_id, ''), nullif(customer_email, ''), 'unknown')"
# A carrier claim on record (commands/claim.py's `carrier_claim`), as migration 2's index states it.
FILED = "jsonb_typeof(doc->'carrier_claim') = 'object'"
# The claims (reporting.CLAIM_ACTIONS), as migration 2's partial indexes state them.
CLAIMS = "action IN ('carrier_investigation', 'fraud_review', 'refund_or_replacement')"
# The cases the fraud team reviews, as migration 3's index states them.
FRAUD = "action = 'fraud_review'"
# The cases the report's recovery figures read (store/postgres_claims.py), as migration 3's index states it.
CONCERN = "(outcome = 'lost' OR claim_status IS NOT NULL OR claim_rules <> '')"

# Migration 4's summary tables: what each case adds to the report's figures, by the columns the report
# groups and filters by. `{src}` is a set of cases with a `sign` column (+1 a case stored, -1 a case's old
# row replaced or deleted); the sums are taken in key order so that concurrent writers lock the summary
# rows in one order (never a deadlock), on their own shard of rows (no queue behind one hot row).
_SHARD = "pg_backend_pid() % 8"
TOTALS_KEY = "status, tier, action, carrier, agent, outcome, remedy, currency"
# As postgres_report.COUNTS reads each case ('' for none: a summary key is never NULL).
TOTALS_OF = """
SELECT {shard}, status, tier, action, carrier, agent,
       coalesce(CASE WHEN has_resolution THEN outcome WHEN status = 'resolved' THEN 'found' END, ''),
       coalesce(CASE WHEN has_resolution THEN nullif(remedy, '') END, ''), coalesce(currency, ''),
       sum(sign), sum(sign * coalesce(value, 0)::numeric),
       coalesce(sum(sign) FILTER (WHERE {met}), 0),
       coalesce(sum(sign) FILTER (WHERE {met} AND resolved_at > follow_up_by), 0)
FROM {src} c GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
-- An edit can move a case's value or follow-up and not its kind: its sums change, not its count.
HAVING sum(sign) <> 0 OR sum(sign * coalesce(value, 0)::numeric) <> 0 OR bool_or({met})
ORDER BY 2, 3, 4, 5, 6, 7, 8, 9"""
MET = "(follow_up_by IS NOT NULL AND status <> 'open' AND NOT (status = 'resolved' AND NOT has_resolution))"
STEP = "date_bin('15 minutes', {}, timestamptz '2000-01-03 00:00+00')"
# As postgres_report.TREND reads each case: the 15-minute step it was opened in ('o'), resolved in
# ('r'), and its follow-up's step, settled whatever the time once resolved ('s'), else once past ('f').
STEPS_OF = f"""
SELECT {{shard}}, kind, step, breached, sum(sign)
FROM (SELECT sign, 'o' AS kind, {STEP.format("created_at")} AS step, false AS breached FROM {{src}} c
      UNION ALL
      SELECT sign, 'r', {STEP.format("resolved_at")}, false FROM {{src}} c
      WHERE has_resolution AND resolved_at IS NOT NULL
      UNION ALL
      SELECT sign, CASE WHEN status = 'resolved' THEN 's' ELSE 'f' END, {STEP.format("follow_up_by")},
             status = 'open' OR coalesce(resolved_at > follow_up_by, false)
      FROM {{src}} c WHERE follow_up_by IS NOT NULL AND NOT (status = 'resolved' AND NOT has_resolution)) s
GROUP BY 2, 3, 4 HAVING sum(sign) <> 0 ORDER BY 2, 3, 4"""
HOURS_OF = """
SELECT {shard}, hours_to_resolution, sum(sign) FROM {src} c
WHERE has_resolution AND hours_to_resolution IS NOT NULL GROUP BY 2 HAVING sum(sign) <> 0 ORDER BY 2"""
# As postgres_claims.recovery reads each case concerned: a parcel lost, a claim filed, a window that
# expires unfiled (by the day it expires, so that the report counts those past).
RECOVERY_OF = """
SELECT {shard}, claim_rules, kind, carrier, currency, expires, sum(sign), sum(sign * n2), sum(sign * n3),
       coalesce(sum(sign * amount), 0), coalesce(sum(sign * amount2), 0)
FROM (SELECT sign, claim_rules, 'lost' AS kind, carrier, coalesce(currency, '') AS currency,
             date '-infinity' AS expires, 0 AS n2, 0 AS n3, value::numeric AS amount, 0::numeric AS amount2
      FROM {src} c WHERE outcome = 'lost'
      UNION ALL
      SELECT sign, claim_rules, 'filed', carrier, coalesce(claim_currency, ''), date '-infinity',
             (claim_status = 'paid')::int, (claim_status = 'denied')::int, claim_amount::numeric,
             CASE WHEN claim_status = 'paid' THEN claim_paid::numeric END
      FROM {src} c WHERE claim_status IS NOT NULL
      UNION ALL
      SELECT sign, claim_rules, 'expired', carrier, coalesce(order_currency, ''), claim_expires,
             (claim_recoverable IS NOT NULL)::int, 0, claim_recoverable::numeric, 0
      FROM {src} c WHERE claim_status IS NULL AND claim_expires IS NOT NULL AND {concern}) r
GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6"""
# The follow-ups not resolved, by the (UTC) day they fall due: the overdue ones are those of the days
# before today's, and today's up to now (read from the cases' index).
FOLLOW_UPS_OF = """
SELECT {shard}, (follow_up_by AT TIME ZONE 'UTC')::date, status, tier, agent, sum(sign)
FROM {src} c WHERE status <> 'resolved' AND follow_up_by IS NOT NULL
GROUP BY 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 2, 3, 4, 5"""
UPSERTS = (
    ("mocli_report_totals", f"shard, {TOTALS_KEY}", "n, value, met, met_late", TOTALS_OF),
    ("mocli_report_steps", "shard, kind, step, breached", "n", STEPS_OF),
    ("mocli_report_hours", "shard, hours", "n", HOURS_OF),
    ("mocli_report_recovery", "shard, claim_rules, kind, carrier, currency, expires", "n, n2, n3, amount, amount2",
     RECOVERY_OF),
    ("mocli_report_follow_ups", "shard, day, status, tier, agent", "n", FOLLOW_UPS_OF),
)


def summing(src: str, shard: str) -> str:
    """SQL adding the contributions of the cases `src` (with their `sign`) to the summary tables."""
    sql = []
    for table, key, sums, select in UPSERTS:
        add = ", ".join(f"{c} = t.{c} + coalesce(excluded.{c}, 0)" for c in sums.split(", "))
        sql.append(f"INSERT INTO {table} AS t ({key}, {sums}) "
                   f"{select.format(shard=shard, src=src, met=MET, concern=CONCERN)} "
                   f"ON CONFLICT ({key}) DO UPDATE SET {add};")
    return "\n".join(sql)


def _trigger(op: str, src: str) -> str:
    return f"""
CREATE FUNCTION mocli_report_on_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{summing(src, _SHARD)}
    RETURN NULL;
END $$;
CREATE TRIGGER mocli_report_on_{op} AFTER {op.upper()} ON mocli_cases
    REFERENCING {"NEW TABLE AS new_rows" if op != "delete" else ""} {"OLD TABLE AS old_rows" if op != "insert" else ""}
    FOR EACH STATEMENT EXECUTE FUNCTION mocli_report_on_{op}();"""


_NEW = "(SELECT 1 AS sign, * FROM new_rows)"
_OLD = "(SELECT -1 AS sign, * FROM old_rows)"
SUMMARY = f"""
-- `mocli report`'s figures kept up to date by every write to the cases (statement triggers, in the
-- writing transaction): the report reads a few thousand summary rows instead of a million cases.
CREATE TABLE mocli_report_totals (
    shard smallint NOT NULL, status text NOT NULL, tier text NOT NULL, action text NOT NULL,
    carrier text NOT NULL, agent text NOT NULL, outcome text NOT NULL, remedy text NOT NULL,
    currency text NOT NULL, n bigint NOT NULL, value numeric NOT NULL, met bigint NOT NULL,
    met_late bigint NOT NULL, PRIMARY KEY (shard, {TOTALS_KEY}));
CREATE TABLE mocli_report_steps (
    shard smallint NOT NULL, kind text NOT NULL, step timestamptz NOT NULL, breached boolean NOT NULL,
    n bigint NOT NULL, PRIMARY KEY (shard, kind, step, breached));
CREATE TABLE mocli_report_hours (
    shard smallint NOT NULL, hours double precision NOT NULL, n bigint NOT NULL, PRIMARY KEY (shard, hours));
CREATE TABLE mocli_report_recovery (
    shard smallint NOT NULL, claim_rules text NOT NULL, kind text NOT NULL, carrier text NOT NULL,
    currency text NOT NULL, expires date NOT NULL, n bigint NOT NULL, n2 bigint NOT NULL, n3 bigint NOT NULL,
    amount numeric NOT NULL, amount2 numeric NOT NULL,
    PRIMARY KEY (shard, claim_rules, kind, carrier, currency, expires));
CREATE TABLE mocli_report_follow_ups (
    shard smallint NOT NULL, day date NOT NULL, status text NOT NULL, tier text NOT NULL, agent text NOT NULL,
    n bigint NOT NULL, PRIMARY KEY (shard, day, status, tier, agent));
{_trigger("insert", _NEW)}
{_trigger("update", f"(SELECT * FROM {_NEW} n UNION ALL SELECT * FROM {_OLD} o)")}
{_trigger("delete", _OLD)}
CREATE FUNCTION mocli_report_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE mocli_report_totals, mocli_report_steps, mocli_report_hours, mocli_report_recovery,
        mocli_report_follow_ups;
    RETURN NULL;
END $$;
CREATE TRIGGER mocli_report_on_truncate AFTER TRUNCATE ON mocli_cases
    FOR EACH STATEMENT EXECUTE FUNCTION mocli_report_on_truncate();
-- The cases stored before.
{summing("(SELECT 1 AS sign, * FROM mocli_cases)", "0")}
-- The report's overdue follow-ups per tier and agent, and the follow-ups settling now, read from this
-- index alone.
CREATE INDEX mocli_cases_unresolved_follow_up ON mocli_cases (follow_up_by)
    INCLUDE (status, tier, agent, carrier, action, has_resolution, resolved_at) WHERE status <> 'resolved';
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "cases, their history events, and the indexes the commands filter on", """
CREATE TABLE mocli_cases (
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id              text PRIMARY KEY,
    created_at      timestamptz NOT NULL,
    agent           text NOT NULL,
    status          text NOT NULL,
    follow_up_by    timestamptz,
    tier            text NOT NULL,
    action          text NOT NULL,
    carrier         text NOT NULL,
    customer_id     text,
    customer_email  text,
    address_key     text,
    address_line    text,
    is_claim        boolean NOT NULL,
    claim_on        date,
    order_number    text,
    has_resolution  boolean NOT NULL DEFAULT false,
    outcome         text,
    remedy          text,
    value           double precision,
    currency        text,
    resolved_at     timestamptz,
    hours_to_resolution double precision,
    signals         text[] NOT NULL DEFAULT '{}',
    doc             jsonb NOT NULL
);
-- `mocli case 7K2QF`: a unique end of the id, as a prefix of the reversed id.
CREATE INDEX mocli_cases_id_end ON mocli_cases (reverse(id) text_pattern_ops);
CREATE INDEX mocli_cases_open_follow_up ON mocli_cases (follow_up_by) WHERE status = 'open';
CREATE INDEX mocli_cases_created ON mocli_cases (created_at);
CREATE INDEX mocli_cases_agent ON mocli_cases (lower(agent), created_at);
CREATE INDEX mocli_cases_claims_customer ON mocli_cases (customer_id, claim_on) WHERE is_claim;
CREATE INDEX mocli_cases_claims_address ON mocli_cases (address_key, claim_on) WHERE is_claim;

CREATE TABLE mocli_case_events (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id  text NOT NULL REFERENCES mocli_cases (id),
    entry    jsonb NOT NULL
);
CREATE INDEX mocli_case_events_case ON mocli_case_events (case_id, seq);

CREATE FUNCTION mocli_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'mocli case history is append-only';
END $$;
CREATE TRIGGER mocli_case_events_append_only BEFORE UPDATE OR DELETE ON mocli_case_events
    FOR EACH ROW EXECUTE FUNCTION mocli_history_is_append_only();
"""),
    (2, "covering indexes for the report's repeat claimants and repeat addresses", f"""
-- `mocli report` groups the claims by claimant and by (address, claimant): read in this order from
-- these narrow indexes (index-only, with the report's filters' columns), the database neither scans the
-- whole table nor hashes a few hundred thousand groups: 0.24 s instead of 1.0-1.1 s each at a million
-- cases (EXPLAIN ANALYZE; benchmarks/team_store.py). The claimant's own columns are included too: the
-- planner reads an expression's columns from the index, or it visits the table for every row.
CREATE INDEX mocli_cases_claimant ON mocli_cases (({CLAIMANT}), seq)
    INCLUDE (id, customer_id, customer_email, created_at, agent, tier, carrier, status, action) WHERE {CLAIMS};
CREATE INDEX mocli_cases_claim_address ON mocli_cases (address_key, ({CLAIMANT}), seq)
    INCLUDE (customer_id, customer_email, created_at, agent, tier, carrier, status, action)
    WHERE {CLAIMS} AND address_key <> '';
-- The cases with a carrier claim on record, for the report's recovery figures: without this index,
-- finding them opens every case's document (8 s at a million cases).
CREATE INDEX mocli_cases_claim_filed ON mocli_cases (seq) WHERE {FILED};
"""),
    (3, "each case's carrier-claim facts and claim window as columns, for the report's recovery figures", f"""
-- store/postgres_claims.py writes these with every case; `mocli store init` works them out for the cases
-- stored before (the ones marked 'unset' here: a parcel lost, a claim decided, or a claim on record).
ALTER TABLE mocli_cases
    ADD COLUMN claim_status      text,
    ADD COLUMN claim_currency    text,
    ADD COLUMN claim_amount      double precision,
    ADD COLUMN claim_paid        double precision,
    ADD COLUMN claim_opens       date,
    ADD COLUMN claim_expires     date,
    ADD COLUMN claim_recoverable double precision,
    ADD COLUMN order_currency    text,
    ADD COLUMN claim_rules       text NOT NULL DEFAULT '';
UPDATE mocli_cases SET claim_rules = 'unset'
    WHERE outcome = 'lost' OR (coalesce(outcome, '') = '' AND {CLAIMS}) OR {FILED};
-- The report's recovery figures read only these cases, from this index alone (with the filters' columns).
CREATE INDEX mocli_cases_claim_concern ON mocli_cases (carrier)
    INCLUDE (created_at, agent, tier, status, action, outcome, currency, value, claim_status, claim_currency,
             claim_amount, claim_paid, claim_expires, claim_recoverable, order_currency, claim_rules)
    WHERE {CONCERN};
-- `cases --claimable` / `--claim-expiring`: unfiled claims by deadline.
CREATE INDEX mocli_cases_claim_deadline ON mocli_cases (claim_expires, id)
    WHERE claim_status IS NULL AND claim_expires IS NOT NULL;
-- The cases clocked under other claim rules (or not yet): what `store init` recomputes.
CREATE INDEX mocli_cases_claim_rules ON mocli_cases (claim_rules);
-- The report's one pass over every case (store/postgres_report.py) reads this narrow index, not the 3 GB
-- table (its documents): about a tenth of the pages at a million cases. Likewise the fraud signals.
CREATE INDEX mocli_cases_report ON mocli_cases (created_at)
    INCLUDE (status, tier, action, carrier, agent, outcome, remedy, currency, value, has_resolution,
             hours_to_resolution, follow_up_by, resolved_at);
CREATE INDEX mocli_cases_fraud ON mocli_cases (created_at) INCLUDE (signals, agent, tier, carrier, status)
    WHERE {FRAUD};
"""),
    (4, "the report's figures kept up to date on every write (summary tables)", SUMMARY),
]

LATEST = MIGRATIONS[-1][0]


def fold(conn: Any) -> None:
    """Fold migration 4's summary rows into one shard and drop those that sum to nothing: each writing
    connection adds to its own shard, so a busy team's summary grows up to eight rows per key meanwhile.
    Writers wait for the few hundred milliseconds this takes."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"LOCK TABLE {', '.join(table for table, *_ in UPSERTS)} IN EXCLUSIVE MODE")
        for table, key, sums, _ in UPSERTS:
            cols = key.removeprefix("shard, ")
            total = ", ".join(f"sum({c})" for c in sums.split(", "))
            cur.execute(f"WITH gone AS (DELETE FROM {table} RETURNING *) INSERT INTO {table} ({key}, {sums}) "
                        f"SELECT 0, {cols}, {total} FROM gone GROUP BY {cols} "
                        f"HAVING {' OR '.join(f'sum({c}) <> 0' for c in sums.split(', '))}")


def current_version(cur: Any) -> int | None:
    """The schema version the database is at; None when mocli's schema is not there at all."""
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,))
    if not cur.fetchone()[0]:
        return None
    cur.execute(f"SELECT max(version) FROM {VERSION_TABLE}")
    return cur.fetchone()[0]


def migrate(conn: Any) -> tuple[int | None, int]:
    """Apply the missing migrations in one transaction, then fold the kept totals' shares (`fold`);
    (version before, version after).

    Idempotent, and safe when two agents run it at once: an advisory lock makes the second wait and
    then find nothing left to do."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('mocli schema'))")
        # Building an index over a big team's cases takes longer than any one command's statement may.
        cur.execute("SET LOCAL statement_timeout = 0")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer PRIMARY KEY, "
                    "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        before = current_version(cur)
        for version, description, sql in MIGRATIONS:
            if before is not None and version <= before:
                continue
            cur.execute(sql)
            cur.execute(f"INSERT INTO {VERSION_TABLE} (version, description) VALUES (%s, %s)",
                        (version, description))
    fold(conn)
    return before, max(before or 0, LATEST)
