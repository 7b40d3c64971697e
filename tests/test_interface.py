"""Issue #16: the interface agents and leads live in all day (ids, tables, output formats, views)."""

from __future__ import annotations

import pytest

from conftest import on_a_terminal
from test_cases_support import build, store


@pytest.fixture
def three(cfg):
    """Three cases whose ids share parts, as real ids from one day do."""
    return store([build(cfg, "#1001", case_id="MO-261202-K24AB"),
                  build(cfg, "#1002", case_id="MO-261202-QK24Z"),
                  build(cfg, "#1006", case_id="MO-261203-XY7PQ")])


# ------------------------------------------------------------------ item 6: ids like git short hashes


@pytest.mark.parametrize("ref", ["XY7", "261203", "261203-XY", "mo-261203-xy7pq", "Y7P"])
def test_any_unique_part_of_an_id_finds_the_case(cli, three, ref):
    r = cli("case", ref, "--json")
    assert r.code == 0, r.err
    assert '"id": "MO-261203-XY7PQ"' in r.out


def test_a_part_several_ids_share_is_exit_2_listing_them(cli, three):
    r = cli("case", "K24")
    assert r.code == 2
    assert "ambiguous" in r.err and "MO-261202-K24AB" in r.err and "MO-261202-QK24Z" in r.err
    assert "no case" not in r.err and "MO-261203-XY7PQ" not in r.err
    assert r.err.count("\n") == 1 and "Traceback" not in r.err
    for command in (("note", "261202", "text"), ("resolve", "261202", "--no-input")):
        r = cli(*command)
        assert r.code == 2 and "ambiguous" in r.err, command


def test_a_part_no_id_has_is_still_no_case(cli, three):
    r = cli("case", "K25")
    assert r.code == 1 and "no case 'K25'" in r.err


# ------------------------------------------------------------------ item 8: tables fit, pipes get rows


@pytest.fixture
def piped(monkeypatch):
    """stdout is a pipe, not a terminal."""
    monkeypatch.setattr("mocli.render.stdout_is_terminal", lambda: False)


@pytest.fixture
def many(cfg):
    orders = ["#1001", "#1002", "#1003", "#1004", "#1006", "#1007", "#1010"]
    return store([build(cfg, o, case_id=f"MO-261127-ABC{i:02d}") for i, o in enumerate(orders)])


BOX = set("│┃━─┏┓┗┛╇┡┩╭╮╰╯")


@pytest.mark.parametrize("width", [60, 80, 120])
def test_demo_table_never_cuts_an_order_or_tracking_number(cli, monkeypatch, width):
    """The complaint: at 80 columns the Order column was dropped."""
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli("demo")
    assert r.code == 0, r.err
    assert "…" not in r.out
    for order in ("#1001", "#1007", "#1012"):
        assert order in r.out
    for number in ("1Z4E57A20368154024", "9400109693009220314785"):
        assert number in r.out or (width < 120 and number[:6] not in r.out)  # whole, or dropped to fit
    if width >= 80:  # at 60 an email and a USPS number alone are wider: the terminal wraps, nothing is cut
        assert max(len(line) for line in r.out.splitlines()) <= width


