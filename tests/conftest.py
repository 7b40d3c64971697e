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
    for var in ("MOCLI_DEMO_DATA", "MOCLI_TIMEZONE", "MOCLI_COUNTRY", "MOCLI_LOCK_TIMEOUT", "MOCLI_DEBUG",
                "MOCLI_STORE_URL"):
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

    def run(*args: str, stdin: str = "", env=None) -> Result:
        from mocli.cli import main

        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    main(list(args), env=env)
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdin = old_stdin
        return Result(code, out.getvalue(), err.getvalue())

    return run


def on_a_terminal(**fake):
    """The Env of an agent at a terminal (stdin and stdout are terminals), with any part replaced by a
    fake (`clock=`, `make_prompter=`, ...); prompts are real unless `make_prompter` says otherwise."""
    from mocli.commands.env import Env

    return Env(**{"stdin_is_terminal": True, "stdout_is_terminal": True, **fake})


@pytest.fixture
def cfg():
    from mocli.config import load_config

    return load_config()


# ---------------------------------------------------------------- a real PostgreSQL server (issue #13)


@pytest.fixture(scope="session")
def base_case(tmp_path_factory):
    """One real case record, made by the wizard from the demo data (Hana Kim, #1006, UPS, a claim)."""
    import json
    import os
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("base")
    env = {**os.environ, "MOCLI_HOME": str(home), "MOCLI_NOW": "2026-11-27T10:00:00-05:00",
           "MOCLI_AGENT": "ava", "MOCLI_CONFIG_DIR": str(home / "conf")}
    env.pop("MOCLI_STORE_URL", None)
    out = subprocess.run([sys.executable, "-m", "mocli", "new-case", "--no-input", "--json", "--customer",
                          "hana.kim@example.com", "--order", "1006", "--address-confirmed", "yes"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def postgres_url() -> str:
    """MOCLI_TEST_POSTGRES_URL; a skip with the reason on a laptop without it, a failure under CI (`.ci/run`
    starts a server), so the PostgreSQL tests never silently skip there."""
    import os

    url = os.environ.get("MOCLI_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but MOCLI_TEST_POSTGRES_URL is not: .ci/run must start a PostgreSQL server")
        pytest.skip("MOCLI_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/postgres): "
                    "no PostgreSQL server to test the team store against")
    return url


@pytest.fixture
def team_url(monkeypatch):
    """A fresh, empty team store: its own schema in the test server's database (dropped afterwards),
    with mocli's tables created; MOCLI_STORE_URL points every command at it."""
    import uuid
    from urllib.parse import quote

    import psycopg

    base = postgres_url()
    schema = f"mocli_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-c search_path={schema}')}"
    monkeypatch.setenv("MOCLI_STORE_URL", url)
    from mocli.store.postgres import PostgresCaseStore

    store = PostgresCaseStore(url)
    store.init()
    store.close()
    try:
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
