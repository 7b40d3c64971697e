"""Shared fixtures: every test gets its own MOCLI_HOME and config dir, and a pinned clock."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

# Friday 27 November 2026, 10:00 New York: the day after Thanksgiving (a US public holiday).
PINNED_NOW = "2026-11-27T10:00:00-05:00"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def mocli_env(tmp_path, monkeypatch):
    """Isolate every test: its own data and config directories, a fixed 'now', no terminal."""
    home = tmp_path / "home"
    conf = tmp_path / "conf"
    conf.mkdir()
    monkeypatch.setenv("MOCLI_HOME", str(home))
    monkeypatch.setenv("MOCLI_CONFIG_DIR", str(conf))
    monkeypatch.setenv("MOCLI_NOW", PINNED_NOW)
    monkeypatch.setenv("MOCLI_AGENT", "test-agent")
    for var in ("MOCLI_DEMO_DATA", "MOCLI_TIMEZONE", "MOCLI_COUNTRY", "MOCLI_LOCK_TIMEOUT", "MOCLI_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    # In-process runs capture stdout in a StringIO; they check the terminal views (tables) unless a
    # test says it is piped (see `piped` in test_interface.py).
    monkeypatch.setattr("mocli.render.stdout_is_terminal", lambda: True)
    return {"home": home, "conf": conf}


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli():
    """Run `mocli ARGS...` in-process; returns exit code, stdout and stderr."""

    def run(*args: str, stdin: str = "") -> Result:
        from mocli.cli import main

        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    main(list(args))
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdin = old_stdin
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def cfg():
    from mocli.config import load_config

    return load_config()
