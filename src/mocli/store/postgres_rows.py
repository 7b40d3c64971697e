"""The team store's rows: a case's columns (computed by the same functions the local backend's filters
and reports use), the SQL of the report's filters and of `cases --due/--overdue`, the driver, and small SQL
helpers shared by store/postgres.py and its query modules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mocli.errors import StoreError

if TYPE_CHECKING:
    from mocli.reporting import Filters

Case = dict[str, Any]
# A case's carrier-claim facts and claim window (migration 3; store/postgres_claims.py reads them).
CLAIM_COLUMNS = ("claim_status", "claim_currency", "claim_amount", "claim_paid", "claim_opens", "claim_expires",
                 "claim_recoverable", "order_currency", "claim_rules")
COLUMNS = ("id", "created_at", "agent", "status", "follow_up_by", "tier", "action", "carrier", "customer_id",
           "customer_email", "address_key", "address_line", "is_claim", "claim_on", "order_number",
           "has_resolution", "outcome", "remedy", "value", "currency", "resolved_at", "hours_to_resolution",
           "signals", *CLAIM_COLUMNS, "doc")
# The whole case: the document and its history, oldest event first.
WHOLE = ("c.doc || jsonb_build_object('history', coalesce((SELECT jsonb_agg(e.entry ORDER BY e.seq) "
         "FROM mocli_case_events e WHERE e.case_id = c.id), '[]'::jsonb))")



def load_psycopg() -> Any:
    """psycopg, its JSON read and written by orjson; StoreError naming the extra when it is not installed."""
    try:
        import psycopg  # noqa: TID253
        import psycopg.conninfo  # noqa: TID253
        from psycopg.types.json import set_json_dumps, set_json_loads  # noqa: TID253
    except ImportError:
        raise StoreError('the team case store (PostgreSQL) needs psycopg: install it with '
                         'pip install "mocli[postgres]"') from None
    import orjson  # noqa: TID253

    set_json_dumps(orjson.dumps)
    set_json_loads(orjson.loads)
    return psycopg


def _moment(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise StoreError(f"{what} is not an ISO 8601 date-time: {str(value)[:40]!r}") from None
    if moment.tzinfo is None:
        raise StoreError(f"{what} has no UTC offset: {str(value)[:40]!r}")
    return moment


def columns(case: Case, clock: Any) -> tuple[Any, ...]:
    """The indexed columns of a case (COLUMNS order), computed by the same functions the local
    backend's filters and reports use (the claim window by `clock`, a postgres_claims.ClaimClockRules);
    StoreError naming the field
    for a record that cannot be stored."""
    from mocli import reporting
    from mocli.policy.opening import claim_fields

    if not isinstance(case, dict):
        raise StoreError("not a case record (a JSON object)")
    case_id = case.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise StoreError("the case has no id")
    created = _moment(case.get("created_at"), "created_at")
    if created is None:
        raise StoreError("created_at is missing")
    s = reporting.summary(case)
    claim = claim_fields(case)
    res = case.get("resolution") if isinstance(case.get("resolution"), dict) else None
    customer, order = s["customer"], s["order"]
    doc = {k: v for k, v in case.items() if k != "history"}
    value = res.get("value") if res else None
    hours = res.get("hours_to_resolution") if res else None
    return (case_id, created, str(case.get("agent") or "unknown"), str(s["status"] or "open"),
            _moment(case.get("follow_up_by"), "follow_up_by"), reporting.tier_of(case), reporting.action_of(case),
            reporting.carrier_of(case), _text(customer.get("id")), _text(customer.get("email")),
            order.get("address_key") or None, order.get("address_line"), claim is not None,
            date.fromisoformat(claim["on"]) if claim else None, _text((case.get("order") or {}).get("number")),
            res is not None, _text(res.get("outcome")) if res else None, _text(res.get("remedy")) if res else None,
            float(value or 0) if isinstance(value, int | float | type(None)) else 0.0,
            str(res.get("currency") or "USD") if res else None,
            _moment(res.get("resolved_at"), "resolution.resolved_at") if res else None,
            float(hours) if isinstance(hours, int | float) else None,
            [str(x.get("rule") or "unknown") for x in s["signals"]], *claim_columns(s, clock), doc)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


INSERT = (f"INSERT INTO mocli_cases ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
           "ON CONFLICT (id) DO NOTHING")


def sql_params(row: tuple[Any, ...]) -> list[Any]:
    from psycopg.types.json import Jsonb  # noqa: TID253

    return [*row[:-1], Jsonb(row[-1])]


def append_events(cur: Any, case_id: str, events: list[Any]) -> None:
    from psycopg.types.json import Jsonb  # noqa: TID253

    if events:
        cur.executemany("INSERT INTO mocli_case_events (case_id, entry) VALUES (%s, %s)",
                        [(case_id, Jsonb(e)) for e in events])


def follow_up_due(now: datetime, *, due: bool, overdue: bool) -> tuple[str, list[Any]]:
    """The SQL condition (and parameters) of `cases --due` / `--overdue`: due today, or overdue, or either."""
    either, params = [], []
    if due:
        start = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
        either.append("(status = 'open' AND follow_up_by >= %s AND follow_up_by < %s)")
        params += [start, start + timedelta(days=1)]
    if overdue:
        either.append("(status = 'open' AND follow_up_by < %s)")
        params.append(now)
    return "(" + " OR ".join(either) + ")", params


def like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# reporting.Filters' fields and the SQL condition each one adds (the same matching: case-insensitive
# agent, tier and carrier).
_FILTER_SQL = (("status", "status = %s"), ("agent", "lower(agent) = lower(%s)"), ("tier", "lower(tier) = lower(%s)"),
               ("carrier", "lower(carrier) = lower(%s)"), ("action", "action = %s"),
               ("since", "created_at >= %s"), ("until", "created_at < %s"))


def filtered_on(filters: Filters) -> set[str]:
    """The reporting.Filters fields given (what decides which of migration 4's kept totals apply)."""
    return {name for name, _ in _FILTER_SQL if getattr(filters, name)}


def sql_where_of(filters: Filters) -> tuple[list[str], list[Any]]:
    """SQL conditions and their parameters for reporting.Filters."""
    given = [(sql, getattr(filters, name)) for name, sql in _FILTER_SQL if getattr(filters, name)]
    return [sql for sql, _ in given], [value for _, value in given]


def claim_columns(s: dict[str, Any], clock: Any) -> tuple[Any, ...]:
    """A case's claim columns (CLAIM_COLUMNS order) from its slim view (`reporting.summary`), its window
    by `clock` (postgres_claims.ClaimClockRules)."""
    from mocli.policy.claims import no_claim_reason, worth_claiming

    claim = s.get("carrier_claim")
    filed: tuple[Any, ...] = (None, None, None, None)
    if claim:
        filed = (str(claim.get("status") or ""), str(claim.get("currency") or "USD"), _money(claim.get("amount")),
                 _money(claim.get("paid")))
    opens = expires = recoverable = None
    clocked = ""  # postgres_claims.NO_CLOCK: the rules do not matter to this case
    if worth_claiming(s) and not no_claim_reason(s):
        clocked = clock.fingerprint
        _, opens, expires = clock.book.window(s)
        if expires is not None:
            recoverable = clock.book.recoverable(s)
    return (*filed, opens, expires, recoverable, str((s.get("order") or {}).get("currency") or "USD"), clocked)


def _money(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0