@pytest.mark.parametrize("width", [80, 120])
def test_cases_table_fits_and_never_cuts_an_id_or_order(cli, many, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli("cases")
    assert r.code == 0, r.err
    assert "…" not in r.out
    for i in range(7):
        assert f"MO-261127-ABC{i:02d}" in r.out
    for order in ("#1001", "#1010"):
        assert order in r.out
    assert max(len(line) for line in r.out.splitlines()) <= width
    head = r.out.splitlines()[0]
    assert "Status" in head and "Follow up by" in head


def test_cases_piped_are_tab_separated_rows_without_boxes(cli, many, piped):
    r = cli("cases")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert len(lines) == 7 and not BOX & set(r.out)
    first = lines[0].split("\t")
    assert first[0].startswith("MO-261127-ABC") and "T" in first[1]  # an ISO follow-up time, whole
    assert all(len(line.split("\t")) == len(first) for line in lines)
    assert "Ava Thompson" not in r.out  # rows leave the terminal: masked like --json


def test_demo_and_track_piped_are_rows(cli, piped):
    r = cli("demo")
    assert r.code == 0 and not BOX & set(r.out)
    assert "#1001\tava.thompson@example.com\tVIP\t1Z4E57A20368154024\t" in r.out
    r = cli("track", "1Z4E57A20368154024", "9400109693009220314785")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert [line.split("\t")[:3] for line in lines] == [["1Z4E57A20368154024", "ups", "delivered"],
                                                         ["9400109693009220314785", "usps", "in_transit"]]


def test_report_piped_is_rows(cli, many, piped):
    r = cli("report")
    assert r.code == 0, r.err
    assert "summary\tcases\ttotal\t7" in r.out.splitlines()
    assert not BOX & set(r.out)


# ------------------------------------------------------------------ item 9: one output vocabulary


@pytest.mark.parametrize("command", [["demo"], ["cases"], ["report"], ["track", "1Z4E57A20368154024"]])
@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "markdown", "tsv", "table"])
def test_every_data_command_takes_every_format(cli, many, command, fmt):
    import csv
    import io
    import json

    r = cli(*command, "--format", fmt)
    assert r.code == 0, r.err
    assert r.out.strip()
    if fmt == "json":
        json.loads(r.out)
    elif fmt == "ndjson":
        assert all(isinstance(json.loads(line), dict) for line in r.out.splitlines())
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(r.out)))
        assert len({len(row) for row in rows}) == 1 and len(rows) > 1
    elif fmt == "markdown":
        assert "|---|" in r.out


@pytest.mark.parametrize("command,key", [(["demo"], "order"), (["cases"], "id"), (["case", "ABC01"], "id"),
                                         (["track", "1Z4E57A20368154024"], "tracking_number"),
                                         (["report"], "total")])
def test_json_takes_fields_like_gh(cli, many, command, key):
    import json

    r = cli(*command, "--json", f"{key},status" if key in ("id", "tracking_number") else key)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    first = data[0] if isinstance(data, list) else data
    assert key in first
    assert set(first) <= {key, "status"}
    r = cli(*command, "--json")
    assert r.code == 0 and len(json.loads(r.out)) >= 1


def test_json_unknown_field_is_exit_2_naming_the_keys(cli, many):
    r = cli("cases", "--json", "idd")
    assert r.code == 2 and "unknown key idd" in r.err and "follow_up_by" in r.err
    r = cli("cases", "--json", "help")
    assert r.code == 2 and "follow_up_by" in r.err
    r = cli("cases", "--json", "--format", "csv")
    assert r.code == 2 and "--json" in r.err


def test_track_json_before_a_number_is_not_taken_as_fields(cli):
    import json

    r = cli("track", "--json", "9400109693009220314785")
    assert r.code == 0, r.err
    assert json.loads(r.out)[0]["carrier"] == "usps"


def test_track_errors_go_to_stderr_in_every_format(cli):
    for fmt in ("table", "tsv", "json", "csv"):
        r = cli("track", "1Z4E57A20368154025", "--format", fmt)
        assert r.code == 2
        assert "mistyped" in r.err
        assert fmt == "json" or "mistyped" not in r.out  # JSON carries the error in its object


# ------------------------------------------------------------------ item 1: a paste-ready message


def test_message_is_plain_paragraphs_without_side_borders_at_any_width(cli, three, monkeypatch):
    from mocli.store import CaseStore

    message = CaseStore().find("XY7PQ")["message"]
    paragraphs = [p for p in message.split("\n") if p.strip()]
    assert any(len(p) > 80 for p in paragraphs)
    for width in ("60", "80"):
        monkeypatch.setenv("COLUMNS", width)
        r = cli("case", "XY7PQ")
        assert r.code == 0, r.err
        lines = r.out.splitlines()
        for p in paragraphs:
            assert p in lines, f"paragraph broken or boxed at {width} columns: {p[:40]}"
        assert "Customer message (ready to paste)" in r.out


def test_case_message_prints_only_the_message(cli, three):
    from mocli.store import CaseStore

    r = cli("case", "XY7PQ", "--message")
    assert r.code == 0, r.err
    assert r.out == CaseStore().find("XY7PQ")["message"].strip("\n") + "\n"


