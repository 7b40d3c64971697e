"""The world a command runs in, built once by the CLI (as httpie's Environment and gh's Factory are).

The terminal (are stdin, stdout and stderr terminals, colour, width), the consoles for data and messages, the
prompter, the agent, the config, the case store and the clock: commands take them from here, so a test
hands a command a fake `Env` (`mocli.cli.main(args, env=...)`) instead of patching modules. Only the
standard library loads at import time: `mocli --help` builds no Env and imports nothing heavy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from mocli.config import Config
    from mocli.store.interface import CaseStore
    from mocli.wizard.prompter import Prompter


def _clock(timezone: str) -> datetime:
    from mocli.clock import now

    return now(timezone)


def _prompter() -> Prompter:
    from mocli.wizard.prompter import Prompter

    return Prompter()


def _config(*, read_only: bool) -> Config:
    from mocli.config import load_config

    # Commands that neither count business days nor write a customer message skip the holiday and
    # template checks, and validate the files other than settings.toml only if they read them.
    return load_config(calendar=not read_only, templates=not read_only, lazy=read_only)


def _store(cfg: Config, path: str | None) -> CaseStore:
    from mocli.store.factory import open_store

    return open_store(cfg, path)


def _login() -> str:
    import getpass

    if env := os.environ.get("MOCLI_AGENT"):
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "agent"


class Env:
    """What a command may touch outside its arguments; every part can be replaced by a test."""

    # A plain class, not a dataclass: it is built at every start-up, and a dataclass costs ~1 ms to define.
    def __init__(self, *, stdin_is_terminal: bool = False, stdout_is_terminal: bool = False,
                 stderr_is_terminal: bool = False, default_agent: Callable[[], str] = _login,
                 clock: Callable[[str], datetime] = _clock,
                 make_prompter: Callable[[], Any] = _prompter, load_config: Callable[..., Config] = _config,
                 open_store: Callable[[Config, str | None], Any] = _store) -> None:
        self.stdin_is_terminal = stdin_is_terminal
        self.stdout_is_terminal = stdout_is_terminal
        self.stderr_is_terminal = stderr_is_terminal  # where progress is drawn (`mocli track`'s bar)
        self.default_agent = default_agent  # the agent when no --agent is given: MOCLI_AGENT, else the login
        self.clock = clock  # the current time in a time zone (MOCLI_NOW pins it)
        self.make_prompter = make_prompter
        self.load_config = load_config
        self.open_store = open_store

    @classmethod
    def from_process(cls) -> Env:
        """The real terminal, config, store and clock of this process."""
        return cls(stdin_is_terminal=_isatty(sys.stdin), stdout_is_terminal=_isatty(sys.stdout),
                   stderr_is_terminal=_isatty(sys.stderr))

    @property
    def interactive(self) -> bool:
        """Prompt only when both stdin and stdout are terminals (like gh)."""
        return self.stdin_is_terminal and self.stdout_is_terminal

    @property
    def colour(self) -> bool:
        """Colour only on a terminal and unless NO_COLOR is set (Rich's own rule)."""
        return self.console().color_system is not None

    @property
    def width(self) -> int:
        """The columns data is drawn in (COLUMNS, else the terminal's, else 80)."""
        return self.console().width

    def console(self, stderr: bool = False) -> Console:
        """The console for data (stdout) or, with `stderr=True`, for messages."""
        from mocli.render import console

        return console(stderr=stderr)

    def prompter(self) -> Prompter:
        return self.make_prompter()

    def agent(self, flag: str | None = None) -> str:
        """The agent named by --agent, else the default agent."""
        return flag or self.default_agent()

    def load(self, *, read_only: bool = False) -> tuple[Config, datetime]:
        """The validated config and the current time in its time zone (`read_only`: see `_config`)."""
        cfg = self.load_config(read_only=read_only)
        return cfg, self.clock(cfg.settings.calendar.timezone)

    def store(self, cfg: Config, path: str | os.PathLike[str] | None = None) -> CaseStore:
        """The case store: the team's database if configured, else the agent's file (`--db` overrides)."""
        return self.open_store(cfg, os.fspath(path) if path else None)

    def open_case_to_change(self, case_ref: str, db: str | os.PathLike[str] | None) -> tuple[
            Config, datetime, CaseStore, dict[str, Any]]:
        """The config, the time, the store and the case `case_ref`, which must still be open (else exit 1)."""
        from mocli.policy.resolving import ensure_open

        cfg, now = self.load()
        cases = self.store(cfg, db)
        case = cases.find(case_ref)
        ensure_open(case)
        return cfg, now, cases, case


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream is no terminal
        return False


# The running command's Env: pushed by the CLI's root callback from `ctx.obj` for as long as the command
# runs, so helpers deep in a command need no Typer context passed down to them. (A list, not a
# ContextVar: one command runs at a time, and `contextvars` would cost start-up time.)
_RUNNING: list[Env] = []


def enter(env: Env) -> Callable[[], None]:
    """Make `env` the running command's Env; returns what restores the previous one."""
    _RUNNING.append(env)
    return _RUNNING.pop


def current_env() -> Env:
    """The Env the CLI built for the running command (a fresh real one outside the CLI, as in scripts)."""
    return _RUNNING[-1] if _RUNNING else Env.from_process()
