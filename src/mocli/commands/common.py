"""Small things every command needs: the config, the clock, the agent's name, TTY detection."""

from __future__ import annotations

import getpass
import os
import sys
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


def load(*, read_only: bool = False) -> tuple[Config, datetime]:
    """The validated config and the current time in the configured time zone.

    `read_only=True` for commands that neither count business days nor write a customer message: they
    skip the public-holiday and template checks, and validate the files other than settings.toml only
    if they read them (`mocli config check` always runs every check).
    """
    from mocli.clock import now
    from mocli.config import load_config

    cfg = load_config(calendar=not read_only, templates=not read_only, lazy=read_only)
    return cfg, now(cfg.settings.calendar.timezone)


def agent_name(flag: str | None = None) -> str:
    if flag:
        return flag
    if env := os.environ.get("MOCLI_AGENT"):
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "agent"


def interactive() -> bool:
    """Prompt only when both stdin and stdout are terminals (like gh)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def store(cfg: Config, path: str | None = None):
    """The case store (store/interface.py): the team's database if configured, else the agent's file."""
    from mocli.store.factory import open_store

    return open_store(cfg, path)
