"""`mocli cases` (the list, with follow-ups due and overdue), `mocli case CASE` (one case in full) and
`mocli note CASE TEXT` (a note in the case's history).
Long because the three commands share their filters, columns and case view."""

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
    status: Annotated[str | None, typer.Option(
        "--status", metavar="open|resolved|all",
        help="Which cases to list (default open; with the claim filters, all).")] = None,
    tier: options.Tier = None,
    agent: AgentFilter = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only cases you opened (MOCLI_AGENT or your login).")] = False,
    carrier: options.Carrier = None,
    action: Annotated[str | None, typer.Option(
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
    claim_expiring: Annotated[str | None, typer.Option(
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
    one's deadline. A local file is read through its cached slim view; the team store streams only the
    cases a claim concerns."""
    from mocli import reporting
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.policy.claims import ClaimBook, claim_facts, facts_dict, worth_claiming

    if hasattr(cases_store, "scan"):  # the local file: its cached slim view carries the claim facts
        scan = cases_store.scan(reporting.summary, reporting.SUMMARY_KEY)
        rows = [(doc_id, s) for doc_id, s in scan.docs.items() if filters.matches(s)]

        def fetch(ids: list[Any]) -> list[dict[str, Any]]:
            return cases_store.records(scan, ids)
    else:
        whole = {c["id"]: c for c in cases_store.claim_cases(filters)}
        rows = [(i, {**c, "claim_facts": facts_dict(claim_facts(c))}) for i, c in whole.items()]

        def fetch(ids: list[Any]) -> list[dict[str, Any]]:
            return [whole[i] for i in ids]
    if due or overdue:
        rows = [(i, s) for i, s in rows if (due and reporting.is_due_today(s, now))
                or (overdue and reporting.is_overdue(s, now))]
    rules, today = load_claim_rules(), now.date()
    book = ClaimBook(rules.rules, today, expiring_within=rules.expiring_within_days,
                     calendar_for=destination_calendar)
    keep, deadlines = [], {}
    for doc_id, s in rows:
        if s.get("carrier_claim") or not s.get("claim_facts") or not worth_claiming(s):
            continue
        state, _, expires = book.window(s)
        if state not in ("eligible", "expiring"):
            continue
        if window is not None and (expires - today).days > window:
            continue
        keep.append((doc_id, s))
        deadlines[s.get("id")] = expires
    keep.sort(key=lambda row: (deadlines[row[1].get("id")], str(row[1].get("id"))))
    picked = keep[:limit] if limit else keep
    return fetch([doc_id for doc_id, _ in picked]), len(keep), deadlines


def case_status(c: dict[str, Any], now: Any) -> str:
    """open, resolved, or overdue: an open case past its follow-up, readable without colour."""
    from mocli import reporting

    return "overdue" if reporting.is_overdue(c, now) else str(c.get("status", "open"))


def case_columns(now: Any, deadlines: dict[str, Any] | None = None) -> list[Any]:
    """The columns of `mocli cases`: id, follow-up, status and order never dropped to fit; with the
    claim filters, the claim deadline first."""
    from mocli import reporting
    from mocli.render import ACTION_STYLE, t
    from mocli.render.output import Column

    def follow_up(c: dict[str, Any]) -> Any:
        follow = reporting.when(c.get("follow_up_by"))
        return follow.astimezone(now.tzinfo) if follow else None

    def follow_shown(c: dict[str, Any]) -> Any:
        follow = follow_up(c)
        style = ("bold red" if reporting.is_overdue(c, now) else
                 "yellow" if reporting.is_due_today(c, now) else "")
        return t(f"{follow:%a %b %d %H:%M}" if follow else "-", style)

    def status_shown(c: dict[str, Any]) -> Any:
        status = case_status(c, now)
        return t(status, "bold red" if status == "overdue" else "")

    def action_shown(c: dict[str, Any]) -> Any:
        action = reporting.action_of(c)
        return t(action.replace("_", " "), ACTION_STYLE.get(action, ""))

    def customer(c: dict[str, Any]) -> Any:
        who = c.get("customer") or {}
        return who.get("name") or who.get("email")

    claim_by = [Column("Claim by", lambda c: deadlines[c.get("id")].isoformat(),
                       lambda c: t(f"{deadlines[c.get('id')]:%a %b %d}", "bold"))] if deadlines else []
    return [
        *claim_by,
        Column("Case", lambda c: c.get("id")),
        Column("Follow up by", lambda c: follow_up(c).isoformat() if follow_up(c) else None, follow_shown),
        Column("Status", lambda c: case_status(c, now), status_shown),
        Column("Tier", reporting.tier_of, drop=4),
        Column("Customer", customer, drop=3),
        Column("Order", lambda c: (c.get("order") or {}).get("number")),
        Column("Carrier", reporting.carrier_of, drop=6),
        Column("Agent", lambda c: c.get("agent"), drop=5),
        Column("Action", reporting.action_of, action_shown, wrap=True, drop=2),
    ]


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

        with paged(no_pager):
            _case_view(cfg, record, now)
    if copy:  # after the pager: the clipboard sequence must reach the terminal itself
        copy_message(latest)


def copy_message(text: str) -> None:
    """`--copy`: the message onto the clipboard, and a note on stderr saying whether it went."""
    from mocli.render import copy_to_clipboard

    why_not = copy_to_clipboard(text)
    typer.echo("customer message copied to the clipboard (OSC 52; some terminals need it allowed)"
               if why_not is None else f"mocli: --copy: cannot copy: {why_not}; paste from the output above",
               err=True)


def _case_view(cfg: Any, record: dict[str, Any], now: Any) -> None:
    from pydantic import ValidationError  # noqa: TID253
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from mocli import reporting
    from mocli.errors import ConfigError, StoreError
    from mocli.models import Case
    from mocli.policy.opening import sla_text
    from mocli.render import (
        console,
        customer_panel,
        decision_panel,
        delivery_panel,
        message_panel,
        order_panel,
        sanitize,
        t,
        tracking_link,
        tracking_panel,
    )
    from mocli.wizard.questions import label

    try:
        c = Case.model_validate(record)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise StoreError(f"case {record.get('id')} does not match the case schema ({err['loc']}: "
                         f"{err['msg']}); `mocli case --json` shows it as stored") from None
    out = console()
    head = Text.assemble((sanitize(c.id), "bold"), "  ",
                         (f" {c.status.upper()} ", "reverse bold green" if c.status == "resolved" else "reverse"),
                         f"  opened {c.created_at:%Y-%m-%d %H:%M} by ", (sanitize(c.agent), "bold"))
    if c.ticket:
        head.append(f"  ticket {sanitize(c.ticket)}")
    if reporting.is_overdue(record, now):
        head.append("  FOLLOW-UP OVERDUE", style="bold red")
    out.print(head)
    try:
        tier = cfg.tier(c.customer.tier)
        sla = sla_text(cfg, c.customer.tier)
    except ConfigError:
        tier, sla = None, "unknown (tier not in tiers.toml)"
    if tier is not None:
        out.print(customer_panel(c.customer, tier, sla))
    out.print(order_panel(c.order, c.customer))
    if c.tracking is not None:
        out.print(tracking_panel(c.tracking))
        out.print(tracking_link(c.tracking), soft_wrap=True)  # the URL whole, never folded
        if c.tracking.delivered_at or c.tracking.proof_of_delivery:
            out.print(delivery_panel(c.tracking))
    if c.answers:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for key, value in c.answers.items():
            shown = "yes" if value is True else "no" if value is False else value
            grid.add_row(t(label(key)), t(shown))
        out.print(Panel(grid, title="Answers (step 5)", title_align="left"))
    if c.known_issues:
        out.print(Panel(Text("\n").join(t(f"• {k.id}: {k.note}") for k in c.known_issues),
                        title="Known issues", title_align="left"))
    if c.checklist:  # ticks readable without colour
        out.print(Panel(Text("\n").join(t(f"[{'x' if i.done else ' '}] {i.item}") for i in c.checklist),
                        title="Handling checklist", title_align="left"))
    out.print(decision_panel(c, sla))
    _claim_panel(out, record, now)
    out.print(message_panel(c.message, c.decision.macro, c.locale), crop=False)
    if c.resolution:
        r = c.resolution
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        value = f"{r.value:,.2f} {r.currency}"
        for key, shown in (("Outcome", r.outcome), ("Remedy", r.remedy), ("Value", value),
                           ("Resolved", f"{(r.resolved_at or '')[:16]} by {r.resolved_by}"),
                           ("Time to resolution", f"{r.hours_to_resolution} h"),
                           ("Within SLA", {True: "yes", False: "no"}.get(r.within_sla, "-")),
                           ("Approved by", r.approved_by), ("Reason", r.reason)):
            if shown:
                grid.add_row(key, t(shown))
        out.print(Panel(grid, title="Resolution (step 8)", title_align="left", border_style="green"))
        if r.message:
            out.print(message_panel(r.message, r.macro, r.locale), crop=False)
    history = Table(title="History", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("When", "Who", "What", "Detail"):
        history.add_column(col, no_wrap=col == "When")
    for ev in c.history:
        history.add_row(f"{ev.at.astimezone(now.tzinfo):%Y-%m-%d %H:%M}", t(ev.agent), t(ev.event), t(ev.detail or ""))
    out.print(history)


def _claim_panel(out: Any, record: dict[str, Any], now: Any) -> None:
    """The carrier claim (mocli claim status), unless the case has nothing to claim."""
    from mocli.commands.claim import status_panel, status_record
    from mocli.errors import ConfigError

    try:
        claim = status_record(record, now.date())
    except ConfigError as exc:  # a broken claims.toml must not hide the case itself
        out.print(t_warn(f"carrier claim: {exc}"))
        return
    if claim["state"] != "not_needed" or claim["claim"]:
        out.print(status_panel(claim))


def t_warn(text: str) -> Any:
    from mocli.render import t

    return t(text, "yellow")


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
