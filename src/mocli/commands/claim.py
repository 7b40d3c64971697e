"""`mocli claim status | file | update | packet`: the carrier claim for a case, from the claim clock
to the money recovered."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Carrier claims: when a claim can be filed, the claim packet, and the recovery ledger.",
                  no_args_is_help=True)

CASE_ARG = typer.Argument(..., metavar="CASE", help="Case id, or a unique end of it (e.g. 7K2QF).")
DB_HELP = "Case file (default: the data directory, see `mocli config path`)."
AGENT_HELP = "Agent name recorded (default: MOCLI_AGENT or your login)."


# ---------------------------------------------------------------- shared by case, resolve, cases, report


def claim_state(case: dict[str, Any], today: date, rules: Any = None, facts: Any = None):
    """The claim clock of a case with the configured rules (`rules`: a loaded ClaimRules)."""
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.policy.claims import assess

    rules = rules or load_claim_rules()
    return assess(case, rules.rules, today, expiring_within=rules.expiring_within_days,
                  calendar_for=destination_calendar, facts=facts)


def status_record(case: dict[str, Any], today: date, rules: Any = None) -> dict[str, Any]:
    """What `mocli claim status --json` prints (documented in docs/claims.md)."""
    from mocli.lifecycle import order_value
    from mocli.policy.claims import claim_facts, describe, facts_dict, recoverable

    clock = claim_state(case, today, rules)
    value, currency = order_value(case)
    rule = clock.rule
    amount, money = recoverable(rule, value, currency)
    ledger = case.get("carrier_claim")
    return {
        "case": case.get("id"),
        "state": clock.state,
        "summary": describe(clock, today),
        "opens": clock.opens.isoformat() if clock.opens else None,
        "expires": clock.expires.isoformat() if clock.expires else None,
        "days_left": clock.days_left,
        "carrier": rule.carrier if rule else claim_facts(case).carrier,
        "rule": rule.name if rule else None,
        "next_step": _next_step(clock, ledger),
        "order_value": value,
        "currency": currency,
        "liability": {"amount": rule.liability, "currency": rule.currency} if rule else None,
        "recoverable": amount,
        "recoverable_text": money if rule else None,
        "facts": facts_dict(claim_facts(case)),
        "assumptions": clock.assumptions,
        "source": rule.source if rule else None,
        "checked": rule.checked.isoformat() if rule else None,
        "claim": ledger,
    }


def _next_step(clock: Any, ledger: dict[str, Any] | None) -> str | None:
    if ledger:
        return {"filed": "submit the claim to the carrier, then: mocli claim update CASE --status submitted",
                "submitted": "wait for the carrier's decision; record it with mocli claim update",
                "approved": "record the payment when it arrives: --status paid --paid N",
                "partial": "record the payment when it arrives: --status paid --paid N",
                "denied": "appeal with the missing evidence (--status submitted), or accept the loss",
                "paid": None}.get(ledger.get("status"))
    if clock.state in ("not_needed", "expired") or clock.rule is None:
        return None
    return clock.rule.next_step or None


def status_line(record: dict[str, Any]) -> str:
    """One line for `mocli case` and step 8: the clock, the money, and the ledger."""
    parts = [f"carrier claim ({record['carrier'] or 'no carrier'}): {record['summary']}"]
    if record["recoverable_text"] and record["state"] != "not_needed":
        parts.append(record["recoverable_text"])
    if claim := record["claim"]:
        paid = f", paid {claim['paid']:,.2f}" if claim.get("paid") is not None else ""
        parts.append(f"claim {claim['carrier_ref']} {claim['status']} for {claim['amount']:,.2f} "
                     f"{claim['currency']}{paid}")
    if record["next_step"]:
        parts.append(f"next: {record['next_step']}")
    return "; ".join(parts)


# ---------------------------------------------------------------- commands


@app.command("status")
def status(
    case_ref: str = CASE_ARG,
    json_out: bool = typer.Option(False, "--json", help="Print the claim status as JSON."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False, help=DB_HELP),
) -> None:
    """When the carrier claim can be filed (too early / eligible / expiring / expired), what the carrier
    expects next, and how much is recoverable against the order value.

    Examples:
      mocli claim status 7K2QF
      mocli claim status MO-261127-7K2QF --json
    """
    from mocli.commands.common import load, store

    cfg, now = load(read_only=True)
    case = store(cfg, str(db) if db else None).find(case_ref)
    record = status_record(case, now.date())
    if json_out:
        from mocli.render import print_json

        print_json(record)
        return
    from mocli.render import console

    console().print(status_panel(record))


def status_panel(record: dict[str, Any]) -> Any:
    """The claim as a Rich panel (also shown by `mocli case`)."""
    from rich.panel import Panel
    from rich.table import Table

    from mocli.render import t

    style = {"eligible": "green", "expiring": "bold yellow", "expired": "bold red", "too_early": "cyan"}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Clock", t(record["summary"], style.get(record["state"], "")))
    if record["rule"]:
        grid.add_row("Rule", t(f"{record['rule']} (source checked {record['checked']})"))
    if record["recoverable_text"] and record["state"] != "not_needed":
        grid.add_row("Money", t(record["recoverable_text"]))
    facts = record["facts"]
    shown = [f"{k.replace('_', ' ')} {facts[k]}" for k in ("mailed", "expected_delivery", "delivered") if facts[k]]
    if shown:
        grid.add_row("Dates", t(", ".join(shown) + (" (order date: no carrier scan)" if facts["mailed_assumed"]
                                                    else "")))
    if claim := record["claim"]:
        paid = f", paid {claim['paid']:,.2f}" if claim.get("paid") is not None else ""
        grid.add_row("Claim", t(f"{claim['carrier_ref']}: {claim['status']}, {claim['amount']:,.2f} "
                                f"{claim['currency']} claimed{paid}"))
    if record["next_step"]:
        grid.add_row("Next", t(record["next_step"]))
    return Panel(grid, title="Carrier claim", title_align="left")


@app.command("file")
def file(
    case_ref: str = CASE_ARG,
    carrier_ref: str = typer.Option(..., "--carrier-ref", metavar="REF",
                                    help="The claim number the carrier gave."),
    amount: float = typer.Option(..., "--amount", metavar="N", help="The amount claimed."),
    currency: str = typer.Option(None, "--currency", help="Currency of the amount (default: the order's)."),
    agent: str = typer.Option(None, "--agent", help=AGENT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the updated case as JSON."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False, help=DB_HELP),
) -> None:
    """Record the carrier claim filed for a case (the recovery ledger starts at "filed").

    Examples:
      mocli claim file 7K2QF --carrier-ref 1Z-CLM-0042 --amount 100
    """
    import re
    import sys

    from mocli import claim_ledger, lifecycle
    from mocli.commands.common import agent_name, load, store
    from mocli.errors import InvalidInput
    from mocli.render import sanitize

    ref = lifecycle.clean_text(carrier_ref, "--carrier-ref")
    if ref is None:
        raise InvalidInput("--carrier-ref is empty")
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise InvalidInput(f"--currency must be a three-letter code such as USD (got {currency!r})")
    cfg, now = load(read_only=True)
    who = agent_name(agent)
    cases = store(cfg, str(db) if db else None)
    case = cases.find(case_ref)
    record = status_record(case, now.date())  # before the write: a bad rules file fails with nothing changed

    def change(stored: dict[str, Any]) -> dict[str, Any]:
        return claim_ledger.file_claim(
            stored, carrier=record["carrier"] or "unknown", carrier_ref=ref, amount=amount,
            currency=(currency or record["currency"]).upper(), deadline=record["expires"], rule=record["rule"],
            now=now, agent=who)

    updated = cases.update(case["id"], change)
    if json_out:
        from mocli.render import print_json

        print_json(updated)
    warn = {"expired": " (warning: the claim clock says the deadline has passed)",
            "too_early": " (warning: the claim clock says it is too early; the carrier may refuse it)"}
    sys.stderr.write(sanitize(f"claim {ref} filed on {updated['id']} for {amount:,.2f} "
                              f"{updated['carrier_claim']['currency']}{warn.get(record['state'], '')}") + "\n")


@app.command("update")
def update(
    case_ref: str = CASE_ARG,
    new_status: str = typer.Option(..., "--status", metavar="submitted|approved|partial|denied|paid",
                                   help="The claim's new status (the ledger allows filed → submitted → "
                                        "approved/partial/denied/paid; approved/partial → paid; denied → "
                                        "submitted)."),
    paid: float = typer.Option(None, "--paid", metavar="N", help="With --status paid: the amount paid."),
    note: str = typer.Option(None, "--note", help="A note recorded with the change."),
    agent: str = typer.Option(None, "--agent", help=AGENT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the updated case as JSON."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False, help=DB_HELP),
) -> None:
    """Move a case's carrier claim to its next status; every change is a history entry.

    Examples:
      mocli claim update 7K2QF --status submitted
      mocli claim update 7K2QF --status paid --paid 100
    """
    import sys

    from mocli import claim_ledger, lifecycle
    from mocli.commands.common import agent_name, load, store
    from mocli.render import sanitize

    text = lifecycle.clean_text(note, "--note")
    cfg, now = load(read_only=True)
    who = agent_name(agent)
    updated = store(cfg, str(db) if db else None).update(case_ref, lambda c: claim_ledger.update_claim(
        c, status=new_status.strip().lower(), paid=paid, note=text, now=now, agent=who))
    if json_out:
        from mocli.render import print_json

        print_json(updated)
    sys.stderr.write(sanitize(f"{updated['id']}: {updated['history'][-1]['detail']}") + "\n")
