"""The case views: the columns of `mocli cases` (every format draws from them) and `mocli case`'s
full view. They take the stored case dicts and what the command looked up, and print nothing else."""

from __future__ import annotations

from typing import Any


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


def show_case(c: Any, record: dict[str, Any], now: Any, tier: Any, sla: str, claim: dict[str, Any] | str,
              labels: dict[str, str]) -> None:
    """One case in full (`mocli case`): `c` the stored `record` validated as a models.Case; `tier` and
    `sla` from tiers.toml (tier None: no longer there); `claim` the carrier claim's status record or why
    it is unknown; `labels` each answer's short label."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from mocli import reporting
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

    out = console()
    head = Text.assemble((sanitize(c.id), "bold"), "  ",
                         (f" {c.status.upper()} ", "reverse bold green" if c.status == "resolved" else "reverse"),
                         f"  opened {c.created_at:%Y-%m-%d %H:%M} by ", (sanitize(c.agent), "bold"))
    if c.ticket:
        head.append(f"  ticket {sanitize(c.ticket)}")
    if reporting.is_overdue(record, now):
        head.append("  FOLLOW-UP OVERDUE", style="bold red")
    out.print(head)
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
            grid.add_row(t(labels[key]), t(shown))
        out.print(Panel(grid, title="Answers (step 5)", title_align="left"))
    if c.known_issues:
        out.print(Panel(Text("\n").join(t(f"• {k.id}: {k.note}") for k in c.known_issues),
                        title="Known issues", title_align="left"))
    if c.checklist:  # ticks readable without colour
        out.print(Panel(Text("\n").join(t(f"[{'x' if i.done else ' '}] {i.item}") for i in c.checklist),
                        title="Handling checklist", title_align="left"))
    out.print(decision_panel(c, sla))
    _claim_panel(out, claim)
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


def _claim_panel(out: Any, claim: dict[str, Any] | str) -> None:
    """The carrier claim (mocli claim status), unless the case has nothing to claim; why not, in yellow."""
    from mocli.render import t
    from mocli.render.claims import status_panel

    if isinstance(claim, str):
        out.print(t(claim, "yellow"))
    elif claim["state"] != "not_needed" or claim["claim"]:
        out.print(status_panel(claim))
