"""Hostile text on every output (track, case, cases, note, report, resolve, errors), locked-down
templates on the resolve path, and bad input: one line naming the field, exit 2."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from mocli.store import CaseStore

# Screen clear, title change, OSC 8 link, OSC 52 clipboard, C1 CSI, Rich markup, bidi, NUL, BEL, long.
HOSTILE = ("Ava\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
           "\x1b]52;c;cGF5bG9hZA==\x07\x9b31m[blink]x[/blink][/][link=http://evil.example]y[/link]"
           "\u202eevil\u2066\x00\x07" + "A" * 5000)
ACTIVE = ("\x1b", "\x07", "\x00", "\x9b", "\u202e", "\u2066")


def inert(*texts: str) -> None:
    for text in texts:
        for bad in ACTIVE:
            assert bad not in text, repr(bad)


@pytest.fixture
def hostile(cli, tmp_path, monkeypatch):
    """A case whose CRM, order and carrier text, agent and notes are all hostile; returns its id."""
    data = json.loads(resources.files("mocli.data").joinpath("demo.json").read_text())
    data["customers"][0]["name"] = HOSTILE
    data["customers"][0]["notes"] = HOSTILE
    data["tracking"][0]["events"][0]["description"] = HOSTILE
    data["tracking"][0]["events"][0]["location"] = HOSTILE[:300]
    data["tracking"][0]["raw_description"] = HOSTILE
    data["tracking"][0]["delivered_location"] = "[red]Front[/red] \x1b[31mDoor"
    f = tmp_path / "demo.json"
    f.write_text(json.dumps(data))
    monkeypatch.setenv("MOCLI_DEMO_DATA", str(f))
    r = cli("new-case", "--no-input", "--json", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no", "--notes", HOSTILE[:1500], "--agent", HOSTILE[:200])
    assert r.code == 0, r.err
    case = json.loads(r.out)
    return {"id": case["id"], "number": data["tracking"][0]["tracking_number"]}


def test_track_shows_carrier_text_inert(cli, hostile):
    table = cli("track", hostile["number"])
    assert table.code == 0, table.err
    inert(table.out, table.err)
    assert "[blink]" in table.out  # Rich markup shown literally, not interpreted
    for fmt in ("--json", "--format=ndjson"):
        r = cli("track", hostile["number"], fmt)
        assert r.code == 0
        inert(r.out)
        first = json.loads(r.out.splitlines()[0] if fmt != "--json" else r.out)
        event = (first[0] if isinstance(first, list) else first)["events"][0]
        assert event["description"] == HOSTILE  # the data itself is exact (escaped in the JSON text)


def test_case_cases_note_and_report_show_stored_text_inert(cli, hostile, mocli_env):
    for args in (("case", hostile["id"]), ("cases",), ("cases", "--status", "all", "--json"),
                 ("case", hostile["id"], "--json"), ("note", hostile["id"], HOSTILE[:1900]),
                 ("note", hostile["id"], "x", "--json"), ("report",), ("report", "--format", "markdown"),
                 ("report", "--format", "csv"), ("report", "--format", "json"),
                 ("resolve", hostile["id"], "--no-input", "--outcome", "lost", "--remedy", "refund",
                  "--note", HOSTILE[:1000], "--json")):
        r = cli(*args)
        assert r.code == 0, (args, r.err)
        inert(r.out, r.err)
    [stored] = CaseStore(mocli_env["home"] / "cases.db").all()
    assert stored["customer"]["name"] == HOSTILE and stored["agent"] == HOSTILE[:200]  # exactly as received
    assert stored["answers"]["notes"] == HOSTILE[:1500]
    assert [h["detail"] for h in stored["history"] if h["event"] == "note"][0] == HOSTILE[:1900]
    assert json.loads(cli("case", hostile["id"], "--json").out) == stored  # JSON escapes, data unchanged
    assert "[blink]" in cli("case", hostile["id"]).out


@pytest.mark.parametrize("args", [
    ("case", HOSTILE[:300]), ("note", HOSTILE[:300], "x"), ("resolve", HOSTILE[:300], "--no-input"),
    ("track", HOSTILE[:300]), ("cases", "--since", HOSTILE[:300]), ("report", "--until", HOSTILE[:300]),
    ("new-case", "--no-input", "--customer", HOSTILE[:300], "--order", "1001", "--address-confirmed", "yes"),
    ("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", HOSTILE[:300],
     "--address-confirmed", "yes"),
])
def test_error_messages_quoting_hostile_input_are_inert_and_one_line(cli, args):
    r = cli(*args)
    assert r.code in (1, 2), r.err
    inert(r.out, r.err)
    if args[0] == "track":  # a table run reports each number's problem as a block on stderr (issue #16)
        assert "not a" in r.err and "Traceback" not in r.out + r.err
    else:
        assert r.err.count("\n") == 1 and "Traceback" not in r.err


# ---------------------------------------------------------------- templates on the resolve path


@pytest.mark.parametrize("template,needle", [
    ("{{ first_name.__class__ }}", "only plain"),
    ("{{ ''.__class__.__mro__ }}", "only plain"),
    ("{x.__class__}", "str.format"),
    ("Refund for {{ order_numbr }}", "unknown placeholder order_numbr"),
])
def test_a_bad_resolution_template_stops_resolve_before_any_message(cli, mocli_env, hostile, template, needle):
    (mocli_env["conf"] / "messages.toml").write_text(
        f'[resolutions.lost_refund]\nmacro = "M"\ntemplate = {json.dumps(template)}\n')
    before = CaseStore(mocli_env["home"] / "cases.db").all()
    r = cli("resolve", hostile["id"], "--no-input", "--outcome", "lost", "--remedy", "refund")
    assert r.code == 2 and needle in r.err and "resolutions.lost_refund.template" in r.err
    assert r.out == "" and r.err.count("\n") == 1  # no message went out
    assert CaseStore(mocli_env["home"] / "cases.db").all() == before  # nothing recorded


# ---------------------------------------------------------------- bad input: one line, the field, exit 2


@pytest.mark.parametrize("args,needle", [
    (("cases", "--since", "2026-02-30"), "--since '2026-02-30'"),
    (("cases", "--until", "2026-13-01"), "--until '2026-13-01'"),
    (("report", "--since", "garbage"), "--since 'garbage'"),
    (("report", "--since", "2026-11-30", "--until", "2026-11-01"), "--since must be before --until"),
    (("new-case", "--no-input", "--customer", "ava@@example.com", "--order", "1001", "--address-confirmed",
      "yes"), "customer"),
    (("new-case", "--no-input", "--customer", "ava thompson@example.com", "--order", "1001",
      "--address-confirmed", "yes"), "customer"),
    (("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "\uff11\uff10\uff10\uff11",
      "--address-confirmed", "yes"), "order"),
    (("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001; rm -rf /",
      "--address-confirmed", "yes"), "order"),
    (("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "../../etc/passwd",
      "--address-confirmed", "yes"), "order"),
    (("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
      "--address-confirmed", "maybe"), "address_confirmed"),
])
def test_bad_flags_name_the_field_in_one_line_with_exit_2(cli, args, needle):
    r = cli(*args)
    assert r.code == 2, r.err
    assert needle in r.err and r.err.count("\n") == 1


@pytest.mark.parametrize("content,needle", [
    ('outcome = 3\n', "outcome: expected text, got int"),
    ('outcome = "lost"\nremedy = ["refund"]\n', "remedy: expected text, got list"),
    ('outcome = "lost"\nnote = { a = 1 }\n', "note: expected text, got dict"),
    ('outcome = "misplaced"\n', "--outcome must be one of found, lost"),
    ('outcom = "lost"\n', "unknown key 'outcom'"),
    ('[[outcome]]\nx = 1\n', "outcome: expected text"),
    ('outcome = "lost"\nremedy = "refund"\nreason = "r"\napproved_by = "test-agent"\n', "approved by the agent"),
])
def test_resolve_answers_files_with_wrong_types_name_the_key(cli, tmp_path, hostile, content, needle):
    f = tmp_path / "answers.toml"
    f.write_text(content)
    r = cli("resolve", hostile["id"], "--no-input", "--answers", str(f))
    assert r.code == 2, r.err
    assert needle in r.err and r.err.count("\n") == 1


@pytest.mark.parametrize("content,needle", [
    ('{"customer": "ava.thompson@example.com", "order": 1001, "address_confirmed": true}', "order: expected text"),
    ('{"customer": "ava.thompson@example.com", "order": "1001", "address_confirmed": "yes"}', "address_confirmed"),
    ('{"customer": "ava.thompson@example.com", "order": "1001", "address_confirmed": true, "notes": 5}', "notes"),
    ('{"customer": ["ava.thompson@example.com"], "order": "1001", "address_confirmed": true}', "customer"),
    ('[1, 2]', "expected a table"),
    ('\xff\xfe', "not UTF-8"),
])
def test_new_case_answers_files_with_wrong_types_name_the_key(cli, tmp_path, content, needle):
    f = tmp_path / "answers.json"
    f.write_bytes(content.encode("latin-1") if needle == "not UTF-8" else content.encode())
    r = cli("new-case", "--no-input", "--answers", str(f))
    assert r.code == 2, r.err
    assert r.err.count("\n") == 1 and "Traceback" not in r.err and "internal error" not in r.err
    assert needle in r.err


# ---------------------------------------------------------------- bad values are one line, exit 2


@pytest.mark.parametrize("command", ["cases", "report"])
@pytest.mark.parametrize("flags,needle", [
    (("--since", "99999999d"), "--since"),
    (("--until", "99999999999w"), "--until"),
    (("--until", "9999-12-31"), None),  # the end of the last representable day is fine
    (("--since", "1d", "--until", "30d"), "--since must be before --until"),
])
def test_out_of_range_and_inverted_periods_are_one_line_exit_2(cli, command, flags, needle):
    r = cli(command, *flags)
    if needle is None:
        assert r.code == 0, r.err
        return
    assert r.code == 2, r.err
    assert needle in r.err and r.err.count("\n") == 1 and "internal error" not in r.err


def test_a_settings_file_that_is_not_utf8_names_the_file(cli, mocli_env):
    path = mocli_env["conf"] / "settings.toml"
    path.write_bytes(b'[calendar]\ntimezone = "Europe/Z\xfcrich"\n')  # Latin-1, not UTF-8
    r = cli("config", "check")
    assert r.code == 2 and str(path) in r.err and "UTF-8" in r.err and r.err.count("\n") == 1, r.err


def test_an_error_in_the_users_known_issues_names_the_users_file(cli, mocli_env):
    path = mocli_env["conf"] / "known_issues.toml"
    path.write_text('[[issues]]\nid = "KI-1"\ncarrier = "UPS"\n')  # no note: a required key
    r = cli("config", "check")
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert str(path) in r.err and "issues.0" in r.err, r.err


# ---------------------------------------------------------------- one bad input costs one item


@pytest.mark.parametrize("flag", ["--notes", "--agent", "--ticket", "--customer"])
def test_a_latin1_byte_in_a_flag_is_refused_up_front_naming_it(cli, mocli_env, flag):
    # On Linux a non-UTF-8 byte in an argument reaches Python as a lone surrogate (surrogateescape).
    args = {"--customer": "ava.thompson@example.com", "--order": "1001", "--address-confirmed": "yes",
            "--received-by-someone-else": "no", "--checked-drop-off-spots": "yes", "--theft-in-area": "no",
            "--package-found": "no", "--notes": "porch"}
    args[flag] = "caf\udce9 au lait"
    r = cli("new-case", "--no-input", *[x for kv in args.items() for x in kv])
    assert r.code == 2, r.err
    assert flag.lstrip("-").replace("-", "_") in r.err and "UTF-8" in r.err and r.err.count("\n") == 1, r.err
    assert "internal error" not in r.err and "Step" not in r.out  # refused before any step ran
    assert not (mocli_env["home"] / "cases.db").exists()


def test_an_invalid_utf8_line_on_stdin_costs_only_that_number(mocli_env, monkeypatch, capsys):
    import io
    import sys

    from mocli.cli import main

    good = ["1Z4E57A20368154024", "794123300255", "9400109693009220314785"]
    data = good[0].encode() + b"\n1Z\xff\xfe999\n" + "\n".join(good[1:]).encode() + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    with pytest.raises(SystemExit) as exit_:
        main(["track", "-", "--json"])
    out, err = capsys.readouterr()
    results = json.loads(out)
    assert [r["tracking_number"] for r in results if not r.get("error")] == good
    [bad] = [r for r in results if r.get("error")]
    assert bad["error"]["code"] == "invalid_number" and "UTF-8" in bad["error"]["message"]
    assert exit_.value.code == 2 and "internal error" not in err


# ---------------------------------------------------------------- long inputs: bounded, message whole


def test_a_very_long_name_is_bounded_with_a_note_and_the_message_is_never_cut(cli, cfg, tmp_path, monkeypatch):
    from mocli.templates import MAX_VALUE

    data = json.loads(resources.files("mocli.data").joinpath("demo.json").read_text())
    data["customers"][0]["name"] = "Thompson-" * 600 + " Ava"  # 5,400 characters from the CRM, in a first name
    f = tmp_path / "demo.json"
    f.write_text(json.dumps(data))
    monkeypatch.setenv("MOCLI_DEMO_DATA", str(f))
    args = ("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no")
    shown = cli(*args)
    stored = cli(*args, "--json")
    assert shown.code == 0 and stored.code == 0, shown.err + stored.err
    message = json.loads(stored.out)["message"]
    closing_end = cfg.messages.closing.strip().split()[-1]
    assert message.rstrip().endswith(closing_end)  # the closing lines are all there
    assert "Thompson-" * 30 not in message and "…" in message  # the name was bounded...
    assert max(len(w) for w in message.split()) <= MAX_VALUE + 1  # "Hi NAME,"
    assert f"first {MAX_VALUE} characters" in shown.out  # ...and the agent is told so
    panel = "".join(line.strip("│ \n") for line in shown.out.split("Customer message")[1].splitlines())
    assert closing_end in panel  # the terminal shows the whole message, closing included
