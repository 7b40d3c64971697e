"""`mocli new-case --ticket ID`: after the agent confirms, put the case on the helpdesk ticket
(Zendesk: the case summary as an internal note, then the case's macro applied); `mocli ticket post
CASE` does it again for a saved case, e.g. after the helpdesk was down."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from mocli.commands.options import CaseRef, Db

if TYPE_CHECKING:
    from mocli.config import Config


def offer_ticket_update(cfg: Config, case: dict[str, Any], ticket_id: str,
                        confirm: Callable[[str], bool]) -> dict[str, Any] | None:
    """Ask `confirm(prompt)`; if yes, post the case note and apply its macro on the ticket.

    Returns what was sent (`{"ticket", "macro_id", "macro", "note", "macro_changes"}`), or None if the
    agent said no. Raises ConfigError when no helpdesk is configured, NotFound / ProviderError when
    the helpdesk refuses; the case itself is already saved by then.
    """
    from mocli.providers.helpdesk import ticket_update
    from mocli.render.case_note import case_note

    update = ticket_update(cfg, case, ticket_id)
    if not confirm(f"Add the case summary as an internal note on Zendesk ticket #{update.ticket} and apply the "
                   f"macro \u201c{update.macro}\u201d?"):
        return None
    return update.send(case_note(case))


def retry_command(case_id: str) -> str:
    """The command that posts a saved case to its ticket again."""
    return f"mocli ticket post {case_id}"


app = typer.Typer(help="Post a saved case to its helpdesk ticket.", no_args_is_help=True)


@app.command("post")
def post(
    case_ref: CaseRef,
    ticket: str = typer.Option(None, "--ticket", help="Ticket id (default: the one linked to the case)."),
    db: Db = None,
) -> None:
    """Add the case summary as an internal note on its Zendesk ticket and apply the case's macro: the
    retry after `new-case --ticket ID --update-ticket` could not reach the helpdesk (exit 3).

    Example: mocli ticket post XTMZG
    """
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput

    env = current_env()
    cfg, _ = env.load(read_only=True)
    record = env.store(cfg, db).find(case_ref)
    target = ticket or record.get("ticket")
    if not target:
        raise InvalidInput(f"case {record['id']} has no linked ticket; name one with --ticket ID")
    # The agent asked for this update by typing the command: no second confirmation.
    offer_ticket_update(cfg, record, str(target), lambda prompt: True)
    typer.echo(f"Ticket {target}: internal note added and macro applied for case {record['id']}.", err=True)
