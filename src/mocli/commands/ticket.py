"""`mocli new-case --ticket ID`: after the agent confirms, put the case on the helpdesk ticket
(Zendesk: the case summary as an internal note, then the case's macro applied); `mocli ticket post
CASE` does it again for a saved case, e.g. after the helpdesk was down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mocli.commands.common import CASE_HELP, db_option
from mocli.errors import ConfigError

if TYPE_CHECKING:
    from mocli.config import Config

HELPDESK = "zendesk"


def case_note(case: dict[str, Any]) -> str:
    """The internal note: what an agent opening the ticket needs to know about the case, in plain text."""
    customer = case.get("customer") or {}
    order = case.get("order") or {}
    tracking = case.get("tracking") or {}
    decision = case.get("decision") or {}
    lines = [
        f"mocli case {case.get('id')} (opened {str(case.get('created_at', ''))[:16].replace('T', ' ')} "
        f"by {case.get('agent')})",
        f"Customer: {customer.get('name')} <{customer.get('email')}>, tier {customer.get('tier')}",
        f"Order: {order.get('number')}, placed {str(order.get('placed_at', ''))[:10]}, "
        f"fulfilment {order.get('fulfillment_status')}",
    ]
    if tracking or order.get("tracking_number"):
        number = tracking.get("tracking_number") or order.get("tracking_number")
        carrier = tracking.get("carrier") or order.get("carrier") or "carrier"
        lines.append(f"Tracking: {carrier} {number}, status {tracking.get('status', 'not looked up')}")
    lines.append(f"Situation: {decision.get('situation')}")
    lines.append(f"Decision: {decision.get('action')} (macro: {decision.get('macro')})")
    for reason in decision.get("reasons") or []:
        lines.append(f"  - {reason}")
    for signal in case.get("signals") or []:
        lines.append(f"Review signal: {signal.get('rule')}: {signal.get('evidence')}")
    answers = {k: v for k, v in (case.get("answers") or {}).items() if v not in (None, "")}
    if answers:
        shown = "; ".join(f"{k.replace('_', ' ')}: {'yes' if v is True else 'no' if v is False else v}"
                          for k, v in answers.items())
        lines.append(f"Answers: {shown}")
    if case.get("sources"):
        lines.append("Facts from: " + ", ".join(f"{k} {v}" for k, v in case["sources"].items()))
    lines.append(f"Follow up by: {str(case.get('follow_up_by', ''))[:16].replace('T', ' ')}")
    from mocli.render import sanitize

    # Provider data and typed notes are untrusted: the helpdesk gets the text the terminal shows, with
    # no escape sequences, NUL, C1 controls or bidi overrides.
    return "\n".join(sanitize(line) for line in "\n".join(lines).split("\n"))


def offer_ticket_update(cfg: Config, case: dict[str, Any], ticket_id: str,
                        confirm: Callable[[str], bool]) -> dict[str, Any] | None:
    """Ask `confirm(prompt)`; if yes, post the case note and apply its macro on the ticket.

    Returns what was sent (`{"ticket", "macro_id", "macro", "note", "macro_changes"}`), or None if the
    agent said no. Raises ConfigError when no helpdesk is configured, NotFound / ProviderError when
    the helpdesk refuses; the case itself is already saved by then.
    """
    import asyncio

    settings = cfg.settings.providers.settings.get(HELPDESK)
    if not settings:
        raise ConfigError("no helpdesk to update: add [providers.settings.zendesk] to settings.toml "
                          "(docs/providers.md) to post cases to tickets")
    from mocli.providers import http
    from mocli.providers.crm.zendesk import ZendeskProvider

    desk = ZendeskProvider(dict(settings), list(cfg.tiers))
    macro = (case.get("decision") or {}).get("macro")
    if not macro:
        raise ConfigError("the case has no macro to apply")
    tid = str(ticket_id).strip().lstrip("#")
    if not confirm(f"Add the case summary as an internal note on Zendesk ticket #{tid} and apply the macro "
                   f"\u201c{macro}\u201d?"):
        return None

    async def post() -> dict[str, Any]:
        async with http.run_session(deadline=60.0):
            return await desk.post_case_to_ticket(tid, case_note(case), macro, reply=case.get("message"))

    return asyncio.run(post())


def retry_command(case_id: str) -> str:
    """The command that posts a saved case to its ticket again."""
    return f"mocli ticket post {case_id}"


app = typer.Typer(help="Post a saved case to its helpdesk ticket.", no_args_is_help=True)


@app.command("post")
def post(
    case_ref: str = typer.Argument(..., metavar="CASE", help=CASE_HELP),
    ticket: str = typer.Option(None, "--ticket", help="Ticket id (default: the one linked to the case)."),
    db: Path = db_option(),
) -> None:
    """Add the case summary as an internal note on its Zendesk ticket and apply the case's macro: the
    retry after `new-case --ticket ID --update-ticket` could not reach the helpdesk (exit 3).

    Example: mocli ticket post XTMZG
    """
    from mocli.commands.common import load, store
    from mocli.errors import InvalidInput

    cfg, _ = load(read_only=True)
    record = store(cfg, str(db) if db else None).find(case_ref)
    target = ticket or record.get("ticket")
    if not target:
        raise InvalidInput(f"case {record['id']} has no linked ticket; name one with --ticket ID")
    # The agent asked for this update by typing the command: no second confirmation.
    offer_ticket_update(cfg, record, str(target), lambda prompt: True)
    typer.echo(f"Ticket {target}: internal note added and macro applied for case {record['id']}.", err=True)
