"""`mocli cases` (the list, with follow-ups due and overdue), `mocli case CASE` (one case in full) and
`mocli note CASE TEXT` (a note in the case's history); their views are in render/cases.py."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mocli.commands import options
from mocli.commands.options import Agent, AgentFilter, CaseRef, Copy, Db, Format, IncludePii, Json, NoPager, helped

# The case record's keys (README, "The case record"): what `--json FIELDS` may select.
CASE_KEYS = ("id", "created_at", "agent", "customer", "order", "tracking", "answers", "signals", "known_issues",
             "decision", "follow_up_by", "message", "status", "ticket", "sources", "resolution", "history",
             "checklist")


def cases(
    status: Annotated[str, typer.Option(
        "--status", metavar="open|resolved|all",
        help="Which cases to list (default open; with the claim filters, all).")] = None,
    tier: options.Tier = None,
    agent: AgentFilter = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only cases you opened (MOCLI_AGENT or your login).")] = False,
    carrier: options.Carrier = None,
    action: Annotated[str, typer.Option(
        "--action",
        help="Only this decision, e.g. carrier_investigation, fraud_review, refund_or_replacement.")] = None,
    since: options.Since = None,
    until: options.Until = None,
    due: Annotated[bool, typer.Option("--due", help="Only open cases whose follow-up falls today.")] = False,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help="Only open cases whose follow-up time has passed (with --due: either).")] = False,
    claimable: Annotated[bool, typer.Option(
        "--claimable", help="Only cases whose carrier claim can be filed now and is not filed yet, the nearest "
                            "claim deadline first.")] = False,
    claim_expiring: Annotated[str, typer.Option(
        "--claim-expiring", metavar="7d", help="Only unfiled carrier claims whose deadline falls within this many "
                                               "days (7d, 14d, 2w), the nearest first.")] = None,
    limit: int = typer.Option(50, "--limit", min=0, help="Show at most this many (0: all)."),
    json_fields: Json("the matching cases (full records, personal data masked)") = None,
    fmt: Format = None,
    include_pii: helped(IncludePii, "Outside the table view: names, emails, phone numbers and addresses "
                        "unmasked.") = False,
    no_pager: NoPager = False,
    db: Db = None,
) -> None:
    """List cases, the most urgent follow-up first.

    An open case past its follow-up says overdue in the Status column. On a terminal a table sized to
    it; piped, tab-separated rows (see --format and --json).

    Examples:
      mocli cases --due
      mocli cases --overdue --tier VIP
      mocli cases --mine --due
      mocli cases --status all --carrier UPS --since 30d --json id,status
      mocli cases --claimable
      mocli cases --claim-expiring 7d
    """
    from mocli import reporting
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput
    from mocli.render import output

    env = current_env()
    if mine:
        if agent is not None:
            raise InvalidInput("--mine and --agent cannot be used together")
        agent = env.agent()
    how = output.choose(fmt, json_fields)
    fields = output.pick_fields(json_fields, CASE_KEYS)
    claim_window = _days(claim_expiring) if claim_expiring is not None else None
    status = status or ("all" if claimable or claim_window is not None else "open")
    if status not in ("open", "resolved", "all"):
        raise InvalidInput(f"--status must be open, resolved or all (got {status!r})")
    cfg, now = env.load(read_only=True)  # no business days, no messages
    if tier is not None and tier.casefold() not in {name.casefold() for name in cfg.tiers}:
        raise InvalidInput(f"--tier {tier!r}: no such tier (tiers: {', '.join(cfg.tiers)})")  # a typo, not "none"
    if action is not None:
        from mocli.models import ACTIONS

        if action not in ACTIONS:
            raise InvalidInput(f"--action must be one of {', '.join(ACTIONS)} (got {action!r})")
    start, end = reporting.parse_period(since, until, now)
    filters = reporting.Filters(
        since=start, until=end,
        agent=agent, tier=tier, carrier=carrier, action=action,
        status=None if status == "all" else status)
    cases_store = env.store(cfg, db)
    deadlines: dict[str, Any] = {}
    if claimable or claim_window is not None:
        shown, matched, deadlines = _claims_to_file(cases_store, filters, now, claim_window, limit=limit,
                                                    due=due, overdue=overdue)
    else:
        shown, matched = cases_store.list_cases(filters, now=now, due=due, overdue=overdue, limit=limit)
    if len(shown) < matched:
        typer.echo(f"showing {len(shown)} of {matched} cases (--limit 0 shows all)", err=True)
    if how == "table" and not shown:
        typer.echo("no cases match", err=True)
        return
    if how != "table" and not include_pii:  # an export: personal data masked (docs/reliability.md)
        from mocli.privacy import mask_case

        shown = [mask_case(c) for c in shown]
    from mocli.render import paged
    from mocli.render.cases import case_columns

    with paged(no_pager or how != "table"):
        output.emit_rows(shown, case_columns(now, deadlines), how, fields=fields)


def _days(text: str) -> int:
    """--claim-expiring: "7d", "2w" or a bare number of days."""
    import re

    from mocli.errors import InvalidInput

    m = re.fullmatch(r"\s*(\d{1,4})\s*([dw]?)\s*", text or "", re.IGNORECASE)
    if not m:
        raise InvalidInput(f"--claim-expiring {text!r}: use a number of days such as 7d, 14d or 2w")
    return int(m.group(1)) * (7 if m.group(2).lower() == "w" else 1)


def _claims_to_file(cases_store: Any, filters: Any, now: Any, window: int | None, *, limit: int, due: bool,
                    overdue: bool) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """The cases whose carrier claim is open for filing and not filed yet (within `window` days of its
    deadline when given), nearest deadline first: at most `limit` of them, how many matched, and each
    shown one's deadline. A local file is read through its cached slim view; the team store filters its claim
    columns (store/postgres_claims.py)."""
    from mocli import reporting
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.policy.claims import ClaimBook, claimable

    rules, today = load_claim_rules(), now.date()
    if not hasattr(cases_store, "scan"):  # the team store: its claim columns are filtered in SQL
        return cases_store.claimable(filters, now, window, rules, limit=limit, due=due, overdue=overdue)
    # The local file: its cached slim view carries the claim facts.
    scan = cases_store.scan(reporting.summary, reporting.SUMMARY_KEY)
    rows = [(doc_id, s) for doc_id, s in scan.docs.items() if filters.matches(s)]
    if due or overdue:
        rows = [(i, s) for i, s in rows if (due and reporting.is_due_today(s, now))
                or (overdue and reporting.is_overdue(s, now))]
    book = ClaimBook(rules.rules, today, expiring_within=rules.expiring_within_days,
                     calendar_for=destination_calendar)
    keep = claimable(rows, book, window)
    picked = keep[:limit] if limit else keep
    return cases_store.records(scan, [doc_id for doc_id, _, _ in picked]), len(keep), \
        {s.get("id"): expires for _, s, expires in picked}


def case(
    case_ref: CaseRef,
    json_fields: Json("the case record") = None,
    message: bool = typer.Option(False, "--message", help="Print only the latest customer message (the "
                                 "resolution's once resolved), for scripts."),
    copy: helped(Copy, "Also copy that message to the clipboard (OSC 52, works over SSH; a note says when "
                 "the terminal cannot).") = False,
    no_pager: NoPager = False,
    db: Db = None,
) -> None:
    """Show one case in full: customer, order, tracking, answers, signals, decision, messages, history.

    CASE is the id or any unique part of it; a part several ids share lists them (exit 2).

    Examples:
      mocli case 7K2QF
      mocli case 7K2QF --message --copy
      mocli case MO-261127-7K2QF --json
    """
    from mocli.commands.env import current_env
    from mocli.render import output

    fields = output.pick_fields(json_fields, CASE_KEYS)
    env = current_env()
    cfg, now = env.load(read_only=True)  # no business days, no messages
    record = env.store(cfg, db).find(case_ref)
    latest = ((record.get("resolution") or {}).get("message") or record.get("message") or "").strip("\n")
    if json_fields is not None:
        from mocli.render import print_json

        print_json(output.select(record, fields))
    elif message:
        from mocli.render import sanitize

        typer.echo(sanitize(latest))
    else:
        from mocli.render import paged
        from mocli.render.cases import show_case
        from mocli.wizard.questions import label

        with paged(no_pager):
            show_case(_validated(record), record, now, *_tier_and_sla(cfg, record), _claim(record, now),
                      {key: label(key) for key in record.get("answers") or {}})
    if copy:  # after the pager: the clipboard sequence must reach the terminal itself
        copy_message(latest)


def _validated(record: dict[str, Any]) -> Any:
    """The stored case as a models.Case, or exit 1 saying it does not match the schema."""
    from pydantic import ValidationError  # noqa: TID253

    from mocli.errors import StoreError
    from mocli.models import Case

    try:
        return Case.model_validate(record)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise StoreError(f"case {record.get('id')} does not match the case schema ({err['loc']}: "
                         f"{err['msg']}); `mocli case --json` shows it as stored") from None


def _tier_and_sla(cfg: Any, record: dict[str, Any]) -> tuple[Any, str]:
    """The case's tier from tiers.toml and its SLA in words (None and why, for a tier no longer there)."""
    from mocli.errors import ConfigError
    from mocli.policy.opening import sla_text

    tier = (record.get("customer") or {}).get("tier", "")
    try:
        return cfg.tier(tier), sla_text(cfg, tier)
    except ConfigError:
        return None, "unknown (tier not in tiers.toml)"


