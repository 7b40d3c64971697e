"""The Env handed to a command is the one it uses: its terminal flags, prompter, clock and agent."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import on_a_terminal
from test_resolve import open_case

# A clock that is not MOCLI_NOW's (conftest pins Friday 27 November): proves the Env's clock is read.
THURSDAY = datetime(2026, 12, 3, 15, 30, tzinfo=ZoneInfo("America/New_York"))


class ScriptedPrompter:
    """Answers each question with the next scripted answer and keeps what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []

    def _next(self, kind: str, message: str):
        self.asked.append((kind, message))
        return self.answers.pop(0)

    def choose(self, message, choices, default=None):
        return self._next("choose", message)

    def text(self, message, default="", check=None):
        return self._next("text", message)

    def confirm(self, message, default):
        return self._next("confirm", message)


def test_resolve_asks_the_envs_prompter_and_stamps_the_envs_clock_and_agent(cli, cfg):
    open_case(cfg, "Standard")
    prompter = ScriptedPrompter("found", "confirm", "Parcel was behind the bins", True)
    env = on_a_terminal(make_prompter=lambda: prompter, clock=lambda tz: THURSDAY.astimezone(ZoneInfo(tz)),
                        default_agent=lambda: "dana")
    r = cli("resolve", "TST01", env=env)
    assert r.code == 0, r.err
    assert [kind for kind, _ in prompter.asked] == ["choose", "choose", "text", "confirm"]
    assert prompter.answers == []
    case = json.loads(cli("case", "TST01", "--json").out)
    resolved, note = case["history"][-2:]
    assert (resolved["event"], resolved["agent"]) == ("resolved", "dana")
    assert datetime.fromisoformat(resolved["at"]) == THURSDAY
    assert (note["event"], note["detail"]) == ("note", "Parcel was behind the bins")


def test_a_declined_confirmation_from_the_envs_prompter_changes_nothing(cli, cfg):
    open_case(cfg, "Standard")
    prompter = ScriptedPrompter("found", "confirm", "", False)
    r = cli("resolve", "TST01", env=on_a_terminal(make_prompter=lambda: prompter))
    assert r.code == 130 and "nothing was changed" in r.err
    assert json.loads(cli("case", "TST01", "--json").out)["status"] == "open"


def test_without_a_terminal_in_the_env_nothing_is_asked(cli, cfg):
    open_case(cfg, "Standard")
    prompter = ScriptedPrompter()
    r = cli("resolve", "TST01", env=on_a_terminal(stdin_is_terminal=False, make_prompter=lambda: prompter))
    assert r.code == 2 and "--outcome" in r.err
    assert prompter.asked == []


def test_the_envs_agent_is_whose_cases_mine_lists(cli):
    base = ["new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes"]
    assert cli(*base, env=on_a_terminal(stdin_is_terminal=False, default_agent=lambda: "dana")).code == 0
    assert cli(*base).code == 0  # conftest's MOCLI_AGENT: test-agent
    mine = json.loads(cli("cases", "--mine", "--json", env=on_a_terminal(default_agent=lambda: "dana")).out)
    assert [c["agent"] for c in mine] == ["dana"]


def test_the_real_env_reads_the_process():
    import io
    import sys

    from mocli.commands.env import Env

    real_in, real_out = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(), io.StringIO()
    try:
        env = Env.from_process()
    finally:
        sys.stdin, sys.stdout = real_in, real_out
    assert not env.interactive and not env.stdout_is_terminal


def test_the_envs_terminal_width_and_colour_follow_the_terminal(monkeypatch):
    import io
    import sys

    from mocli.commands.env import Env

    monkeypatch.setenv("COLUMNS", "93")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # piped: no colour codes in the data
    env = Env()
    assert env.width == 93
    assert env.colour is False
