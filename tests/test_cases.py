"""`mocli cases` (filters, follow-ups due and overdue), `mocli case` and `mocli note`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from test_cases_support import NOW, iso, store, team_set


@pytest.fixture
def team(cfg):
    cases = team_set(cfg)
    cases["D"]["follow_up_by"] = iso(NOW + timedelta(hours=5))  # due today at 15:00, not overdue
    store(list(cases.values()))
    return cases


def ids(cli, *args: str) -> list[str]:
    r = cli("cases", "--json", *args)
    assert r.code == 0, r.err
    return [c["id"][-5] for c in json.loads(r.out)]


def test_open_cases_sorted_by_follow_up(cli, team):
    # open: C (follow-up 5 days ago), F (1 hour ago), D (today 15:00), G (tomorrow)
    assert ids(cli) == ["C", "F", "D", "G"]


@pytest.mark.parametrize("args,expected", [
    (["--status", "resolved"], ["E", "B", "A"]),
    (["--status", "all"], ["E", "C", "B", "F", "D", "G", "A"]),
    (["--tier", "Standard"], ["C", "D"]),
    (["--tier", "vip", "--status", "all"], ["G", "A"]),
    (["--agent", "bob", "--status", "all"], ["B", "D"]),
    (["--carrier", "UPS"], ["C", "G"]),
    (["--action", "refund_or_replacement", "--status", "all"], ["F", "G", "A"]),
    (["--since", "7d", "--status", "all"], ["B", "F", "D", "G", "A"]),
    (["--until", "2026-11-20", "--status", "all"], ["E", "C"]),
    (["--due"], ["F", "D"]),
    (["--overdue"], ["C", "F"]),
    (["--due", "--overdue"], ["C", "F", "D"]),
    (["--overdue", "--tier", "B2B"], ["F"]),
    (["--limit", "2"], ["C", "F"]),
])
def test_filters(cli, team, args, expected):
    assert ids(cli, *args) == expected


def test_limit_is_announced(cli, team):
    r = cli("cases", "--limit", "1")
    assert "showing 1 of 4 cases" in r.err


def test_bad_filters_are_usage_errors(cli, team):
    assert cli("cases", "--status", "closed").code == 2
    assert cli("cases", "--action", "refund").code == 2
    assert cli("cases", "--since", "yesterday-ish").code == 2


def test_table_marks_overdue_and_due(cli, team):
    r = cli("cases")
    assert r.code == 0
    for text in ("MO-000000-C0000", "Fri Nov 27 15:00", "investigation", "amy"):
        assert text in r.out


def test_no_cases(cli):
    r = cli("cases")
    assert r.code == 0 and "no cases match" in r.err
    assert json.loads(cli("cases", "--json").out) == []


def test_case_in_full(cli, team):
    r = cli("case", "A0000")
    assert r.code == 0, r.err
    for text in ("MO-000000-A0000", "RESOLVED", "Ava Thompson", "#1001", "Tracking", "Answers", "Decision",
                 "Resolution (step 8)", "lost", "refund", "History", "opened", "resolved"):
        assert text in r.out, text
    assert json.loads(cli("case", "MO-000000-A0000", "--json").out) == team["A"]
    assert "FOLLOW-UP OVERDUE" in cli("case", "C0000").out


def test_case_not_found(cli, team):
    r = cli("case", "NOPE1")
    assert r.code == 1 and "no case 'NOPE1'" in r.err


def test_note_appends_to_history_and_keeps_everything(cli, team):
    r = cli("note", "C0000", "Carrier trace opened, ref 55-1234", "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["history"][:-1] == team["C"]["history"]
    assert case["history"][-1] == {"at": NOW.isoformat(), "agent": "test-agent", "event": "note",
                                   "detail": "Carrier trace opened, ref 55-1234"}
    assert case["status"] == "open"
    assert cli("note", "A0000", "Customer confirmed the refund arrived").code == 0  # resolved cases too
    assert json.loads(cli("case", "A0000", "--json").out)["status"] == "resolved"


def test_note_from_stdin_and_empty_note(cli, team):
    assert cli("note", "C0000", "-", stdin="from a script\n").code == 0
    assert json.loads(cli("case", "C0000", "--json").out)["history"][-1]["detail"] == "from a script"
    r = cli("note", "C0000", "   ")
    assert r.code == 2 and "empty" in r.err
    assert cli("note", "C0000", "x" * 2001).code == 2


def test_untrusted_note_cannot_drive_the_terminal(cli, team):
    evil = "ok \x1b]52;c;cGF5bG9hZA==\x07 [bold red]FAKE[/] \x1b[2J done"
    assert cli("note", "C0000", evil).code == 0
    r = cli("case", "C0000")
    assert r.code == 0
    assert "\x1b" not in r.out and "[bold red]FAKE[/]" in r.out  # shown literally, never as markup
    stored = json.loads(cli("case", "C0000", "--json").out)["history"][-1]["detail"]
    assert stored == evil  # kept as typed; made safe only when shown


def test_mine_lists_only_the_cases_this_agent_opened(cli, monkeypatch):
    for agent, order, customer in (("ava", "1006", "hana.kim@example.com"), ("ben", "1002", "ben.carter@example.com")):
        monkeypatch.setenv("MOCLI_AGENT", agent)
        r = cli("new-case", "--no-input", "--customer", customer, "--order", order, "--address-confirmed", "yes",
                "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes", "--theft-in-area", "no",
                "--package-found", "no")
        assert r.code == 0, r.err
    r = cli("cases", "--mine", "--json", "--status", "all")
    assert r.code == 0, r.err
    assert [c["agent"] for c in json.loads(r.out)] == ["ben"]
    assert cli("cases", "--mine", "--agent", "ava").code == 2
