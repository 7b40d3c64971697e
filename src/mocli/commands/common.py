"""What every command shares: the flags' texts and declarations, and (through the Env) config, agent, store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

# Shared option texts, so every command names things the same way.
CASE_HELP = "Case id, or any unique part of it (e.g. 7K2QF or 261127-7K2)."
DB_HELP = "Case file (default: the data directory, see `mocli config path`)."

AGENT_HELP = "Agent name recorded (default: MOCLI_AGENT or your login)."
NO_INPUT_HELP = "Never prompt; fail naming every missing answer."

if TYPE_CHECKING:
    from datetime import datetime

    from mocli.config import Config


def db_option(help: str = DB_HELP, **extra: Any) -> Any:
    """`--db PATH`, the same on every command that reads or writes cases."""
    return typer.Option(None, "--db", metavar="PATH", help=help, **{"dir_okay": False, **extra})


def no_input_option(help: str = NO_INPUT_HELP) -> Any:
    """`--no-input`: never prompt, as when stdin or stdout is not a terminal."""
    return typer.Option(False, "--no-input", help=help)


def agent_option(help: str = AGENT_HELP) -> Any:
    """`--agent NAME`: the agent recorded (or, on a listing, the agent to filter by)."""
    return typer.Option(None, "--agent", help=help)


# ticket.py and track.py (and the PostgreSQL tests) still call these; they ask the running command's Env.
def load(*, read_only: bool = False) -> tuple[Config, datetime]:
    """The validated config and the current time in the configured time zone (see `Env.load`)."""
    from mocli.commands.env import current_env

    return current_env().load(read_only=read_only)


def agent_name(flag: str | None = None) -> str:
    """The agent named by --agent, else MOCLI_AGENT, else the login (see `Env.agent`)."""
    from mocli.commands.env import current_env

    return current_env().agent(flag)


def store(cfg: Config, path: str | None = None):
    """The case store (store/interface.py): the team's database if configured, else the agent's file."""
    from mocli.commands.env import current_env

    return current_env().store(cfg, path)
