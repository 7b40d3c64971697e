"""The helpdesk's tickets: a saved case posted to its ticket (Zendesk: the case note as an internal
note, then the case's macro applied), for `new-case --ticket ID` and `mocli ticket post`.

The note's text is the caller's (`render.case_note`, sanitised there); the HTTP, the wait on a 429
and never resending a note that may have landed are the Zendesk adapter's (`crm/zendesk.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocli.errors import ConfigError

if TYPE_CHECKING:
    from mocli.config import Config

HELPDESK = "zendesk"


def helpdesk_settings(cfg: Config, purpose: str) -> dict[str, Any]:
    """The helpdesk's settings table; a ConfigError saying how to add one when there is none."""
    settings = cfg.settings.providers.settings.get(HELPDESK)
    if not settings:
        raise ConfigError(f"no helpdesk {purpose}: add [providers.settings.{HELPDESK}] to settings.toml "
                          "(docs/providers.md)")
    return dict(settings)


def has_helpdesk(cfg: Config) -> bool:
    return bool(cfg.settings.providers.settings.get(HELPDESK))


def connect(cfg: Config, purpose: str) -> Any:
    """The helpdesk's adapter, its settings checked (nothing is sent yet)."""
    from mocli.providers import registry

    return registry.make(HELPDESK, "helpdesk", helpdesk_settings(cfg, purpose), cfg)


@dataclass
class TicketUpdate:
    """One saved case about to go on one ticket, checked before the agent is asked."""

    desk: Any
    ticket: str  # the ticket's number, without the "#" agents type
    macro: str
    reply: str | None = None  # the case's message, for a macro whose reply has blanks only mocli fills

    def send(self, note: str) -> dict[str, Any]:
        """Add `note` as an internal note and apply the macro; returns exactly what was sent
        (`{"ticket", "macro_id", "macro", "note", "macro_changes"}`). NotFound / ProviderError when the
        helpdesk refuses."""
        import asyncio

        from mocli.providers import http

        async def post() -> dict[str, Any]:
            async with http.run_session(deadline=60.0):
                return await self.desk.post_case_to_ticket(self.ticket, note, self.macro, reply=self.reply)

        return asyncio.run(post())


def ticket_update(cfg: Config, case: dict[str, Any], ticket_id: str) -> TicketUpdate:
    """The update of ticket `ticket_id` for a saved case record; ConfigError without a helpdesk or a macro."""
    desk = connect(cfg, "to post cases to tickets")
    macro = (case.get("decision") or {}).get("macro")
    if not macro:
        raise ConfigError("the case has no macro to apply")
    return TicketUpdate(desk, str(ticket_id).strip().lstrip("#"), macro, case.get("message"))
