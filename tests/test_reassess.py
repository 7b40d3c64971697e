"""`mocli reassess CASE` (issue #10 item 3): the customer comes back or tracking changes; the lookups are
refreshed, steps 5-9 re-run, and the new decision is appended to the history, never edited silently."""

from __future__ import annotations

import json

from conftest import on_a_terminal

NEIGHBOUR = ["--address-confirmed", "yes", "--received-by-someone-else", "yes", "--checked-drop-off-spots", "yes",
             "--theft-in-area", "no", "--package-found", "no"]


def open_check_case(cli) -> dict:
    r = cli("new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1002",
            *NEIGHBOUR)
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["decision"]["action"] == "customer_check"
    return case


def test_neighbour_did_not_have_it_opens_the_carrier_investigation(cli):
    case = open_check_case(cli)
    r = cli("reassess", case["id"][-5:], "--no-input", "--json", "--agent", "dana",
            "--received-by-someone-else", "no", "--notes", "neighbour M. Lopez didn't have it")
    assert r.code == 0, r.err
    after = json.loads(r.out)
    assert after["id"] == case["id"] and after["created_at"] == case["created_at"]
    assert after["decision"]["action"] == "carrier_investigation"
    assert after["decision"]["macro"] == "Retail::Missing Order – Carrier Investigation"
    assert after["answers"]["received_by_someone_else"] is False
    assert after["answers"]["checked_drop_off_spots"] is True  # unchanged answers are kept
    n = len(case["history"])
    assert after["history"][:n] == case["history"]  # nothing rewritten
    assert [h["event"] for h in after["history"][n:]] == ["reassessed", "note"]
    assert after["history"][-1]["detail"] == "neighbour M. Lopez didn't have it"
    last = after["history"][n]
    assert last["event"] == "reassessed" and last["agent"] == "dana"
    assert "customer_check → carrier_investigation" in last["detail"]
    assert "received_by_someone_else: yes → no" in last["detail"]
    stored = json.loads(cli("case", case["id"], "--json").out)
    assert stored["decision"]["action"] == "carrier_investigation"


def test_found_after_all_resolves_the_case(cli):
    case = open_check_case(cli)
    r = cli("reassess", case["id"], "--no-input", "--json", "--package-found", "yes")
    assert r.code == 0, r.err
    after = json.loads(r.out)
    assert after["decision"]["action"] == "found" and after["status"] == "resolved"


def test_a_resolved_case_is_not_reassessed(cli):
    case = open_check_case(cli)
    assert cli("reassess", case["id"], "--no-input", "--package-found", "yes").code == 0
    r = cli("reassess", case["id"], "--no-input", "--package-found", "no")
    assert r.code == 1 and "already resolved" in r.err


def test_unknown_case_is_not_found(cli):
    open_check_case(cli)
    r = cli("reassess", "ZZZZZ", "--no-input")
    assert r.code == 1


def test_on_a_terminal_step5_is_asked_again(cli):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    case = open_check_case(cli)
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("nyny")  # neighbour: no; drop-off spots checked: yes; theft: no; found: yes
        inp.close()
        r = cli("reassess", case["id"], env=on_a_terminal())
    assert r.code == 0, r.err
    after = json.loads(cli("case", case["id"], "--json").out)
    assert after["decision"]["action"] == "found" and after["status"] == "resolved"
    assert after["answers"]["theft_in_area"] is False
    assert "Reassessed case" in r.out