def test_copy_puts_the_message_on_the_terminal_clipboard_with_osc52(cli, three, monkeypatch):
    import base64

    from mocli.store import CaseStore

    monkeypatch.delenv("TMUX", raising=False)
    message = CaseStore().find("XY7PQ")["message"].strip("\n")
    r = cli("case", "XY7PQ", "--message", "--copy")
    assert r.code == 0, r.err
    assert f"\x1b]52;c;{base64.b64encode(message.encode()).decode()}\x07" in r.out
    assert "copied" in r.err


def test_copy_when_piped_says_it_cannot_and_still_prints(cli, three, piped):
    r = cli("case", "XY7PQ", "--message", "--copy")
    assert r.code == 0
    assert "\x1b]52" not in r.out and r.out.startswith("Hi ")
    assert "cannot copy" in r.err and "not a terminal" in r.err


# ------------------------------------------------------------------ items 13 and 14: the lead's report


@pytest.fixture
def team(cfg):
    from test_cases_support import team_set

    cases = team_set(cfg)
    store(list(cases.values()))
    return cases


def test_cases_say_overdue_in_words_and_sort_by_follow_up(cli, team, piped, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    r = cli("cases", "--status", "all")
    rows = [line.split("\t") for line in r.out.splitlines()]
    statuses = {row[0]: row[2] for row in rows}
    assert statuses[team["C"]["id"]] == "overdue" and statuses[team["F"]["id"]] == "overdue"
    assert statuses[team["D"]["id"]] == "open" and statuses[team["A"]["id"]] == "resolved"
    follow = [row[1] for row in rows]
    assert follow == sorted(follow)


def test_report_lists_overdue_cases_with_agent_and_how_late(cli, team, monkeypatch):
    import json

    monkeypatch.setenv("NO_COLOR", "1")
    r = cli("report", "--format", "json")
    overdue = json.loads(r.out)["overdue_cases"]
    assert [o["id"] for o in overdue] == [team["C"]["id"], team["F"]["id"]]  # most late first
    assert overdue[0]["agent"] == team["C"]["agent"] and overdue[0]["hours_late"] > overdue[1]["hours_late"]
    table = cli("report").out
    section = table.split("Overdue follow-ups", 1)[1]
    assert team["C"]["id"] in section and team["C"]["agent"] in section and "5d 0h" in section
    assert "Overdue follow-ups" in cli("report", "--format", "markdown").out


def test_report_title_names_its_filters(cli, team):
    r = cli("report", "--tier", "standard", "--since", "2026-11-01")
    assert r.code == 0, r.err
    assert "Missing-order report, 2026-11-01 to now, tier standard" in r.out.splitlines()[0]
    md = cli("report", "--agent", "amy", "--carrier", "UPS", "--format", "markdown").out
    assert md.splitlines()[0] == "# Missing-order report, all time to now, agent amy, carrier UPS"


def test_report_unknown_tier_or_agent_is_exit_2_naming_the_valid_ones(cli, team):
    r = cli("report", "--tier", "Gold")
    assert r.code == 2 and "Gold" in r.err and "VIP" in r.err and "New Customer" in r.err
    r = cli("report", "--agent", "nobody")
    assert r.code == 2 and "nobody" in r.err and "amy" in r.err
    assert r.err.count("\n") == 1


def test_report_csv_is_rounded_as_displayed(cli, cfg):
    from test_cases_support import ago, build, resolved

    cases = [build(cfg, "#1002", case_id=f"MO-261120-R{i:04d}", now=ago(days=7)) for i in range(3)]
    cases[0] = resolved(cfg, cases[0], ago(days=1), "lost", "reship")  # late: 1 breach in 3
    cases[1] = resolved(cfg, cases[1], ago(days=6, hours=23), "found", "confirm")
    cases[2] = resolved(cfg, cases[2], ago(days=6, hours=22), "found", "confirm")
    store(cases)
    r = cli("report", "--format", "csv")
    values = [row.rsplit(",", 1)[1] for row in r.out.splitlines()[1:]]
    assert "0.333" in values  # the breach rate, as the table's 33.3%
    assert all(len(v.split(".")[1]) <= 3 for v in values if v.replace(".", "", 1).isdigit() and "." in v)


# ------------------------------------------------------------------ item 12: track says late or stalled


def test_track_says_late_or_stalled_as_the_wizard_does(cli, monkeypatch):
    import json

    monkeypatch.setenv("NO_COLOR", "1")
    r = cli("track", "--json", "1Z9F28R60369000124", "4523971130", "9400109693009220314785")
    assert r.code == 0, r.err
    late, stalled, on_time = json.loads(r.out)
    assert late["situation"]["state"] == "late" and "past the expected delivery" in late["situation"]["reason"]
    assert stalled["situation"]["state"] == "stalled" and "no carrier scan for" in stalled["situation"]["reason"]
    assert on_time["situation"] is None
    table = cli("track", "1Z9F28R60369000124").out
    assert "LATE: 7 days past the expected delivery date" in " ".join(table.split())


# ------------------------------------------------------------------ item 5: carrier tracking pages


@pytest.mark.parametrize("number,url", [
    ("1Z4E57A20368154024", "https://www.ups.com/track?tracknum=1Z4E57A20368154024"),
    ("9400109693009220314785", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400109693009220314785"),
    ("794123300255", "https://www.fedex.com/fedextrack/?trknbr=794123300255"),
])
def test_track_shows_the_carriers_tracking_page_whole(cli, monkeypatch, number, url):
    import json

    monkeypatch.setenv("COLUMNS", "60")
    r = cli("track", number)
    assert r.code == 0, r.err
    assert f"Tracking page: {url}" in r.out.splitlines()
    assert json.loads(cli("track", number, "--json").out)[0]["tracking_page"] == url


def test_case_view_shows_the_tracking_page(cli, three, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    r = cli("case", "XY7PQ")
    assert "Tracking page: https://www.ups.com/track?tracknum=1Z9F28R60369000124" in r.out.splitlines()


# ------------------------------------------------------------------ item 7: Ctrl-C is one line everywhere


def test_ctrl_c_in_resolve_prints_the_one_line_cancelled(cli, three):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from mocli.store import CaseStore

    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("\x03")
        inp.close()
        r = cli("resolve", "XY7PQ", env=on_a_terminal())
    assert r.code == 130
    assert r.err.splitlines()[-1] == "mocli: cancelled"
    assert CaseStore().find("XY7PQ")["status"] == "open"


def test_ctrl_c_while_a_note_is_read_from_stdin_is_the_same_line(cli, three, monkeypatch, capsys):
    import io

    class Interrupted(io.StringIO):
        def read(self, *args):
            raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin", Interrupted())
    from mocli.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["note", "XY7PQ", "-"])
    assert exc.value.code == 130
    assert capsys.readouterr().err == "mocli: cancelled\n"


def test_a_code_that_ends_one_id_wins_over_the_same_digits_inside_dates(cli, cfg):
    store([build(cfg, "#1001", case_id="MO-261127-26112"), build(cfg, "#1002", case_id="MO-261127-AB7QZ")])
    r = cli("case", "26112", "--json", "id")
    assert r.code == 0, r.err
    assert '"MO-261127-26112"' in r.out


# ------------------------------------------------------------------ item 10: long views page on a terminal


@pytest.fixture
def pager(monkeypatch, tmp_path):
    """A terminal 20 lines high whose $PAGER writes what it is given to a file."""
    import shlex
    import sys

    shown = tmp_path / "paged.txt"
    script = f"import sys; open({str(shown)!r}, 'w').write(sys.stdin.read())"
    monkeypatch.setenv("PAGER", f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}")
    monkeypatch.delenv("MOCLI_PAGER", raising=False)
    monkeypatch.setenv("LINES", "20")
    monkeypatch.setattr("mocli.render.pager_wanted", lambda: True)
    return shown


def test_a_long_case_view_goes_through_the_pager_with_colour(cli, three, pager):
    r = cli("case", "XY7PQ")
    assert r.code == 0, r.err
    assert r.out == ""
    text = pager.read_text()
    assert "MO-261203-XY7PQ" in text and "History" in text and "\x1b[" in text  # less -R shows colours


def test_no_pager_and_short_views_print_directly(cli, three, pager):
    r = cli("case", "XY7PQ", "--no-pager")
    assert "MO-261203-XY7PQ" in r.out and not pager.exists()
    r = cli("cases")  # three rows fit in 20 lines
    assert "MO-261203-XY7PQ" in r.out and not pager.exists()


def test_never_a_pager_when_piped(cli, three, pager, monkeypatch):
    monkeypatch.setattr("mocli.render.pager_wanted", lambda: False)
    r = cli("case", "XY7PQ")
    assert "MO-261203-XY7PQ" in r.out and not pager.exists()


def test_a_missing_pager_loses_nothing(cli, three, pager, monkeypatch):
    monkeypatch.setenv("PAGER", "/nonexistent/pager")
    r = cli("case", "XY7PQ")
    assert r.code == 0 and "History" in r.out


# ------------------------------------------------------------------ item 15: weekly trends


@pytest.fixture
def weeks(cfg):
    """Three cases over three weeks (Mondays 9, 16 and 23 November 2026; now is Friday the 27th)."""
    from datetime import datetime

    from test_cases_support import resolved

    def make(name: str, created: str, follow: str) -> dict:
        case = build(cfg, "#1002", case_id=f"MO-261110-{name}")
        case["created_at"], case["follow_up_by"] = f"{created}T10:00:00-05:00", f"{follow}T17:00:00-05:00"
        return case

    def at(day: str) -> datetime:
        return datetime.fromisoformat(f"{day}T12:00:00-05:00")

    in_time = resolved(cfg, make("WK001", "2026-11-10", "2026-11-12"), at("2026-11-11"), "found", "confirm")
    late = resolved(cfg, make("WK002", "2026-11-11", "2026-11-13"), at("2026-11-17"), "lost", "reship")
    overdue = make("WK003", "2026-11-24", "2026-11-25")
    return store([in_time, late, overdue])


def test_report_trends_per_week(cli, weeks):
    import json

    r = cli("report", "--since", "12w", "--json", "trends")
    assert r.code == 0, r.err
    assert json.loads(r.out)["trends"] == [
        {"week": "2026-11-09", "opened": 2, "resolved": 1, "settled": 2, "breached": 1, "breach_rate": 0.5},
        {"week": "2026-11-16", "opened": 0, "resolved": 1, "settled": 0, "breached": 0, "breach_rate": None},
        {"week": "2026-11-23", "opened": 1, "resolved": 0, "settled": 1, "breached": 1, "breach_rate": 1.0},
    ]


def test_report_trends_in_the_table_and_the_rows(cli, weeks, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    table = cli("report").out
    section = table.split("Trends per week", 1)[1]
    assert "2026-11-09" in section and "50.0%" in section and "█" in section
    csv = cli("report", "--format", "csv").out.splitlines()
    assert "trends,2026-11-09,breach_rate,0.5" in csv and "trends,2026-11-23,opened,1" in csv
    assert "| 2026-11-16 | 0 | 1 | - |" in cli("report", "--format", "markdown").out


def test_new_case_and_resolve_copy_the_message_too(cli, cfg, monkeypatch):
    import base64
    import json

    monkeypatch.delenv("TMUX", raising=False)
    r = cli("new-case", "--no-input", "--json", "--copy", "--customer", "hana.kim@example.com", "--order", "1006",
            "--address-confirmed", "yes")
    assert r.code == 0, r.err
    head, _, _ = r.out.partition("\x1b]52;c;")
    message = json.loads(head)["message"]
    assert f"\x1b]52;c;{base64.b64encode(message.strip(chr(10)).encode()).decode()}\x07" in r.out
    case_id = json.loads(head)["id"]
    r = cli("resolve", case_id, "--no-input", "--outcome", "lost", "--remedy", "reship", "--copy")
    assert r.code == 0, r.err
    assert "\x1b]52;c;" in r.out and "copied" in r.err


def test_cases_unknown_tier_is_exit_2_naming_the_tiers(cli, three):
    r = cli("cases", "--tier", "Gold")
    assert r.code == 2 and "VIP" in r.err and "B2B" in r.err
    assert cli("cases", "--tier", "vip").code == 0