def _claim(record: dict[str, Any], now: Any) -> dict[str, Any] | str:
    """The carrier claim's status, or why it cannot be known (a broken claims.toml must not hide the case)."""
    from mocli.claim_ledger import status_record
    from mocli.errors import ConfigError

    try:
        return status_record(record, now.date())
    except ConfigError as exc:
        return f"carrier claim: {exc}"


def copy_message(text: str) -> None:
    """`--copy`: the message onto the clipboard, and a note on stderr saying whether it went."""
    from mocli.render import copy_to_clipboard

    why_not = copy_to_clipboard(text)
    typer.echo("customer message copied to the clipboard (OSC 52; some terminals need it allowed)"
               if why_not is None else f"mocli: --copy: cannot copy: {why_not}; paste from the output above",
               err=True)


def note(
    case_ref: CaseRef,
    text: str = typer.Argument(..., metavar="TEXT", help="The note; '-' reads it from stdin."),
    agent: Agent = None,
    json_fields: Json("the updated case") = None,
    db: Db = None,
) -> None:
    """Add a note to a case's history (open or resolved; notes are never changed or removed).

    The note is recorded with your agent name and the time; TEXT '-' reads it from stdin.

    Examples:
      mocli note 7K2QF "Customer called back: neighbour still away until Monday."
      echo "Carrier trace opened, ref 55-1234" | mocli note 7K2QF -
    """
    import sys

    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput
    from mocli.policy import resolving
    from mocli.render import output, sanitize

    fields = output.pick_fields(json_fields, CASE_KEYS)
    if text == "-":
        text = sys.stdin.read()
    cleaned = resolving.clean_text(text, "the note")
    if cleaned is None:
        raise InvalidInput("the note is empty")
    env = current_env()
    cfg, now = env.load(read_only=True)  # no business days, no messages
    who = env.agent(agent)
    updated = env.store(cfg, db).update(
        case_ref, lambda c: resolving.add_note(c, cleaned, now=now, agent=who))
    if json_fields is not None:
        from mocli.render import print_json

        print_json(output.select(updated, fields))
    sys.stderr.write(f"note added to {sanitize(updated.get('id'))}\n")
