"""`mocli cases` (the list, with follow-ups due and overdue), `mocli case CASE` (one case in full) and
`mocli note CASE TEXT` (a note in the case's history)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

DB_HELP = "Case file (default: the data directory, see `mocli config path`)."


def cases(
    status: str = typer.Option("open", "--status", metavar="open|resolved|all", help="Which cases to list."),
    tier: str = typer.Option(None, "--tier", help="Only this tier (e.g. VIP, Standard, 'New Customer', B2B)."),
    agent: str = typer.Option(None, "--agent", help="Only cases opened by this agent."),
    carrier: str = typer.Option(None, "--carrier", help="Only parcels with this carrier (e.g. UPS)."),
    action: str = typer.Option(None, "--action", help="Only this decision, e.g. carrier_investigation, "
                                                      "fraud_review, refund_or_replacement."),
    since: str = typer.Option(None, "--since", help="Opened on or after: a date (2026-11-01) or 7d, 30d."),
    until: str = typer.Option(None, "--until", help="Opened before the end of this date, or before 7d ago."),
    due: bool = typer.Option(False, "--due", help="Only open cases whose follow-up falls today."),
    overdue: bool = typer.Option(False, "--overdue", help="Only open cases whose follow-up time has passed "
                                                          "(with --due: either)."),
    limit: int = typer.Option(50, "--limit", min=0, help="Show at most this many (0: all)."),
    json_out: bool = typer.Option(False, "--json", help="Print the matching cases (full records) as JSON, "
                                                          "personal data masked (see --include-pii)."),
    include_pii: bool = typer.Option(False, "--include-pii", help="With --json: export names, emails, phone "
                                     "numbers and addresses unmasked."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False, help=DB_HELP),
) -> None:
    """List cases, the most urgent follow-up first.

    Examples:
      mocli cases --due
      mocli cases --overdue --tier VIP
      mocli cases --status all --carrier UPS --since 30d --json
    """
    from datetime import UTC, datetime, timedelta

    from mocli import reporting
    from mocli.commands.common import load, store
    from mocli.errors import InvalidInput

    if status not in ("open", "resolved", "all"):
        raise InvalidInput(f"--status must be open, resolved or all (got {status!r})")
    cfg, now = load(read_only=True)  # no business days, no messages
    if action is not None:
        from mocli.models import ACTIONS

        if action not in ACTIONS:
            raise InvalidInput(f"--action must be one of {', '.join(ACTIONS)} (got {action!r})")
    filters = reporting.Filters(
        since=reporting.parse_when(since, now, flag="--since"),
        until=reporting.parse_when(until, now, flag="--until", end=True),
        agent=agent, tier=tier, carrier=carrier, action=action,
        status=None if status == "all" else status)
    # Filter and sort the cached slim view of every case (reporting.summary: the fields the filters and
    # the sort read); then read only the whole records shown (store.py, "projections and fast look-ups").
    cases_store = store(cfg, str(db) if db else None)
    scan = cases_store.scan(reporting.summary, reporting.SUMMARY_KEY)
    found = [(doc_id, s) for doc_id, s in scan.docs.items() if filters.matches(s)]
    if due or overdue:
        found = [(doc_id, s) for doc_id, s in found if (due and reporting.is_due_today(s, now))
                 or (overdue and reporting.is_overdue(s, now))]
    # Sorted on whole microseconds since the epoch: comparing aware datetimes is several times slower.
    epoch, micro = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
    found.sort(key=lambda row: (((reporting.when(row[1].get("follow_up_by")) or now) - epoch) // micro,
                                str(row[1].get("id"))))
    picked = found[:limit] if limit else found
    if len(picked) < len(found):
        typer.echo(f"showing {len(picked)} of {len(found)} cases (--limit 0 shows all)", err=True)
    shown = cases_store.records(scan, [doc_id for doc_id, _ in picked])
    if json_out:
        from mocli.render import print_json

        if not include_pii:  # an export: personal data masked unless asked for (docs/reliability.md)
            from mocli.privacy import mask_case

            shown = [mask_case(c) for c in shown]
        print_json(shown)
        return
    _cases_table(shown, now)


def _cases_table(rows: list[dict[str, Any]], now: Any) -> None:
    if not rows:
        typer.echo("no cases match", err=True)
        return
    from rich.table import Table  # only when there is a table to draw

    from mocli import reporting
    from mocli.render import ACTION_STYLE, console, t

    table = Table(show_edge=False, pad_edge=False)
    for col in ("Case", "Follow up by", "Status", "Tier", "Customer", "Order", "Carrier", "Action", "Agent"):
        table.add_column(col, no_wrap=col in ("Case", "Follow up by"))
    for c in rows:
        follow = reporting.when(c.get("follow_up_by"))
        style = ("bold red" if reporting.is_overdue(c, now) else
                 "yellow" if reporting.is_due_today(c, now) else "")
        when = f"{follow.astimezone(now.tzinfo):%a %b %d %H:%M}" if follow else "-"
        customer = c.get("customer") or {}
        action = reporting.action_of(c)
        table.add_row(t(c.get("id")), t(when, style), t(c.get("status", "open")), t(reporting.tier_of(c)),
                      t(customer.get("name") or customer.get("email")), t((c.get("order") or {}).get("number")),
                      t(reporting.carrier_of(c)), t(action.replace("_", " "), ACTION_STYLE.get(action, "")),
                      t(c.get("agent")))
    console().print(table)


def case(
    case_ref: str = typer.Argument(..., metavar="CASE", help="Case id, or a unique end of it (e.g. 7K2QF)."),
    json_out: bool = typer.Option(False, "--json", help="Print the case record as JSON."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False, help=DB_HELP),
) -> None:
    """Show one case in full: customer, order, tracking, answers, signals, decision, messages, history.

    Examples:
      mocli case 7K2QF
      mocli case MO-261127-7K2QF --json
    """
    from mocli.commands.common import load, store

    cfg, now = load(read_only=True)  # no business days, no messages
    record = store(cfg, str(db) if db else None).find(case_ref)
    if json_out:
        from mocli.render import print_json

        print_json(record)
        return
    _case_view(cfg, record, now)


def _case_view(cfg: Any, record: dict[str, Any], now: Any) -> None:
    from pydantic import ValidationError  # noqa: TID253
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from mocli import reporting
    from mocli.casework import sla_text
    from mocli.errors import ConfigError, StoreError
    from mocli.models import Case
    from mocli.render import (
        console,
        customer_panel,
        decision_panel,
        delivery_panel,
        message_panel,
        order_panel,
        sanitize,
        t,
        tracking_panel,
    )

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
        if c.tracking.delivered_at or c.tracking.proof_of_delivery:
            out.print(delivery_panel(c.tracking))
    if c.answers:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for key, value in c.answers.items():
            shown = "yes" if value is True else "no" if value is False else value
            grid.add_row(t(key.replace("_", " ")), t(shown))
        out.print(Panel(grid, title="Answers (step 5)", title_align="left"))
    if c.known_issues:
        out.print(Panel(Text("\n").join(t(f"• {k.id}: {k.note}") for k in c.known_issues),
                        title="Known issues", title_align="left"))
    out.print(decision_panel(c, sla))
    out.print(message_panel(c.message, c.decision.macro))
    if c.resolution:
        r = c.resolution
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        value = f"{r.get('value', 0):,.2f} {r.get('currency', '')}"
        for key, shown in (("Outcome", r.get("outcome")), ("Remedy", r.get("remedy")), ("Value", value),
                           ("Resolved", f"{str(r.get('resolved_at', ''))[:16]} by {r.get('resolved_by')}"),
                           ("Time to resolution", f"{r.get('hours_to_resolution')} h"),
                           ("Within SLA", {True: "yes", False: "no"}.get(r.get("within_sla"), "-")),
                           ("Approved by", r.get("approved_by")), ("Reason", r.get("reason"))):
            if shown:
                grid.add_row(key, t(shown))
        out.print(Panel(grid, title="Resolution (step 8)", title_align="left", border_style="green"))
        if r.get("message"):
            out.print(message_panel(r["message"], r.get("macro", "")))
    history = Table(title="History", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("When", "Who", "What", "Detail"):
        history.add_column(col, no_wrap=col == "When")
    for ev in c.history:
        history.add_row(f"{ev.at.astimezone(now.tzinfo):%Y-%m-%d %H:%M}", t(ev.agent), t(ev.event), t(ev.detail or ""))
    out.print(history)


def note(
    case_ref: str = typer.Argument(..., metavar="CASE", help="Case id, or a unique end of it (e.g. 7K2QF)."),
    text: str = typer.Argument(..., metavar="TEXT", help="The note; '-' reads it from stdin."),
    agent: str = typer.Option(None, "--agent", help="Agent name recorded (default: MOCLI_AGENT or your login)."),
    json_out: bool = typer.Option(False, "--json", help="Print the updated case as JSON."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False, help=DB_HELP),
) -> None:
    """Add a note to a case's history (open or resolved; notes are never changed or removed).

    Examples:
      mocli note 7K2QF "Customer called back: neighbour still away until Monday."
      echo "Carrier trace opened, ref 55-1234" | mocli note 7K2QF -
    """
    import sys

    from mocli import lifecycle
    from mocli.commands.common import agent_name, load, store
    from mocli.errors import InvalidInput
    from mocli.render import sanitize

    if text == "-":
        text = sys.stdin.read()
    cleaned = lifecycle.clean_text(text, "the note")
    if cleaned is None:
        raise InvalidInput("the note is empty")
    cfg, now = load(read_only=True)  # no business days, no messages
    who = agent_name(agent)
    updated = store(cfg, str(db) if db else None).update(
        case_ref, lambda c: lifecycle.add_note(c, cleaned, now=now, agent=who))
    if json_out:
        from mocli.render import print_json

        print_json(updated)
    sys.stderr.write(f"note added to {sanitize(updated.get('id'))}\n")
